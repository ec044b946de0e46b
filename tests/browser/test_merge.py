"""Merging duplicate households (合并重复户): 李梅's phone registered the same flat twice; the
community admin merges one into the other in the console (confirm box, CSRF form); the
register lists one household with both members, the merged one's page says where it went,
and after a sync the phone lists one household at that door."""

import urllib.parse

from selenium.webdriver.common.by import By

from test_register import member, register_household


def test_a_duplicate_household_is_merged(signed_in, limei):
    kept = register_household(limei, "1704", [member("孙建华")])
    dup = register_household(limei, "1704", [member("周丽")])
    console = signed_in("user-admin")
    console.open(f"/admin/households/{kept}")
    form = console.find("form#merge")
    options = [o.get_attribute("value") for o in form.find_elements(By.CSS_SELECTOR, "option")]
    assert options == [dup], options
    form.find_element(By.NAME, "confirm").click()
    console.submit(form)
    console.wait(lambda d: urllib.parse.urlsplit(d.current_url).path == f"/admin/households/{kept}")
    members = console.find("table#members").text
    assert "孙建华" in members and "周丽" in members
    assert "并入重复户" in console.find("table#history").text

    console.open(f"/admin/households/{dup}")
    note = console.find("p#merged")
    assert note.find_element(By.CSS_SELECTOR, "a").get_attribute("href").endswith(
        f"/admin/households/{kept}")
    console.screenshot("merge.png")

    limei.sync()
    rooms = [h.id for h in limei.store.households_in("u-1-1")]
    assert kept in rooms and dup not in rooms

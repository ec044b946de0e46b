"""The register (户籍登记) in the console: a household registered on 李梅's phone is found
with the phone's Chinese search (pinyin initials, full pinyin, a name's middle, the room)
and its page shows the members, the ID number in full to the community admin, and the
history: who registered it."""

import urllib.parse

from selenium.webdriver.common.by import By

import linli

ID_NUMBER = "11010519491231002X"


def register_household(phone, room, members, tags=()):
    hid = phone.store.create_household(linli.NewHousehold(
        place_id="u-1-1",
        room=room,
        residency=linli.Residency.RESIDENT,
        housing=linli.Housing.OWNED,
        tags=list(tags),
        notes="",
        members=members,
    ))
    phone.sync()
    return hid


def member(name, phone=None, id_number=None, relation=linli.Relation.HEAD):
    return linli.NewMember(name=name, relation=relation, birth_year=1950, phone=phone,
                           id_number=id_number)


def search(console, query):
    console.open("/admin/households")
    form = console.find("form#register-search")
    box = form.find_element(By.NAME, "q")
    box.clear()
    box.send_keys(query)
    console.submit(form)
    return [r.get_attribute("data-id") for r in console.find_all("table#households tr[data-id]")]


def test_a_household_is_searched_and_opened_with_its_history(signed_in, limei):
    hid = register_household(limei, "1203", [
        member("欧阳秀英", phone="13912345678", id_number=ID_NUMBER),
        member("林小明", relation=linli.Relation.GRANDCHILD),
    ], tags=[linli.CareTag.DISABLED])
    console = signed_in("user-admin")
    for query in ("oyxy", "ouyangxiuying", "秀英", "xiuying", "1203", "lxm"):
        assert hid in search(console, query), query
    assert hid not in search(console, "没有这个人")

    found = search(console, "oyxy")
    row = console.find(f'table#households tr[data-id="{hid}"]')
    assert "欧阳秀英" in row.text and "林小明" in row.text
    assert "139****5678" in row.text, "lists show phones masked"
    assert "13912345678" not in row.text
    assert "残疾" not in row.text
    row.find_element(By.CSS_SELECTOR, f'a[href="/admin/households/{hid}"]').click()
    console.wait(lambda d: urllib.parse.urlsplit(d.current_url).path == f"/admin/households/{hid}")
    members = console.find("table#members").text
    assert "欧阳秀英" in members and "林小明" in members
    assert ID_NUMBER in members, "the community admin sees the ID number in full"
    assert "13912345678" in members
    assert "残疾" in console.find("dl#household").text
    history = console.find("table#history").text
    assert "李梅" in history, history
    console.screenshot("register.png")
    assert found == [hid]

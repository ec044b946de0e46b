"""The audit trail (/admin/audit): an action on the places page appears at the top with its
actor and reason, and filtering by action keeps only such rows."""

from selenium.webdriver.support.ui import Select

from conftest import CHINESE


def test_an_action_is_recorded_and_filtered(signed_in):
    console = signed_in("user-admin")
    console.open("/admin/places")
    form = console.find("form#new-place")
    Select(form.find_element("name", "kind")).select_by_value("grid")
    Select(form.find_element("name", "parent")).select_by_value("c-xingfu")
    form.find_element("name", "name").send_keys("审计测试网格")
    console.submit(form)

    console.open("/admin/audit")
    assert CHINESE.search(console.text("h1")), console.text("h1")
    first = console.find("table#audit tbody tr[data-action]")
    assert first.get_attribute("data-action") == "create_place"
    assert "新建地点" in first.text and "审计测试网格" in first.text, first.text

    filter_form = console.find("form#audit-filter")
    Select(filter_form.find_element("name", "action")).select_by_value("create_place")
    console.submit(filter_form)
    actions = {r.get_attribute("data-action")
               for r in console.find_all("table#audit tbody tr[data-action]")}
    assert actions == {"create_place"}, actions
    console.screenshot("audit-filtered.png")

"""A hotline call reported from the console (/admin/report)."""

import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import CHINESE


def fill_report(console, place, category, priority, description, contact):
    console.open("/admin/report")
    form = console.find("form#report")
    Select(form.find_element(By.NAME, "place_id")).select_by_value(place)
    Select(form.find_element(By.NAME, "category")).select_by_value(category)
    Select(form.find_element(By.NAME, "priority")).select_by_value(priority)
    form.find_element(By.NAME, "description").send_keys(description)
    form.find_element(By.NAME, "contact").send_keys(contact)
    return form


def test_a_hotline_report_lands_on_its_new_incident(signed_in, server):
    console = signed_in("user-admin")
    before = {i["id"] for i in server.api_incidents()}
    form = fill_report(console, "b-9", "high_rise_littering", "high",
                       "热线：9栋有人高空抛物", "13800001234")

    console.submit(form)

    match = re.fullmatch(r"/admin/incidents/([^/]+)", console.path())
    assert match, f"landed on {console.path()}: {console.text('p.error')}"
    iid = match.group(1)
    incident = console.find("dl#incident")
    assert "热线：9栋有人高空抛物" in incident.text
    assert "13800001234" in incident.text
    assert incident.get_attribute("data-level") == "grid"
    created = [i for i in server.api_incidents() if i["id"] not in before]
    assert [i["id"] for i in created] == [iid]
    assert created[0]["grid_id"] == "g-2"
    assert created[0]["category"] == "high_rise_littering"
    assert created[0]["priority"] == "high"
    console.board()
    assert console.row(iid) is not None


def test_a_report_without_a_description_is_refused_in_chinese(signed_in, server):
    console = signed_in("user-admin")
    before = len(server.api_incidents())
    form = fill_report(console, "b-1", "noise", "normal", "", "13800001234")
    # The browser's own `required` check is not what is tested: the server's is.
    console.js("arguments[0].noValidate = true", form)

    console.submit(form)

    error = console.text("p.error")
    assert error and CHINESE.search(error), f"no Chinese error: {error!r}"
    assert not console.path().startswith("/admin/incidents/")
    assert len(server.api_incidents()) == before

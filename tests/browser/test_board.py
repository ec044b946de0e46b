"""The board and an incident's page with a phone on the other side: a report from 李梅's
phone appears on the open board by itself; the console's dispatch reaches her phone."""

import re

import pytest

import linli
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

MARKUP = "楼道<b>漏水</b><script>window.pwned=1</script>严重"


@pytest.fixture(scope="module")
def reported(limei):
    """What the phone reported in this module: name -> incident id."""
    return {}


def the_leak(reported):
    if "leak" not in reported:
        pytest.fail("needs the incident the first test of this module reports")
    return reported["leak"]


def test_a_phone_report_appears_on_the_open_board_without_a_reload(
        signed_in, limei, reported):
    console = signed_in("user-admin")
    console.board()
    console.mark_page()

    iid = limei.report(MARKUP, place="b-1")
    reported["leak"] = iid

    row = console.wait_for_row(iid, timeout=15)
    assert console.page_marked(), "the board was reloaded instead of refreshing its rows"
    assert (row["status"], row["level"], row["overdue"]) == ("reported", "grid", "false")
    assert row["link"], "no link to the incident's page"
    # The description is text, even inside rows htmx swapped in (which runs scripts).
    assert "b" not in row["elements"] and "script" not in row["elements"], row["elements"]
    assert console.js("return typeof window.pwned") == "undefined"


def test_the_response_countdown_runs_live(console, reported):
    iid = the_leak(reported)
    console.board()
    row = console.wait_for_row(iid, timeout=5)
    assert row["deadline"], f"no countdown in the row: {row['text']}"
    # 15 minutes from the server's receipt, which was moments ago.
    left = row["deadline"] - console.js("return Date.now()")
    assert 10 * 60_000 < left <= 15 * 60_000, left
    first = row["countdown"]
    assert re.search(r"\d{1,2}:\d{2}", first) and "超时" not in first, first
    console.wait_for_row(iid, timeout=3, until=lambda r: r["countdown"] != first,
                         message=f"the countdown stayed at {first}")


def test_the_incident_page_shows_the_description_as_text(console, reported):
    iid = the_leak(reported)
    incident = console.incident(iid)

    assert incident.get_attribute("data-status") == "reported"
    assert incident.get_attribute("data-level") == "grid"
    assert "<b>漏水</b>" in incident.text
    assert "<script>window.pwned=1</script>" in incident.text
    assert incident.find_elements(By.TAG_NAME, "b") == []
    assert console.js("return typeof window.pwned") == "undefined"
    console.screenshot("incident.png")


def test_the_board_filters(console, reported):
    iid = the_leak(reported)
    console.board()
    form = console.find("form#filters")
    for name in ("category", "status", "grid", "handler"):
        options = form.find_elements(By.CSS_SELECTOR, f'select[name="{name}"] option')
        assert "" in [o.get_attribute("value") for o in options], f"{name}: no 'all' option"

    console.board(grid="g-2")
    assert console.row(iid) is None
    console.board(grid="g-1", category="leak_repair", status="reported")
    assert console.row(iid) is not None
    console.board(category="noise")
    assert console.row(iid) is None
    # The form itself asks for the same.
    console.board()
    form = console.find("form#filters")
    Select(form.find_element(By.NAME, "grid")).select_by_value("g-2")
    form.submit()
    console.wait(lambda d: "grid=g-2" in d.current_url, message="the filter was not applied")
    console.find("#board-rows")
    assert console.row(iid) is None


def test_the_rows_refresh_with_the_same_filters(console, server, reported):
    leak = the_leak(reported)
    console.board(grid="g-2")
    console.mark_page()
    assert console.row(leak) is None

    # A hotline call for 桂花苑9栋 (g-2) through the JSON API, beside the page.
    other = server.api("POST", "/api/v1/incidents", {
        "category": "parking", "description": "9栋门口车辆堵路", "place_id": "b-9"})["id"]

    console.wait_for_row(other, timeout=15)
    assert console.page_marked(), "the board was reloaded instead of refreshing its rows"
    assert console.row(leak) is None, "the refresh dropped the grid filter"


def test_a_dispatch_from_the_console_reaches_the_handlers_phone(signed_in, limei, reported):
    iid = the_leak(reported)
    console = signed_in("user-admin")
    console.incident(iid)
    if console.status() == "reported":
        notice, error = console.move("accept", note="已受理")
        assert error is None and notice, (notice, error)
        assert console.status() == "accepted"
    target = console.find('form.move[data-action="dispatch"] select[name="target"]')
    values = [o.get_attribute("value") for o in target.find_elements(By.TAG_NAME, "option")]
    assert "user:user-limei" in values and "department:property" in values, values

    notice, error = console.move("dispatch", note="请李梅上门查看", target="user:user-limei")

    assert error is None and notice, (notice, error)
    assert console.path() == f"/admin/incidents/{iid}"
    assert console.status() == "dispatched"
    assert console.timeline()[-1] == "dispatch"
    limei.sync()
    summary = limei.summary(iid)
    assert summary.status == linli.IncidentStatus.DISPATCHED
    assert summary.handler == "user-limei"
    assert linli.IncidentAction.START in limei.store.incident_moves(iid)
    # The board's handler filter finds it under her name only.
    console.board(handler="user-limei")
    assert console.row(iid) is not None
    console.board(handler="user-wangqiang")
    assert console.row(iid) is None

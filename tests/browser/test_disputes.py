"""Disputes (矛盾纠纷) per grid: one reported from a phone counts as open until it is
closed with an outcome (resolved with 调解结果, then closed with a reason)."""

from selenium.webdriver.common.by import By

import linli


def open_disputes(console):
    console.open("/admin/disputes")
    rows = console.find_all("table#disputes-per-grid tr[data-grid]")
    return {r.get_attribute("data-grid"): int(r.find_element(By.CSS_SELECTOR, "td.open").text)
            for r in rows}


def report_dispute(phone):
    iid = phone.store.report_incident(linli.NewIncident(
        category=linli.IncidentCategory.DISPUTE,
        description="楼上楼下因漏水起争执",
        place_id="u-1-2",
        household_id=None,
        priority=linli.Priority.NORMAL,
        assignee=None,
        dispute=linli.DisputeInfo(parties="302 张某 与 202 李某", mediator="网格员 李梅"),
    ))
    phone.sync()
    return iid


def test_a_dispute_counts_as_open_until_closed_with_an_outcome(signed_in, limei):
    console = signed_in("user-admin")
    before = open_disputes(console)
    iid = report_dispute(limei)

    counts = open_disputes(console)
    assert counts.get("g-1") == before.get("g-1", 0) + 1, counts
    assert counts.get("g-2", 0) == before.get("g-2", 0), counts

    console.incident(iid)
    assert "302 张某 与 202 李某" in console.find("dl#incident").text
    notice, error = console.move("accept")
    assert error is None and notice, error
    outcome = console.find('form.move[data-action="resolve"] select[name="outcome"]')
    values = {o.get_attribute("value") for o in outcome.find_elements(By.TAG_NAME, "option")}
    assert {"mediated", "failed", "transferred"} <= values, values
    notice, error = console.move("resolve", note="双方达成协议", outcome="mediated")
    assert error is None and notice, error
    assert console.status() == "resolved"
    assert open_disputes(console).get("g-1") == counts["g-1"], "resolved is not closed yet"

    console.incident(iid)
    notice, error = console.move("close", note="双方签字，居民不再回访")
    assert error is None and notice, error
    assert console.status() == "closed"

    assert open_disputes(console).get("g-1") == before.get("g-1", 0)
    # Closed, it is found on the board by its status.
    console.board(status="closed")
    assert console.row(iid) is not None
    assert console.row(iid)["status"] == "closed"

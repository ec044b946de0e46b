"""Moves through an incident page's forms: the admin's loop up to a callback of 不满意,
refused moves, a department handler (物业) who signs for an order and returns it, and an
escalation by hand."""

import pytest
from selenium.webdriver.common.by import By

import linli

from conftest import CHINESE, MOVES


def known_moves(timeline):
    return [a for a in timeline if a in MOVES]


def made(result):
    notice, error = result
    assert error is None, f"refused: {error}"
    assert notice, "no notice after the move"


def test_a_stale_form_is_refused_in_chinese(signed_in, limei, server):
    iid = limei.report("3楼水管漏水", place="b-2")
    console = signed_in("user-admin")
    console.incident(iid)
    assert "accept" in console.moves()
    # Someone else accepts it meanwhile (the JSON API, as another console tab would).
    server.api("POST", f"/api/v1/incidents/{iid}/moves", {"action": "accept", "note": ""})

    notice, error = console.move("accept")

    assert notice is None
    assert error and CHINESE.search(error), f"no Chinese error: {error!r}"
    console.incident(iid)
    assert console.status() == "accepted"
    assert known_moves(console.timeline()) == ["accept"]


def test_feedback_unsatisfied_reopens_a_resolved_incident(signed_in, limei):
    iid = limei.report("电梯异响", place="b-1")
    console = signed_in("user-admin")
    console.incident(iid)

    made(console.move("accept", note="已受理"))
    assert console.status() == "accepted"
    made(console.move("start", note="联系电梯维保"))
    assert console.status() == "in_progress"
    made(console.move("resolve", note="已更换导靴"))
    assert console.status() == "resolved"
    assert "feedback" in console.moves()
    rating = console.find('form.move[data-action="feedback"] select[name="rating"]')
    values = {o.get_attribute("value") for o in rating.find_elements(By.TAG_NAME, "option")}
    assert {"satisfied", "basic", "unsatisfied"} <= values, values

    made(console.move("feedback", note="居民说还在响<img src=x onerror=window.pwned=1>",
                      rating="unsatisfied"))

    assert console.path() == f"/admin/incidents/{iid}"
    assert console.status() == "in_progress"
    assert known_moves(console.timeline()) == ["accept", "start", "resolve", "feedback"]
    feedback = console.find('ol#timeline li.event[data-action="feedback"]')
    assert "不满意" in feedback.text, feedback.text
    assert "居民说还在响<img src=x onerror=window.pwned=1>" in feedback.text, feedback.text
    assert feedback.find_elements(By.TAG_NAME, "img") == []
    assert console.js("return typeof window.pwned") == "undefined"
    assert "resolve" in console.moves()


def dispatch_to_property(admin, iid):
    admin.incident(iid)
    made(admin.move("accept"))
    made(admin.move("dispatch", note="请物业处理", target="department:property"))
    assert admin.status() == "dispatched"


@pytest.fixture(scope="module")
def wuye(new_console, server):
    """物业小刘 (department handler, 物业) in a browser of his own."""
    console = new_console()
    assert console.sign_in("user-wuye") == "/admin/board"
    return console


def test_a_department_handler_signs_for_an_order_and_returns_it(signed_in, wuye, limei):
    ours = limei.report("小区路灯不亮", place="b-2")
    not_ours = limei.report("邻里噪音", place="b-1")
    admin = signed_in("user-admin")
    dispatch_to_property(admin, ours)

    wuye.board()
    assert wuye.row(ours) is not None, f"物业's board: {wuye.row_ids()}"
    assert wuye.row(not_ours) is None, f"物业's board: {wuye.row_ids()}"
    # Nor does its address show it to him.
    wuye.open(f"/admin/incidents/{not_ours}")
    assert wuye.find_all("dl#incident") == [] and "邻里噪音" not in wuye.js(
        "return document.body.innerText")
    wuye.incident(ours)
    assert "accept" in wuye.moves(), wuye.moves()
    made(wuye.move("accept", note="物业已签收"))
    assert wuye.status() == "dispatched"
    assert "return" in wuye.moves(), wuye.moves()
    reason = wuye.find('form.move[data-action="return"] select[name="reason"]')
    values = {o.get_attribute("value") for o in reason.find_elements(By.TAG_NAME, "option")}
    assert {"jurisdiction", "ownership", "overlap", "other"} <= values, values

    wuye.move("return", note="路灯归市政管", reason="jurisdiction")

    admin.incident(ours)
    assert admin.status() == "accepted"
    assert known_moves(admin.timeline()) == ["accept", "dispatch", "accept", "return"]
    event = admin.find('ol#timeline li.event[data-action="return"]')
    assert "属地不符" in event.text, event.text
    assert "dispatch" in admin.moves()
    wuye.board()
    assert wuye.row(ours) is None, "a returned order stays on the department's board"


def test_a_department_handler_is_told_his_return_was_made(signed_in, wuye, limei):
    iid = limei.report("井盖松动", place="b-2")
    dispatch_to_property(signed_in("user-admin"), iid)
    wuye.incident(iid)

    notice, error = wuye.move("return", note="井盖归市政管", reason="jurisdiction")

    assert error is None and notice, (
        f"物业's return was made, but the page he was sent to after it says: {error!r}")
    # The order has left his view: he is back on the board, told so.
    assert wuye.driver.current_url.split("?")[0].endswith("/admin/board"), wuye.driver.current_url


def test_a_move_without_the_forms_token_is_refused(signed_in, limei, server):
    iid = limei.report("单元门禁坏了", place="u-1-1")
    console = signed_in("user-admin")
    console.incident(iid)
    form = console.find('form.move[data-action="accept"]')
    console.js("arguments[0].querySelector('input[name=csrf]').value = 'forged'", form)

    console.submit(form)

    assert console.find_all("p.notice") == []
    (incident,) = [i for i in server.api_incidents() if i["id"] == iid]
    assert incident["status"] == "reported"
    console.incident(iid)
    assert known_moves(console.timeline()) == []


def test_an_admin_escalates_by_hand(signed_in, limei):
    iid = limei.report("配电箱冒烟", place="u-2-1", priority=linli.Priority.URGENT)
    console = signed_in("user-admin")
    console.incident(iid)
    level = console.find('form.move[data-action="escalate"] select[name="level"]')
    values = [o.get_attribute("value") for o in level.find_elements(By.TAG_NAME, "option")]
    assert "street" in values and "grid" not in values, values

    made(console.move("escalate", note="情况紧急，报街道", level="street"))

    assert console.level() == "street"
    assert console.status() == "reported"
    event = console.find('ol#timeline li.event[data-action="escalate"]')
    assert "街道" in event.text, event.text
    # Street is the top: nothing left to escalate to.
    assert "escalate" not in console.moves()
    console.board()
    assert console.row(iid)["level"] == "street"
    # Escalated rows come first: only overdue or escalated rows may stand before it.
    order = console.row_ids()
    before = [console.row(i) for i in order[:order.index(iid)]]
    assert all(r["overdue"] == "true" or r["level"] != "grid" for r in before), order
    assert order.index(iid) < len(order) - 1, "no other row to compare with"

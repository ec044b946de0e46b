"""Issue 10's needs across the FFI: a visit's needs become follow-ups, the two lists, moves
and their typed refusals, 转事件 with the link both ways, and a need raised on 李梅's phone
seen as a follow-up by the building leader after a sync through a real demo server. The
rules themselves are proven in Rust (core/tests/needs.rs).
"""

import asyncio

import pytest

import linli
from factories import member, new_household

DAY = 24 * 3600 * 1000
A = linli.NeedAction
S = linli.NeedStatus


def visited(store, place="u-1-1", room="301", needs=None):
    hh = store.create_household(new_household(place, room, [member("张秀英")]))
    if needs is None:
        needs = [linli.Need(category=linli.NeedCategory.REPAIR, text="厨房水管漏水")]
    visit_id = store.record_visit(linli.NewVisit(
        household_id=hh,
        at=None,
        purpose=linli.VisitPurpose.ASK_NEEDS,
        needs=needs,
        done_on_spot="",
        follow_up=True,
    ))
    return hh, visit_id


def test_a_visits_needs_become_follow_ups(store):
    hh, visit_id = visited(store)
    (need,) = store.needs_of(hh)
    assert need.visit_id == visit_id
    assert need.status == S.OPEN
    assert need.owner == "user-limei"
    assert need.due_at == need.raised_at + 3 * DAY
    assert need.due_at == linli.default_need_due(linli.NeedCategory.REPAIR, need.raised_at)
    assert store.need(need.id) == need

    care = store.raise_need(linli.NewNeed(
        visit_id=visit_id, category=linli.NeedCategory.ELDER_CARE, text="想申请助餐"))
    assert [n.id for n in store.open_needs(None)] == [care, need.id]
    assert [n.id for n in store.open_needs("b-1")] == [care, need.id]
    assert store.open_needs("b-2") == []
    assert store.needs_due(store.now()) == []
    assert [n.id for n in store.needs_due(store.now() + DAY)] == [care]
    assert store.open_needs(None)[0].address.endswith("301")


def test_moves_and_their_refusals(store):
    hh, _ = visited(store)
    (need,) = store.needs_of(hh)
    assert store.need_moves(need.id) == [A.TAKE, A.DONE, A.REFER, A.ASSIGN, A.RESCHEDULE]
    assert linli.need_allowed_actions(S.DONE) == [A.REOPEN]
    assert store.move_need(need.id, A.TAKE, linli.NeedMoveDetail()) == S.IN_HAND
    assert store.assign_need(need.id, "user-zhao") == S.IN_HAND
    assert store.reschedule_need(need.id, 5) == S.IN_HAND
    assert [n.id for n in store.needs_due(store.now())] == [need.id]
    assert store.move_need(need.id, A.DONE, linli.NeedMoveDetail(note="已修好")) == S.DONE
    assert store.open_needs(None) == []
    done = store.need(need.id)
    assert (done.owner, done.due_at) == ("user-zhao", 5)
    assert [e.action for e in done.events] == [A.TAKE, A.ASSIGN, A.RESCHEDULE, A.DONE]

    with pytest.raises(linli.LinliError.IllegalNeedTransition) as e:
        store.move_need(need.id, A.TAKE, linli.NeedMoveDetail())
    assert (e.value._from, e.value.action) == (S.DONE, A.TAKE)
    with pytest.raises(linli.LinliError.InvalidInput):
        store.move_need(need.id, A.ASSIGN, linli.NeedMoveDetail())
    with pytest.raises(linli.LinliError.NotFound) as e:
        store.move_need("no-such-need", A.TAKE, linli.NeedMoveDetail())
    assert e.value.kind == "need"
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.raise_need(linli.NewNeed(
            visit_id=done.visit_id, category=linli.NeedCategory.OTHER, text=" "))
    assert e.value.field == "need"
    with pytest.raises(linli.LinliError.NotFound):
        store.raise_need(linli.NewNeed(
            visit_id="no-such-visit", category=linli.NeedCategory.OTHER, text="x"))
    assert store.move_need(need.id, A.REOPEN, linli.NeedMoveDetail()) == S.OPEN


def test_a_need_becomes_an_incident(store):
    hh, _ = visited(store)
    (need,) = store.needs_of(hh)
    iid = store.need_to_incident(need.id, linli.NewNeedIncident(
        category=linli.IncidentCategory.LEAK_REPAIR, priority=linli.Priority.HIGH))
    referred = store.need(need.id)
    assert referred.status == S.REFERRED
    assert referred.incident_id == iid
    assert store.incident_need(iid) == need.id
    incident = store.incident(iid)
    assert incident.household_id == hh
    assert incident.description == "厨房水管漏水"
    with pytest.raises(linli.LinliError.IllegalNeedTransition):
        store.need_to_incident(need.id, linli.NewNeedIncident(
            category=linli.IncidentCategory.LEAK_REPAIR, priority=linli.Priority.HIGH))


def sync(store, settings):
    report = asyncio.run(store.sync(settings, None))
    assert report.refused == []
    return report


def test_a_need_raised_on_limeis_phone_is_a_follow_up_for_the_leader(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")
    sync(limei, server.settings("user-limei"))

    hh, visit_id = visited(limei, needs=[
        linli.Need(category=linli.NeedCategory.ELDER_CARE, text="独居老人需要助餐")])
    (need,) = limei.needs_of(hh)
    sync(limei, server.settings("user-limei"))

    # The building leader of b-1, after his sync: due tomorrow, owned by 李梅.
    sync(zhao, server.settings("user-zhao"))
    (due,) = zhao.needs_due(zhao.now() + DAY + 60_000)
    assert (due.id, due.household_id, due.owner) == (need.id, hh, "user-limei")
    assert [n.id for n in zhao.open_needs("b-1")] == [need.id]

    # He takes it in hand; 李梅 sees that after her next sync.
    assert zhao.move_need(need.id, A.TAKE, linli.NeedMoveDetail()) == S.IN_HAND
    sync(zhao, server.settings("user-zhao"))
    sync(limei, server.settings("user-limei"))
    taken = limei.need(need.id)
    assert (taken.status, taken.owner) == (S.IN_HAND, "user-zhao")
    assert limei.needs_of(hh) == zhao.needs_of(hh)

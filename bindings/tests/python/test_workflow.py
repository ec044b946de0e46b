"""Issue 8's calls across the FFI: moves with details, dispatch, the action menu, the
timeline, the clock from the server's receipt, open disputes, and the role table's refusal
as a typed error. The rules themselves are proven in Rust (core/tests/workflow.rs).
"""

import asyncio

import pytest

import linli

MINUTE = 60 * 1000
A = linli.IncidentAction
S = linli.IncidentStatus


def report(store, category=linli.IncidentCategory.FLYING_WIRE_CHARGING, place="u-1-1",
           dispute=None):
    return store.report_incident(linli.NewIncident(
        category=category,
        description="楼道飞线充电",
        place_id=place,
        household_id=None,
        priority=linli.Priority.HIGH,
        assignee=None,
        dispute=dispute,
    ))


def test_moves_with_details_and_the_timeline(store):
    iid = report(store)
    # No reference row for this user yet: the menu is every move the status allows.
    assert store.incident_moves(iid) == [A.ACCEPT, A.ESCALATE]
    assert store.move_incident_with(iid, A.ACCEPT, linli.MoveDetail()) == S.ACCEPTED
    assert store.dispatch_incident(iid, None, linli.Department.PROPERTY, "请物业处理") \
        == S.DISPATCHED
    back = linli.MoveDetail(note="不归物业管", reason=linli.ReturnReason.OWNERSHIP)
    assert store.move_incident_with(iid, A.RETURN, back) == S.ACCEPTED
    assert store.dispatch_incident(iid, "user-limei", None, "") == S.DISPATCHED
    assert store.move_incident(iid, A.RESOLVE, "已拆除飞线") == S.RESOLVED

    incident = store.incident(iid)
    assert incident.unit_id == "u-1-1"
    timeline = [(e.action, e.by, e.department, e.reason, e.to) for e in incident.events]
    assert timeline == [
        (A.ACCEPT, "user-limei", None, None, None),
        (A.DISPATCH, "user-limei", linli.Department.PROPERTY, None, None),
        (A.RETURN, "user-limei", None, linli.ReturnReason.OWNERSHIP, None),
        (A.DISPATCH, "user-limei", None, None, "user-limei"),
        (A.RESOLVE, "user-limei", None, None, None),
    ]
    assert all(e.at >= incident.reported_at for e in incident.events)

    # A move missing its detail names the field.
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.move_incident_with(iid, A.FEEDBACK, linli.MoveDetail())
    assert e.value.field == "rating"

    (summary,) = store.incidents(linli.IncidentFilter(statuses=[], assignee=None, place_id="u-1-1"))
    assert summary.handler == "user-limei"
    assert summary.unit_id == "u-1-1"
    assert summary.level == linli.Level.GRID


def test_not_yet_received_has_no_clock(store):
    report(store)
    (summary,) = store.incidents(linli.IncidentFilter(statuses=[], assignee=None, place_id=None))
    assert summary.received_at is None
    assert linli.response_deadline(summary) is None
    assert linli.resolve_deadline(summary) is None
    assert not linli.response_overdue(summary, summary.reported_at + 60 * MINUTE)
    assert store.overdue_incidents(summary.reported_at + 60 * MINUTE) == []
    incident = store.incident(summary.id)
    assert linli.incident_deadlines(incident) is None
    incident.received_at = 1_000
    deadlines = linli.incident_deadlines(incident)
    assert deadlines.respond_by == 1_000 + 15 * MINUTE
    assert deadlines.resolve_by == 1_000 + 72 * 60 * MINUTE


def test_a_units_incidents(store):
    at_unit = report(store, place="u-1-2")
    report(store, place="b-2")
    (summary,) = store.incidents(linli.IncidentFilter(statuses=[], assignee=None, place_id="u-1-2"))
    assert summary.id == at_unit and summary.unit_id == "u-1-2" and summary.building_id == "b-1"


def test_open_disputes_per_grid(store):
    parties = linli.DisputeInfo(parties="张某 与 李某", mediator="网格员 李梅")
    iid = report(store, linli.IncidentCategory.DISPUTE, dispute=parties)
    counts = {g.grid_id: g.open for g in store.open_disputes_by_grid()}
    assert counts["g-1"] == 1 and counts["g-2"] == 0
    store.move_incident(iid, A.ACCEPT, "")
    done = linli.MoveDetail(outcome=linli.DisputeOutcome.MEDIATED, note="双方和解")
    assert store.move_incident_with(iid, A.RESOLVE, done) == S.RESOLVED
    store.move_incident_with(iid, A.CLOSE, linli.MoveDetail(note="居民联系不上"))
    counts = {g.grid_id: g.open for g in store.open_disputes_by_grid()}
    assert counts["g-1"] == 0
    assert store.incident(iid).dispute == parties


def test_the_role_table_refuses_with_a_code(server, tmp_path):
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")
    asyncio.run(zhao.sync(server.settings("user-zhao"), None))
    assert any(p.id == "user-zhao" and p.role == linli.Role.BUILDING_LEADER
               for p in zhao.people())
    iid = report(zhao, place="b-1")
    # A building leader reports and gives feedback: nothing to offer on a new incident.
    assert zhao.incident_moves(iid) == []
    with pytest.raises(linli.LinliError.NotAllowed) as e:
        zhao.move_incident(iid, A.ACCEPT, "")
    assert e.value.action == A.ACCEPT
    assert e.value.reason_code == "role"
    assert [ev.action for ev in zhao.incident(iid).events] == []

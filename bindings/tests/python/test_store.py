"""The store's blocking API across the FFI, on one offline device.

These test the glue — records, enums, optionals, UTF-8, errors and callbacks as Python sees
them — not the domain rules again (the Rust tests prove those).
"""

import threading
import traceback

import pytest

import linli
from factories import member, new_household

MINUTE = 60 * 1000


def test_a_recorded_visit_reads_back(store):
    hh = store.create_household(
        new_household("u-1-1", "301", [member("张秀英", birth_year=1941)],
                      tags=[linli.CareTag.ELDERLY_ALONE])
    )
    visit_id = store.record_visit(linli.NewVisit(
        household_id=hh,
        at=None,
        purpose=linli.VisitPurpose.CARE,
        needs=[linli.Need(category=linli.NeedCategory.REPAIR, text="厨房水管漏水")],
        done_on_spot="关了总阀，联系物业",
        follow_up=True,
    ))

    visits = store.household(hh).visits
    assert [v.id for v in visits] == [visit_id]
    v = visits[0]
    assert v.household_id == hh
    assert v.visitor == "user-limei"
    assert v.purpose == linli.VisitPurpose.CARE
    assert v.needs == [linli.Need(category=linli.NeedCategory.REPAIR, text="厨房水管漏水")]
    assert v.done_on_spot == "关了总阀，联系物业"
    assert v.follow_up is True
    assert abs(v.at - store.now()) < MINUTE

    summaries = store.visits_of(hh)
    assert [(s.id, s.at, s.needs, s.follow_up) for s in summaries] == [
        (visit_id, v.at, [linli.NeedCategory.REPAIR], True)
    ]
    (listed,) = store.households_in("b-1")
    assert listed.last_visit_at == v.at
    assert listed.tags == [linli.CareTag.ELDERLY_ALONE]
    assert listed.head_name == "张秀英"

    ops = [(e.op, e.user_id) for e in store.history(hh)]
    assert ops == [("household.create", "user-limei"), ("visit.record", "user-limei")]


def test_search_in_chinese_including_two_characters(store):
    zhang = store.create_household(new_household("u-1-1", "301", [member("张三丰")]))
    wang = store.create_household(
        new_household("u-1-2", "302", [member("王张三"), member("李秀兰", linli.Relation.SPOUSE)])
    )
    li = store.create_household(new_household("u-2-1", "101", [member("李四")]))

    def found(query):
        return {h.id for h in store.search_households(query, 50)}

    assert found("张三丰") == {zhang}          # trigram index
    assert found("张三") == {zhang, wang}      # two characters: the per-character index
    assert found("李") == {wang, li}           # one character, any member
    assert found("张三 302") == {wang}         # every term must match
    assert found("赵六") == set()
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.search_households("   ", 50)
    assert e.value.field == "query"


def test_an_incident_moves_through_its_loop_and_refuses_an_illegal_move(store):
    iid = store.report_incident(linli.NewIncident(
        category=linli.IncidentCategory.FLYING_WIRE_CHARGING,
        description="2单元楼道飞线给电瓶车充电",
        place_id="b-1",
        household_id=None,
        priority=linli.Priority.HIGH,
        assignee=None,
    ))
    (summary,) = store.incidents(linli.IncidentFilter(statuses=[], assignee=None, place_id="b-1"))
    assert summary.id == iid
    assert summary.status == linli.IncidentStatus.REPORTED
    assert summary.grid_id == "g-1" and summary.building_id == "b-1"
    # The 15-minute clock, through the top-level functions. Issue 8: it runs from the
    # server's receipt, so none before it; here the receipt is set by hand on the record.
    assert linli.response_deadline(summary) is None
    received = summary.reported_at + MINUTE
    summary.received_at = received
    assert linli.response_deadline(summary) == received + 15 * MINUTE
    assert linli.resolve_deadline(summary) == received + 72 * 60 * MINUTE
    assert linli.response_overdue(summary, received + 16 * MINUTE)
    assert not linli.response_overdue(summary, received + 14 * MINUTE)

    A = linli.IncidentAction
    assert store.move_incident(iid, A.ACCEPT, "马上到") == linli.IncidentStatus.ACCEPTED
    assert store.move_incident(iid, A.START, "") == linli.IncidentStatus.IN_PROGRESS
    assert store.move_incident(iid, A.RESOLVE, "已拆除飞线") == linli.IncidentStatus.RESOLVED

    with pytest.raises(linli.LinliError.IllegalTransition) as e:
        store.move_incident(iid, A.START, "")
    assert e.value._from == linli.IncidentStatus.RESOLVED  # `from` is a Python keyword
    assert e.value.action == A.START

    incident = store.incident(iid)
    assert incident.status == linli.IncidentStatus.RESOLVED
    assert [(ev.action, ev.note) for ev in incident.events] == [
        (A.ACCEPT, "马上到"), (A.START, ""), (A.RESOLVE, "已拆除飞线")
    ]
    assert incident.assignee == "user-limei"  # accepting takes an unassigned case
    (summary,) = store.incidents(linli.IncidentFilter(
        statuses=[linli.IncidentStatus.RESOLVED], assignee=None, place_id=None))
    assert summary.accepted_at is not None and summary.resolved_at is not None
    assert not linli.response_overdue(summary, summary.reported_at + 16 * MINUTE)


def test_invalid_input_names_the_field_and_writes_nothing(store):
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.create_household(new_household("u-1-1", "301", [member("   ")]))
    assert e.value.field == "name"
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.create_household(new_household("u-1-1", "301", [member("张三", phone="12345")]))
    assert e.value.field == "phone"
    assert store.households_in("c-xingfu") == []
    assert store.sync_state().pending_docs == 0

    hh = store.create_household(new_household("u-1-1", "301", [member("张三")]))
    before = (store.household(hh), store.history(hh))
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.add_member(hh, member("李四", linli.Relation.SPOUSE, phone="138-1234-5678"))
    assert e.value.field == "phone"
    assert (store.household(hh), store.history(hh)) == before


def test_a_rejected_phone_number_is_not_in_the_error_text(store):
    number = "1381234567"  # ten digits: refused
    hh = store.create_household(new_household("u-1-1", "301", [member("张三")]))
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.add_member(hh, member("李四", phone=number))
    err = e.value
    texts = [str(err), repr(err), err.reason, *map(str, err.args),
             "".join(traceback.format_exception_only(type(err), err))]
    assert err.field == "phone"
    # The reason is a stable code, not English text: the app words it.
    assert err.reason == "bad_format"
    for text in texts:
        assert number not in text, text


def test_refusals_carry_a_field_code_and_a_reason_code(store):
    hh = store.create_household(new_household("u-1-1", "301", [member("张三")]))
    cases = [
        (member(""), "name", "required"),
        (member("张" * 51), "name", "too_long"),
        (linli.NewMember(name="李四", relation=linli.Relation.SPOUSE, birth_year=None, phone=None,
                         id_number="110105194912310021"), "id_number", "check_character"),
    ]
    for fields, field, reason in cases:
        with pytest.raises(linli.LinliError.InvalidInput) as e:
            store.add_member(hh, fields)
        assert e.value.field == field
        codes = {"required", "too_long", "control_characters", "out_of_range", "bad_format",
                 "check_character", "wrong_place", "not_allowed_here", "duplicate", "unknown"}
        assert e.value.reason in codes, e.value.reason
        if reason is not None:
            assert e.value.reason == reason


class Recorder(linli.ChangeListener):
    def __init__(self):
        self.changes = []
        self.heard = threading.Event()

    def on_change(self, change):
        self.changes.append(change)
        self.heard.set()


def test_a_change_listener_hears_a_write(store):
    listener = Recorder()
    sub = store.subscribe(listener)
    hh = store.create_household(new_household("u-1-1", "301", [member("张三")]))
    assert listener.heard.wait(5)
    change = listener.changes[-1]
    assert change.households and not change.incidents
    assert change.doc_ids == [hh]
    assert change.from_sync is False

    store.unsubscribe(sub)
    count = len(listener.changes)
    store.set_tag(hh, linli.CareTag.VETERAN, True)
    assert len(listener.changes) == count


def test_the_action_menu_and_care_tags_come_from_the_core():
    # Escalation (督办) is open to admins on any open incident; feedback (回访) closes the loop.
    assert linli.allowed_actions(linli.IncidentStatus.REPORTED) == [
        linli.IncidentAction.ACCEPT,
        linli.IncidentAction.ESCALATE,
    ]
    assert linli.allowed_actions(linli.IncidentStatus.RESOLVED) == [
        linli.IncidentAction.FEEDBACK,
        linli.IncidentAction.CLOSE,
        linli.IncidentAction.REOPEN,
    ]
    assert linli.tag_needs_care(linli.CareTag.ELDERLY_ALONE)
    assert not linli.tag_needs_care(linli.CareTag.PARTY_MEMBER)


def test_member_details_and_a_move_out_with_its_date(store):
    hh = store.create_household(
        new_household("u-1-1", "303", [member("钱一"), member("钱二", linli.Relation.CHILD)])
    )
    head, child = store.household(hh).members
    store.set_member_details(hh, child.id, linli.MemberDetails(
        gender=linli.Gender.FEMALE, residence=linli.PersonResidence.REGISTERED,
        tags=[linli.CareTag.DISABLED]))
    now_child = [m for m in store.household(hh).members if m.id == child.id][0]
    assert (now_child.gender, now_child.residence, now_child.tags) == (
        linli.Gender.FEMALE, linli.PersonResidence.REGISTERED, [linli.CareTag.DISABLED])
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.move_out_member(hh, head.id, store.now() + 5 * 86_400_000)
    assert (e.value.field, e.value.reason) == ("moved_out_at", "out_of_range")
    left = store.now() - 86_400_000
    store.move_out_member(hh, head.id, left)
    assert [m.name for m in store.household(hh).members] == ["钱二"]
    assert [(m.name, m.moved_out_at) for m in store.former_members(hh)] == [("钱一", left)]


def test_the_store_opens_with_its_key_only(tmp_path):
    import uuid

    from factories import DB_KEY

    path = str(tmp_path / "keyed.db")
    device = str(uuid.uuid4())
    s = linli.LinliStore.open(path, device, "user-limei", DB_KEY)
    s.put_places([linli.Place(id="c-xingfu", kind=linli.PlaceKind.COMMUNITY, parent_id=None,
                              name="幸福社区")])
    del s
    with pytest.raises(linli.LinliError.WrongKey):
        linli.LinliStore.open(path, device, "user-limei", bytes(32))
    with pytest.raises(linli.LinliError.InvalidInput) as short:
        linli.LinliStore.open(path, device, "user-limei", DB_KEY[:16])
    assert short.value.field == "key"
    again = linli.LinliStore.open(path, device, "user-limei", DB_KEY)
    assert [p.id for p in again.places_under(None)] == ["c-xingfu"]


def test_erase_all_leaves_nothing(store):
    hh = store.create_household(new_household("u-1-1", "301", [member("欧阳秀英")]))
    assert store.households_in("b-1")
    store.erase_all()
    assert store.households_in("b-1") == []
    assert store.places_under(None) == []
    with pytest.raises(linli.LinliError.NotFound):
        store.household(hh)

"""Issue 10's alerts across the FFI: the snapshot as text, a dispatch to 李梅 through a real
demo server alerting once, a follow-up falling due, and garbage snapshot text refused with a
typed error. The rule itself is proven in Rust (core/tests/alerts.rs).
"""

import asyncio

import pytest

import linli
from factories import member, new_household

DAY = 24 * 3600 * 1000
ME = "user-limei"


def sync(store, settings):
    report = asyncio.run(store.sync(settings, None))
    assert report.refused == []
    return report


def test_a_dispatch_to_me_alerts_once_after_sync(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", ME)
    admin = server.open_store(tmp_path / "admin.db", "user-admin")
    sync(limei, server.settings(ME))
    before = limei.alert_snapshot(limei.now())

    sync(admin, server.settings("user-admin"))
    leak = admin.report_incident(linli.NewIncident(
        category=linli.IncidentCategory.LEAK_REPAIR,
        description="张秀英家楼上漏水",
        place_id="b-1",
        household_id=None,
        priority=linli.Priority.NORMAL,
        assignee=None,
    ))
    admin.move_incident(leak, linli.IncidentAction.ACCEPT, "")
    admin.dispatch_incident(leak, ME, None, "请上门查看")
    sync(admin, server.settings("user-admin"))

    sync(limei, server.settings(ME))
    after = limei.alert_snapshot(limei.now())
    (alert,) = limei.alerts_between(before, after, ME, limei.now())
    assert alert.kind == linli.AlertKind.ASSIGNED
    assert alert.key == f"assigned:{leak}"
    assert alert.record_id == leak
    assert alert.summary == "新派单：漏水维修"
    # The next run, from the kept snapshot: nothing new.
    sync(limei, server.settings(ME))
    assert limei.alerts_between(after, limei.alert_snapshot(limei.now()), ME, limei.now()) == []
    # Nor for anyone else.
    assert limei.alerts_between(before, after, "user-zhao", limei.now()) == []


def test_a_follow_up_falls_due_once(store):
    hh = store.create_household(new_household("u-1-1", "301", [member("张秀英")]))
    store.record_visit(linli.NewVisit(
        household_id=hh, at=None, purpose=linli.VisitPurpose.ASK_NEEDS,
        needs=[linli.Need(category=linli.NeedCategory.ELDER_CARE, text="想申请助餐")],
        done_on_spot="", follow_up=True))
    (need,) = store.needs_of(hh)
    t0 = store.now()
    first = store.alert_snapshot(t0)
    assert store.alerts_between(first, first, ME, t0) == []
    t1 = need.due_at + 1
    due = store.alert_snapshot(t1)
    (alert,) = store.alerts_between(first, due, ME, t1)
    assert (alert.kind, alert.key) == (linli.AlertKind.FOLLOW_UP_DUE, f"follow_up_due:{need.id}")
    assert "张秀英" not in alert.summary
    assert store.alerts_between(due, store.alert_snapshot(t1 + DAY), ME, t1 + DAY) == []


@pytest.mark.parametrize("bad", ["", "garbage", "{}", '{"format":2,"at":0,"incidents":[],"needs":[]}'])
def test_garbage_snapshot_text_is_a_typed_error(store, bad):
    good = store.alert_snapshot(store.now())
    for before, after in [(bad, good), (good, bad)]:
        with pytest.raises(linli.LinliError.InvalidInput) as e:
            store.alerts_between(before, after, ME, store.now())
        assert (e.value.field, e.value.reason) == ("snapshot", "bad_format")

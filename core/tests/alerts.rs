//! Alerts after a background sync (issue 10): a dispatch to me, an escalation per level and
//! a follow-up falling due each alert once, with a stable key and no personal data; the
//! snapshot survives its text form, and garbage text is a typed error.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

const DAY: i64 = 24 * 3600 * 1000;
const ME: &str = USER_LI_MEI;
const DESCRIPTION: &str = "张秀英家楼上漏水，电话13800138000";

fn pull(from: &Store, to: &Store, doc: &str) {
    let have = to.heads(doc).unwrap_or_default();
    let bytes = from.changes_since(doc, &have).unwrap();
    to.import_changes(doc, &bytes).unwrap();
}

/// The admin's phone and mine (李梅's), the admin's with an incident reported and accepted.
fn admin_and_me() -> (TestStore, TestStore, String) {
    let admin = open(1, USER_ADMIN);
    let me = open(2, ME);
    let id = admin
        .store
        .report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: DESCRIPTION.into(),
            place_id: Some(BUILDING_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    admin
        .store
        .move_incident(&id, IncidentAction::Accept, "")
        .unwrap();
    (admin, me, id)
}

fn snap(s: &Store, at: i64) -> AlertSnapshot {
    s.alert_snapshot(at).unwrap()
}

fn keys(alerts: &[Alert]) -> Vec<String> {
    alerts.iter().map(|a| a.key.clone()).collect()
}

fn escalate(s: &Store, id: &str, level: Level) {
    s.move_incident_with(
        id,
        IncidentAction::Escalate,
        MoveDetail {
            level: Some(level),
            note: "督办".into(),
            ..MoveDetail::default()
        },
    )
    .unwrap();
}

#[test]
fn a_dispatch_to_me_alerts_once_and_not_to_others() {
    let (admin, me, id) = admin_and_me();
    pull(&admin.store, &me.store, &id);
    let now = me.store.now();
    let before = snap(&me.store, now);
    // Accepted by the admin, handled by the admin: nothing for me.
    assert_eq!(alerts(&before, &before, ME, now), vec![]);

    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "请上门查看")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    let after = snap(&me.store, now);
    let got = alerts(&before, &after, ME, now);
    assert_eq!(keys(&got), vec![format!("assigned:{id}")]);
    assert_eq!(got[0].kind, AlertKind::Assigned);
    assert_eq!(got[0].record_id, id);
    assert_eq!(got[0].summary, "新派单：漏水维修");
    // Nobody else hears of it, and the next run has nothing new.
    assert_eq!(alerts(&before, &after, USER_WANG_QIANG, now), vec![]);
    assert_eq!(alerts(&after, &snap(&me.store, now), ME, now), vec![]);

    // Dispatched away and back: a new assignment, same key (a shell posts it once).
    admin
        .store
        .dispatch_incident(&id, Some(USER_WANG_QIANG), None, "")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    let away = snap(&me.store, now);
    assert_eq!(alerts(&after, &away, ME, now), vec![]);
    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    assert_eq!(
        keys(&alerts(&away, &snap(&me.store, now), ME, now)),
        vec![format!("assigned:{id}")]
    );
}

#[test]
fn a_new_incident_assigned_to_me_alerts_but_a_closed_one_does_not() {
    let (admin, me, id) = admin_and_me();
    let now = me.store.now();
    let empty = snap(&me.store, now);
    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    // First seen already mine: an assignment.
    let mine = snap(&me.store, now);
    assert_eq!(
        keys(&alerts(&empty, &mine, ME, now)),
        vec![format!("assigned:{id}")]
    );
    // The same incident, first seen closed: nothing.
    let s = &admin.store;
    s.move_incident(&id, IncidentAction::Start, "").unwrap();
    s.move_incident(&id, IncidentAction::Resolve, "").unwrap();
    s.move_incident(&id, IncidentAction::Close, "联系不上")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    let closed = snap(&me.store, now);
    assert_eq!(closed.incidents[0].status, IncidentStatus::Closed);
    assert_eq!(alerts(&empty, &closed, ME, now), vec![]);
}

#[test]
fn an_assignment_i_made_myself_is_not_news() {
    let (admin, me, id) = admin_and_me();
    let now = me.store.now();
    let empty = snap(&me.store, now);
    // I report an incident assigned to myself, and accept another one (first accept: handler).
    let own = me
        .store
        .report_incident(NewIncident {
            category: IncidentCategory::Noise,
            description: "楼上装修噪音".into(),
            place_id: Some(BUILDING_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: Some(ME.into()),
            dispute: None,
        })
        .unwrap();
    let taken = me
        .store
        .report_incident(NewIncident {
            category: IncidentCategory::Parking,
            description: "消防通道停车".into(),
            place_id: Some(BUILDING_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    me.store
        .move_incident(&taken, IncidentAction::Accept, "")
        .unwrap();
    let after = snap(&me.store, now);
    let marks: Vec<_> = after.incidents.iter().filter(|i| i.id != id).collect();
    assert_eq!(marks.len(), 2);
    assert!(
        marks.iter().all(|i| i.assigned_by.as_deref() == Some(ME)),
        "{marks:?}"
    );
    assert!(
        marks
            .iter()
            .any(|i| i.id == own && i.assignee.as_deref() == Some(ME))
    );
    assert!(
        marks
            .iter()
            .any(|i| i.id == taken && i.handler.as_deref() == Some(ME))
    );
    assert_eq!(alerts(&empty, &after, ME, now), vec![]);

    // The admin dispatches his to me: that one is news.
    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    assert_eq!(
        keys(&alerts(&after, &snap(&me.store, now), ME, now)),
        vec![format!("assigned:{id}")]
    );
}

#[test]
fn each_escalation_alerts_once_per_level() {
    let (admin, me, id) = admin_and_me();
    pull(&admin.store, &me.store, &id);
    let now = me.store.now();
    let grid = snap(&me.store, now);
    escalate(&admin.store, &id, Level::Community);
    pull(&admin.store, &me.store, &id);
    let community = snap(&me.store, now);
    let got = alerts(&grid, &community, ME, now);
    assert_eq!(keys(&got), vec![format!("escalated:{id}:community")]);
    assert_eq!(got[0].kind, AlertKind::Escalated);
    assert_eq!(got[0].summary, "事件已升级到社区：漏水维修");
    assert_eq!(alerts(&community, &community, ME, now), vec![]);

    escalate(&admin.store, &id, Level::Street);
    pull(&admin.store, &me.store, &id);
    let street = snap(&me.store, now);
    let got = alerts(&community, &street, ME, now);
    assert_eq!(keys(&got), vec![format!("escalated:{id}:street")]);
    assert_eq!(got[0].summary, "事件已升级到街道：漏水维修");
    // An incident first seen already escalated alerts too.
    let empty = snap(&open(3, ME).store, now);
    assert_eq!(
        keys(&alerts(&empty, &street, ME, now)),
        vec![format!("escalated:{id}:street")]
    );
}

#[test]
fn a_follow_up_alerts_when_it_falls_due_and_not_again() {
    let me = open(2, ME);
    let hh = me
        .store
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap();
    me.store.record_visit(visit(&hh)).unwrap();
    let need = me.store.needs_of(&hh).unwrap()[0].clone();
    let t0 = me.store.now();
    let first = snap(&me.store, t0);
    assert_eq!(first.needs.len(), 1);
    // Not due yet (a repair waits three days).
    assert_eq!(alerts(&first, &first, ME, t0), vec![]);

    let t1 = need.due_at + 1;
    let due = snap(&me.store, t1);
    let got = alerts(&first, &due, ME, t1);
    assert_eq!(keys(&got), vec![format!("follow_up_due:{}", need.id)]);
    assert_eq!(got[0].kind, AlertKind::FollowUpDue);
    assert_eq!(got[0].summary, "跟进到期：维修");
    // Already due at the last snapshot: heard, not again.
    let t2 = t1 + DAY;
    assert_eq!(alerts(&due, &snap(&me.store, t2), ME, t2), vec![]);
    // Not mine: nothing.
    assert_eq!(alerts(&first, &due, USER_WANG_QIANG, t1), vec![]);

    // Rescheduled to later, then due again: a second alert (same key).
    me.store.reschedule_need(&need.id, t2 + DAY).unwrap();
    let later = snap(&me.store, t2);
    assert_eq!(alerts(&due, &later, ME, t2), vec![]);
    let t3 = t2 + 2 * DAY;
    assert_eq!(
        keys(&alerts(&later, &snap(&me.store, t3), ME, t3)),
        vec![format!("follow_up_due:{}", need.id)]
    );
    // Done: nothing, however late.
    me.store
        .move_need(&need.id, NeedAction::Done, NeedMoveDetail::default())
        .unwrap();
    assert_eq!(alerts(&later, &snap(&me.store, t3), ME, t3), vec![]);
}

#[test]
fn alerts_carry_no_personal_data() {
    let (admin, me, id) = admin_and_me();
    let now = me.store.now();
    let empty = snap(&me.store, now);
    escalate(&admin.store, &id, Level::Community);
    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "张秀英 13800138000")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    let after = snap(&me.store, now);
    let got = alerts(&empty, &after, ME, now);
    assert_eq!(got.len(), 2);
    for a in &got {
        for secret in ["张秀英", "13800138000", "漏水，", "楼上"] {
            assert!(!a.summary.contains(secret), "{a:?}");
            assert!(!a.key.contains(secret), "{a:?}");
        }
    }
    // Nor does the snapshot kept in the app's preferences.
    let text = after.to_text();
    for secret in ["张秀英", "13800138000", "楼上漏水"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn the_snapshot_survives_its_text_and_garbage_is_a_typed_error() {
    let (admin, me, id) = admin_and_me();
    admin
        .store
        .dispatch_incident(&id, Some(ME), None, "")
        .unwrap();
    pull(&admin.store, &me.store, &id);
    let s = snap(&me.store, 42);
    assert_eq!(s.incidents.len(), 1);
    assert_eq!(s.incidents[0].handler.as_deref(), Some(ME));
    assert_eq!(AlertSnapshot::from_text(&s.to_text()).unwrap(), s);

    let newer = s.to_text().replace("\"format\":1", "\"format\":2");
    assert_ne!(newer, s.to_text());
    for bad in [
        "",
        "garbage",
        "{}",
        "[1,2]",
        "{\"format\":1}",
        newer.as_str(),
    ] {
        match AlertSnapshot::from_text(bad) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "snapshot");
                assert_eq!(reason, Reason::BadFormat);
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

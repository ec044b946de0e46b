//! Needs raised on visits, followed up (issue 10): the fold over two phones, illegal moves
//! and bad input refused with nothing written, the two lists and due dates, 转事件.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

const DAY: i64 = 24 * 3600 * 1000;

fn pull(from: &Store, to: &Store, doc: &str) {
    let have = to.heads(doc).unwrap_or_default();
    let bytes = from.changes_since(doc, &have).unwrap();
    to.import_changes(doc, &bytes).unwrap();
}

/// A household in unit 1-1 with one visit that raised a repair need (卫生间漏水).
fn visited(t: &TestStore) -> (String, String, String) {
    let s = &t.store;
    let hh = s
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap();
    let visit_id = s.record_visit(visit(&hh)).unwrap();
    let needs = s.needs_of(&hh).unwrap();
    assert_eq!(needs.len(), 1);
    (hh, visit_id, needs[0].id.clone())
}

#[test]
fn a_visits_needs_become_follow_ups_owned_by_the_visitor() {
    let t = open(1, "worker-li");
    let (hh, visit_id, need_id) = visited(&t);
    let n = t.store.need(&need_id).unwrap();
    assert_eq!(n.household_id, hh);
    assert_eq!(n.visit_id, visit_id);
    assert_eq!(n.category, NeedCategory::Repair);
    assert_eq!(n.text, "卫生间漏水");
    assert_eq!(n.owner, "worker-li");
    assert_eq!(n.status, NeedStatus::Open);
    assert_eq!(n.due_at, n.raised_at + 3 * DAY);
    // The visit itself is unchanged: its needs are still in it.
    let v = &t.store.household(&hh).unwrap().visits[0];
    assert_eq!(v.needs.len(), 1);

    let open_needs = t.store.open_needs(None).unwrap();
    assert_eq!(open_needs.len(), 1);
    assert_eq!(open_needs[0].id, need_id);
    assert!(open_needs[0].address.ends_with("301"));
    assert_eq!(t.store.open_needs(Some(UNIT_1_1)).unwrap().len(), 1);
    assert_eq!(t.store.open_needs(Some(GRID_1)).unwrap().len(), 1);
    assert_eq!(t.store.open_needs(Some(BUILDING_2)).unwrap().len(), 0);
}

#[test]
fn raising_on_a_visit_with_defaults_and_the_lists_by_due_date() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let (hh, visit_id, repair) = visited(&t);
    let care = s
        .raise_need(NewNeed {
            visit_id: visit_id.clone(),
            category: NeedCategory::ElderCare,
            text: "独居老人需要助餐".into(),
            owner: None,
            due_at: None,
        })
        .unwrap();
    let policy = s
        .raise_need(NewNeed {
            visit_id: visit_id.clone(),
            category: NeedCategory::Policy,
            text: "咨询医保报销".into(),
            owner: Some("leader-zhao".into()),
            due_at: Some(5),
        })
        .unwrap();
    let c = s.need(&care).unwrap();
    assert_eq!(c.due_at, c.raised_at + DAY);
    assert_eq!(c.owner, "worker-li", "the visit's author");
    let p = s.need(&policy).unwrap();
    assert_eq!((p.owner.as_str(), p.due_at), ("leader-zhao", 5));
    assert_eq!(s.needs_of(&hh).unwrap().len(), 3);

    // Open needs: the earliest due first (policy at 5, elder care in a day, repair in 3).
    let ids: Vec<String> = s
        .open_needs(None)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(ids, vec![policy.clone(), care.clone(), repair.clone()]);

    // Follow-ups due: at or before the time given.
    let now = s.now();
    let due: Vec<String> = s
        .needs_due(now)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(due, vec![policy.clone()]);
    let due: Vec<String> = s
        .needs_due(c.due_at)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(due, vec![policy.clone(), care.clone()]);

    // Rescheduled, taken, done: out of the lists.
    s.reschedule_need(&repair, 1).unwrap();
    assert_eq!(s.needs_due(now).unwrap()[0].id, repair);
    assert_eq!(
        s.move_need(&repair, NeedAction::Take, NeedMoveDetail::default())
            .unwrap(),
        NeedStatus::InHand
    );
    assert_eq!(s.needs_due(now).unwrap().len(), 2, "in hand is still due");
    s.move_need(&repair, NeedAction::Done, NeedMoveDetail::default())
        .unwrap();
    s.assign_need(&policy, "worker-wang").unwrap();
    assert_eq!(s.need(&policy).unwrap().owner, "worker-wang");
    let due: Vec<String> = s
        .needs_due(now)
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(due, vec![policy.clone()]);
    assert_eq!(s.open_needs(None).unwrap().len(), 2);
    // Reopened: back.
    s.move_need(&repair, NeedAction::Reopen, NeedMoveDetail::default())
        .unwrap();
    assert_eq!(s.open_needs(None).unwrap().len(), 3);
    assert_eq!(
        s.need_moves(&repair).unwrap(),
        vec![
            NeedAction::Take,
            NeedAction::Done,
            NeedAction::Refer,
            NeedAction::Assign,
            NeedAction::Reschedule
        ]
    );
    // The history names the moves.
    let ops: Vec<String> = s.history(&hh).unwrap().into_iter().map(|h| h.op).collect();
    assert!(ops.contains(&"need.raise".to_owned()));
    assert!(ops.contains(&"need.done".to_owned()));
}

#[test]
fn concurrent_changes_on_two_phones_fold_the_same_on_both() {
    let worker = open(1, "worker-li");
    let leader = open(2, "leader-zhao");
    let (hh, _, need) = visited(&worker);
    pull(&worker.store, &leader.store, &hh);
    assert_eq!(leader.store.open_needs(None).unwrap().len(), 1);

    // Offline on both: the worker takes it and reschedules; the leader marks it done and
    // hands it on.
    worker
        .store
        .move_need(&need, NeedAction::Take, NeedMoveDetail::default())
        .unwrap();
    worker.store.reschedule_need(&need, 42).unwrap();
    leader.store.assign_need(&need, "worker-wang").unwrap();
    leader
        .store
        .move_need(&need, NeedAction::Done, NeedMoveDetail::default())
        .unwrap();

    pull(&worker.store, &leader.store, &hh);
    pull(&leader.store, &worker.store, &hh);
    let a = worker.store.need(&need).unwrap();
    let b = leader.store.need(&need).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.events.len(), 4, "every event kept");
    assert_eq!(
        worker.store.open_needs(None).unwrap(),
        leader.store.open_needs(None).unwrap()
    );
    // Whatever order they took, the rows agree with the documents.
    let row = |s: &Store| {
        s.with_raw_connection(|c| {
            c.query_row(
                "SELECT status, owner, due_at FROM needs WHERE id = ?1",
                [&need],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .unwrap()
        })
    };
    assert_eq!(row(&worker.store), row(&leader.store));
    assert_eq!(row(&worker.store).0, a.status.code());
}

#[test]
fn two_phones_raising_the_first_needs_of_an_old_household_both_keep_theirs() {
    let worker = open(1, "worker-li");
    let leader = open(2, "leader-zhao");
    let (hh, visit_id, _) = visited(&worker);
    pull(&worker.store, &leader.store, &hh);
    let raise = |s: &Store, text: &str| {
        s.raise_need(NewNeed {
            visit_id: visit_id.clone(),
            category: NeedCategory::MicroWish,
            text: text.into(),
            owner: None,
            due_at: None,
        })
        .unwrap()
    };
    let a = raise(&worker.store, "想要一台收音机");
    let b = raise(&leader.store, "希望有人陪聊");
    pull(&worker.store, &leader.store, &hh);
    pull(&leader.store, &worker.store, &hh);
    for s in [&worker.store, &leader.store] {
        let ids: Vec<String> = s.needs_of(&hh).unwrap().into_iter().map(|n| n.id).collect();
        assert!(ids.contains(&a) && ids.contains(&b));
        assert_eq!(s.open_needs(None).unwrap().len(), 3);
    }
}

#[test]
fn illegal_moves_and_bad_input_are_refused_and_write_nothing() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let (_, visit_id, need) = visited(&t);
    s.move_need(&need, NeedAction::Done, NeedMoveDetail::default())
        .unwrap();
    let before = fingerprint(s);

    let err = s
        .move_need(&need, NeedAction::Take, NeedMoveDetail::default())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::IllegalNeedTransition {
            from: NeedStatus::Done,
            action: NeedAction::Take
        }
    ));
    assert!(matches!(
        s.reschedule_need(&need, 1).unwrap_err(),
        Error::IllegalNeedTransition { .. }
    ));
    // Unknown need, unknown visit.
    assert!(matches!(
        s.move_need("no-such-need", NeedAction::Take, NeedMoveDetail::default())
            .unwrap_err(),
        Error::NotFound { kind: "need" }
    ));
    let raise = |visit_id: &str, text: &str| {
        s.raise_need(NewNeed {
            visit_id: visit_id.into(),
            category: NeedCategory::Repair,
            text: text.into(),
            owner: None,
            due_at: None,
        })
    };
    assert!(matches!(
        raise("no-such-visit", "漏水").unwrap_err(),
        Error::NotFound { kind: "visit" }
    ));
    // Empty and too-long text.
    assert!(matches!(
        raise(&visit_id, "  ").unwrap_err(),
        Error::InvalidInput { field: "need", .. }
    ));
    assert!(matches!(
        raise(&visit_id, &"漏".repeat(4001)).unwrap_err(),
        Error::InvalidInput { field: "need", .. }
    ));
    // A move without its detail, with a stray one, an unknown action, refer without an
    // incident, an empty owner.
    let reopened_detail = NeedMoveDetail {
        owner: Some("x".into()),
        ..NeedMoveDetail::default()
    };
    for (action, detail) in [
        (NeedAction::Assign, NeedMoveDetail::default()),
        (NeedAction::Reopen, reopened_detail),
        (NeedAction::Other, NeedMoveDetail::default()),
        (NeedAction::Refer, NeedMoveDetail::default()),
    ] {
        assert!(
            matches!(
                s.move_need(&need, action, detail).unwrap_err(),
                Error::InvalidInput { .. }
            ),
            "{action}"
        );
    }
    assert!(matches!(
        s.assign_need(&need, " ").unwrap_err(),
        Error::InvalidInput { .. }
    ));
    assert!(matches!(
        s.need_to_incident(
            &need,
            NewNeedIncident {
                category: IncidentCategory::LeakRepair,
                priority: Priority::Normal,
                description: String::new(),
            }
        )
        .unwrap_err(),
        Error::IllegalNeedTransition {
            from: NeedStatus::Done,
            action: NeedAction::Refer
        }
    ));
    assert_eq!(fingerprint(s), before);
}

#[test]
fn converting_to_an_incident_keeps_the_link_both_ways() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let (hh, _, need) = visited(&t);
    s.move_need(&need, NeedAction::Take, NeedMoveDetail::default())
        .unwrap();
    let incident = s
        .need_to_incident(
            &need,
            NewNeedIncident {
                category: IncidentCategory::LeakRepair,
                priority: Priority::High,
                description: String::new(),
            },
        )
        .unwrap();
    let n = s.need(&need).unwrap();
    assert_eq!(n.status, NeedStatus::Referred);
    assert_eq!(n.incident_id.as_deref(), Some(incident.as_str()));
    let i = s.incident(&incident).unwrap();
    assert_eq!(i.household_id.as_deref(), Some(hh.as_str()));
    assert_eq!(i.description, "卫生间漏水");
    assert_eq!(i.unit_id.as_deref(), Some(UNIT_1_1));
    assert_eq!(
        s.incident_need(&incident).unwrap().as_deref(),
        Some(need.as_str())
    );
    assert!(s.open_needs(None).unwrap().is_empty());
    let rows = s.open_needs(None).unwrap();
    assert!(rows.is_empty());
    // Referred is final.
    assert!(matches!(
        s.move_need(&need, NeedAction::Reopen, NeedMoveDetail::default())
            .unwrap_err(),
        Error::IllegalNeedTransition { .. }
    ));
    // An incident reported the usual way names no need.
    let other = s
        .report_incident(NewIncident {
            category: IncidentCategory::Noise,
            description: "夜间噪音".into(),
            place_id: Some(UNIT_1_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    assert_eq!(s.incident_need(&other).unwrap(), None);
}

//! Issue 8 on the device: every role × every move judged by the role table before anything
//! is written, dispatch targets, reporting, the clock from the server's receipt, unit
//! leaders' incidents, open disputes, and the whole loop merged across three phones.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::roles::{self, Denied, DispatchTarget, Grant, MoveContext, Permissions};
use linli_core::*;
use proptest::prelude::*;

const ME: &str = "me";
const OTHER: &str = "wang";
const LEADER: &str = "zhao";
const DEPT: &str = "wu";

fn pull(from: &Store, to: &Store, doc: &str) {
    let have = to.heads(doc).unwrap_or_default();
    let bytes = from.changes_since(doc, &have).unwrap();
    to.import_changes(doc, &bytes).unwrap();
}

fn report(s: &Store, category: IncidentCategory) -> String {
    s.report_incident(NewIncident {
        category,
        description: "楼道飞线充电".into(),
        place_id: Some(BUILDING_1.into()),
        household_id: None,
        priority: Priority::High,
        assignee: None,
        dispute: None,
    })
    .unwrap()
}

fn detail(action: IncidentAction) -> MoveDetail {
    use IncidentAction as A;
    let d = MoveDetail::default();
    match action {
        A::Return => MoveDetail {
            reason: Some(ReturnReason::Jurisdiction),
            note: "不在本网格".into(),
            ..d
        },
        A::Feedback => MoveDetail {
            rating: Some(Rating::Satisfied),
            ..d
        },
        A::Escalate => MoveDetail {
            level: Some(Level::Community),
            ..d
        },
        A::Close => MoveDetail {
            note: "居民联系不上".into(),
            ..d
        },
        A::Reopen => MoveDetail {
            note: "又坏了".into(),
            ..d
        },
        _ => d,
    }
}

fn grant_for(p: &Permissions, action: IncidentAction) -> Grant {
    use IncidentAction as A;
    match action {
        A::Accept => p.accept,
        A::Start | A::Resolve => p.work,
        A::Return => p.return_,
        A::Feedback => p.feedback,
        A::Escalate => p.escalate,
        A::Close | A::Reopen => p.close_reopen,
        A::Dispatch | A::Other => unreachable!(),
    }
}

/// A device of `ME` in `role`, knowing the other people of its scope.
fn device(n: u8, role: Role) -> TestStore {
    let t = open(n, ME);
    people(
        &t.store,
        &[
            (ME, role),
            (OTHER, Role::GridWorker),
            (LEADER, Role::BuildingLeader),
            (DEPT, Role::DepartmentHandler),
        ],
    );
    t
}

/// An incident prepared by a device with no reference data (so the setup is never judged)
/// where `action` is legal and `handler` handles it; shipped to `to`.
fn prepared(setup: &Store, to: &Store, action: IncidentAction, handler: &str) -> String {
    use IncidentAction as A;
    let id = report(setup, IncidentCategory::FlyingWireCharging);
    setup.move_incident(&id, A::Accept, "").unwrap();
    setup
        .dispatch_incident(&id, Some(handler), None, "")
        .unwrap();
    if matches!(action, A::Feedback | A::Close | A::Reopen) {
        setup.move_incident(&id, A::Resolve, "已处理").unwrap();
    }
    pull(setup, to, &id);
    // Each move is later than the last (events fold in time order).
    std::thread::sleep(std::time::Duration::from_millis(2));
    id
}

#[test]
fn every_role_and_move_is_judged_by_the_table_and_a_refusal_writes_nothing() {
    use IncidentAction as A;
    let setup = open(200, "setup");
    let moves = [
        A::Accept,
        A::Start,
        A::Resolve,
        A::Return,
        A::Feedback,
        A::Escalate,
        A::Close,
        A::Reopen,
    ];
    let mut written = 0;
    let mut refused = 0;
    for (n, (role, perms)) in roles::TABLE.iter().enumerate() {
        let t = device(n as u8 + 1, *role);
        let s = &t.store;
        for action in moves {
            for as_handler in [true, false] {
                let handler = if as_handler { ME } else { OTHER };
                let id = prepared(&setup.store, s, action, handler);
                let menu = s.incident_moves(&id).unwrap();
                let expected = match grant_for(perms, action) {
                    Grant::Yes => Ok(()),
                    Grant::No => Err(Denied::Role),
                    Grant::IfHandler if as_handler => Ok(()),
                    Grant::IfHandler => Err(Denied::NotHandler),
                };
                let before = fingerprint(s);
                let got = s.move_incident_with(&id, action, detail(action));
                let case = format!("{role} {action} handler={as_handler}");
                match expected {
                    Ok(()) => {
                        assert!(got.is_ok(), "{case}: {got:?}");
                        assert_ne!(fingerprint(s), before, "{case}");
                        assert!(menu.contains(&action), "{case}: menu {menu:?}");
                        written += 1;
                    }
                    Err(reason) => {
                        assert!(
                            matches!(
                                got,
                                Err(Error::NotAllowed { action: Some(a), reason: r })
                                    if a == action && r == reason
                            ),
                            "{case}: {got:?}"
                        );
                        assert_eq!(fingerprint(s), before, "{case}");
                        assert!(!menu.contains(&action), "{case}: menu {menu:?}");
                        refused += 1;
                    }
                }
            }
        }
    }
    assert_eq!(written + refused, roles::TABLE.len() * moves.len() * 2);
    assert!(written > 0 && refused > 0);
}

#[test]
fn dispatch_targets_are_judged_with_the_people_the_device_knows() {
    let setup = open(200, "setup");
    let targets: [(Option<&str>, Option<Department>); 5] = [
        (Some(ME), None),
        (Some(LEADER), None),
        (Some(OTHER), None),
        (None, Some(Department::Property)),
        (Some("nobody-known"), None),
    ];
    for (n, (role, perms)) in roles::TABLE.iter().enumerate() {
        let t = device(n as u8 + 1, *role);
        let s = &t.store;
        for (to, department) in targets {
            let id = report(&setup.store, IncidentCategory::Noise);
            setup
                .store
                .move_incident(&id, IncidentAction::Accept, "")
                .unwrap();
            pull(&setup.store, s, &id);
            std::thread::sleep(std::time::Duration::from_millis(2));
            let known = |id: &str| match id {
                ME => Some(*role),
                LEADER => Some(Role::BuildingLeader),
                OTHER => Some(Role::GridWorker),
                _ => None,
            };
            let target = match (to, department) {
                (Some(to), _) => known(to).map(|r| DispatchTarget::Person {
                    user_id: to,
                    role: r,
                    same_community: true,
                }),
                _ => Some(DispatchTarget::Department),
            };
            let expected = match target {
                Some(target) => roles::check_move(
                    *role,
                    ME,
                    IncidentAction::Dispatch,
                    &MoveContext {
                        handler: Some("setup"),
                        target: Some(target),
                    },
                ),
                // Unknown on the device: only a street admin dispatches beyond its people.
                None => match perms.dispatch {
                    roles::DispatchGrant::No => Err(Denied::Role),
                    roles::DispatchGrant::Street => Ok(()),
                    _ => Err(Denied::Target),
                },
            };
            let before = fingerprint(s);
            let got = s.dispatch_incident(&id, to, department, "请处理");
            let case = format!("{role} → {to:?}/{department:?}");
            match expected {
                Ok(()) => {
                    assert_eq!(got.unwrap(), IncidentStatus::Dispatched, "{case}");
                    let i = s.incident(&id).unwrap();
                    assert_eq!(i.department, department, "{case}");
                    let row = &s.incidents(&IncidentFilter::default()).unwrap();
                    let row = row.iter().find(|r| r.id == id).unwrap();
                    assert_eq!(row.handler.as_deref(), to, "{case}");
                    assert_eq!(row.department, department, "{case}");
                }
                Err(reason) => {
                    assert!(
                        matches!(got, Err(Error::NotAllowed { reason: r, .. }) if r == reason),
                        "{case}: {got:?}"
                    );
                    assert_eq!(fingerprint(s), before, "{case}");
                }
            }
        }
    }
}

#[test]
fn reporting_follows_the_table_and_an_unknown_user_is_left_to_the_server() {
    for (n, role) in Role::ALL.iter().enumerate() {
        let t = device(n as u8 + 1, *role);
        let before = fingerprint(&t.store);
        let got = t.store.report_incident(NewIncident {
            category: IncidentCategory::Noise,
            description: "深夜装修".into(),
            place_id: Some(GRID_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        });
        if roles::may_report(*role) {
            assert!(got.is_ok(), "{role}");
        } else {
            assert!(
                matches!(
                    got,
                    Err(Error::NotAllowed {
                        action: None,
                        reason: Denied::Role
                    })
                ),
                "{role}"
            );
            assert_eq!(fingerprint(&t.store), before);
        }
    }
    // No reference row for the user yet: every legal move is offered and allowed.
    let t = open(9, "new-user");
    let id = report(&t.store, IncidentCategory::Noise);
    assert_eq!(
        t.store.incident_moves(&id).unwrap(),
        vec![IncidentAction::Accept, IncidentAction::Escalate]
    );
    t.store
        .move_incident(&id, IncidentAction::Accept, "")
        .unwrap();
}

#[test]
fn the_clock_starts_at_the_servers_receipt() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let id = report(s, IncidentCategory::FlyingWireCharging);
    let row = |s: &Store| s.incidents(&IncidentFilter::default()).unwrap()[0].clone();
    let r = row(s);
    assert_eq!(r.received_at, None);
    assert_eq!(r.response_deadline(), None);
    assert_eq!(r.resolve_deadline(), None);
    // Days later and still not received: not overdue ("未接收").
    let far = r.reported_at + 10 * 24 * 3600 * 1000;
    assert!(!r.response_overdue(far));
    assert!(!r.resolve_overdue(far));
    assert!(s.overdue_incidents(far).unwrap().is_empty());

    // The server received it an hour after the phone recorded it (offline in a basement).
    let received = r.reported_at + 3600 * 1000;
    stamp_received(s, &id, received);
    let r = row(s);
    assert_eq!(r.received_at, Some(received));
    assert_eq!(r.reported_at, s.incident(&id).unwrap().reported_at);
    assert_eq!(
        r.response_deadline(),
        Some(received + targets::RESPONSE_TARGET_MS)
    );
    // High priority: 72 hours.
    assert_eq!(r.resolve_deadline(), Some(received + 72 * 3600 * 1000));
    let minute = 60 * 1000;
    assert!(!r.response_overdue(received + 14 * minute));
    assert!(r.response_overdue(received + 16 * minute));
    assert!(
        s.overdue_incidents(received + 14 * minute)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.overdue_incidents(received + 16 * minute).unwrap().len(),
        1
    );
    assert!(r.resolve_overdue(received + 73 * 3600 * 1000));
    s.move_incident(&id, IncidentAction::Accept, "").unwrap();
    let r = row(s);
    assert!(!r.response_overdue(received + 16 * minute));
}

#[test]
fn an_incident_at_a_unit_or_its_household_carries_the_unit() {
    let t = open(1, "leader-unit");
    let s = &t.store;
    people(s, &[("leader-unit", Role::UnitLeader)]);
    let at_unit = s
        .report_incident(NewIncident {
            category: IncidentCategory::HighRiseLittering,
            description: "高空抛物".into(),
            place_id: Some(UNIT_1_2.into()),
            household_id: None,
            priority: Priority::High,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    let i = s.incident(&at_unit).unwrap();
    assert_eq!(i.unit_id.as_deref(), Some(UNIT_1_2));
    assert_eq!(i.building_id.as_deref(), Some(BUILDING_1));
    assert_eq!(i.grid_id, GRID_1);
    let hh = s
        .create_household(household(
            UNIT_1_1,
            "302",
            vec![member("钱七", Relation::Head, None)],
        ))
        .unwrap();
    let at_home = s
        .report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: "漏水".into(),
            place_id: None,
            household_id: Some(hh),
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    assert_eq!(
        s.incident(&at_home).unwrap().unit_id.as_deref(),
        Some(UNIT_1_1)
    );
    // The unit's list: its own incidents only.
    let of_unit = s
        .incidents(&IncidentFilter {
            place_id: Some(UNIT_1_1.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(of_unit.len(), 1);
    assert_eq!(of_unit[0].id, at_home);
    assert_eq!(of_unit[0].unit_id.as_deref(), Some(UNIT_1_1));
    // A unit leader gives feedback and nothing else.
    assert!(s.incident_moves(&at_unit).unwrap().is_empty());
}

#[test]
fn open_disputes_per_grid_fall_as_outcomes_are_recorded() {
    let worker = open(1, "worker-li");
    let leader = open(2, "leader-zhao");
    people(&worker.store, &[("worker-li", Role::GridWorker)]);
    people(&leader.store, &[("leader-zhao", Role::BuildingLeader)]);
    let open_in = |s: &Store, grid: &str| {
        s.open_disputes_by_grid()
            .unwrap()
            .into_iter()
            .find(|g| g.grid_id == grid)
            .map(|g| g.open)
    };
    assert_eq!(open_in(&worker.store, GRID_1), Some(0));
    let dispute = |place: &str, parties: &str| NewIncident {
        category: IncidentCategory::Dispute,
        description: "邻里噪音纠纷".into(),
        place_id: Some(place.into()),
        household_id: None,
        priority: Priority::Normal,
        assignee: None,
        dispute: Some(DisputeInfo {
            parties: parties.into(),
            mediator: "网格员 李梅".into(),
        }),
    };
    let a = worker
        .store
        .report_incident(dispute(BUILDING_1, "张某 与 李某"))
        .unwrap();
    let b = worker
        .store
        .report_incident(dispute(GRID_1, "王某 与 赵某"))
        .unwrap();
    worker
        .store
        .report_incident(dispute(GRID_2, "孙某 与 周某"))
        .unwrap();
    // Not a dispute: not counted.
    report(&worker.store, IncidentCategory::Noise);
    assert_eq!(open_in(&worker.store, GRID_1), Some(2));
    assert_eq!(open_in(&worker.store, GRID_2), Some(1));
    assert_eq!(
        worker.store.incident(&a).unwrap().dispute.unwrap().parties,
        "张某 与 李某"
    );

    let s = &worker.store;
    for id in [&a, &b] {
        s.move_incident(id, IncidentAction::Accept, "").unwrap();
    }
    // A dispute is resolved with its outcome.
    assert!(matches!(
        s.move_incident(&a, IncidentAction::Resolve, ""),
        Err(Error::InvalidInput {
            field: "outcome",
            ..
        })
    ));
    let resolve = |id: &str, outcome| {
        s.move_incident_with(
            id,
            IncidentAction::Resolve,
            MoveDetail {
                outcome: Some(outcome),
                ..MoveDetail::default()
            },
        )
        .unwrap()
    };
    resolve(&a, DisputeOutcome::Mediated);
    resolve(&b, DisputeOutcome::Transferred);
    // Resolved, not yet closed by the residents' feedback: still open.
    assert_eq!(open_in(s, GRID_1), Some(2));
    for id in [&a, &b] {
        pull(s, &leader.store, id);
    }
    std::thread::sleep(std::time::Duration::from_millis(2));
    leader
        .store
        .move_incident_with(
            &a,
            IncidentAction::Feedback,
            detail(IncidentAction::Feedback),
        )
        .unwrap();
    pull(&leader.store, s, &a);
    assert_eq!(open_in(s, GRID_1), Some(1));
    assert_eq!(open_in(&leader.store, GRID_1), Some(1));
    let row = s
        .incidents(&IncidentFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| r.id == a)
        .unwrap();
    assert_eq!(row.outcome, Some(DisputeOutcome::Mediated));
    assert_eq!(row.status, IncidentStatus::Closed);
}

/// Who makes each step of the loop (0 leader, 1 community admin, 2 department handler).
fn the_loop() -> Vec<(usize, IncidentAction, MoveDetail)> {
    use IncidentAction as A;
    let to_dept = || MoveDetail {
        to: Some("dept-wu".into()),
        note: "请物业处理".into(),
        ..MoveDetail::default()
    };
    let rating = |r| MoveDetail {
        rating: Some(r),
        ..MoveDetail::default()
    };
    vec![
        (1, A::Accept, MoveDetail::default()),
        (1, A::Dispatch, to_dept()),
        (2, A::Return, detail(A::Return)),
        (1, A::Dispatch, to_dept()),
        (2, A::Resolve, MoveDetail::default()),
        (0, A::Feedback, rating(Rating::Unsatisfied)),
        (2, A::Resolve, MoveDetail::default()),
        (0, A::Feedback, rating(Rating::Satisfied)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// report → accept → dispatch → return → dispatch → resolve → 不满意 → resolve → 满意 by
    /// the leader → closed, each step on its actor's phone, with random extra merges between
    /// steps and a random final merge order: every phone agrees on status and timeline.
    #[test]
    fn the_whole_loop_converges_on_three_phones(
        extra in proptest::collection::vec((0..3usize, 0..3usize), 9),
        order in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let phones = [open(1, "leader-zhao"), open(2, "admin-chen"), open(3, "dept-wu")];
        let roster = [
            ("leader-zhao", Role::BuildingLeader),
            ("admin-chen", Role::Admin),
            ("dept-wu", Role::DepartmentHandler),
        ];
        for p in &phones {
            people(&p.store, &roster);
        }
        let s = |i: usize| &phones[i].store;
        let id = report(s(0), IncidentCategory::LeakRepair);
        let mut last = 0;
        for (step, (who, action, detail)) in the_loop().into_iter().enumerate() {
            let (a, b) = extra[step];
            if a != b {
                let have = s(b).heads(&id).unwrap_or_default();
                if let Ok(bytes) = s(a).changes_since(&id, &have) {
                    s(b).import_changes(&id, &bytes).unwrap();
                }
            }
            pull(s(last), s(who), &id);
            std::thread::sleep(std::time::Duration::from_millis(2));
            s(who).move_incident_with(&id, action, detail).unwrap();
            last = who;
        }
        for _ in 0..2 {
            for &a in &order {
                for b in 0..3 {
                    if a != b {
                        pull(s(a), s(b), &id);
                    }
                }
            }
        }
        let first = s(0).incident(&id).unwrap();
        prop_assert_eq!(first.status, IncidentStatus::Closed);
        prop_assert_eq!(first.events.len(), 8);
        prop_assert_eq!(first.events.first().map(|e| e.by.as_str()), Some("admin-chen"));
        for i in 1..3 {
            prop_assert_eq!(&s(i).incident(&id).unwrap(), &first);
            prop_assert!(s(i).incident_moves(&id).unwrap().iter().all(|a| *a != IncidentAction::Feedback));
        }
        let row = s(2).incidents(&IncidentFilter::default()).unwrap()[0].clone();
        prop_assert_eq!(row.status, IncidentStatus::Closed);
        prop_assert_eq!(row.handler.as_deref(), Some("dept-wu"));
        // The community admin may reopen a closed one; the leader may not.
        prop_assert_eq!(s(1).incident_moves(&id).unwrap(), vec![IncidentAction::Reopen]);
        prop_assert!(s(0).incident_moves(&id).unwrap().is_empty());
    }
}

//! Two and three devices edit the same household and incident offline and merge in random
//! orders: every device ends with identical state and every acknowledged edit present.
//!
//! `LINLI_HEAVY=1` runs many more cases.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;
use proptest::prelude::*;

/// Ships to `to` whatever `from` has of `doc` that `to` lacks.
/// The moves a phone makes with only a note; the moves with details are [`detailed`].
const NOTE_MOVES: [IncidentAction; 5] = [
    IncidentAction::Accept,
    IncidentAction::Start,
    IncidentAction::Resolve,
    IncidentAction::Close,
    IncidentAction::Reopen,
];

/// The moves that carry details (issue 8): a dispatch to a person or a department, a return
/// with its reason, feedback either way, an escalation.
fn detailed(n: u8) -> (IncidentAction, MoveDetail) {
    let d = MoveDetail::default();
    match n % 6 {
        0 => (
            IncidentAction::Dispatch,
            MoveDetail {
                to: Some(format!("worker-{}", n / 6)),
                ..d
            },
        ),
        1 => (
            IncidentAction::Dispatch,
            MoveDetail {
                department: Some(Department::Property),
                ..d
            },
        ),
        2 => (
            IncidentAction::Return,
            MoveDetail {
                reason: Some(ReturnReason::Overlap),
                note: "职能交叉".into(),
                ..d
            },
        ),
        3 => (
            IncidentAction::Feedback,
            MoveDetail {
                rating: Some(Rating::Unsatisfied),
                ..d
            },
        ),
        4 => (
            IncidentAction::Feedback,
            MoveDetail {
                rating: Some(Rating::Basic),
                ..d
            },
        ),
        _ => (
            IncidentAction::Escalate,
            MoveDetail {
                level: Some(if n.is_multiple_of(2) {
                    Level::Community
                } else {
                    Level::Street
                }),
                ..d
            },
        ),
    }
}

fn pull(from: &Store, to: &Store, doc: &str) {
    let have = to.heads(doc).unwrap_or_default();
    let bytes = from.changes_since(doc, &have).expect("changes_since");
    to.import_changes(doc, &bytes).expect("import");
}

#[test]
fn different_fields_of_one_household_both_survive() {
    let worker = open(1, "worker-li");
    let leader = open(2, "leader-zhao");
    let hh = worker
        .store
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("张三", Relation::Head, None)],
        ))
        .unwrap();
    pull(&worker.store, &leader.store, &hh);
    let head = worker.store.household(&hh).unwrap().members[0].id.clone();

    // Offline on both phones.
    worker
        .store
        .update_member(
            &hh,
            &head,
            MemberPatch {
                phone: Some(Some("13812345678".into())),
                ..Default::default()
            },
        )
        .unwrap();
    worker.store.record_visit(visit(&hh)).unwrap();
    leader
        .store
        .update_member(
            &hh,
            &head,
            MemberPatch {
                birth_year: Some(Some(1948)),
                ..Default::default()
            },
        )
        .unwrap();
    leader
        .store
        .update_household(
            &hh,
            HouseholdPatch {
                housing: Some(Housing::Rented),
                ..Default::default()
            },
        )
        .unwrap();
    leader
        .store
        .set_tag(&hh, CareTag::ElderlyAlone, true)
        .unwrap();
    leader.store.record_visit(visit(&hh)).unwrap();

    pull(&worker.store, &leader.store, &hh);
    pull(&leader.store, &worker.store, &hh);
    let a = worker.store.household(&hh).unwrap();
    let b = leader.store.household(&hh).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.members[0].phone.as_deref(), Some("13812345678"));
    assert_eq!(a.members[0].birth_year, Some(1948));
    assert_eq!(a.housing, Housing::Rented);
    assert_eq!(a.tags, vec![CareTag::ElderlyAlone]);
    assert_eq!(a.visits.len(), 2);
    assert_eq!(
        worker.store.households_in(BUILDING_1).unwrap(),
        leader.store.households_in(BUILDING_1).unwrap()
    );
    assert_eq!(
        worker.store.history(&hh).unwrap(),
        leader.store.history(&hh).unwrap()
    );
}

#[test]
fn same_field_resolves_the_same_way_everywhere() {
    let a = open(1, "worker-li");
    let b = open(2, "leader-zhao");
    let hh = a
        .store
        .create_household(household(BUILDING_1, "301", vec![]))
        .unwrap();
    pull(&a.store, &b.store, &hh);
    for (s, text) in [(&a.store, "独居，腿脚不便"), (&b.store, "子女每周探望")] {
        s.update_household(
            &hh,
            HouseholdPatch {
                notes: Some(text.into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    pull(&a.store, &b.store, &hh);
    pull(&b.store, &a.store, &hh);
    let notes = a.store.household(&hh).unwrap().notes;
    assert_eq!(notes, b.store.household(&hh).unwrap().notes);
    assert!(notes == "独居，腿脚不便" || notes == "子女每周探望");
}

#[derive(Debug, Clone)]
enum Op {
    Notes(u8),
    Residency(bool),
    Tag(usize, bool),
    AddMember(u8),
    MemberPhone(usize, u8),
    RemoveMember(usize),
    Visit,
    Move(usize),
    Detailed(u8),
    Assign(u8),
    /// Ship what device `.0` has to device `.1`, for the household or the incident.
    Sync(usize, usize, bool),
}

fn op() -> impl Strategy<Value = (usize, Op)> {
    let op = prop_oneof![
        any::<u8>().prop_map(Op::Notes),
        any::<bool>().prop_map(Op::Residency),
        (0..CareTag::ALL.len(), any::<bool>()).prop_map(|(t, on)| Op::Tag(t, on)),
        any::<u8>().prop_map(Op::AddMember),
        (0..8usize, any::<u8>()).prop_map(|(m, p)| Op::MemberPhone(m, p)),
        (0..8usize).prop_map(Op::RemoveMember),
        Just(Op::Visit),
        (0..NOTE_MOVES.len()).prop_map(Op::Move),
        any::<u8>().prop_map(Op::Detailed),
        any::<u8>().prop_map(Op::Assign),
        (0..3usize, 0..3usize, any::<bool>()).prop_map(|(a, b, h)| Op::Sync(a, b, h)),
    ];
    (0..3usize, op)
}

fn cases() -> u32 {
    if std::env::var_os("LINLI_HEAVY").is_some() {
        256
    } else {
        24
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Three devices (two grid workers, a building leader), random offline edits and random
    /// partial syncs, then every device ships everything to every other in a random order.
    #[test]
    fn random_edits_and_merge_orders_converge(
        ops in proptest::collection::vec(op(), 1..40),
        final_order in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let devices = [open(1, "worker-li"), open(2, "worker-wang"), open(3, "leader-zhao")];
        let s = |i: usize| &devices[i].store;
        let hh = s(0).create_household(household(
            UNIT_1_1, "301", vec![member("张三", Relation::Head, None)],
        )).unwrap();
        let inc = s(0).report_incident(NewIncident {
            category: IncidentCategory::FlyingWireCharging,
            description: "楼道飞线充电".into(),
            place_id: None,
            household_id: Some(hh.clone()),
            priority: Priority::High,
            assignee: None,
            dispute: None,
        }).unwrap();
        for i in 1..3 {
            pull(s(0), s(i), &hh);
            pull(s(0), s(i), &inc);
        }

        let mut members_added: Vec<(String, bool)> = Vec::new(); // (id, removed by someone)
        let mut visits = Vec::new();
        let mut moves = 0usize;
        for (dev, op) in ops {
            let st = s(dev);
            match op {
                Op::Notes(n) => st.update_household(&hh, HouseholdPatch {
                    notes: Some(format!("备注{n}")), ..Default::default()
                }).unwrap(),
                Op::Residency(f) => st.update_household(&hh, HouseholdPatch {
                    residency: Some(if f { Residency::Floating } else { Residency::Resident }),
                    ..Default::default()
                }).unwrap(),
                Op::Tag(t, on) => st.set_tag(&hh, CareTag::ALL[t], on).unwrap(),
                Op::AddMember(n) => {
                    let id = st.add_member(&hh, member(&format!("成员{n}"), Relation::Child, None)).unwrap();
                    members_added.push((id, false));
                }
                Op::MemberPhone(m, p) => {
                    let live = st.household(&hh).unwrap().members;
                    if let Some(target) = live.get(m % live.len().max(1)) {
                        st.update_member(&hh, &target.id, MemberPatch {
                            phone: Some(Some(format!("13{:09}", p))), ..Default::default()
                        }).unwrap();
                    }
                }
                Op::RemoveMember(m) => {
                    let live = st.household(&hh).unwrap().members;
                    if let Some(target) = live.get(m % live.len().max(1)) {
                        st.remove_member(&hh, &target.id).unwrap();
                        for (id, removed) in members_added.iter_mut() {
                            if *id == target.id { *removed = true; }
                        }
                    }
                }
                Op::Visit => visits.push(st.record_visit(visit(&hh)).unwrap()),
                Op::Move(a) => match st.move_incident(&inc, NOTE_MOVES[a], "现场核实") {
                    Ok(_) => moves += 1,
                    Err(Error::IllegalTransition { .. }) => {}
                    Err(e) => panic!("unexpected {e:?}"),
                },
                Op::Detailed(n) => {
                    let (action, detail) = detailed(n);
                    match st.move_incident_with(&inc, action, detail) {
                        Ok(_) => moves += 1,
                        Err(Error::IllegalTransition { .. }) => {}
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                }
                Op::Assign(n) => st.assign_incident(&inc, Some(&format!("worker-{n}"))).unwrap(),
                Op::Sync(a, b, household_doc) => {
                    if a != b { pull(s(a), s(b), if household_doc { &hh } else { &inc }); }
                }
            }
        }

        // Everyone ships everything to everyone, in a random order (twice round covers
        // the transitive cases).
        for _ in 0..2 {
            for &a in &final_order {
                for b in 0..3 {
                    if a != b {
                        pull(s(a), s(b), &hh);
                        pull(s(a), s(b), &inc);
                    }
                }
            }
        }

        let h0 = s(0).household(&hh).unwrap();
        let i0 = s(0).incident(&inc).unwrap();
        for i in 1..3 {
            prop_assert_eq!(&s(i).household(&hh).unwrap(), &h0);
            prop_assert_eq!(&s(i).incident(&inc).unwrap(), &i0);
            prop_assert_eq!(s(i).households_in(GRID_1).unwrap(), s(0).households_in(GRID_1).unwrap());
            prop_assert_eq!(s(i).visits_of(&hh).unwrap(), s(0).visits_of(&hh).unwrap());
            prop_assert_eq!(
                s(i).incidents(&IncidentFilter::default()).unwrap(),
                s(0).incidents(&IncidentFilter::default()).unwrap()
            );
            prop_assert_eq!(s(i).history(&hh).unwrap(), s(0).history(&hh).unwrap());
            prop_assert_eq!(s(i).heads(&hh).unwrap(), s(0).heads(&hh).unwrap());
        }
        // Nothing acknowledged was lost.
        let visit_ids: Vec<&str> = h0.visits.iter().map(|v| v.id.as_str()).collect();
        for v in &visits {
            prop_assert!(visit_ids.contains(&v.as_str()));
        }
        for (id, removed) in &members_added {
            prop_assert_eq!(h0.members.iter().any(|m| &m.id == id), !removed);
        }
        prop_assert_eq!(i0.events.len(), moves);
        // The status is what the events say, on every device.
        prop_assert_eq!(i0.status, linli_core::lifecycle::derive(&i0.events).status);
        let row = &s(0).incidents(&IncidentFilter::default()).unwrap()[0];
        prop_assert_eq!(row.status, i0.status);
    }
}

#[test]
fn whole_form_edits_write_only_what_changed() {
    let a = open(1, "worker-li");
    let b = open(2, "leader-zhao");
    let hh = a
        .store
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("张三", Relation::Head, None)],
        ))
        .unwrap();
    pull(&a.store, &b.store, &hh);
    let m = a.store.household(&hh).unwrap().members[0].clone();
    let form = |phone: Option<&str>, year: Option<i32>| NewMember {
        name: m.name.clone(),
        relation: m.relation,
        birth_year: year,
        phone: phone.map(Into::into),
        id_number: None,
    };
    // Each phone saves the whole member form, having changed one field.
    a.store
        .edit_member(&hh, &m.id, form(Some("13812345678"), m.birth_year))
        .unwrap();
    b.store
        .edit_member(&hh, &m.id, form(None, Some(1950)))
        .unwrap();
    pull(&a.store, &b.store, &hh);
    pull(&b.store, &a.store, &hh);
    let merged = a.store.household(&hh).unwrap().members[0].clone();
    assert_eq!(merged, b.store.household(&hh).unwrap().members[0]);
    assert_eq!(merged.phone.as_deref(), Some("13812345678"));
    assert_eq!(merged.birth_year, Some(1950));
    // An unchanged form writes nothing.
    let heads = a.store.heads(&hh).unwrap();
    a.store
        .edit_member(&hh, &m.id, form(Some("13812345678"), Some(1950)))
        .unwrap();
    assert_eq!(a.store.heads(&hh).unwrap(), heads);
}

/// A household the console merged into another (`merged_into`, a server change) is no
/// longer listed or found on the phone; its document and history stay readable.
#[test]
fn a_merged_household_is_not_listed() {
    let worker = open(1, "worker-li");
    let kept = worker
        .store
        .create_household(household(
            BUILDING_1,
            "302",
            vec![member("王五", Relation::Head, None)],
        ))
        .unwrap();
    let dup = worker
        .store
        .create_household(household(
            BUILDING_1,
            "302",
            vec![member("赵六", Relation::Head, None)],
        ))
        .unwrap();
    assert_eq!(worker.store.households_in(BUILDING_1).unwrap().len(), 2);

    // The server's change, as the console writes it.
    let mut d = automerge::AutoCommit::load(&worker.store.changes_since(&dup, &[]).unwrap())
        .unwrap()
        .with_actor(automerge::ActorId::from(b"server".as_slice()));
    let heads = d.get_heads();
    automerge::transaction::Transactable::put(
        &mut d,
        automerge::ROOT,
        "merged_into",
        kept.as_str(),
    )
    .unwrap();
    d.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(r#"{"u":"admin","op":"household.merged","f":["merged_into"]}"#),
    );
    worker
        .store
        .import_changes(&dup, &d.save_after(&heads))
        .unwrap();

    let listed = worker.store.households_in(BUILDING_1).unwrap();
    assert_eq!(
        listed.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        [kept.as_str()]
    );
    assert!(
        worker
            .store
            .search_households("赵六", 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(worker.store.search_households("王五", 10).unwrap().len(), 1);
    assert_eq!(
        worker.store.household(&dup).unwrap().members[0].name,
        "赵六"
    );
    // An edit made on the phone later does not bring it back.
    worker
        .store
        .set_tag(&dup, CareTag::ElderlyAlone, true)
        .unwrap();
    assert_eq!(worker.store.households_in(BUILDING_1).unwrap().len(), 1);
}

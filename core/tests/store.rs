//! The store's behaviour through its public API, on a real SQLite file.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

#[test]
fn household_round_trip_and_listing() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let mut new = household(
        UNIT_1_1,
        "301",
        vec![
            member("张三丰", Relation::Head, Some("13812345678")),
            member("李四", Relation::Spouse, None),
        ],
    );
    new.tags = vec![CareTag::ElderlyAlone, CareTag::PartyMember];
    let id = s.create_household(new).unwrap();

    let h = s.household(&id).unwrap();
    assert_eq!(h.address.grid_id, GRID_1);
    assert_eq!(h.address.building_id.as_deref(), Some(BUILDING_1));
    assert_eq!(h.address.unit_id.as_deref(), Some(UNIT_1_1));
    assert_eq!(h.address.community_id, COMMUNITY);
    assert_eq!(h.members.len(), 2);
    assert_eq!(h.members[0].name, "张三丰");
    assert_eq!(h.tags, vec![CareTag::ElderlyAlone, CareTag::PartyMember]);

    let listed = s.households_in(BUILDING_1).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].address, "安置小区1栋1单元301");
    assert_eq!(listed[0].head_name.as_deref(), Some("张三丰"));
    assert_eq!(listed[0].member_count, 2);
    assert_eq!(
        listed[0].tags,
        vec![CareTag::ElderlyAlone, CareTag::PartyMember]
    );
    assert_eq!(s.households_in(GRID_1).unwrap().len(), 1);
    assert!(s.households_in(BUILDING_2).unwrap().is_empty());
    assert_eq!(
        s.households_tagged(GRID_1, CareTag::ElderlyAlone)
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.households_tagged(GRID_1, CareTag::Veteran)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn edits_show_in_document_and_tables() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let id = s
        .create_household(household(
            BUILDING_1,
            "101",
            vec![member("王芳", Relation::Head, None)],
        ))
        .unwrap();
    let mid = s
        .add_member(&id, member("王小明", Relation::Child, None))
        .unwrap();
    s.update_member(
        &id,
        &mid,
        MemberPatch {
            phone: Some(Some("13900001111".into())),
            ..Default::default()
        },
    )
    .unwrap();
    s.set_tag(&id, CareTag::LeftBehindChild, true).unwrap();
    s.update_household(
        &id,
        HouseholdPatch {
            place_id: Some(BUILDING_2.into()),
            room: Some("502".into()),
            residency: Some(Residency::Floating),
            notes: Some("父母在外务工".into()),
            ..Default::default()
        },
    )
    .unwrap();

    let h = s.household(&id).unwrap();
    assert_eq!(h.residency, Residency::Floating);
    assert_eq!(h.address.building_id.as_deref(), Some(BUILDING_2));
    assert_eq!(h.address.room, "502");
    assert_eq!(h.notes, "父母在外务工");
    let kid = h.members.iter().find(|m| m.id == mid).unwrap();
    assert_eq!(kid.phone.as_deref(), Some("13900001111"));

    assert!(s.households_in(BUILDING_1).unwrap().is_empty());
    let row = &s.households_in(BUILDING_2).unwrap()[0];
    assert_eq!(row.address, "安置小区2栋502");
    assert_eq!(row.residency, Residency::Floating);
    assert_eq!(row.tags, vec![CareTag::LeftBehindChild]);
    assert_eq!(s.search_households("13900001111", 10).unwrap().len(), 1);

    s.remove_member(&id, &mid).unwrap();
    assert_eq!(s.household(&id).unwrap().members.len(), 1);
    assert_eq!(s.households_in(BUILDING_2).unwrap()[0].member_count, 1);
    assert!(s.search_households("王小明", 10).unwrap().is_empty());
    assert!(matches!(
        s.remove_member(&id, &mid),
        Err(Error::NotFound { kind: "member" })
    ));

    s.set_tag(&id, CareTag::LeftBehindChild, false).unwrap();
    assert!(s.households_in(BUILDING_2).unwrap()[0].tags.is_empty());
}

#[test]
fn chinese_search_long_and_short_queries() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let a = s
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("王张三丰", Relation::Head, Some("13812345678"))],
        ))
        .unwrap();
    let b = s
        .create_household(household(
            BUILDING_9,
            "12",
            vec![member("张三", Relation::Head, None)],
        ))
        .unwrap();
    let c = s
        .create_household(household(
            BUILDING_2,
            "7",
            vec![member("李娜", Relation::Head, None)],
        ))
        .unwrap();

    let ids = |q: &str| {
        let mut v: Vec<String> = s
            .search_households(q, 50)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // 3+ characters: trigram substring, in the middle of a name.
    assert_eq!(ids("张三丰"), vec![a.clone()]);
    // 2 characters: both households contain 张三.
    assert_eq!(ids("张三"), sorted(vec![a.clone(), b.clone()]));
    // 1 character.
    assert_eq!(ids("娜"), vec![c.clone()]);
    assert_eq!(ids("王"), vec![a.clone()]);
    // Phone substring and address.
    assert_eq!(ids("1234567"), vec![a.clone()]);
    assert_eq!(ids("桂花苑"), vec![b.clone()]);
    // Two terms must both match.
    assert_eq!(ids("安置 张三"), vec![a.clone()]);
    assert!(ids("赵钱孙").is_empty());
    // Characters that mean something to FTS5 are plain text here.
    assert_eq!(ids("\"张"), ids("张"));
    assert!(ids("AND OR").is_empty());
    assert!(matches!(
        s.search_households("   ", 10),
        Err(Error::InvalidInput { field: "query", .. })
    ));
}

#[test]
fn visits_history_and_due_list() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let mut cared = household(
        BUILDING_1,
        "101",
        vec![member("刘奶奶", Relation::Head, None)],
    );
    cared.tags = vec![CareTag::ElderlyAlone];
    let cared = s.create_household(cared).unwrap();
    let plain = s
        .create_household(household(
            BUILDING_1,
            "102",
            vec![member("陈强", Relation::Head, None)],
        ))
        .unwrap();
    let never = s
        .create_household(household(
            BUILDING_1,
            "103",
            vec![member("周敏", Relation::Head, None)],
        ))
        .unwrap();

    let day = 24 * 3600 * 1000;
    let now = s.now();
    let ten_days_ago = now - 10 * day;
    for h in [&cared, &plain] {
        let mut v = visit(h);
        v.at = Some(ten_days_ago);
        s.record_visit(v).unwrap();
    }
    let second = s.record_visit(visit(&plain)).unwrap();

    let visits = s.visits_of(&plain).unwrap();
    assert_eq!(visits.len(), 2);
    assert_eq!(visits[0].id, second, "newest first");
    assert_eq!(visits[0].visitor, "worker-li");
    assert_eq!(visits[0].needs, vec![NeedCategory::Repair]);
    let full = s.household(&plain).unwrap();
    assert_eq!(full.visits.len(), 2);
    assert_eq!(full.visits[0].needs[0].text, "卫生间漏水");

    // Policy: everyone monthly, care-tagged weekly. The care household visited 10 days ago
    // is due; the plain one visited today is not; the never-visited one is, first.
    let due: Vec<String> = s
        .households_due(GRID_1, VisitPolicy::default(), now)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(due, vec![never.clone(), cared.clone()]);
    // Forty days on, everyone is due.
    assert_eq!(
        s.households_due(GRID_1, VisitPolicy::default(), now + 40 * day)
            .unwrap()
            .len(),
        3
    );

    let history = s.history(&plain).unwrap();
    let ops: Vec<&str> = history.iter().map(|h| h.op.as_str()).collect();
    assert_eq!(
        ops,
        vec!["household.create", "visit.record", "visit.record"]
    );
    assert!(history.iter().all(|h| h.user_id == "worker-li"));
    assert_eq!(history[0].device, "01".repeat(16));
}

#[test]
fn incident_lifecycle_and_overdue() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let hh = s
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("张三", Relation::Head, None)],
        ))
        .unwrap();
    let leak = s
        .report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: "楼上渗水到301卫生间".into(),
            place_id: None,
            household_id: Some(hh.clone()),
            priority: Priority::High,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    let parking = s
        .report_incident(NewIncident {
            category: IncidentCategory::Parking,
            description: "消防通道停车".into(),
            place_id: Some(GRID_2.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: Some("worker-wang".into()),
            dispute: None,
        })
        .unwrap();

    let i = s.incident(&leak).unwrap();
    assert_eq!(i.status, IncidentStatus::Reported);
    assert_eq!(i.grid_id, GRID_1);
    assert_eq!(i.building_id.as_deref(), Some(BUILDING_1));

    let now = s.now();
    assert!(s.overdue_incidents(now).unwrap().is_empty());
    let later = now + 16 * 60 * 1000;
    // Issue 8: the clock starts at the server's receipt. Not received, never overdue.
    assert!(s.overdue_incidents(later).unwrap().is_empty());
    stamp_received(s, &leak, now);
    stamp_received(s, &parking, now);
    assert_eq!(s.overdue_incidents(later).unwrap().len(), 2);

    assert_eq!(
        s.move_incident(&leak, IncidentAction::Accept, "").unwrap(),
        IncidentStatus::Accepted
    );
    let overdue: Vec<String> = s
        .overdue_incidents(later)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(overdue, vec![parking.clone()]);

    // Accepting without an assignee takes the case.
    assert_eq!(
        s.incident(&leak).unwrap().assignee.as_deref(),
        Some("worker-li")
    );
    s.move_incident(&leak, IncidentAction::Start, "").unwrap();
    s.move_incident(&leak, IncidentAction::Resolve, "已更换防水层")
        .unwrap();
    s.move_incident(&leak, IncidentAction::Close, "居民满意")
        .unwrap();
    assert_eq!(
        s.move_incident(&leak, IncidentAction::Reopen, "又漏了")
            .unwrap(),
        IncidentStatus::InProgress
    );

    let by_status = s
        .incidents(&IncidentFilter {
            statuses: vec![IncidentStatus::InProgress],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_status.len(), 1);
    assert_eq!(by_status[0].id, leak);
    assert!(by_status[0].accepted_at.is_some());
    assert_eq!(by_status[0].closed_at, None);
    let mine = s
        .incidents(&IncidentFilter {
            assignee: Some("worker-wang".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, parking);
    assert!(mine[0].response_overdue(later));
    let in_grid_b = s
        .incidents(&IncidentFilter {
            place_id: Some(GRID_2.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(in_grid_b.len(), 1);

    s.assign_incident(&parking, Some("worker-zhao")).unwrap();
    assert_eq!(
        s.incident(&parking).unwrap().assignee.as_deref(),
        Some("worker-zhao")
    );
    let ops: Vec<String> = s
        .history(&leak)
        .unwrap()
        .into_iter()
        .map(|h| h.op)
        .collect();
    assert_eq!(
        ops,
        vec![
            "incident.report",
            "incident.received",
            "incident.accept",
            "incident.start",
            "incident.resolve",
            "incident.close",
            "incident.reopen"
        ]
    );
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let hh = s
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("张三", Relation::Head, None)],
        ))
        .unwrap();
    let inc = s
        .report_incident(NewIncident {
            category: IncidentCategory::Noise,
            description: "夜间噪音".into(),
            place_id: Some(BUILDING_1.into()),
            household_id: None,
            priority: Priority::Low,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    let before = fingerprint(s);

    let check = |r: Result<()>, expect: &dyn Fn(&Error) -> bool| {
        let e = r.expect_err("must be rejected");
        assert!(expect(&e), "unexpected error {e:?}");
        assert_eq!(
            fingerprint(s),
            before,
            "a rejected call wrote something: {e:?}"
        );
    };
    let invalid = |field: &'static str| move |e: &Error| matches!(e, Error::InvalidInput { field: f, .. } if *f == field);

    check(
        s.create_household(household(
            BUILDING_1,
            "302",
            vec![member("  ", Relation::Head, None)],
        ))
        .map(drop),
        &invalid("name"),
    );
    check(
        s.create_household(household(
            BUILDING_1,
            "302",
            vec![member("王五", Relation::Head, Some("138123"))],
        ))
        .map(drop),
        &invalid("phone"),
    );
    let mut bad_id = member("王五", Relation::Head, None);
    bad_id.id_number = Some("110105194912310021".into());
    check(
        s.create_household(household(BUILDING_1, "302", vec![bad_id]))
            .map(drop),
        &invalid("id_number"),
    );
    check(
        s.create_household(household("no-such-building", "302", vec![]))
            .map(drop),
        &|e| matches!(e, Error::NotFound { kind: "place" }),
    );
    check(
        s.create_household(household(GRID_1, "302", vec![]))
            .map(drop),
        &invalid("place"),
    );
    check(
        s.create_household(household(BUILDING_1, "", vec![]))
            .map(drop),
        &invalid("room"),
    );
    check(
        s.add_member(&hh, member("王五", Relation::Child, Some("abc")))
            .map(drop),
        &invalid("phone"),
    );
    check(
        s.add_member("no-such-household", member("王五", Relation::Child, None))
            .map(drop),
        &|e| matches!(e, Error::NotFound { kind: "household" }),
    );
    check(s.record_visit(visit("no-such-household")).map(drop), &|e| {
        matches!(e, Error::NotFound { kind: "household" })
    });
    // An incident id is not a household.
    check(s.record_visit(visit(&inc)).map(drop), &|e| {
        matches!(e, Error::NotFound { kind: "household" })
    });
    let mut empty_need = visit(&hh);
    empty_need.needs[0].text = " ".into();
    check(s.record_visit(empty_need).map(drop), &invalid("need"));
    check(
        s.report_incident(NewIncident {
            category: IncidentCategory::Other,
            description: "".into(),
            place_id: Some(BUILDING_1.into()),
            household_id: None,
            priority: Priority::Low,
            assignee: None,
            dispute: None,
        })
        .map(drop),
        &invalid("description"),
    );
    check(
        s.report_incident(NewIncident {
            category: IncidentCategory::Other,
            description: "x".into(),
            place_id: None,
            household_id: Some("no-such-household".into()),
            priority: Priority::Low,
            assignee: None,
            dispute: None,
        })
        .map(drop),
        &|e| matches!(e, Error::NotFound { kind: "household" }),
    );
    check(
        s.move_incident(&inc, IncidentAction::Close, "").map(drop),
        &|e| {
            matches!(
                e,
                Error::IllegalTransition {
                    from: IncidentStatus::Reported,
                    action: IncidentAction::Close
                }
            )
        },
    );
    check(
        s.move_incident(&hh, IncidentAction::Accept, "").map(drop),
        &|e| matches!(e, Error::NotFound { kind: "incident" }),
    );
    check(
        s.import_changes(&hh, b"definitely not automerge").map(drop),
        &|e| matches!(e, Error::CorruptChanges(_)),
    );
    // Valid changes cut short are corrupt too.
    let bytes = s.changes_since(&hh, &[]).unwrap();
    check(
        s.import_changes("another-id", &bytes[..bytes.len() / 2])
            .map(drop),
        &|e| matches!(e, Error::CorruptChanges(_)),
    );
    // A valid document under another id is refused.
    check(s.import_changes("another-id", &bytes).map(drop), &|e| {
        matches!(e, Error::CorruptChanges(_))
    });

    // And the store still works afterwards.
    s.record_visit(visit(&hh)).unwrap();
    assert_ne!(fingerprint(s), before);
}

#[test]
fn error_text_carries_no_personal_data() {
    let t = open(1, "worker-li");
    let e = t
        .store
        .create_household(household(
            BUILDING_1,
            "301",
            vec![member("张三", Relation::Head, Some("13899"))],
        ))
        .unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("13899") && !text.contains("张三"), "{text}");
}

#[test]
fn import_is_idempotent_and_updates_tables() {
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
    a.store.record_visit(visit(&hh)).unwrap();
    let all = a.store.changes_since(&hh, &[]).unwrap();

    let first = b.store.import_changes(&hh, &all).unwrap();
    assert_eq!(first.kind, "household");
    assert_eq!(first.new_changes, 2);
    let after_first = fingerprint(&b.store);
    let again = b.store.import_changes(&hh, &all).unwrap();
    assert_eq!(again.new_changes, 0);
    assert_eq!(
        fingerprint(&b.store),
        after_first,
        "a duplicate import wrote something"
    );

    assert_eq!(b.store.households_in(BUILDING_1).unwrap().len(), 1);
    assert_eq!(b.store.visits_of(&hh).unwrap().len(), 1);
    assert_eq!(b.store.search_households("张三", 5).unwrap().len(), 1);
    assert_eq!(b.store.history(&hh).unwrap().len(), 2);

    // Incremental: only what b lacks.
    let heads = b.store.heads(&hh).unwrap();
    a.store.set_tag(&hh, CareTag::Veteran, true).unwrap();
    let delta = a.store.changes_since(&hh, &heads).unwrap();
    assert!(delta.len() < all.len());
    assert_eq!(b.store.import_changes(&hh, &delta).unwrap().new_changes, 1);
    assert_eq!(b.store.household(&hh).unwrap().tags, vec![CareTag::Veteran]);

    // A change whose parent b lacks is refused, not half-applied.
    let heads = a.store.heads(&hh).unwrap();
    a.store.set_tag(&hh, CareTag::Disabled, true).unwrap();
    let mid = a.store.heads(&hh).unwrap();
    a.store.set_tag(&hh, CareTag::LowIncome, true).unwrap();
    let tail = a.store.changes_since(&hh, &mid).unwrap();
    let before = fingerprint(&b.store);
    assert!(matches!(
        b.store.import_changes(&hh, &tail),
        Err(Error::MissingDependencies(1))
    ));
    assert_eq!(fingerprint(&b.store), before);
    let rest = a.store.changes_since(&hh, &heads).unwrap();
    assert_eq!(b.store.import_changes(&hh, &rest).unwrap().new_changes, 2);
    assert_eq!(
        b.store.household(&hh).unwrap(),
        a.store.household(&hh).unwrap()
    );
}

#[test]
fn reopened_store_has_everything_and_compaction_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linli.db");
    let hh;
    {
        let s = Store::open(&path, identity(1, "worker-li"), &linli_testkit::DB_KEY).unwrap();
        s.put_places(&places()).unwrap();
        hh = s
            .create_household(household(
                BUILDING_1,
                "301",
                vec![member("张三", Relation::Head, None)],
            ))
            .unwrap();
        // Past the compaction threshold, so the snapshot path is taken too.
        for _ in 0..100 {
            s.record_visit(visit(&hh)).unwrap();
        }
        let rows: i64 = s.with_raw_connection(|c| {
            c.query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))
                .unwrap()
        });
        assert!(rows < 64, "changes were not compacted: {rows}");
    }
    let s = Store::open(&path, identity(1, "worker-li"), &linli_testkit::DB_KEY).unwrap();
    assert_eq!(s.household(&hh).unwrap().visits.len(), 100);
    assert_eq!(s.visits_of(&hh).unwrap().len(), 100);
    assert_eq!(s.history(&hh).unwrap().len(), 101);
    s.compact_all().unwrap();
    let rows: i64 = s.with_raw_connection(|c| {
        c.query_row("SELECT count(*) FROM doc_changes", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(rows, 0);
    // Writing after a reopen continues this device's change sequence.
    s.record_visit(visit(&hh)).unwrap();
    drop(s);
    let s = Store::open(&path, identity(1, "worker-li"), &linli_testkit::DB_KEY).unwrap();
    assert_eq!(s.household(&hh).unwrap().visits.len(), 101);
}

#[test]
fn invalid_identity_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = Identity {
        device_id: "not-a-uuid".into(),
        user_id: "u".into(),
    };
    assert!(matches!(
        Store::open(dir.path().join("x.db"), bad, &linli_testkit::DB_KEY),
        Err(Error::InvalidInput {
            field: "device_id",
            ..
        })
    ));
}

#[test]
fn observers_hear_writes_and_imports() {
    use std::sync::{Arc, Mutex};
    let a = open(1, "worker-li");
    let b = open(2, "leader-zhao");
    let heard: Arc<Mutex<Vec<DataChange>>> = Arc::default();
    let sink = heard.clone();
    let id = b
        .store
        .subscribe(move |c| sink.lock().unwrap().push(c.clone()));

    let hh = a
        .store
        .create_household(household(BUILDING_1, "301", vec![]))
        .unwrap();
    let bytes = a.store.changes_since(&hh, &[]).unwrap();
    b.store.import_changes(&hh, &bytes).unwrap();
    b.store.import_changes(&hh, &bytes).unwrap(); // a duplicate changes nothing: no event
    b.store.record_visit(visit(&hh)).unwrap();
    assert!(b.store.record_visit(visit("missing")).is_err()); // a failure: no event
    {
        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 2);
        assert!(
            heard
                .iter()
                .all(|c| c.households && !c.incidents && c.doc_ids == [hh.clone()])
        );
        assert!(heard.iter().all(|c| !c.from_sync));
    }
    b.store.unsubscribe(id);
    b.store.record_visit(visit(&hh)).unwrap();
    assert_eq!(heard.lock().unwrap().len(), 2);
}

//! Every document layout this app has written still reads, and a layout newer than this
//! app is kept without being shown.
//!
//! `fixtures/docs/*.automerge` are whole documents (Automerge `save` bytes) as each layout
//! wrote them. Those of past layouts were written with raw Automerge calls that follow the
//! code of their release (the first layout: `git show a44c6fd^:core/src/doc.rs`); the
//! current ones by the store. Regenerate (only to add a layout; never rewrite a past one):
//! `LINLI_FREEZE=1 cargo test -p linli-core --test layouts -- --ignored write_fixtures`.

#![allow(clippy::unwrap_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use common::*;
use linli_core::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docs");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}.automerge")).unwrap()
}

/// Imports a fixture into a fresh store; returns the store and the document's id.
fn imported(name: &str) -> (TestStore, String) {
    let bytes = fixture(name);
    let id = {
        use automerge::ReadDoc;
        let d = AutoCommit::load(&bytes).unwrap();
        match d.get(ROOT, "id").unwrap() {
            Some((automerge::Value::Scalar(s), _)) => s.as_str().unwrap().to_owned(),
            other => panic!("{name}: no id ({other:?})"),
        }
    };
    let t = open(1, "worker-li");
    t.store.import_changes(&id, &bytes).unwrap();
    (t, id)
}

/// What every household fixture holds, whatever its layout.
fn check_household(name: &str) {
    let (t, id) = imported(name);
    let h = t.store.household(&id).unwrap();
    assert_eq!(h.address.unit_id.as_deref(), Some(UNIT_1_1), "{name}");
    assert_eq!(h.address.room, "301", "{name}");
    assert_eq!(h.members.len(), 1, "{name}");
    assert_eq!(h.members[0].name, "张三丰", "{name}");
    assert_eq!(h.members[0].phone.as_deref(), Some("13812345678"), "{name}");
    assert_eq!(h.tags, vec![CareTag::ElderlyAlone], "{name}");
    assert_eq!(h.visits.len(), 1, "{name}");
    let v = &h.visits[0];
    assert_eq!(v.visitor, "worker-li", "{name}");
    assert_eq!(v.purpose, VisitPurpose::AskNeeds, "{name}");
    assert_eq!(
        v.needs,
        vec![
            Need {
                category: NeedCategory::Repair,
                text: "卫生间漏水".into()
            },
            Need {
                category: NeedCategory::ElderCare,
                text: "想申请助餐".into()
            }
        ],
        "{name}"
    );
    assert_eq!(v.done_on_spot, "已联系物业", "{name}");
    assert!(v.follow_up, "{name}");
    // Listed, searchable, and its visit in the visit list.
    assert_eq!(t.store.households_in(BUILDING_1).unwrap()[0].id, id);
    assert_eq!(t.store.search_households("张三", 5).unwrap().len(), 1);
    assert_eq!(t.store.visits_of(&id).unwrap().len(), 1);
    // Written before needs were followed up: no needs map, no follow-ups.
    assert!(t.store.needs_of(&id).unwrap().is_empty(), "{name}");
    // And it takes new writes, a visit's need becoming its first follow-up.
    t.store.record_visit(visit(&id)).unwrap();
    assert_eq!(t.store.household(&id).unwrap().visits.len(), 2);
    assert_eq!(t.store.needs_of(&id).unwrap().len(), 1, "{name}");
    assert_eq!(t.store.open_needs(None).unwrap().len(), 1, "{name}");
}

/// A household without a needs map gets one from two phones at once: both maps are kept
/// (an Automerge conflict) and both phones' needs are read on both.
#[test]
fn two_phones_giving_an_old_household_its_first_needs_both_keep_theirs() {
    let bytes = fixture("household_v2");
    let (a, id) = imported("household_v2");
    let b = open(2, "leader-zhao");
    b.store.import_changes(&id, &bytes).unwrap();
    let visit_id = a.store.household(&id).unwrap().visits[0].id.clone();
    let raise = |s: &Store, text: &str| {
        s.raise_need(NewNeed {
            visit_id: visit_id.clone(),
            category: NeedCategory::Repair,
            text: text.into(),
            owner: None,
            due_at: None,
        })
        .unwrap()
    };
    let na = raise(&a.store, "卫生间漏水");
    let nb = raise(&b.store, "想申请助餐");
    let ab = a
        .store
        .changes_since(&id, &b.store.heads(&id).unwrap())
        .unwrap();
    let ba = b
        .store
        .changes_since(&id, &a.store.heads(&id).unwrap())
        .unwrap();
    b.store.import_changes(&id, &ab).unwrap();
    a.store.import_changes(&id, &ba).unwrap();
    for s in [&a.store, &b.store] {
        let ids: Vec<String> = s.needs_of(&id).unwrap().into_iter().map(|n| n.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&na) && ids.contains(&nb));
        // The need in the losing map still takes moves.
        for n in [&na, &nb] {
            assert_eq!(s.need(n).unwrap().owner, "worker-li");
        }
    }
    b.store
        .move_need(&na, NeedAction::Take, NeedMoveDetail::default())
        .unwrap();
    a.store
        .move_need(&nb, NeedAction::Done, NeedMoveDetail::default())
        .unwrap();
    assert_eq!(b.store.need(&na).unwrap().status, NeedStatus::InHand);
    assert_eq!(a.store.need(&nb).unwrap().status, NeedStatus::Done);
}

#[test]
fn a_household_of_the_first_layout_with_visits_as_maps_reads() {
    check_household("household_v1_visit_maps");
}

#[test]
fn a_household_of_the_previous_release_with_visits_as_json_reads() {
    check_household("household_v1_visit_json");
}

#[test]
fn a_household_of_the_current_layout_reads() {
    check_household("household_v2");
}

#[test]
fn an_incident_reads() {
    let (t, id) = imported("incident_v1");
    let i = t.store.incident(&id).unwrap();
    assert_eq!(i.status, IncidentStatus::Accepted);
    assert_eq!(i.category, IncidentCategory::LeakRepair);
    assert_eq!(i.description, "卫生间漏水");
    assert_eq!(
        t.store.incidents(&IncidentFilter::default()).unwrap().len(),
        1
    );
}

#[test]
fn an_incident_with_an_event_this_app_does_not_know_reads_and_moves_on() {
    let (t, id) = imported("incident_unknown_event");
    let i = t.store.incident(&id).unwrap();
    // The unknown event reads as `Other` and does not move the status.
    assert_eq!(i.status, IncidentStatus::Accepted);
    assert!(
        i.events.iter().any(|e| e.action == IncidentAction::Other),
        "{:?}",
        i.events
    );
    let listed = t.store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(listed[0].status, IncidentStatus::Accepted);
    // Not corrupt: it takes further moves.
    assert_eq!(
        t.store
            .move_incident(&id, IncidentAction::Start, "")
            .unwrap(),
        IncidentStatus::InProgress
    );
}

/// A household rewritten in layout 99 by an app newer than this one.
fn in_layout_99(store: &Store, id: &str) -> Vec<u8> {
    let mut d = AutoCommit::load(&store.changes_since(id, &[]).unwrap()).unwrap();
    d.put(ROOT, "v", 99).unwrap();
    d.commit();
    d.save()
}

#[test]
fn a_record_in_a_newer_layout_is_kept_unshown_and_says_update_the_app() {
    let src = open(1, "worker-li");
    let ok = src
        .store
        .create_household(household(UNIT_1_1, "301", vec![]))
        .unwrap();
    let newer = src
        .store
        .create_household(household(UNIT_1_1, "302", vec![]))
        .unwrap();
    let bytes = in_layout_99(&src.store, &newer);

    let dst = open(2, "worker-wang");
    dst.store
        .import_changes(&ok, &src.store.changes_since(&ok, &[]).unwrap())
        .unwrap();
    let outcome = dst.store.import_changes(&newer, &bytes).unwrap();
    assert_eq!(outcome.kind, "household");
    let listed = dst.store.households_in(BUILDING_1).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, ok);
    assert!(matches!(
        dst.store.household(&newer),
        Err(Error::UnsupportedVersion)
    ));
    assert!(matches!(
        dst.store.record_visit(visit(&newer)),
        Err(Error::UnsupportedVersion)
    ));
    // Kept whole: what this device would send on is what it received.
    assert_eq!(
        AutoCommit::load(&dst.store.changes_since(&newer, &[]).unwrap())
            .unwrap()
            .get_heads(),
        AutoCommit::load(&bytes).unwrap().get_heads()
    );
    // A record this app could read, that grew into a newer layout, leaves the lists too.
    let bytes = in_layout_99(&src.store, &ok);
    dst.store.import_changes(&ok, &bytes).unwrap();
    assert!(dst.store.households_in(BUILDING_1).unwrap().is_empty());
    assert!(dst.store.search_households("安置", 5).unwrap().is_empty());
}

#[test]
fn a_record_set_aside_by_an_older_app_is_shown_once_opened_by_one_that_reads_it() {
    let mut t = open(1, "worker-li");
    let id = t
        .store
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap();
    t.store.record_visit(visit(&id)).unwrap();
    // What an app that knew only layout 1 did with this layout-2 household: stored it, not
    // in the query tables, listed as unread.
    t.store.with_raw_connection(|c| {
        for sql in [
            "DELETE FROM household_search WHERE rowid = (SELECT rowid FROM households WHERE id = ?1)",
            "DELETE FROM household_search_short WHERE rowid = \
             (SELECT rowid FROM households WHERE id = ?1)",
            "DELETE FROM visits WHERE household_id = ?1",
            "DELETE FROM households WHERE id = ?1",
            "INSERT INTO unread_docs (doc_id, layout) VALUES (?1, 2)",
        ] {
            c.execute(sql, [&id]).unwrap();
        }
    });
    assert!(t.store.households_in(BUILDING_1).unwrap().is_empty());

    // The updated app opens the same database.
    let identity = t.store.identity().clone();
    t.store = Store::open(
        t.dir.path().join("linli.db"),
        identity,
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    assert_eq!(t.store.households_in(BUILDING_1).unwrap()[0].id, id);
    assert_eq!(t.store.visits_of(&id).unwrap().len(), 1);
    assert_eq!(t.store.search_households("张三", 5).unwrap().len(), 1);
    let unread: i64 = t.store.with_raw_connection(|c| {
        c.query_row("SELECT count(*) FROM unread_docs", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(unread, 0);
}

// ---- the fixtures' generator -----------------------------------------------------------

const HOUSEHOLD_ID: &str = "0190a1b2-0000-7000-8000-000000000001";
const CREATED_AT: i64 = 1_719_800_000_000;
const VISITED_AT: i64 = 1_719_900_000_000;

/// The household skeleton every layout shares (the first layout's `init_household`, with one
/// member and one tag).
fn household_skeleton(d: &mut AutoCommit, id: &str, v: i64) {
    d.put(ROOT, "type", "household").unwrap();
    d.put(ROOT, "v", v).unwrap();
    d.put(ROOT, "id", id).unwrap();
    d.put(ROOT, "created_at", CREATED_AT).unwrap();
    d.put(ROOT, "residency", "resident").unwrap();
    d.put(ROOT, "housing", "resettlement").unwrap();
    d.put(ROOT, "notes", "").unwrap();
    let a = d.put_object(ROOT, "address", ObjType::Map).unwrap();
    d.put(&a, "community_id", COMMUNITY).unwrap();
    d.put(&a, "grid_id", GRID_1).unwrap();
    d.put(&a, "building_id", BUILDING_1).unwrap();
    d.put(&a, "unit_id", UNIT_1_1).unwrap();
    d.put(&a, "room", "301").unwrap();
    let members = d.put_object(ROOT, "members", ObjType::Map).unwrap();
    let m = d
        .put_object(
            &members,
            "0190a1b2-0000-7000-8000-0000000000a1",
            ObjType::Map,
        )
        .unwrap();
    d.put(&m, "name", "张三丰").unwrap();
    d.put(&m, "relation", "head").unwrap();
    d.put(&m, "birth_year", 1948_i64).unwrap();
    d.put(&m, "phone", "13812345678").unwrap();
    let tags = d.put_object(ROOT, "tags", ObjType::Map).unwrap();
    d.put(&tags, "elderly_alone", true).unwrap();
    d.put_object(ROOT, "visits", ObjType::Map).unwrap();
}

fn visits_obj(d: &AutoCommit) -> automerge::ObjId {
    use automerge::ReadDoc;
    match d.get(ROOT, "visits").unwrap() {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        _ => panic!("no visits map"),
    }
}

const VISIT_ID: &str = "0190a1b2-0000-7000-8000-0000000000b1";

/// Writes every fixture. Past layouts by hand, as their release wrote them; the current
/// ones through the store.
#[test]
#[ignore]
fn write_fixtures() {
    if std::env::var_os("LINLI_FREEZE").is_none() {
        return;
    }
    let actor = automerge::ActorId::from(uuid::Uuid::from_bytes([7; 16]).as_bytes().as_slice());
    let write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(format!("{FIXTURES}/{name}.automerge"), bytes).unwrap()
    };

    // The first layout: v = 1, a visit is a map of fields with a map of needs keyed "0", "1".
    let mut d = AutoCommit::new().with_actor(actor.clone());
    household_skeleton(&mut d, HOUSEHOLD_ID, 1);
    d.commit();
    let visits = visits_obj(&d);
    let v = d.put_object(&visits, VISIT_ID, ObjType::Map).unwrap();
    d.put(&v, "visitor", "worker-li").unwrap();
    d.put(&v, "at", VISITED_AT).unwrap();
    d.put(&v, "purpose", "ask_needs").unwrap();
    d.put(&v, "done_on_spot", "已联系物业").unwrap();
    d.put(&v, "follow_up", true).unwrap();
    let needs = d.put_object(&v, "needs", ObjType::Map).unwrap();
    for (i, (category, text)) in [("repair", "卫生间漏水"), ("elder_care", "想申请助餐")]
        .into_iter()
        .enumerate()
    {
        let n = d.put_object(&needs, i.to_string(), ObjType::Map).unwrap();
        d.put(&n, "category", category).unwrap();
        d.put(&n, "text", text).unwrap();
    }
    d.commit();
    write("household_v1_visit_maps", d.save());

    // The previous release (a44c6fd): still v = 1, but a visit is one JSON value.
    let mut d = AutoCommit::new().with_actor(actor.clone());
    household_skeleton(&mut d, HOUSEHOLD_ID, 1);
    d.commit();
    let visits = visits_obj(&d);
    let json = serde_json::json!({
        "visitor": "worker-li",
        "at": VISITED_AT,
        "purpose": "ask_needs",
        "needs": [
            {"category": "repair", "text": "卫生间漏水"},
            {"category": "elder_care", "text": "想申请助餐"},
        ],
        "done_on_spot": "已联系物业",
        "follow_up": true,
    });
    d.put(&visits, VISIT_ID, json.to_string()).unwrap();
    d.commit();
    write("household_v1_visit_json", d.save());

    // The current layouts, as the store writes them.
    let t = open(7, "worker-li");
    let s = &t.store;
    let hh = s
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, Some("13812345678"))],
        ))
        .unwrap();
    s.set_tag(&hh, CareTag::ElderlyAlone, true).unwrap();
    let mut new = visit(&hh);
    new.needs.push(Need {
        category: NeedCategory::ElderCare,
        text: "想申请助餐".into(),
    });
    s.record_visit(new).unwrap();
    write("household_v2", s.changes_since(&hh, &[]).unwrap());

    let report = |s: &Store| {
        s.report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: "卫生间漏水".into(),
            place_id: None,
            household_id: Some(hh.clone()),
            priority: Priority::High,
            assignee: None,
            dispute: None,
        })
        .unwrap()
    };
    let inc = report(s);
    s.move_incident(&inc, IncidentAction::Accept, "").unwrap();
    write("incident_v1", s.changes_since(&inc, &[]).unwrap());

    // An incident with an event a newer app wrote ("mediate_online"), after it was accepted.
    let inc = report(s);
    s.move_incident(&inc, IncidentAction::Accept, "").unwrap();
    let mut d = AutoCommit::load(&s.changes_since(&inc, &[]).unwrap()).unwrap();
    d.set_actor(actor);
    let events = {
        use automerge::ReadDoc;
        match d.get(ROOT, "events").unwrap() {
            Some((automerge::Value::Object(ObjType::Map), id)) => id,
            _ => panic!("no events map"),
        }
    };
    let e = d
        .put_object(
            &events,
            "0190a1b2-0000-7000-8000-0000000000e1",
            ObjType::Map,
        )
        .unwrap();
    d.put(&e, "action", "mediate_online").unwrap();
    d.put(&e, "by", "worker-wang").unwrap();
    d.put(&e, "at", s.now() + 1_000).unwrap();
    d.put(&e, "note", "").unwrap();
    d.commit();
    write("incident_unknown_event", d.save());
}

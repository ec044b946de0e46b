//! Conformance checks of the register (`RegisterStorage`): its rows follow pushes and moves,
//! the phone's search (name substring, pinyin initials and full pinyin, address and room),
//! the scope, the ledgers' streams and filters, the visits counted per week, and the export log.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use linli_domain::doc as write;
use linli_domain::needs::RaisedNeed;
use linli_domain::protocol::PushOutcome;
use linli_domain::{
    CareTag, Incident, IncidentCategory, IncidentStatus, Level, Millis, Need, NeedCategory,
    NewMember, Priority, Relation, Visit, VisitPurpose,
};
use linli_sync_server::Storage;
use linli_sync_server::console::stats::Weeks;
use linli_sync_server::register::{ExportRecord, LedgerFilter, RegisterQuery, Search};
use linli_testkit::demo;

use super::{actor_of, b1, b2, commit_as, demo as seeded, household, move_to, push_one};

const AT: Millis = 1_700_000_000_000;
const DAY: Millis = 86_400_000;

fn member(name: &str, relation: Relation, phone: Option<&str>, id: Option<&str>) -> NewMember {
    NewMember {
        name: name.into(),
        relation,
        birth_year: Some(1950),
        phone: phone.map(Into::into),
        id_number: id.map(Into::into),
    }
}

fn search(s: &dyn Storage, who: &linli_sync_server::Device, q: &str) -> Vec<String> {
    let q = RegisterQuery {
        search: Search::parse(q).unwrap(),
        limit: 50,
        ..Default::default()
    };
    let page = s.register_page(&who.scope, &q).unwrap();
    assert_eq!(page.total, page.households.len() as u64);
    page.households.into_iter().map(|(h, _)| h.doc_id).collect()
}

/// 张秀英's household in building 1 (room 301, with her son and his phone and ID number),
/// 王建国's in building 2, pushed by 李梅.
fn two_households(s: &dyn Storage, d: &super::Demo) -> AutoCommit {
    let mut a = household(&d.li, "hh-zhang", &b1());
    write::put_member(&mut a, "m-1", &member("张秀英", Relation::Head, None, None)).unwrap();
    let son = member(
        "李明",
        Relation::Child,
        Some("13812345678"),
        Some("11010519491231002X"),
    );
    write::put_member(&mut a, "m-2", &son).unwrap();
    commit_as(&d.li, &mut a);
    assert_eq!(
        push_one(s, &d.li, "hh-zhang", a.save_after(&[])),
        PushOutcome::Stored
    );
    let mut at = b2();
    at.room = "502".into();
    let mut b = household(&d.li, "hh-wang", &at);
    write::put_member(&mut b, "m-3", &member("王建国", Relation::Head, None, None)).unwrap();
    commit_as(&d.li, &mut b);
    assert_eq!(
        push_one(s, &d.li, "hh-wang", b.save_after(&[])),
        PushOutcome::Stored
    );
    a
}

pub fn register_rows_follow_pushes_and_moves(s: &dyn Storage) {
    let d = seeded(s);
    let mut a = two_households(s, &d);
    let all = RegisterQuery {
        limit: 50,
        ..Default::default()
    };
    let page = s.register_page(&d.admin.scope, &all).unwrap();
    assert_eq!(page.total, 2);
    let (h, members) = page
        .households
        .iter()
        .find(|(h, _)| h.doc_id == "hh-zhang")
        .unwrap();
    assert_eq!(h.place.building_id.as_deref(), Some(demo::BUILDING_1));
    assert_eq!(h.room, "301");
    assert_eq!(h.tags, [CareTag::ElderlyAlone]);
    assert!(h.updated_at > 0);
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["张秀英", "李明"], "head first");
    assert_eq!(members[1].phone.as_deref(), Some("13812345678"));
    assert_eq!(members[1].id_number.as_deref(), Some("11010519491231002X"));

    // A move to building 2 moves the row; a member moving out leaves the current members.
    let bytes = move_to(&d.li, &mut a, &b2());
    assert_eq!(push_one(s, &d.li, "hh-zhang", bytes), PushOutcome::Stored);
    let heads = a.get_heads();
    a.set_actor(actor_of(&d.li));
    write::move_out_member(&mut a, "m-2", AT).unwrap();
    commit_as(&d.li, &mut a);
    assert_eq!(
        push_one(s, &d.li, "hh-zhang", a.save_after(&heads)),
        PushOutcome::Stored
    );
    let page = s.register_page(&d.admin.scope, &all).unwrap();
    let (h, members) = page
        .households
        .iter()
        .find(|(h, _)| h.doc_id == "hh-zhang")
        .unwrap();
    assert_eq!(h.place.building_id.as_deref(), Some(demo::BUILDING_2));
    assert_eq!(members.len(), 1);
    assert!(
        search(s, &d.admin, "李明").is_empty(),
        "moved out: not found"
    );
    let (place, doc) = s.household_document("hh-zhang").unwrap().unwrap();
    assert_eq!(place.building_id.as_deref(), Some(demo::BUILDING_2));
    assert!(!doc.is_empty());
    assert!(s.household_document("inc-none").unwrap().is_none());
    assert!(s.household_document("nope").unwrap().is_none());
}

pub fn the_register_is_searched_as_on_the_phone(s: &dyn Storage) {
    let d = seeded(s);
    two_households(s, &d);
    for q in [
        "zxy",
        "zhangxiuying",
        "张秀英",
        "秀英",
        "xiuying",
        "ZXY",
        "zhang xy",
        "李明",
    ] {
        assert_eq!(search(s, &d.admin, q), ["hh-zhang"], "{q}");
    }
    // Address: building name, room, both (a term each, or run together).
    assert_eq!(search(s, &d.admin, "1栋"), ["hh-zhang"]);
    assert_eq!(search(s, &d.admin, "502"), ["hh-wang"]);
    assert_eq!(search(s, &d.admin, "2栋 502"), ["hh-wang"]);
    assert_eq!(search(s, &d.admin, "安置小区2栋1单元502"), ["hh-wang"]);
    assert_eq!(search(s, &d.admin, "安置小区").len(), 2);
    assert!(
        search(s, &d.admin, "2栋 301").is_empty(),
        "every term must match"
    );
    assert!(search(s, &d.admin, "wjgx").is_empty());
    assert_eq!(search(s, &d.admin, "wjg"), ["hh-wang"]);
}

pub fn the_register_honours_the_scope(s: &dyn Storage) {
    let d = seeded(s);
    two_households(s, &d);
    // 王强 works grid 2: none of grid 1's households, whatever he searches.
    assert!(search(s, &d.wang, "zxy").is_empty());
    let all = RegisterQuery {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(s.register_page(&d.wang.scope, &all).unwrap().total, 0);
    // 赵楼长 leads building 1.
    assert_eq!(search(s, &d.zhao, "安置小区"), ["hh-zhang"]);
    // A place filter narrows within the scope; paging keeps the total.
    let q = RegisterQuery {
        place_id: Some(demo::BUILDING_2.into()),
        limit: 50,
        ..Default::default()
    };
    let page = s.register_page(&d.admin.scope, &q).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.households[0].0.doc_id, "hh-wang");
    let q = RegisterQuery {
        limit: 1,
        offset: 1,
        ..Default::default()
    };
    let page = s.register_page(&d.admin.scope, &q).unwrap();
    assert_eq!((page.total, page.households.len()), (2, 1));
}

/// A visit of 李梅 to `doc` at `at`, raising one repair need.
fn visit(s: &dyn Storage, d: &super::Demo, doc_id: &str, doc: &mut AutoCommit, at: Millis) {
    let heads = doc.get_heads();
    doc.set_actor(actor_of(&d.li));
    let v = Visit {
        id: format!("v-{at}"),
        household_id: doc_id.into(),
        visitor: d.li.user_id.clone(),
        at,
        purpose: VisitPurpose::AskNeeds,
        needs: vec![Need {
            category: NeedCategory::Repair,
            text: "水管漏水".into(),
        }],
        done_on_spot: String::new(),
        follow_up: true,
    };
    write::put_visit(doc, &v).unwrap();
    let need = RaisedNeed {
        visit_id: v.id.clone(),
        category: NeedCategory::Repair,
        text: "水管漏水".into(),
        by: d.li.user_id.clone(),
        at,
        owner: d.li.user_id.clone(),
        due_at: at + 3 * DAY,
    };
    write::put_need(doc, &format!("n-{at}"), &need).unwrap();
    commit_as(&d.li, doc);
    assert_eq!(
        push_one(s, &d.li, doc_id, doc.save_after(&heads)),
        PushOutcome::Stored
    );
}

pub fn ledgers_stream_rows_by_scope_and_filters(s: &dyn Storage) {
    let d = seeded(s);
    let mut a = two_households(s, &d);
    // A household with no members: one ledger row all the same.
    let mut empty = household(&d.li, "hh-empty", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-empty", empty.save_after(&[])),
        PushOutcome::Stored
    );
    let mut seen = Vec::new();
    let n = s
        .ledger_households(&d.admin.scope, &LedgerFilter::default(), &mut |h, ms| {
            seen.push((h.doc_id, ms.len()));
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 3);
    seen.sort();
    assert_eq!(
        seen,
        [
            ("hh-empty".to_owned(), 0),
            ("hh-wang".to_owned(), 1),
            ("hh-zhang".to_owned(), 2)
        ]
    );
    let n = s
        .ledger_households(&d.wang.scope, &LedgerFilter::default(), &mut |_, _| Ok(()))
        .unwrap();
    assert_eq!(n, 0, "another grid's worker: nothing");
    let veterans = LedgerFilter {
        category: Some(CareTag::Veteran.code().into()),
        ..Default::default()
    };
    let n = s
        .ledger_households(&d.admin.scope, &veterans, &mut |_, _| Ok(()))
        .unwrap();
    assert_eq!(n, 0);

    // Visits and needs, by period.
    visit(s, &d, "hh-zhang", &mut a, AT);
    visit(s, &d, "hh-zhang", &mut a, AT + 10 * DAY);
    let period = LedgerFilter {
        from: Some(AT + DAY),
        to: Some(AT + 20 * DAY),
        ..Default::default()
    };
    let mut visits = Vec::new();
    let n = s
        .ledger_visits(&d.admin.scope, &period, &mut |v| {
            visits.push(v);
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(visits[0].at, AT + 10 * DAY);
    assert_eq!(
        visits[0].needs,
        [(NeedCategory::Repair, "水管漏水".to_owned())]
    );
    assert_eq!(visits[0].room, "301");
    let mut needs = Vec::new();
    let n = s
        .ledger_needs(&d.admin.scope, &LedgerFilter::default(), &mut |n| {
            needs.push(n);
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(needs[0].raised_at, AT, "oldest first");
    assert_eq!(needs[0].category, NeedCategory::Repair);
    let other = LedgerFilter {
        category: Some(NeedCategory::Health.code().into()),
        ..Default::default()
    };
    assert_eq!(
        s.ledger_needs(&d.admin.scope, &other, &mut |_| Ok(()))
            .unwrap(),
        0
    );

    // An incident naming the household: on its page and in the incidents ledger.
    let mut i = AutoCommit::new().with_actor(actor_of(&d.li));
    let incident = Incident {
        id: "inc-h".into(),
        category: IncidentCategory::Dispute,
        description: "邻里纠纷".into(),
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(demo::BUILDING_1.into()),
        unit_id: None,
        household_id: Some("hh-zhang".into()),
        reporter: d.li.user_id.clone(),
        priority: Priority::Normal,
        assignee: None,
        department: None,
        reported_at: AT,
        received_at: None,
        status: IncidentStatus::Reported,
        level: Level::Grid,
        dispute: None,
        events: Vec::new(),
    };
    write::init_incident(&mut i, &incident).unwrap();
    commit_as(&d.li, &mut i);
    assert_eq!(
        push_one(s, &d.li, "inc-h", i.save_after(&[])),
        PushOutcome::Stored
    );
    let rows = s.household_incidents("hh-zhang").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].doc_id, "inc-h");
    assert!(s.household_incidents("hh-wang").unwrap().is_empty());
    let disputes = LedgerFilter {
        category: Some(IncidentCategory::Dispute.code().into()),
        ..Default::default()
    };
    let mut got = Vec::new();
    s.ledger_incidents(&d.admin.scope, &disputes, &mut |r| {
        got.push(r.doc_id);
        Ok(())
    })
    .unwrap();
    assert_eq!(got, ["inc-h"]);
    let noise = LedgerFilter {
        category: Some(IncidentCategory::Noise.code().into()),
        ..Default::default()
    };
    assert_eq!(
        s.ledger_incidents(&d.admin.scope, &noise, &mut |_| Ok(()))
            .unwrap(),
        0
    );
    assert_eq!(
        s.ledger_incidents(&d.wang.scope, &disputes, &mut |_| Ok(()))
            .unwrap(),
        0
    );
}

/// The visits counted per grid and week in SQL fall in the weeks the page's Rust puts them
/// in (`Weeks::index`), across the boundary of Sunday 23:59 and Monday 00:00 in Beijing.
pub fn visits_per_week_in_sql_match_the_weeks_in_rust(s: &dyn Storage) {
    /// 2026-12-02 (a Wednesday) 11:00 in Beijing.
    const NOW: Millis = 1_796_180_400_000;
    /// Monday 2026-11-30 00:00 in Beijing (Sunday 16:00 UTC).
    const MONDAY: Millis = 1_795_968_000_000;
    let d = seeded(s);
    let mut a = two_households(s, &d);
    let weeks = Weeks::last(2, NOW).unwrap();
    assert_eq!(weeks.starts[1], MONDAY);
    let times = [
        weeks.start() - 1, // before the first week: not counted
        weeks.start(),     // the first Monday 00:00
        MONDAY - 60_000,   // Sunday 23:59: still the first week
        MONDAY - 1,        // Sunday 23:59:59.999
        MONDAY,            // Monday 00:00: the second week
        MONDAY + 60_000,   // Monday 00:01
        weeks.end - 1,     // the last moment of the second week
        weeks.end,         // after the weeks: not counted
    ];
    for at in times {
        visit(s, &d, "hh-zhang", &mut a, at);
    }
    let mut in_rust: BTreeMap<(String, u32), u32> = BTreeMap::new();
    s.ledger_visits(&d.admin.scope, &LedgerFilter::default(), &mut |v| {
        if let Some(i) = weeks.index(v.at) {
            *in_rust
                .entry((v.place.grid_id, u32::try_from(i).unwrap()))
                .or_default() += 1;
        }
        Ok(())
    })
    .unwrap();
    let in_sql = s.visits_per_week(&d.admin.scope, weeks.start(), 2).unwrap();
    let expected = vec![
        (demo::GRID_1.to_owned(), 0, 3),
        (demo::GRID_1.to_owned(), 1, 3),
    ];
    assert_eq!(in_sql, expected);
    let in_rust: Vec<_> = in_rust.into_iter().map(|((g, i), n)| (g, i, n)).collect();
    assert_eq!(in_sql, in_rust);
    assert_eq!(
        weeks.visit_table(in_sql)[demo::GRID_1],
        [3, 3],
        "the page's table"
    );
    // One week from the second Monday: only its visits.
    assert_eq!(
        s.visits_per_week(&d.admin.scope, MONDAY, 1).unwrap(),
        [(demo::GRID_1.to_owned(), 0, 3)]
    );
    // Another grid's worker sees none of them.
    assert!(
        s.visits_per_week(&d.wang.scope, weeks.start(), 2)
            .unwrap()
            .is_empty()
    );
}

pub fn exports_are_logged_per_community(s: &dyn Storage) {
    seeded(s);
    let e = |at, community: &str| ExportRecord {
        user_id: demo::USER_ADMIN.into(),
        communities: vec![community.into()],
        ledger: "households".into(),
        format: "csv".into(),
        filters: r#"{"place_id":null}"#.into(),
        rows: 42,
        at,
    };
    s.record_export(&e(AT, demo::COMMUNITY)).unwrap();
    s.record_export(&e(AT + 1, demo::COMMUNITY)).unwrap();
    s.record_export(&e(AT + 2, "c-other")).unwrap();
    let mine = s.exports(&[demo::COMMUNITY.into()], 10).unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0], e(AT + 1, demo::COMMUNITY), "newest first");
    assert_eq!(s.exports(&[demo::COMMUNITY.into()], 1).unwrap().len(), 1);
    assert!(s.exports(&["c-none".into()], 10).unwrap().is_empty());
}

//! Databases written by shipped versions open and upgrade.
//!
//! `fixtures/schema_vN.sql` freezes each shipped schema with data written by that version
//! (real Automerge bytes included). Regenerate the current one only when shipping a new
//! version: `LINLI_FREEZE=1 cargo test -p linli-core --test migration -- --ignored freeze`.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;
use rusqlite::Connection;

fn schema_of(c: &Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = c
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn from_fixture(sql: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    (dir, path)
}

/// Every shipped schema, frozen with data written by that version.
const FIXTURES: &[(i64, &str)] = &[
    (1, include_str!("fixtures/schema_v1.sql")),
    (2, include_str!("fixtures/schema_v2.sql")),
    (3, include_str!("fixtures/schema_v3.sql")),
    (4, include_str!("fixtures/schema_v4.sql")),
    (5, include_str!("fixtures/schema_v5.sql")),
    (6, include_str!("fixtures/schema_v6.sql")),
];

#[test]
fn every_shipped_version_opens_upgraded_with_its_data() {
    assert_eq!(
        FIXTURES.last().map(|f| f.0),
        Some(schema::VERSION),
        "freeze the new version"
    );
    for (version, sql) in FIXTURES {
        check_fixture(*version, sql);
    }
}

fn check_fixture(version: i64, sql: &str) {
    let (_dir, path) = from_fixture(sql);
    let before: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, version);
    let store = Store::open(&path, identity(9, "worker-li"), &linli_testkit::DB_KEY).unwrap();

    let fresh = open(8, "worker-li");
    let upgraded = store.with_raw_connection(schema_of);
    assert_eq!(
        upgraded,
        fresh.store.with_raw_connection(schema_of),
        "v{version}"
    );
    let now: i64 = store.with_raw_connection(|c| {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(now, schema::VERSION);

    let listed = store.households_in(BUILDING_1).unwrap();
    assert_eq!(listed.len(), 1);
    let hh = &listed[0].id;
    let full = store.household(hh).unwrap();
    assert_eq!(full.members[0].name, "张三丰");
    assert_eq!(full.visits.len(), 1);
    assert_eq!(store.search_households("张三", 5).unwrap().len(), 1);
    // v6: the pinyin keys of households written before it are built on open.
    for q in ["zsf", "zhangsanfeng", "zhang san feng", "zhang"] {
        assert_eq!(
            store.search_households(q, 5).unwrap().len(),
            1,
            "v{version}: {q}"
        );
    }
    let incidents = store.incidents(&IncidentFilter::default()).unwrap();
    let leaks: Vec<_> = incidents
        .iter()
        .filter(|i| i.category == IncidentCategory::LeakRepair)
        .collect();
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].status, IncidentStatus::Accepted);
    // The v4 columns of rows written before v4 are projected again from their documents.
    assert_eq!(leaks[0].handler.as_deref(), Some("worker-li"), "v{version}");
    assert_eq!(leaks[0].level, Level::Grid);
    if version < 4 {
        assert_eq!(incidents.len(), 1);
        assert_eq!(leaks[0].received_at, None);
        assert_eq!(leaks[0].response_deadline(), None);
    } else {
        // Written by v4: placed at the household's unit, received by the server, and a
        // dispute mediated and closed beside an open one.
        assert_eq!(leaks[0].unit_id.as_deref(), Some(UNIT_1_1));
        assert_eq!(leaks[0].received_at, Some(RECEIVED_AT));
        assert_eq!(
            leaks[0].response_deadline(),
            Some(RECEIVED_AT + targets::RESPONSE_TARGET_MS)
        );
        let disputes = store.open_disputes_by_grid().unwrap();
        let g1 = disputes.iter().find(|g| g.grid_id == GRID_1).unwrap();
        assert_eq!(g1.open, 1);
        assert_eq!(
            incidents
                .iter()
                .filter(|i| i.outcome == Some(DisputeOutcome::Mediated))
                .count(),
            1
        );
    }
    let moves = store.incident_moves(&leaks[0].id).unwrap();
    assert!(moves.contains(&IncidentAction::Resolve));
    // Needs (v5): the v5 fixture's visit raised one, taken in hand; before v5 a visit's
    // needs stayed in the visit only.
    let needs = store.open_needs(None).unwrap();
    if version < 5 {
        assert!(needs.is_empty(), "v{version}");
    } else {
        assert_eq!(needs.len(), 1);
        assert_eq!(needs[0].status, NeedStatus::InHand);
        assert_eq!(needs[0].household_id, *hh);
    }
    // And it takes new writes.
    store.record_visit(visit(hh)).unwrap();
    assert_eq!(store.visits_of(hh).unwrap().len(), 2);
    assert_eq!(store.open_needs(None).unwrap().len(), needs.len() + 1);
}

#[test]
fn a_newer_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
        .unwrap();
    let err = Store::open(&path, identity(1, "u"), &linli_testkit::DB_KEY)
        .err()
        .expect("refused");
    assert!(matches!(
        err,
        Error::IncompatibleSchema {
            found: 99,
            supported: schema::VERSION
        }
    ));
    let c = Connection::open(&path).unwrap();
    assert_eq!(schema_of(&c).len(), 1);
}

/// When the v4 fixture's incidents reached the server.
const RECEIVED_AT: i64 = 1_764_554_400_000;

/// Writes `fixtures/schema_v{VERSION}.sql` from a store of the current version.
#[test]
#[ignore]
fn freeze() {
    if std::env::var_os("LINLI_FREEZE").is_none() {
        return;
    }
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
    s.record_visit(visit(&hh)).unwrap();
    let need = s.needs_of(&hh).unwrap()[0].id.clone();
    s.move_need(&need, NeedAction::Take, NeedMoveDetail::default())
        .unwrap();
    let inc = s
        .report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: "卫生间漏水".into(),
            place_id: None,
            household_id: Some(hh.clone()),
            priority: Priority::High,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    s.move_incident(&inc, IncidentAction::Accept, "").unwrap();
    stamp_received(s, &inc, RECEIVED_AT);
    // Two disputes: one mediated and closed by the leader's callback, one still open.
    let dispute = |parties: &str| NewIncident {
        category: IncidentCategory::Dispute,
        description: "楼上楼下漏水纠纷".into(),
        place_id: Some(UNIT_1_1.into()),
        household_id: None,
        priority: Priority::Normal,
        assignee: None,
        dispute: Some(DisputeInfo {
            parties: parties.into(),
            mediator: "调委会 刘某".into(),
        }),
    };
    let done = s.report_incident(dispute("张某 与 李某")).unwrap();
    s.report_incident(dispute("王某 与 赵某")).unwrap();
    stamp_received(s, &done, RECEIVED_AT + 1_000);
    s.move_incident(&done, IncidentAction::Accept, "").unwrap();
    s.move_incident_with(
        &done,
        IncidentAction::Resolve,
        MoveDetail {
            note: "双方达成协议".into(),
            outcome: Some(DisputeOutcome::Mediated),
            ..MoveDetail::default()
        },
    )
    .unwrap();
    let leader = open(6, "leader-zhao");
    let bytes = s.changes_since(&done, &[]).unwrap();
    leader.store.import_changes(&done, &bytes).unwrap();
    leader
        .store
        .move_incident_with(
            &done,
            IncidentAction::Feedback,
            MoveDetail {
                rating: Some(Rating::Satisfied),
                ..MoveDetail::default()
            },
        )
        .unwrap();
    let have = s.heads(&done).unwrap();
    let back = leader.store.changes_since(&done, &have).unwrap();
    s.import_changes(&done, &back).unwrap();
    assert_eq!(s.incident(&done).unwrap().status, IncidentStatus::Closed);

    let dump = s.with_raw_connection(|c| {
        let mut out = String::from("-- Frozen by core/tests/migration.rs `freeze`. Do not edit.\n");
        out.push_str(&format!("PRAGMA user_version = {};\n", schema::VERSION));
        let mut stmt = c
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL \
                 AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
            )
            .unwrap();
        let objects: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let virtuals: Vec<String> = objects
            .iter()
            .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL"))
            .map(|(n, _)| n.clone())
            .collect();
        let shadow = |n: &str| {
            !virtuals.iter().any(|v| v == n)
                && virtuals.iter().any(|v| n.starts_with(&format!("{v}_")))
        };
        let mut tables = Vec::new();
        for (name, sql) in &objects {
            if shadow(name) {
                continue;
            }
            out.push_str(sql);
            out.push_str(";\n");
            if sql.starts_with("CREATE TABLE") || sql.starts_with("CREATE VIRTUAL") {
                tables.push(name.clone());
            }
        }
        for t in tables {
            let rowid = if virtuals.contains(&t) {
                "rowid, *"
            } else {
                "*"
            };
            let mut stmt = c.prepare(&format!("SELECT {rowid} FROM {t}")).unwrap();
            let n = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let vals: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => "NULL".into(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(v) => {
                            format!("'{}'", String::from_utf8_lossy(v).replace('\'', "''"))
                        }
                        rusqlite::types::ValueRef::Blob(v) => format!(
                            "X'{}'",
                            v.iter().map(|b| format!("{b:02X}")).collect::<String>()
                        ),
                    })
                    .collect();
                let cols = if virtuals.contains(&t) {
                    "(rowid, text)".to_owned()
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "INSERT INTO {t}{cols} VALUES ({});\n",
                    vals.join(", ")
                ));
            }
        }
        out
    });
    let path = format!(
        "{}/tests/fixtures/schema_v{}.sql",
        env!("CARGO_MANIFEST_DIR"),
        schema::VERSION
    );
    std::fs::write(path, dump).unwrap();
}

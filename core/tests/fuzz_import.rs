//! Short fuzz run of importing changes into a device store: pushes made from a real
//! household's changes (written through the store with the test kit's builders), mutated
//! field by field or byte by byte and sealed again so that they pass the strict parse
//! (`domain/tests/support/mutations.rs`), imported as a pull would, into a new document
//! and into the household the store holds. Nothing may panic; a refused import is a typed
//! error and writes nothing. The crashers kept under `domain/tests/fixtures/crashers/` are
//! replayed. `PROPTEST_CASES` sets the number of cases; `LINLI_HEAVY=1` runs many more.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../domain/tests/support/mutations.rs"]
mod mutations;

use common::{BUILDING_1, USER_LI_MEI, fingerprint, household, identity, member, places};
use linli_core::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        n
    } else if std::env::var_os("LINLI_HEAVY").is_some() {
        20_000
    } else {
        400
    }
}

/// A store on tmpfs (the fsync of every commit is not what this is about).
fn open(device: u8) -> (Store, tempfile::TempDir) {
    let dir = linli_testkit::temp_dir().unwrap();
    let store = Store::open(
        dir.path().join("linli.db"),
        identity(device, USER_LI_MEI),
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    store.put_places(&places()).unwrap();
    (store, dir)
}

/// A household with a few changes: created with a member, a second member, a tag, a visit.
fn write_household(store: &Store) -> String {
    let id = store
        .create_household(household(
            BUILDING_1,
            "101",
            vec![member("张秀英", Relation::Head, Some("13812345678"))],
        ))
        .unwrap();
    store
        .add_member(&id, member("王建国", Relation::Spouse, None))
        .unwrap();
    store.set_tag(&id, CareTag::ElderlyAlone, true).unwrap();
    store
        .record_visit(linli_testkit::records::visit(&id))
        .unwrap();
    id
}

fn crashers() -> Vec<(String, Vec<u8>)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/crashers");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 2,
        "expected the crashers under {}",
        dir.display()
    );
    out
}

#[test]
fn kept_crashers_are_refused_and_change_nothing() {
    let (store, _dir) = open(1);
    let id = write_household(&store);
    let held = store.household(&id).unwrap();
    let before = fingerprint(&store);
    for (name, bytes) in crashers() {
        let new_id = "0190aaaa-0000-7000-8000-00000000c0de";
        match store.import_changes(new_id, &bytes) {
            Err(Error::CorruptChanges(_)) => {}
            other => panic!("{name} as a new document: {other:?}"),
        }
        // Onto the household the store holds (and caches): refused, and the cached copy
        // that Automerge may have half changed is not what the store reads next.
        assert!(store.import_changes(&id, &bytes).is_err(), "{name} applied");
        assert_eq!(fingerprint(&store), before, "{name} wrote something");
        assert_eq!(
            store.household(&id).unwrap(),
            held,
            "{name} changed the household"
        );
        assert!(matches!(
            store.household(new_id),
            Err(Error::NotFound { .. })
        ));
    }
    // The store goes on working: a write, and an import of good changes from elsewhere.
    store.set_tag(&id, CareTag::Disabled, true).unwrap();
    let (other, _other_dir) = open(2);
    let theirs = write_household(&other);
    let bytes = other.changes_since(&theirs, &[]).unwrap();
    assert!(store.import_changes(&theirs, &bytes).unwrap().new_changes > 0);
    assert_eq!(
        store.household(&theirs).unwrap(),
        other.household(&theirs).unwrap()
    );
}

#[test]
fn mutated_imports_never_panic_and_refusals_write_nothing() {
    let (source, _source_dir) = open(1);
    let id = write_household(&source);
    let all = automerge::AutoCommit::load(&source.changes_since(&id, &[]).unwrap())
        .unwrap()
        .get_changes(&[]);
    // The device that receives: it holds the household as the source first wrote it.
    let (store, _dir) = open(2);
    let first = source.changes_since(&id, &[]).unwrap();
    store.import_changes(&id, &first).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        any::<usize>(),
        any::<bool>(),
        any::<bool>(),
        mutations::edits(),
    );
    let (refused, applied) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&strategy, |(which, bytewise, onto_held, edits)| {
            let Some(push) = mutations::push_from(&all, which, &edits, bytewise) else {
                return Ok(());
            };
            let target = if onto_held {
                id.clone()
            } else {
                "0190aaaa-0000-7000-8000-00000000f022".to_owned()
            };
            let before = fingerprint(&store);
            match store.import_changes(&target, &push) {
                Ok(_) => {
                    applied.set(applied.get() + 1);
                    // What was stored reads back, and goes out again as changes.
                    let again = store.changes_since(&target, &[]).unwrap();
                    prop_assert!(linli_domain::changes::parse(&again).is_ok());
                }
                Err(_) => {
                    refused.set(refused.get() + 1);
                    prop_assert_eq!(fingerprint(&store), before);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("refused {}, applied {}", refused.get(), applied.get());
    // The mutations reach Automerge: most are refused, some are valid edits or replays.
    assert!(refused.get() > 0, "nothing was refused");
    assert!(applied.get() > 0, "nothing was applied");
    store.household(&id).unwrap();
}

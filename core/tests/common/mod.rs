//! Shared set-up for the core's integration tests: a place tree and stores on real files.
#![allow(dead_code, unused_imports)]

use linli_core::*;
use tempfile::TempDir;

pub use linli_testkit::demo::*;
pub use linli_testkit::records::{household, member, visit};

/// The demo community's place tree.
pub fn places() -> Vec<Place> {
    linli_testkit::demo::places()
}

pub fn identity(device: u8, user: &str) -> Identity {
    Identity {
        device_id: uuid::Uuid::from_bytes([device; 16]).to_string(),
        user_id: user.into(),
    }
}

pub struct TestStore {
    pub store: Store,
    pub dir: TempDir,
}

pub fn open(device: u8, user: &str) -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(
        dir.path().join("linli.db"),
        identity(device, user),
        &linli_testkit::DB_KEY,
    )
    .expect("open");
    store.put_places(&places()).expect("places");
    TestStore { store, dir }
}

/// A fingerprint of every table, to prove a rejected call wrote nothing.
pub fn fingerprint(store: &Store) -> Vec<(String, i64)> {
    store.with_raw_connection(|c| {
        let tables = [
            "documents",
            "doc_changes",
            "change_history",
            "places",
            "households",
            "household_tags",
            "household_search",
            "visits",
            "incidents",
            "needs",
        ];
        let mut out = Vec::new();
        for t in tables {
            let n: i64 = c
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .expect("count");
            out.push((t.to_owned(), n));
        }
        let seq: i64 = c
            .query_row("SELECT coalesce(max(local_seq), 0) FROM documents", [], |r| r.get(0))
            .expect("seq");
        out.push(("local_seq".into(), seq));
        let bytes: i64 = c
            .query_row(
                "SELECT coalesce(sum(length(bytes)), 0) + (SELECT coalesce(sum(length(snapshot)), 0) FROM documents) FROM doc_changes",
                [],
                |r| r.get(0),
            )
            .expect("bytes");
        out.push(("bytes".into(), bytes));
        out
    })
}

/// What the server does on its first receipt of an incident: a change by the server's own
/// actor (author "system") that stamps `received_at`, merged into `store` as a pull would.
pub fn stamp_received(store: &Store, incident_id: &str, at: i64) {
    use automerge::transaction::CommitOptions;
    let bytes = store.changes_since(incident_id, &[]).expect("changes");
    let mut d = automerge::AutoCommit::load(&bytes)
        .expect("load")
        .with_actor(automerge::ActorId::from(&[0xEE_u8; 16][..]));
    let heads = d.get_heads();
    linli_core::doc::put_received_at(&mut d, at).expect("stamp");
    d.commit_with(
        CommitOptions::default()
            .with_message(r#"{"u":"system","op":"incident.received","f":["received_at"]}"#)
            .with_time(at),
    );
    let change = d.save_after(&heads);
    store.import_changes(incident_id, &change).expect("import");
}

/// Sets the people of the store's scope, as the server's reference data would.
pub fn people(store: &Store, people: &[(&str, Role)]) {
    let people: Vec<protocol::Person> = people
        .iter()
        .map(|(id, role)| protocol::Person {
            id: (*id).into(),
            name: format!("name of {id}"),
            role: *role,
        })
        .collect();
    store.put_people_for_tests(&people).expect("people");
}

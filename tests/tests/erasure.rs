//! Erasure end to end (issue 12): a household with a name, an ID number and a phone is
//! synced to three devices (grid worker, building leader, community admin) and the server;
//! a community admin erases it; the devices sync; then no byte of any SQLite file (the
//! database, its `-wal` and `-shm`) on the server or a device holds the name, the ID number
//! or the phone. The same grep before the erasure finds them (the positive control). An
//! offline device that still holds the household and edits it is refused on its next push,
//! nothing is stored, and it purges the household. The logs of the run (server and
//! devices, debug level) name none of them, nor the demo's staff.
//!
//! The server keeps no other copy here: it has no snapshot files of its own (snapshots are
//! rows of `documents`) and this test makes no backup (`backup.rs` copies are files the
//! operator keeps; a restore is followed by the tombstones, which live in the same database).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use linli_core::protocol::{PushOutcome, Role};
use linli_core::*;
use linli_sync_server::erase::{EraseReason, Erased, Erasure, PrivacyStorage};
use linli_testkit::records;

const NAME: &str = "欧阳雪梅";
const NAME_PINYIN: &str = "ouyangxuemei";
const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13912345678";
/// A name only the offline device writes, after the erasure.
const LATE_NAME: &str = "欧阳晓峰";

/// The bytes of a database and its `-wal` and `-shm` files (those that exist).
fn files_of(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    hay.windows(n.len()).any(|w| w == n)
}

/// Which of `needles` occur in any file of the database at `db`.
fn found_in(db: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in files_of(db) {
        for n in needles {
            if contains(&bytes, n) {
                found.push(format!("{n} in {}", path.display()));
            }
        }
    }
    found
}

/// Every Automerge document a database holds (snapshots and appended changes, device or
/// server layout), decompressed: `save_nocompress` of each, history and deleted operations
/// included, concatenated.
fn automerge_plain(db: &Path) -> Vec<u8> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let server = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'changes'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        > 0;
    let (docs, changes) = if server {
        (
            "SELECT doc_id, snapshot FROM documents",
            "SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq",
        )
    } else {
        (
            "SELECT id, snapshot FROM documents",
            "SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id",
        )
    };
    let ids: Vec<(String, Option<Vec<u8>>)> = c
        .prepare(docs)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut out = Vec::new();
    for (id, snapshot) in ids {
        let mut d = automerge::AutoCommit::new();
        if let Some(s) = snapshot {
            d.load_incremental(&s).unwrap();
        }
        let rows: Vec<Vec<u8>> = c
            .prepare(changes)
            .unwrap()
            .query_map([&id], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for bytes in rows {
            d.load_incremental(&bytes).unwrap();
        }
        out.extend(d.save_nocompress());
    }
    out
}

/// Which of `needles` occur in any file of the database at `db`, or in any of its
/// Automerge documents once decompressed.
fn found_anywhere(db: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = found_in(db, needles);
    let plain = automerge_plain(db);
    for n in needles {
        if contains(&plain, n) {
            found.push(format!("{n} in a document of {}", db.display()));
        }
    }
    found
}

/// Everything the server and the devices log in this test process (one test per binary, so
/// the global subscriber is this test's), at debug level.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> Logs {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .unwrap();
        logs
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn phone_db(d: &Device) -> PathBuf {
    d.dir.path().join("phone.db")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_household_leaves_no_byte_on_the_server_or_three_devices() {
    let logs = Logs::capture();
    let server = Server::start().await;
    // Plain stores (encryption off, as in a test build): the grep reads what encryption
    // would otherwise hide (the encrypted files: tests/tests/revocation.rs, core/tests/encryption.rs).
    let plain = |p: &Person| Device::with_key(&server.url, p, None);
    let worker = plain(&server.person("u-worker", Role::GridWorker, &[GRID_1]));
    let leader = plain(&server.person("u-leader", Role::BuildingLeader, &[BUILDING_1]));
    let admin = plain(&server.person("u-admin", Role::Admin, &[COMMUNITY]));
    let offline = plain(&server.person("u-offline", Role::GridWorker, &[GRID_1]));
    for d in [&worker, &leader, &admin, &offline] {
        d.synced().await;
    }

    let hh = worker
        .store
        .create_household(records::household(
            UNIT_1_1,
            "101",
            vec![NewMember {
                name: NAME.into(),
                relation: Relation::Head,
                birth_year: Some(1949),
                phone: Some(PHONE.into()),
                id_number: Some(ID_NUMBER.into()),
            }],
        ))
        .unwrap();
    worker.visit(&hh);
    worker
        .store
        .update_household(
            &hh,
            HouseholdPatch {
                notes: Some(format!("{NAME}独居，女儿在外地")),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    // An incident at the household: it keeps its own document and its reference.
    let incident = worker.report(&hh);
    // A household that is not erased, to show the rest stays.
    let other = worker.create(UNIT_1_1, "102");
    worker.synced().await;
    for d in [&leader, &admin, &offline] {
        d.synced().await;
        assert_eq!(d.store.household(&hh).unwrap().members[0].name, NAME);
    }

    // Positive control: the grep finds the resident everywhere before the erasure.
    let found = found_anywhere(&server.db, &[NAME, ID_NUMBER]);
    assert!(
        found.iter().any(|f| f.starts_with(NAME)) && found.iter().any(|f| f.starts_with(ID_NUMBER)),
        "the server's register rows and documents hold the name and ID number: {found:?}"
    );
    for d in [&worker, &leader, &admin] {
        // The names' search rows are plain; a pulled snapshot is compressed.
        let found = found_anywhere(&phone_db(d), &[NAME, ID_NUMBER]);
        assert!(
            found.iter().any(|f| f.starts_with(NAME)),
            "{}: {found:?}",
            d.user_id
        );
        assert!(
            found.iter().any(|f| f.starts_with(ID_NUMBER)),
            "{}: {found:?}",
            d.user_id
        );
    }

    // The offline device edits the household and does not sync.
    offline
        .store
        .update_household(
            &hh,
            HouseholdPatch {
                notes: Some(format!("{LATE_NAME}来电")),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();

    let erased = server
        .storage
        .erase_household(&Erasure {
            doc_id: hh.clone(),
            by_user: USER_ADMIN.into(),
            reason: EraseReason::ResidentRequest,
            note: String::new(),
            at: 1,
        })
        .unwrap();
    assert!(matches!(erased, Erased::Done { changes } if changes >= 1));
    // A second erasure changes nothing.
    let again = Erasure {
        doc_id: hh.clone(),
        by_user: USER_ADMIN.into(),
        reason: EraseReason::ResidentRequest,
        note: String::new(),
        at: 2,
    };
    assert_eq!(
        server.storage.erase_household(&again).unwrap(),
        Erased::Already
    );

    for d in [&worker, &leader, &admin] {
        d.synced().await;
        assert!(matches!(
            d.store.household(&hh),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(d.store.household(&other).unwrap().address.room, "102");
        assert!(d.store.search_households(NAME, 10).unwrap().is_empty());
        assert!(d.store.search_households("欧阳", 10).unwrap().is_empty());
        assert!(
            d.store
                .search_households(NAME_PINYIN, 10)
                .unwrap()
                .is_empty()
        );
        // The incident stays, and still names the household.
        if d.user_id != "u-leader" || d.store.incident(&incident).is_ok() {
            assert_eq!(
                d.store.incident(&incident).unwrap().household_id.as_deref(),
                Some(hh.as_str())
            );
        }
    }

    // The offline device pushes its edit: refused, nothing stored, and it purges.
    let rows = |t: &str| server.count(t);
    let before = (
        rows("changes"),
        rows("documents"),
        rows("register_households"),
    );
    let report = offline.sync().await.unwrap();
    assert!(
        report
            .refused
            .iter()
            .any(|r| r.doc_id == hh && r.outcome == PushOutcome::Erased),
        "{:?}",
        report.refused
    );
    assert_eq!(
        (
            rows("changes"),
            rows("documents"),
            rows("register_households")
        ),
        before
    );
    assert!(matches!(
        offline.store.household(&hh),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(offline.pending(), 0);
    // Nothing is pushed again.
    offline.synced().await;
    assert_eq!(
        (
            rows("changes"),
            rows("documents"),
            rows("register_households")
        ),
        before
    );

    // The byte check on every file: the server's and four devices'.
    let late = [NAME, ID_NUMBER, PHONE, NAME_PINYIN, LATE_NAME];
    let mut found = found_anywhere(&server.db, &late);
    for d in [&worker, &leader, &admin, &offline] {
        found.extend(found_anywhere(&phone_db(d), &late));
    }
    assert!(found.is_empty(), "still found: {found:?}");
    assert_eq!(server.count("erasures"), 1);

    // The logs of the whole run, server and devices, at debug level: they say what happened
    // (the refused push), never who it happened to.
    let text = logs.text();
    assert!(
        text.contains("push of an erased document refused"),
        "{text}"
    );
    let staff = linli_testkit::demo::PEOPLE.map(|p| p.name);
    for personal in late.iter().chain(staff.iter()) {
        assert!(!text.contains(personal), "{personal} in the logs");
    }
    assert_eq!(server.count("audit_log"), 1);
    server.shutdown().await;
}

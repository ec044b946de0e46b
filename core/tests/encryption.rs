//! Encryption at rest (SQLCipher) and erasing the store: what an attacker holding the files
//! could read, before and after.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use linli_core::*;
use linli_testkit::DB_KEY;

const NAME: &str = "欧阳秀英";
const ID_NUMBER: &str = "510105194903120026";
const PHONE: &str = "13912345678";

fn secret_household() -> NewHousehold {
    let mut head = member(NAME, Relation::Head, Some(PHONE));
    head.id_number = Some(ID_NUMBER.into());
    household(
        UNIT_1_1,
        "301",
        vec![head, member("欧阳建国", Relation::Spouse, None)],
    )
}

/// The database and its WAL and shared-memory files, as far as they exist.
fn files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

/// The files of `db` in which `needle` occurs as bytes.
fn grep(db: &Path, needle: &str) -> Vec<PathBuf> {
    files(db)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .collect()
}

/// The database and its WAL, each with the SHA-256 of its bytes. (Not the `-shm`: the WAL
/// index of the live connections, which holds no record and where any reader, even one
/// that then fails, updates its read mark.)
fn digests(db: &Path) -> Vec<(PathBuf, String)> {
    use sha2::Digest;
    files(db)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .map(|p| {
            let digest = sha2::Sha256::digest(std::fs::read(&p).unwrap());
            let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
            (p, hex)
        })
        .collect()
}

/// A store with a household holding a name, a phone and an ID number, a visit and an
/// incident: encrypted with the test key, or plain (`key: None`, the control).
fn store_with_secrets(dir: &Path, key: Option<&[u8]>) -> (Store, PathBuf, String) {
    let path = dir.join("linli.db");
    let store = match key {
        Some(key) => Store::open(&path, identity(1, USER_LI_MEI), key),
        None => Store::open_unencrypted(&path, identity(1, USER_LI_MEI)),
    }
    .unwrap();
    store.put_places(&places()).unwrap();
    let hh = store.create_household(secret_household()).unwrap();
    store.record_visit(visit(&hh)).unwrap();
    store
        .report_incident(linli_testkit::records::incident_at_household(&hh))
        .unwrap();
    (store, path, hh)
}

#[test]
fn a_key_of_another_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for key in [&[][..], &[7u8; 16][..], &[7u8; 33][..]] {
        let err = Store::open(dir.path().join("x.db"), identity(1, "u"), key)
            .err()
            .expect("refused");
        assert!(
            matches!(err, Error::InvalidInput { field: "key", .. }),
            "{err:?}"
        );
    }
    assert!(
        !dir.path().join("x.db").exists(),
        "a refused open created the file"
    );
}

#[test]
fn records_are_not_readable_in_the_files() {
    // The control: the same records in a plain store are there to be found.
    let plain_dir = tempfile::tempdir().unwrap();
    let (_plain, plain_path, _) = store_with_secrets(plain_dir.path(), None);
    assert!(
        !grep(&plain_path, NAME).is_empty(),
        "control: name not found"
    );
    assert!(
        !grep(&plain_path, PHONE).is_empty(),
        "control: phone not found"
    );

    let dir = tempfile::tempdir().unwrap();
    let (store, path, hh) = store_with_secrets(dir.path(), Some(&DB_KEY));
    // Open, so the latest writes are in the WAL.
    assert!(
        std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len()
            > 0,
        "the WAL is empty: the test would not look at it"
    );
    for needle in [NAME, ID_NUMBER, PHONE, "欧阳建国", "卫生间漏水", "飞线充电"] {
        assert_eq!(
            grep(&path, needle),
            Vec::<PathBuf>::new(),
            "{needle} readable"
        );
    }
    assert!(
        !std::fs::read(&path)
            .unwrap()
            .starts_with(b"SQLite format 3")
    );
    drop(store);
    let reopened = Store::open(&path, identity(1, USER_LI_MEI), &DB_KEY).unwrap();
    assert_eq!(reopened.household(&hh).unwrap().members[0].name, NAME);
}

#[test]
fn a_wrong_key_is_a_typed_error_and_changes_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, hh) = store_with_secrets(dir.path(), Some(&DB_KEY));
    let before = digests(&path);
    assert!(before.len() >= 2, "no WAL beside the database");

    let mut wrong = DB_KEY;
    wrong[31] ^= 1;
    let err = Store::open(&path, identity(1, USER_LI_MEI), &wrong)
        .err()
        .expect("a wrong key opened the store");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    // Unencrypted, the file is no database either.
    let err = Store::open_unencrypted(&path, identity(1, USER_LI_MEI))
        .err()
        .expect("opened without the key");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert_eq!(digests(&path), before, "a refused open changed the files");

    drop(store);
    let closed = digests(&path);
    let err = Store::open(&path, identity(1, USER_LI_MEI), &wrong)
        .err()
        .expect("a wrong key opened the closed store");
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert_eq!(
        digests(&path),
        closed,
        "a refused open changed the closed files"
    );

    let store = Store::open(&path, identity(1, USER_LI_MEI), &DB_KEY).unwrap();
    assert_eq!(store.household(&hh).unwrap().members[0].name, NAME);
}

#[test]
fn a_plaintext_store_from_an_older_app_is_encrypted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    // The previous code path: a plain SQLite store, closed with its WAL.
    let (plain, path, hh) = store_with_secrets(dir.path(), None);
    let visits = plain.visits_of(&hh).unwrap().len();
    drop(plain);
    assert!(
        std::fs::read(&path)
            .unwrap()
            .starts_with(b"SQLite format 3\0")
    );
    assert!(
        !grep(&path, NAME).is_empty(),
        "control: name not in the plain file"
    );

    let store = Store::open(&path, identity(1, USER_LI_MEI), &DB_KEY).unwrap();
    assert_eq!(store.household(&hh).unwrap().members[0].name, NAME);
    assert_eq!(store.visits_of(&hh).unwrap().len(), visits);
    assert_eq!(store.search_households(NAME, 10).unwrap().len(), 1);
    assert_eq!(
        store.incidents(&IncidentFilter::default()).unwrap().len(),
        1
    );
    for needle in [NAME, ID_NUMBER, PHONE] {
        assert_eq!(
            grep(&path, needle),
            Vec::<PathBuf>::new(),
            "{needle} readable"
        );
    }
    assert!(!dir.path().join("linli.db.encrypting").exists());
    // Writes go on in the encrypted file, and it reopens with the key only.
    store.record_visit(visit(&hh)).unwrap();
    drop(store);
    assert!(matches!(
        Store::open_unencrypted(&path, identity(1, USER_LI_MEI)).err(),
        Some(Error::WrongKey)
    ));
    let store = Store::open(&path, identity(1, USER_LI_MEI), &DB_KEY).unwrap();
    assert_eq!(store.visits_of(&hh).unwrap().len(), visits + 1);
}

/// Erasing on the plain control store, so that the grep can see what is left; the positive
/// control finds the records before.
#[test]
fn erasing_leaves_no_record_in_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, hh) = store_with_secrets(dir.path(), None);
    for n in 0..30 {
        let mut more = secret_household();
        more.room = format!("{}", 401 + n);
        store.create_household(more).unwrap();
    }
    for needle in [NAME, PHONE, "卫生间漏水"] {
        assert!(
            !grep(&path, needle).is_empty(),
            "control: {needle} not found"
        );
    }
    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = changes.clone();
    store.subscribe(move |c| seen.lock().unwrap().push(c.clone()));

    store.erase_everything().unwrap();

    for needle in [NAME, ID_NUMBER, PHONE, "欧阳建国", "卫生间漏水", "飞线充电"] {
        assert_eq!(grep(&path, needle), Vec::<PathBuf>::new(), "{needle} left");
    }
    assert_eq!(
        std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len(),
        0,
        "the WAL was not truncated"
    );
    let counts = store.with_raw_connection(|c| {
        let tables: Vec<String> = c
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        tables
            .into_iter()
            .map(|t| {
                let n: i64 = c
                    .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                    .unwrap();
                (t, n)
            })
            // An FTS5 index keeps its configuration and, empty, its structure records.
            .filter(|(t, n)| *n > 0 && !t.ends_with("_config") && !t.ends_with("_data"))
            .collect::<Vec<_>>()
    });
    assert_eq!(counts, vec![], "rows left after erasing");
    assert!(matches!(store.household(&hh), Err(Error::NotFound { .. })));
    assert!(store.search_households("欧阳", 10).unwrap().is_empty());
    assert_eq!(store.sync_state().unwrap().pending_docs, 0);
    assert!(
        changes
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.households && c.incidents)
    );
    // Still a working (empty) store.
    store.put_places(&places()).unwrap();
    store
        .create_household(household(
            UNIT_1_1,
            "101",
            vec![member("李四", Relation::Head, None)],
        ))
        .unwrap();
    assert_eq!(store.search_households("李四", 10).unwrap().len(), 1);
}

/// Erasing an encrypted store, checked as the issue asks: the database exported to
/// plaintext with its key holds none of it either.
#[test]
fn an_erased_encrypted_store_exports_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, _) = store_with_secrets(dir.path(), Some(&DB_KEY));
    let export = |name: &str| {
        let out = dir.path().join(name);
        store.with_raw_connection(|c| {
            c.execute(
                "ATTACH DATABASE ?1 AS plaintext KEY ''",
                [out.to_str().unwrap()],
            )
            .unwrap();
            c.query_row("SELECT sqlcipher_export('plaintext')", [], |_| Ok(()))
                .unwrap();
            c.execute_batch("DETACH DATABASE plaintext").unwrap();
        });
        out
    };
    let before = export("before.db");
    assert!(
        !grep(&before, NAME).is_empty(),
        "control: name not exported"
    );
    store.erase_everything().unwrap();
    let after = export("after.db");
    for needle in [NAME, ID_NUMBER, PHONE, "卫生间漏水"] {
        assert_eq!(
            grep(&after, needle),
            Vec::<PathBuf>::new(),
            "{needle} exported"
        );
        assert_eq!(
            grep(&path, needle),
            Vec::<PathBuf>::new(),
            "{needle} in the file"
        );
    }
}

//! A revoked phone erases its store the next time it contacts the server: the residents it
//! pulled are gone from the database, its WAL and its shared-memory file.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use linli_core::protocol::Role;
use linli_core::*;
use linli_sync_server::admin;
use linli_testkit::records;

const RESIDENTS: [(&str, &str); 2] = [
    ("欧阳秀英", "510105194903120026"),
    ("司马建国", "11010519491231002X"),
];

/// The store's files, as far as they exist.
fn files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

/// Which of `needles` occur as bytes in the store's files.
fn found(db: &Path, needles: &[&str]) -> Vec<String> {
    let contents: Vec<Vec<u8>> = files(db)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    needles
        .iter()
        .filter(|n| {
            contents
                .iter()
                .any(|c| c.windows(n.len()).any(|w| w == n.as_bytes()))
        })
        .map(|n| (*n).to_owned())
        .collect()
}

/// A grid worker's phone that pulled the households of two residents (their names and ID
/// numbers) written on another phone, and wrote a visit of its own.
async fn phone_with_residents(server: &Server, key: Option<&[u8]>) -> (Device, Vec<String>) {
    let writer = server.device(&server.person("worker-w", Role::GridWorker, &[GRID_1]));
    writer.synced().await;
    let mut ids = Vec::new();
    for (n, (name, id_number)) in RESIDENTS.iter().enumerate() {
        let mut head = records::member(name, Relation::Head, Some("13912345678"));
        head.id_number = Some((*id_number).into());
        let hh = writer
            .store
            .create_household(records::household(UNIT_1_1, &format!("30{n}"), vec![head]))
            .unwrap();
        ids.push(hh);
    }
    writer.synced().await;
    let person = server.person("worker-p", Role::GridWorker, &[GRID_1]);
    let phone = Device::with_key(&server.url, &person, key);
    phone.synced().await;
    for hh in &ids {
        assert_eq!(phone.store.household(hh).unwrap().members.len(), 1);
    }
    phone.visit(&ids[0]);
    (phone, ids)
}

async fn revoke_and_sync(server: &Server, phone: &Device) {
    admin::revoke(server.storage.as_ref(), &phone.device_id).unwrap();
    let rows = server.count("changes");
    let config = SyncConfig {
        initial_backoff: Duration::from_millis(20),
        ..phone.config()
    };
    match phone.sync_with(&config).await {
        Err(Error::Revoked) => {}
        other => panic!("expected Revoked, got {other:?}"),
    }
    assert_eq!(
        server.count("changes"),
        rows,
        "a revoked device stored something"
    );
}

fn needles() -> Vec<&'static str> {
    RESIDENTS
        .iter()
        .flat_map(|(name, id)| [*name, *id])
        .collect()
}

/// On a plain store (encryption off, as in a test build), so that the grep can see: the
/// names are in the files before (the control), and none of the names or ID numbers after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_erases_every_resident_from_its_files() {
    let server = Server::start().await;
    let (phone, ids) = phone_with_residents(&server, None).await;
    let db = phone.dir.path().join("phone.db");
    let names: Vec<&str> = RESIDENTS.iter().map(|r| r.0).collect();
    assert_eq!(
        found(&db, &names),
        names,
        "control: the names are not in the files"
    );

    revoke_and_sync(&server, &phone).await;

    assert_eq!(
        found(&db, &needles()),
        Vec::<String>::new(),
        "left after revocation"
    );
    for hh in &ids {
        assert!(matches!(
            phone.store.household(hh),
            Err(Error::NotFound { .. })
        ));
    }
    assert!(phone.store.households_in(GRID_1).unwrap().is_empty());
    assert_eq!(phone.pending(), 0);
    assert_eq!(phone.raw_count("places"), 0);
    assert_eq!(phone.raw_count("sync_meta"), 0);

    // Enrolled again, the same phone starts over from the server: its visit, never pushed,
    // is gone with the rest.
    let again = admin::enroll(
        server.storage.as_ref(),
        &phone.user_id,
        Some(phone.device_id.parse().unwrap()),
    )
    .unwrap();
    let phone = Device {
        token: again.token,
        ..phone
    };
    phone.synced().await;
    assert_eq!(phone.store.household(&ids[0]).unwrap().visits.len(), 0);
    assert_eq!(
        phone.store.household(&ids[1]).unwrap().members[0].name,
        RESIDENTS[1].0
    );
}

/// The shipped configuration: encrypted. Exported to plaintext with its key (what the key's
/// holder could read), the erased store holds none of it either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_encrypted_phone_exports_no_resident() {
    let server = Server::start().await;
    let (phone, _) = phone_with_residents(&server, Some(&linli_testkit::DB_KEY)).await;
    let db = phone.dir.path().join("phone.db");
    let export = |name: &str| {
        let out = phone.dir.path().join(name);
        phone.store.with_raw_connection(|c| {
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
    let names: Vec<&str> = RESIDENTS.iter().map(|r| r.0).collect();
    assert_eq!(found(&export("before.db"), &names), names, "control");
    assert_eq!(
        found(&db, &needles()),
        Vec::<String>::new(),
        "readable while encrypted"
    );

    revoke_and_sync(&server, &phone).await;

    assert_eq!(found(&export("after.db"), &needles()), Vec::<String>::new());
    assert_eq!(found(&db, &needles()), Vec::<String>::new());
}

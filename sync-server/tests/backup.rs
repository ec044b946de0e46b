//! Backups taken while the server writes, and restoring one: the copy is consistent, holds
//! every write committed before it began, and opens as a server database.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linli_domain::{Place, PlaceKind};
use linli_sync_server::backup::{backup, restore};
use linli_sync_server::{AdminStorage, SqliteStorage};

fn grid(i: usize) -> Place {
    Place {
        id: format!("g-{i}"),
        kind: PlaceKind::Grid,
        parent_id: Some(linli_testkit::demo::COMMUNITY.into()),
        name: format!("第{i}网格"),
    }
}

fn grids(path: &std::path::Path) -> usize {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT count(*) FROM places WHERE kind = 'grid'", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as usize
}

#[test]
fn a_backup_taken_while_writing_is_consistent_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let storage = Arc::new(SqliteStorage::open(&db).unwrap());
    linli_testkit::seed_demo(storage.as_ref()).unwrap();
    let committed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (storage, committed, stop) = (storage.clone(), committed.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 100;
            while !stop.load(Ordering::SeqCst) {
                storage.put_place(&grid(i)).unwrap();
                committed.store(i - 99, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    // Let some writes land, then back up while they go on.
    while committed.load(Ordering::SeqCst) < 20 {
        std::thread::yield_now();
    }
    let before = committed.load(Ordering::SeqCst);
    let copy = dir.path().join("backup.db");
    let report = backup(&db, &copy).unwrap();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let after = committed.load(Ordering::SeqCst);

    assert!(report.pages > 0 && report.bytes > 0);
    // The demo's two grids plus every write committed before the backup began, and nothing
    // that was not committed by the time it ended.
    let in_copy = grids(&copy) - 2;
    assert!(in_copy >= before, "{in_copy} < {before}");
    assert!(in_copy <= after, "{in_copy} > {after}");
    // No partial file is left, and the copy opens as a server database.
    assert!(!dir.path().join("backup.db.partial").exists());
    let restored = SqliteStorage::open(&copy).unwrap();
    assert!(
        restored
            .user(linli_testkit::demo::USER_LI_MEI)
            .unwrap()
            .is_some()
    );
}

#[test]
fn restore_puts_the_backup_in_place_and_keeps_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let copy = dir.path().join("backup.db");
    {
        let storage = SqliteStorage::open(&db).unwrap();
        linli_testkit::seed_demo(&storage).unwrap();
        backup(&db, &copy).unwrap();
        storage.put_place(&grid(7)).unwrap();
        // While the server has the database open, restore refuses and changes nothing.
        let refused = restore(&copy, &db, false);
        assert!(refused.is_err());
        assert_eq!(grids(&db), 3);
    }
    // Stopped: the restore goes through.
    let aside = restore(&copy, &db, false).unwrap().unwrap();
    assert_eq!(grids(&db), 2);
    assert_eq!(grids(&aside), 3);
    SqliteStorage::open(&db).unwrap();
    // Garbage is not a backup.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, not even close").unwrap();
    assert!(restore(&junk, &db, true).is_err());
    assert_eq!(grids(&db), 2);
}

//! The storage conformance suite (`conformance/mod.rs`) on [`SqliteStorage`], each test on a
//! fresh database in a temp dir.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod conformance;

use std::ops::Deref;

use linli_sync_server::SqliteStorage;
use tempfile::TempDir;

/// A storage on a temp file, deleted when dropped.
struct Fresh {
    storage: SqliteStorage,
    _dir: TempDir,
}

impl Deref for Fresh {
    type Target = SqliteStorage;

    fn deref(&self) -> &SqliteStorage {
        &self.storage
    }
}

fn fresh() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    Fresh {
        storage: SqliteStorage::open(dir.path().join("server.db")).unwrap(),
        _dir: dir,
    }
}

storage_conformance_tests!(fresh());

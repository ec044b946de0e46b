//! Opening the device database: one writer connection, one reader, WAL.
//!
//! `synchronous = FULL` in WAL mode: when a write's transaction commits, the WAL is synced,
//! so a record whose call returned survives a crash or a power cut.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::Result;
use crate::schema;

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Opens (creating or upgrading) the database and returns (writer, reader).
pub fn open(path: &Path) -> Result<(Connection, Connection)> {
    let mut writer = Connection::open(path)?;
    // journal_mode answers with a row, so it is read rather than updated.
    let _mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    writer.pragma_update(None, "synchronous", "FULL")?;
    configure(&writer)?;
    {
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::init(&tx)?;
        tx.commit()?;
    }
    let reader = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    configure(&reader)?;
    Ok((writer, reader))
}

/// Takes a lock of the store (a connection, the document cache, the observers).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite half-written (the transaction rolls
    // back on drop), and a write puts a document into the cache only after its commit. So a
    // poisoned lock is safe to take over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

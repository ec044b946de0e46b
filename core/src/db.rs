//! Opening the device database: one writer connection, one reader, WAL.
//!
//! `synchronous = FULL` in WAL mode: when a write's transaction commits, the WAL is synced,
//! so a record whose call returned survives a crash or a power cut.

use std::path::Path;
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

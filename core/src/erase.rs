//! Erasing everything on the device: on sign-out, and when the server says this device was
//! revoked.
//!
//! Every row of every table goes (records, query tables, search indexes, history, sync
//! state, reference data), with `secure_delete` on so freed pages are zeroed; then the WAL is
//! checkpointed and truncated, and VACUUM rebuilds the file, so neither the database nor its
//! WAL holds any of it. The schema stays: the store is still usable (empty) until the app
//! closes it and deletes the files and the key.

use rusqlite::{Connection, TransactionBehavior};

use crate::db::lock;
use crate::error::Result;
use crate::store::{DataChange, Store};

impl Store {
    /// Deletes everything this store holds, so that no file of it keeps any record. The app
    /// then closes the store and deletes its files and key.
    pub fn erase_everything(&self) -> Result<()> {
        {
            let mut writer = lock(&self.writer);
            // No read transaction may hold an old snapshot while the WAL is truncated.
            let _reader = lock(&self.reader);
            writer.pragma_update(None, "secure_delete", "ON")?;
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (table, virtual_table) in tables(&tx)? {
                tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
                if virtual_table {
                    // Deleting from FTS5 adds delete markers; the old index segments (the
                    // names' trigrams) go only when the index is rebuilt.
                    tx.execute(
                        &format!("INSERT INTO \"{table}\" (\"{table}\") VALUES ('rebuild')"),
                        [],
                    )?;
                }
            }
            tx.commit()?;
            self.cache.clear();
            checkpoint(&writer)?;
            writer.execute_batch("VACUUM;")?;
            checkpoint(&writer)?;
        }
        self.notify(&DataChange {
            households: true,
            incidents: true,
            reference: true,
            doc_ids: Vec::new(),
            from_sync: false,
        });
        Ok(())
    }
}

/// The tables to empty, each with whether it is a (FTS5) virtual table. SQLite's own tables
/// and the virtual tables' shadow tables are left to SQLite.
fn tables(conn: &Connection) -> Result<Vec<(String, bool)>> {
    let all: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let virtual_tables: Vec<&str> = all
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.as_str())
        .collect();
    Ok(all
        .iter()
        .filter(|(name, _)| !name.starts_with("sqlite_"))
        .map(|(name, _)| (name, virtual_tables.contains(&name.as_str())))
        .filter(|(name, virtual_table)| {
            *virtual_table
                || !virtual_tables.iter().any(|v| {
                    name.strip_prefix(v)
                        .is_some_and(|rest| rest.starts_with('_'))
                })
        })
        .map(|(name, virtual_table)| (name.clone(), virtual_table))
        .collect())
}

/// Moves the WAL into the database and truncates it to nothing.
fn checkpoint(conn: &Connection) -> Result<()> {
    let (busy, _, _): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        return Err(crate::error::Error::Storage(
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("the WAL could not be checkpointed".to_owned()),
            ),
        ));
    }
    Ok(())
}

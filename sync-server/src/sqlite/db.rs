//! The connections of [`SqliteStorage`] and opening a database.
//!
//! One writer connection behind a mutex (every push and admin change is one `BEGIN
//! IMMEDIATE` transaction on it, so load-apply-write of a document never interleaves) and a
//! few read-only connections for authentication and pulls, which WAL lets run beside the
//! writer. `synchronous = FULL`: a push is acknowledged only once it is durable.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::{board, register, schema};
use crate::error::Result;
use crate::workflow::{Clock, ServerActor};

const READERS: usize = 3;

/// The server's database in one SQLite file.
pub struct SqliteStorage {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// This process's actor and clock for the server's own writes.
    pub(super) server: ServerActor,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection cannot leave SQLite half-written (an open
    // transaction rolls back on drop), so a poisoned lock is safe to take over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl SqliteStorage {
    /// Opens (creating or upgrading) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        let path = path.as_ref();
        let mut writer = Connection::open(path)?;
        // journal_mode answers with a row, so it is read rather than updated.
        let _mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        // Deleted and overwritten rows are zeroed, not left in free space: an erasure
        // (erase.rs) must leave nothing of a household's old versions in the file.
        writer.pragma_update(None, "secure_delete", "ON")?;
        configure(&writer)?;
        // Foreign keys cannot be switched inside a transaction: off around the migrations.
        writer.pragma_update(None, "foreign_keys", "OFF")?;
        {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            schema::migrate(&tx)?;
            tx.commit()?;
        }
        writer.pragma_update(None, "foreign_keys", "ON")?;
        {
            // Documents stored before version 6 get their board rows, once.
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            board::build_index(&tx)?;
            // And their register rows (version 7).
            register::build_register(&tx)?;
            tx.commit()?;
        }
        let readers = (0..READERS)
            .map(|_| {
                let r = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&r)?;
                Ok(Mutex::new(r))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SqliteStorage {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            server: ServerActor::system(),
        })
    }

    /// The same storage on another clock (tests, the demo): receipts, deadlines and the
    /// sweep read it.
    pub fn with_clock(mut self, clock: Clock) -> SqliteStorage {
        self.server = ServerActor::new(clock);
        self
    }

    /// A free reader if there is one, else waits for the next in turn.
    pub(super) fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[i])
    }

    /// Runs `f` in one read transaction on a reader: every query in it sees the same state.
    pub(super) fn read<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut r = self.reader();
        let tx = r.transaction()?;
        f(&tx)
    }

    /// Runs `f` in one immediate transaction on the writer.
    pub(super) fn write<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut w = lock(&self.writer);
        let tx = w.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    }

    /// Copies the write-ahead log into the database and truncates it (after an erasure, so
    /// no old page of the erased rows stays in the WAL). Best effort: a reader in the middle
    /// of a transaction keeps it from completing, and the next checkpoint finishes it.
    pub(super) fn checkpoint(&self) -> Result<bool> {
        let w = lock(&self.writer);
        let busy: i64 = w.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::storage::AdminStorage;

    #[test]
    fn reopens_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = SqliteStorage::open(&path).unwrap();
        assert_eq!(s.reference_version().unwrap(), 1);
        drop(s);
        SqliteStorage::open(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
        drop(c);
        assert!(matches!(
            SqliteStorage::open(&path),
            Err(Error::IncompatibleSchema { .. })
        ));
    }
}

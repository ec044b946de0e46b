//! Backups of the embedded database while the server runs, and restoring one.
//!
//! `backup` copies the database with SQLite's online backup API in ONE step, which reads the
//! whole database inside one read transaction: the copy is a consistent snapshot of every
//! committed push, and in WAL mode the server's writers carry on meanwhile. The copy is
//! written beside the destination, checked (`PRAGMA integrity_check`), synced and renamed into
//! place, so a backup file is either complete or absent.
//!
//! `restore` puts a backup in place of a stopped server's database: it checks the backup,
//! moves the current database (and its WAL) aside under a timestamped name, and copies the
//! backup in. It refuses while another process has the database open (a server running).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// What a backup copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    pub pages: u64,
    pub bytes: u64,
}

fn check_integrity(conn: &Connection) -> Result<()> {
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(Error::Invalid {
            field: "backup",
            reason: "failed its integrity check",
        });
    }
    Ok(())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Copies the live database at `db` to `to` (replacing it), consistently, while the server
/// keeps serving.
pub fn backup(db: &Path, to: &Path) -> Result<BackupReport> {
    if !db.is_file() {
        return Err(Error::NotFound { kind: "database" });
    }
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(10))?;
    let partial = sibling(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    {
        let mut dest = Connection::open(&partial)?;
        let copy = rusqlite::backup::Backup::new(&source, &mut dest)?;
        // -1: every page in one step, one read transaction: a consistent snapshot.
        copy.step(-1)?;
        drop(copy);
        // The copy is a plain rollback-journal database, independent of the server's WAL.
        let _mode: String = dest.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        check_integrity(&dest)?;
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, to)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the directory is synced.
        std::fs::File::open(dir)?.sync_all()?;
    }
    let bytes = std::fs::metadata(to)?.len();
    let check = Connection::open_with_flags(to, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let pages: i64 = check.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    Ok(BackupReport {
        pages: u64::try_from(pages).unwrap_or(0),
        bytes,
    })
}

/// Whether another process has the database open: a connection in WAL mode holds a lock that
/// keeps anyone else from taking the database exclusively.
fn in_use(db: &Path) -> bool {
    let probe = || -> rusqlite::Result<()> {
        let conn = Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let _mode: String = conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get(0))?;
        conn.execute_batch("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT;")
    };
    probe().is_err()
}

/// Puts the backup `from` in place of the database `db` of a STOPPED server. Returns where
/// the previous database was moved (None if there was none).
pub fn restore(from: &Path, db: &Path, force: bool) -> Result<Option<PathBuf>> {
    {
        let backup = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        check_integrity(&backup)?;
        let is_ours: bool = backup.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes')",
            [],
            |r| r.get(0),
        )?;
        if !is_ours {
            return Err(Error::Invalid {
                field: "backup",
                reason: "is not a Linli server database",
            });
        }
    }
    if !force && db.exists() && in_use(db) {
        return Err(Error::Invalid {
            field: "database",
            reason: "is in use: stop the server first (or pass --force if none runs)",
        });
    }
    let moved = if db.exists() {
        let stamp = crate::storage::now_ms();
        let aside = sibling(db, &format!(".before-restore-{stamp}"));
        std::fs::rename(db, &aside)?;
        for suffix in ["-wal", "-shm"] {
            let extra = sibling(db, suffix);
            if extra.exists() {
                std::fs::rename(&extra, sibling(&aside, suffix))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    let partial = sibling(db, ".partial");
    std::fs::copy(from, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, db)?;
    Ok(moved)
}

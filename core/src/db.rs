//! Opening the device database: one writer connection, one reader, WAL, encrypted at rest.
//!
//! `synchronous = FULL` in WAL mode: when a write's transaction commits, the WAL is synced,
//! so a record whose call returned survives a crash or a power cut.
//!
//! Encryption: SQLCipher, with a raw 32-byte key the app keeps in the platform's key store
//! (Android Keystore, iOS Keychain). The key is given as `x'<64 hex>'`, so no passphrase is
//! derived on open. Both connections get the key before anything else. A file that is still
//! a plaintext SQLite database (written by an app before encryption) is exported into an
//! encrypted copy that replaces it atomically.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result, invalid};
use crate::model::Reason;
use crate::schema;

/// Length of the raw database key, in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The first 16 bytes of every plaintext SQLite database. An encrypted file starts with its
/// random salt instead.
const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The raw key as SQLCipher's key literal. Never logged, never in an error.
pub(crate) struct KeySpec(String);

impl KeySpec {
    pub(crate) fn new(key: &[u8]) -> Result<KeySpec> {
        if key.len() != KEY_LEN {
            return Err(invalid("key", Reason::BadFormat));
        }
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        Ok(KeySpec(format!("x'{hex}'")))
    }

    /// `PRAGMA key` on `conn` (for the main database).
    fn apply(&self, conn: &Connection) -> Result<()> {
        conn.execute_batch(&format!("PRAGMA key = \"{}\";", self.0))?;
        Ok(())
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Reads the schema: the first read of the file, where a wrong key shows (SQLCipher answers
/// "file is not a database"). Nothing is written before this succeeds.
fn check_readable(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => {
            Err(Error::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens a connection to `path` with the key set first, and reads it: a wrong key is
/// [`Error::WrongKey`] and leaves the files as they were.
fn connect(path: &Path, flags: OpenFlags, key: Option<&KeySpec>) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(key) = key {
        key.apply(&conn)?;
    }
    // Until the key is known to be right, closing must not checkpoint a WAL left by an
    // earlier session into the database file.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    check_readable(&conn)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)?;
    Ok(conn)
}

/// Opens (creating or upgrading) the database and returns (writer, reader). With `key`,
/// the file is encrypted (a plaintext file is first migrated); without, it is plain SQLite
/// (tests and benchmarks only).
pub(crate) fn open(path: &Path, key: Option<&KeySpec>) -> Result<(Connection, Connection)> {
    if let Some(key) = key
        && is_plaintext(path)?
    {
        encrypt_plaintext(path, key)?;
    }
    let mut writer = connect(path, OpenFlags::default(), key)?;
    // journal_mode answers with a row, so it is read rather than updated.
    let _mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    writer.pragma_update(None, "synchronous", "FULL")?;
    configure(&writer)?;
    {
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::init(&tx)?;
        tx.commit()?;
    }
    let reader = connect(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
        key,
    )?;
    configure(&reader)?;
    Ok((writer, reader))
}

/// True if `path` holds a plaintext SQLite database (an app from before encryption).
fn is_plaintext(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let mut header = [0u8; 16];
    match file.read_exact(&mut header) {
        Ok(()) => Ok(&header == PLAINTEXT_HEADER),
        // Shorter than a header: an empty file SQLite will initialise.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Exports the plaintext database at `path` into an encrypted copy and renames the copy
/// over it. A crash at any point leaves either the plaintext file (migrated on the next
/// open) or the encrypted one, never a mix.
fn encrypt_plaintext(path: &Path, key: &KeySpec) -> Result<()> {
    let tmp = sibling(path, ".encrypting");
    for stale in [sibling(&tmp, ""), sibling(&tmp, "-journal")] {
        match fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    {
        let plain = Connection::open(path)?;
        let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > schema::VERSION {
            // Written by a newer app: left as it is, as an encrypted one would be.
            return Err(Error::IncompatibleSchema {
                found: version,
                supported: schema::VERSION,
            });
        }
        // Everything the WAL holds goes into the main file first, so the file that is
        // replaced below has nothing left elsewhere.
        plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let tmp_text = tmp
            .to_str()
            .ok_or(Error::Io(std::io::Error::other("store path is not UTF-8")))?;
        plain.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            [tmp_text, key.0.as_str()],
        )?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // sqlcipher_export copies the tables, not the schema version.
        plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version};"))?;
        plain.execute_batch("DETACH DATABASE encrypted;")?;
        plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, path)?;
    // The plaintext WAL was checkpointed and emptied above; its files must not be read
    // as the encrypted database's.
    for suffix in ["-wal", "-shm"] {
        match fs::remove_file(sibling(path, suffix)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    if let Some(dir) = path.parent()
        && let Ok(dir) = fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        // Makes the rename durable where the platform allows syncing a directory.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Takes a lock of the store (a connection, the document cache, the observers).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite half-written (the transaction rolls
    // back on drop), and a write puts a document into the cache only after its commit. So a
    // poisoned lock is safe to take over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

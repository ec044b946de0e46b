//! The device's sync bookkeeping, in the `sync_docs` and `sync_meta` tables: which documents
//! the server holds at which heads (so what is pending push), the pull cursor, the server's
//! clock offset, the reference data version and when sync last finished.
//!
//! Plain functions on a connection or the caller's transaction: the store calls them inside
//! its writes (an import marks a clean document synced in the same transaction), the sync
//! rounds around them. This module knows the database and nothing above it.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::model::Millis;
use crate::protocol::Cursor;

/// How sync stands on this device, for the sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// Version of the place tree and people held (0: none yet).
    pub reference_version: u64,
    pub last_sync_at: Option<Millis>,
    /// Documents with changes the server does not have yet.
    pub pending_docs: u32,
}

/// A document with changes the server lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingDoc {
    pub doc_id: String,
    /// What the server acknowledged last (`None`: nothing, ship the whole document).
    pub server_heads: Option<String>,
    /// The document's heads and write counter now: what an acknowledgement will record.
    pub heads: String,
    pub local_seq: i64,
}

const CURSOR: &str = "cursor";
const REFERENCE_VERSION: &str = "reference_version";
const LAST_SYNC: &str = "last_sync_at";
const CLOCK_OFFSET: &str = "clock_offset_ms";

// ---- per document ---------------------------------------------------------------------

/// Whether the document has no local changes the server lacks.
pub(crate) fn is_clean(conn: &Connection, doc_id: &str) -> Result<bool> {
    let row: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT d.local_seq, s.synced_seq FROM documents d \
             LEFT JOIN sync_docs s ON s.doc_id = d.id WHERE d.id = ?1",
        )?
        .query_row([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(matches!(row, Some((local, Some(synced))) if local == synced))
}

/// Records that the server holds the document at `server_heads`, which was its state at
/// write counter `seq`. Writes made since have a higher counter and stay pending.
pub(crate) fn mark_synced(
    tx: &Transaction<'_>,
    doc_id: &str,
    server_heads: &str,
    seq: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO sync_docs (doc_id, server_heads, synced_seq) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![doc_id, server_heads, seq])?;
    Ok(())
}

/// Forgets what the server holds of a document: it is pending again, whole. Also what
/// removing a document does to its sync state.
pub(crate) fn forget(tx: &Transaction<'_>, doc_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM sync_docs WHERE doc_id = ?1")?
        .execute([doc_id])?;
    Ok(())
}

/// Every document with changes the server lacks, oldest write first.
pub(crate) fn pending(conn: &Connection) -> Result<Vec<PendingDoc>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, s.server_heads, d.local_seq, d.heads FROM documents d \
         LEFT JOIN sync_docs s ON s.doc_id = d.id \
         WHERE s.synced_seq IS NULL OR d.local_seq > s.synced_seq ORDER BY d.local_seq",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(PendingDoc {
            doc_id: row.get(0)?,
            server_heads: row.get(1)?,
            local_seq: row.get(2)?,
            heads: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---- the device as a whole --------------------------------------------------------------

fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn meta_set(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO sync_meta (key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(())
}

/// Where sync stands: pending count, last sync, reference version.
pub(crate) fn state(conn: &Connection) -> Result<SyncState> {
    let pending_docs: u32 = conn
        .prepare_cached(
            "SELECT count(*) FROM documents d LEFT JOIN sync_docs s ON s.doc_id = d.id \
             WHERE s.synced_seq IS NULL OR d.local_seq > s.synced_seq",
        )?
        .query_row([], |row| row.get(0))?;
    Ok(SyncState {
        reference_version: reference_version(conn)?,
        last_sync_at: meta_get(conn, LAST_SYNC)?.and_then(|v| v.parse().ok()),
        pending_docs,
    })
}

/// The pull cursor (the start, if none yet or unreadable).
pub(crate) fn cursor(conn: &Connection) -> Result<Cursor> {
    Ok(meta_get(conn, CURSOR)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

pub(crate) fn set_cursor(tx: &Transaction<'_>, cursor: &Cursor) -> Result<()> {
    let text = serde_json::to_string(cursor).map_err(|_| Error::Server("bad cursor".into()))?;
    meta_set(tx, CURSOR, &text)
}

/// The reference data version held (0: none).
pub(crate) fn reference_version(conn: &Connection) -> Result<u64> {
    Ok(meta_get(conn, REFERENCE_VERSION)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

pub(crate) fn set_reference_version(tx: &Transaction<'_>, version: u64) -> Result<()> {
    meta_set(tx, REFERENCE_VERSION, &version.to_string())
}

/// Server clock minus device clock, as last measured (0 before the first sync).
pub(crate) fn clock_offset(conn: &Connection) -> Result<Millis> {
    Ok(meta_get(conn, CLOCK_OFFSET)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

pub(crate) fn set_clock_offset(tx: &Transaction<'_>, offset: Millis) -> Result<()> {
    meta_set(tx, CLOCK_OFFSET, &offset.to_string())
}

pub(crate) fn set_last_sync_at(tx: &Transaction<'_>, at: Millis) -> Result<()> {
    meta_set(tx, LAST_SYNC, &at.to_string())
}

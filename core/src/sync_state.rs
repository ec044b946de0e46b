//! The device's sync bookkeeping, in the `sync_docs` and `sync_meta` tables: which documents
//! the server holds at which heads (so what is pending push), the pull cursor, the server's
//! clock offset, the reference data version and when sync last finished.
//!
//! Plain functions on a connection or the caller's transaction: the store calls them inside
//! its writes (an import marks a clean document synced in the same transaction), the sync
//! rounds around them. This module knows the database and nothing above it.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Millis;
use crate::protocol::{Cursor, Grant, PushOutcome, scope_of};
use crate::scope::Scope;

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

/// Every document with changes the server lacks, oldest write first, but those the server
/// refused with nothing written since (they wait for the user's fix, see [`set_refused`]).
pub(crate) fn pending(conn: &Connection) -> Result<Vec<PendingDoc>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, s.server_heads, d.local_seq, d.heads FROM documents d \
         LEFT JOIN sync_docs s ON s.doc_id = d.id \
         WHERE (s.synced_seq IS NULL OR d.local_seq > s.synced_seq) \
           AND NOT EXISTS (SELECT 1 FROM sync_meta m WHERE m.key = 'refused:' || d.id \
                 AND json_extract(m.value, '$.seq') >= d.local_seq) \
         ORDER BY d.local_seq",
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

// ---- the user's grants --------------------------------------------------------------------

const GRANTS: &str = "grants";
const REFUSED_PREFIX: &str = "refused:";

/// The user's grants as the last reference data brought them; `None` before the first sync
/// brought any (a device that does not know them yet refuses nothing itself).
pub(crate) fn grants(conn: &Connection) -> Result<Option<Vec<Grant>>> {
    Ok(meta_get(conn, GRANTS)?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub(crate) fn set_grants(tx: &Transaction<'_>, grants: &[Grant]) -> Result<()> {
    let text = serde_json::to_string(grants).map_err(|_| Error::Server("bad grants".into()))?;
    meta_set(tx, GRANTS, &text)
}

/// The user's scope, from the grants (`None`: not known yet).
pub(crate) fn scope(conn: &Connection) -> Result<Option<Scope>> {
    Ok(grants(conn)?.map(|g| scope_of(&g)))
}

// ---- refused documents --------------------------------------------------------------------

/// Why the server refused a document, as kept in `sync_meta` (`refused:<doc id>`): the
/// outcome and the document's write counter when it was pushed. It is not pushed again until
/// a later write (a fix) moves the counter past it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refusal {
    pub outcome: String,
    pub seq: i64,
}

/// The stable code of a push's outcome.
pub(crate) fn outcome_code(outcome: PushOutcome) -> &'static str {
    match outcome {
        PushOutcome::Stored => "stored",
        PushOutcome::OutOfScope => "out_of_scope",
        PushOutcome::MissingDependencies => "missing_dependencies",
        PushOutcome::Invalid => "invalid",
        PushOutcome::Erased => "erased",
    }
}

pub(crate) fn outcome_from_code(code: &str) -> Option<PushOutcome> {
    [
        PushOutcome::Stored,
        PushOutcome::OutOfScope,
        PushOutcome::MissingDependencies,
        PushOutcome::Invalid,
        PushOutcome::Erased,
    ]
    .into_iter()
    .find(|o| outcome_code(*o) == code)
}

/// Records that the server refused the document as it was at write counter `seq`.
pub(crate) fn set_refused(
    tx: &Transaction<'_>,
    doc_id: &str,
    outcome: PushOutcome,
    seq: i64,
) -> Result<()> {
    let text = serde_json::to_string(&Refusal {
        outcome: outcome_code(outcome).to_owned(),
        seq,
    })
    .map_err(|_| Error::Server("bad refusal".into()))?;
    meta_set(tx, &format!("{REFUSED_PREFIX}{doc_id}"), &text)
}

/// Forgets a refusal (the server stored the document, or its local changes were dropped);
/// true if there was one.
pub(crate) fn clear_refused(tx: &Transaction<'_>, doc_id: &str) -> Result<bool> {
    let n = tx
        .prepare_cached("DELETE FROM sync_meta WHERE key = ?1")?
        .execute([format!("{REFUSED_PREFIX}{doc_id}")])?;
    Ok(n > 0)
}

/// Forgets the refusals as out of scope but those of `keep`; true if there were any.
pub(crate) fn clear_out_of_scope(tx: &Transaction<'_>, keep: &[&str]) -> Result<bool> {
    let keep: Vec<String> = keep
        .iter()
        .map(|id| format!("{REFUSED_PREFIX}{id}"))
        .collect();
    let keep = serde_json::to_string(&keep).map_err(|_| Error::Server("bad ids".into()))?;
    let n = tx
        .prepare_cached(
            "DELETE FROM sync_meta WHERE key >= ?1 AND key < ?2 \
             AND json_extract(value, '$.outcome') = ?3 \
             AND key NOT IN (SELECT value FROM json_each(?4))",
        )?
        .execute(params![
            REFUSED_PREFIX,
            "refused;",
            outcome_code(PushOutcome::OutOfScope),
            keep
        ])?;
    Ok(n > 0)
}

/// Every refused document still held, with its refusal and current write counter, by id.
pub(crate) fn refusals(conn: &Connection) -> Result<Vec<(String, Refusal, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, m.value, d.local_seq FROM sync_meta m \
         JOIN documents d ON d.id = substr(m.key, length(?1) + 1) \
         WHERE m.key >= ?1 AND m.key < ?2 ORDER BY d.id",
    )?;
    let rows = stmt.query_map([REFUSED_PREFIX, "refused;"], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, value, seq) = row?;
        if let Ok(refusal) = serde_json::from_str::<Refusal>(&value) {
            out.push((id, refusal, seq));
        }
    }
    Ok(out)
}

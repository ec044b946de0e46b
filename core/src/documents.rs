//! A document's bytes in SQLite, inside the caller's transaction: loading (snapshot plus the
//! changes appended since), persisting a change (append, history, heads, compaction), the
//! query rows of a whole document, and deleting every row of one.
//!
//! A document in a layout newer than this app (see `linli_domain::doc`) is stored like any
//! other but set aside (`unread_docs`) instead of projected: it is not listed, reading it says
//! "update the app", and the first open by an app that knows its layout projects it.

use automerge::{ActorId, AutoCommit, ChangeHash, ReadDoc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::doc::{self, DocKind, heads_to_text};
use crate::error::{Error, Result};
use crate::projection;

/// Appended changes of a document are folded into its snapshot beyond this many.
const COMPACT_AFTER: i64 = 64;

/// What a change did, stored as the Automerge change message (`{"u","op","f"}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeNote {
    #[serde(rename = "u")]
    pub user: String,
    pub op: String,
    #[serde(rename = "f", default)]
    pub fields: Vec<String>,
}

/// Loads a stored document with `actor` as its actor for further writes; `None` if absent.
/// Reads two tables: call it in a transaction (or under the writer), so a compaction
/// committing in between cannot be seen half.
pub(crate) fn load(
    conn: &Connection,
    id: &str,
    actor: &ActorId,
) -> Result<Option<(DocKind, AutoCommit)>> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT kind, snapshot FROM documents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, snapshot)) = row else {
        return Ok(None);
    };
    let kind = DocKind::from_code(&kind).ok_or(Error::CorruptChanges("unknown document kind"))?;
    let mut d = match snapshot {
        Some(bytes) => AutoCommit::load(&bytes)?,
        None => AutoCommit::new(),
    };
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        d.load_incremental(&bytes)?;
    }
    d.set_actor(actor.clone());
    Ok(Some((kind, d)))
}

/// The `id` a document names itself by.
pub(crate) fn doc_id_of(d: &AutoCommit) -> Result<String> {
    match d.get(automerge::ROOT, "id")? {
        Some((automerge::Value::Scalar(s), _)) => s
            .as_str()
            .map(str::to_owned)
            .ok_or(Error::CorruptChanges("document id is not text")),
        _ => Err(Error::CorruptChanges("document has no id")),
    }
}

/// Appends the document's changes since `old_heads`, records their history and moves the
/// document's heads; returns the document's new `local_seq`. A new document stores
/// everything as its first snapshot.
pub(crate) fn persist(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: DocKind,
    d: &mut AutoCommit,
    old_heads: &[ChangeHash],
    create: bool,
) -> Result<i64> {
    let seq: i64 = tx
        .prepare_cached("SELECT coalesce(max(local_seq), 0) + 1 FROM documents")?
        .query_row([], |r| r.get(0))?;
    let heads = heads_to_text(&d.get_heads());
    if create {
        tx.prepare_cached(
            "INSERT INTO documents (id, kind, snapshot, heads, change_rows, local_seq) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        )?
        .execute(params![doc_id, kind.code(), d.save(), heads, seq])?;
    } else {
        let bytes = d.save_after(old_heads);
        tx.prepare_cached("INSERT INTO doc_changes (doc_id, bytes) VALUES (?1, ?2)")?
            .execute(params![doc_id, bytes])?;
        let rows: i64 = tx
            .prepare_cached(
                "UPDATE documents SET heads = ?2, change_rows = change_rows + 1, local_seq = ?3 \
                 WHERE id = ?1 RETURNING change_rows",
            )?
            .query_row(params![doc_id, heads, seq], |r| r.get(0))?;
        if rows > COMPACT_AFTER {
            compact(tx, doc_id, d)?;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO change_history (doc_id, hash, device, user_id, at, op, fields) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for meta in d.get_changes_meta(old_heads) {
        let note: ChangeNote = meta
            .message
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(ChangeNote {
                user: String::new(),
                op: "unknown".into(),
                fields: vec![],
            });
        insert.execute(params![
            doc_id,
            meta.hash.to_string(),
            meta.actor.to_hex_string(),
            note.user,
            meta.timestamp,
            note.op,
            note.fields.join(",")
        ])?;
    }
    Ok(seq)
}

/// Replaces the document's snapshot with its full state and deletes the changes folded in.
pub(crate) fn compact(tx: &Transaction<'_>, doc_id: &str, d: &mut AutoCommit) -> Result<()> {
    tx.prepare_cached("UPDATE documents SET snapshot = ?2, change_rows = 0 WHERE id = ?1")?
        .execute(params![doc_id, d.save()])?;
    tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
        .execute([doc_id])?;
    Ok(())
}

/// Rebuilds the query rows of a whole document (after an import, where anything may have
/// changed). A document this app cannot read for its layout is set aside instead; any other
/// failure is an error.
pub(crate) fn project(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: DocKind,
    d: &AutoCommit,
) -> Result<()> {
    // The readers fail before the first row is written, so a failure leaves no rows.
    let projected = match kind {
        DocKind::Household => projection::household_doc(tx, d),
        DocKind::Incident => projection::incident_doc(tx, d),
    };
    match projected {
        Ok(()) => {
            tx.prepare_cached("DELETE FROM unread_docs WHERE doc_id = ?1")?
                .execute([doc_id])?;
            Ok(())
        }
        Err(Error::UnsupportedVersion) => set_aside(tx, doc_id, d),
        Err(e) => Err(e),
    }
}

/// Takes a document out of the query tables and lists it as unread.
fn set_aside(tx: &Transaction<'_>, doc_id: &str, d: &AutoCommit) -> Result<()> {
    let layout = match d.get(automerge::ROOT, "v")? {
        Some((automerge::Value::Scalar(s), _)) => s.as_i64().unwrap_or(0),
        _ => 0,
    };
    // Only the fact, never the record: its content is personal data.
    tracing::info!(
        layout,
        "a record in a newer layout is kept unread until the app is updated"
    );
    projection::remove(tx, doc_id)?;
    tx.prepare_cached("INSERT OR REPLACE INTO unread_docs (doc_id, layout) VALUES (?1, ?2)")?
        .execute(params![doc_id, layout])?;
    Ok(())
}

/// Projects the documents set aside by an older app whose layout this app knows (run on
/// open); the others stay aside.
pub(crate) fn project_unread(conn: &mut Connection, actor: &ActorId) -> Result<()> {
    let ids: Vec<String> = conn
        .prepare("SELECT doc_id FROM unread_docs ORDER BY doc_id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if ids.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for id in &ids {
        let Some((kind, d)) = load(&tx, id, actor)? else {
            tx.prepare_cached("DELETE FROM unread_docs WHERE doc_id = ?1")?
                .execute([id])?;
            continue;
        };
        // Still newer than this app: `project` sets it aside again. Anything else that
        // fails keeps it aside too: opening the store must not fail for one record.
        if let Err(e) = project(&tx, id, kind, &d) {
            tracing::warn!(error = %e, "a record set aside still cannot be read");
        }
    }
    tx.commit()?;
    Ok(())
}

/// Deletes a document and its rows in every table but the sync state.
pub(crate) fn delete(tx: &Transaction<'_>, doc_id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM doc_changes WHERE doc_id = ?1",
        "DELETE FROM documents WHERE id = ?1",
        "DELETE FROM change_history WHERE doc_id = ?1",
        "DELETE FROM unread_docs WHERE doc_id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([doc_id])?;
    }
    projection::remove(tx, doc_id)
}

/// The kind of a document as its `type` field says, whatever its layout: a document in a
/// newer layout is still stored under its kind (and set aside by [`project`]).
pub(crate) fn kind_of(d: &AutoCommit) -> Result<DocKind> {
    match doc::kind_of(d) {
        Ok(kind) => Ok(kind),
        Err(linli_domain::Error::UnsupportedLayout { .. }) => {
            match d.get(automerge::ROOT, "type")? {
                Some((automerge::Value::Scalar(s), _)) => s
                    .as_str()
                    .and_then(DocKind::from_code)
                    .ok_or(Error::CorruptChanges("unknown document kind")),
                _ => Err(Error::CorruptChanges("document has no type")),
            }
        }
        Err(e) => Err(e.into()),
    }
}

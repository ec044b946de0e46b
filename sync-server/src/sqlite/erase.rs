//! [`PrivacyStorage`] on SQLite: erasing a household document (every row of it, a tombstone,
//! an audit row, in one transaction; then a checkpoint that truncates the WAL) and the audit.
//! The writer runs with `secure_delete` on (db.rs), so deleted rows are zeroed in the file.

use linli_domain::doc::{DocKind, DocPlace};
use rusqlite::{OptionalExtension, Transaction, params};

use super::db::SqliteStorage;
use super::rows::{json_ids, load_stored, max_seq, to_i64, to_u64};
use crate::erase::{
    AuditAction, AuditEntry, EraseReason, Erased, Erasure, PrivacyStorage, Tombstone,
};
use crate::error::{Error, Result};

/// The tables that hold rows of a household document, by `doc_id` (children first).
const HOUSEHOLD_TABLES: &[&str] = &[
    "register_members",
    "register_names",
    "register_visits",
    "register_needs",
    "register_households",
    "departures",
    "documents",
];

impl PrivacyStorage for SqliteStorage {
    fn erase_household(&self, e: &Erasure) -> Result<Erased> {
        let done = self.write(|tx| erase_in(tx, e))?;
        if matches!(done, Erased::Done { .. }) && !self.checkpoint()? {
            tracing::warn!("checkpoint after an erasure did not complete; the next one will");
        }
        Ok(done)
    }

    fn tombstone(&self, doc_id: &str) -> Result<Option<Tombstone>> {
        let r = self.reader();
        tombstone_in(&r, doc_id)
    }

    fn record_audit(&self, a: &AuditEntry) -> Result<()> {
        self.write(|tx| insert_audit(tx, a))
    }

    fn privacy_audit(&self, communities: &[String], limit: u32) -> Result<Vec<AuditEntry>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(
            "SELECT at, user_id, action, doc_id, community_id, detail FROM audit_log \
             WHERE community_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![json_ids(communities), limit], |r| {
                let action: String = r.get(2)?;
                Ok(AuditEntry {
                    at: r.get(0)?,
                    user_id: r.get(1)?,
                    action: AuditAction::from_code(&action).ok_or_else(|| bad("audit action"))?,
                    doc_id: r.get(3)?,
                    community_id: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

fn erase_in(tx: &Transaction<'_>, e: &Erasure) -> Result<Erased> {
    if tombstone_in(tx, &e.doc_id)?.is_some() {
        return Ok(Erased::Already);
    }
    let Some(stored) = load_stored(tx, &e.doc_id)? else {
        return Ok(Erased::NotFound);
    };
    if stored.kind != DocKind::Household {
        return Ok(Erased::NotFound);
    }
    let changes = tx.execute("DELETE FROM changes WHERE doc_id = ?1", [&e.doc_id])?;
    for table in HOUSEHOLD_TABLES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE doc_id = ?1"),
            [&e.doc_id],
        )?;
    }
    // A number of the change log, so pulls within a cursor range tell devices in scope
    // (as a grant does: `max_seq` reads the same sequence).
    tx.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', 0 \
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes')",
        [],
    )?;
    let seq = to_i64(max_seq(tx)?.saturating_add(1));
    tx.execute(
        "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'changes'",
        [seq],
    )?;
    let p = &stored.place;
    tx.execute(
        "INSERT INTO erasures (doc_id, seq, kind, community_id, grid_id, micro_grid_id, \
         building_id, unit_id, erased_at, erased_by, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            e.doc_id,
            seq,
            stored.kind.code(),
            p.community_id,
            p.grid_id,
            p.micro_grid_id,
            p.building_id,
            p.unit_id,
            e.at,
            e.by_user,
            e.reason.code()
        ],
    )?;
    let note = e.note.trim();
    let detail = if note.is_empty() {
        e.reason.code().to_owned()
    } else {
        format!("{}: {note}", e.reason.code())
    };
    insert_audit(
        tx,
        &AuditEntry {
            at: e.at,
            user_id: e.by_user.clone(),
            action: AuditAction::Erase,
            doc_id: Some(e.doc_id.clone()),
            community_id: p.community_id.clone(),
            detail,
        },
    )?;
    Ok(Erased::Done {
        changes: to_u64(i64::try_from(changes).unwrap_or(0)),
    })
}

pub(super) fn tombstone_in(conn: &rusqlite::Connection, doc_id: &str) -> Result<Option<Tombstone>> {
    let row = conn
        .prepare_cached(
            "SELECT community_id, grid_id, micro_grid_id, building_id, unit_id, erased_at, \
             erased_by, reason FROM erasures WHERE doc_id = ?1",
        )?
        .query_row([doc_id], |r| {
            let reason: String = r.get(7)?;
            Ok(Tombstone {
                doc_id: doc_id.to_owned(),
                place: DocPlace {
                    community_id: r.get(0)?,
                    grid_id: r.get(1)?,
                    micro_grid_id: r.get(2)?,
                    building_id: r.get(3)?,
                    unit_id: r.get(4)?,
                },
                erased_at: r.get(5)?,
                erased_by: r.get(6)?,
                reason: EraseReason::from_code(&reason).ok_or_else(|| bad("erase reason"))?,
            })
        })
        .optional()?;
    Ok(row)
}

/// Whether a document was erased (the push's check).
pub(super) fn is_erased(conn: &rusqlite::Connection, doc_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM erasures WHERE doc_id = ?1")?
        .query_row([doc_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Ids of documents erased within `(after, upto]` whose place the scope parameters cover.
pub(super) fn erased_in_scope(
    conn: &rusqlite::Connection,
    params4: &[String; 4],
    after: u64,
    upto: u64,
) -> Result<Vec<String>> {
    let [c, g, b, u] = params4;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT doc_id FROM erasures WHERE seq > ?5 AND seq <= ?6 AND {} ORDER BY doc_id",
        super::rows::IN_SCOPE
    ))?;
    let ids = stmt
        .query_map(params![c, g, b, u, to_i64(after), to_i64(upto)], |r| {
            r.get(0)
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

fn insert_audit(tx: &Transaction<'_>, a: &AuditEntry) -> Result<()> {
    if a.user_id.is_empty() || a.community_id.is_empty() {
        return Err(Error::Invalid {
            field: "audit",
            reason: "user and community required",
        });
    }
    tx.prepare_cached(
        "INSERT INTO audit_log (at, user_id, action, doc_id, community_id, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        a.at,
        a.user_id,
        a.action.code(),
        a.doc_id,
        a.community_id,
        a.detail
    ])?;
    Ok(())
}

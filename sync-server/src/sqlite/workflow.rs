//! [`WorkflowStorage`] on SQLite, and the workflow's [`crate::merge::DocWrite`] primitives:
//! people for dispatch checks, `targets`, `deadlines` and `notifications`.

use linli_domain::Level;
use linli_domain::doc::DocPlace;
use linli_domain::scope::Scope;
use linli_domain::targets::{CategoryTargets, CommunityTargets, Targets};
use linli_domain::{IncidentCategory, Millis, PlaceKind};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::db::SqliteStorage;
use super::rows::{IN_SCOPE, load_stored, role, scope_params, to_i64, to_u64};
use super::sync::docs;
use crate::board::{BoardPage, BoardQuery, IncidentRow};
use crate::error::Result;
use crate::merge::{DocWrite, Notification, Staff, StoredDoc};
use crate::storage::WorkflowStorage;

pub(super) fn staff(conn: &Connection, user_id: &str) -> Result<Option<Staff>> {
    Ok(conn
        .prepare_cached("SELECT role, community_id FROM users WHERE id = ?1")?
        .query_row([user_id], |r| {
            Ok(Staff {
                role: role(&r.get::<_, String>(0)?)?,
                community_id: r.get(1)?,
            })
        })
        .optional()?)
}

/// The five columns of a set of targets, as stored in `targets` and `category_targets`.
fn targets_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Targets> {
    Ok(Targets {
        response_ms: r.get(first)?,
        resolve_urgent_ms: r.get(first + 1)?,
        resolve_high_ms: r.get(first + 2)?,
        resolve_normal_ms: r.get(first + 3)?,
        resolve_low_ms: r.get(first + 4)?,
    })
}

pub(super) fn targets(conn: &Connection, community_id: &str) -> Result<CommunityTargets> {
    let base = conn
        .prepare_cached(
            "SELECT response_ms, resolve_urgent_ms, resolve_high_ms, resolve_normal_ms, \
             resolve_low_ms FROM targets WHERE community_id = ?1",
        )?
        .query_row([community_id], |r| targets_row(r, 0))
        .optional()?
        .unwrap_or_default();
    let mut by_category = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT category, response_ms, resolve_urgent_ms, resolve_high_ms, resolve_normal_ms, \
         resolve_low_ms FROM category_targets WHERE community_id = ?1 ORDER BY category",
    )?;
    let mut rows = stmt.query([community_id])?;
    while let Some(r) = rows.next()? {
        let code: String = r.get(0)?;
        // A category this server does not know (written by a newer one) is skipped.
        if let Some(category) = IncidentCategory::from_code(&code) {
            by_category.push(CategoryTargets {
                category,
                targets: targets_row(r, 1)?,
            });
        }
    }
    Ok(CommunityTargets { base, by_category })
}

pub(super) fn put_targets(
    conn: &Connection,
    community_id: &str,
    t: &CommunityTargets,
) -> Result<()> {
    let is_community: Option<String> = conn
        .prepare_cached("SELECT kind FROM places WHERE id = ?1")?
        .query_row([community_id], |r| r.get(0))
        .optional()?;
    if is_community.as_deref() != Some(PlaceKind::Community.code()) {
        return Err(crate::Error::NotFound { kind: "community" });
    }
    let b = &t.base;
    conn.prepare_cached(
        "INSERT INTO targets (community_id, response_ms, resolve_urgent_ms, resolve_high_ms, \
         resolve_normal_ms, resolve_low_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (community_id) DO UPDATE SET response_ms = excluded.response_ms, \
         resolve_urgent_ms = excluded.resolve_urgent_ms, resolve_high_ms = excluded.resolve_high_ms, \
         resolve_normal_ms = excluded.resolve_normal_ms, resolve_low_ms = excluded.resolve_low_ms",
    )?
    .execute(params![
        community_id,
        b.response_ms,
        b.resolve_urgent_ms,
        b.resolve_high_ms,
        b.resolve_normal_ms,
        b.resolve_low_ms
    ])?;
    conn.prepare_cached("DELETE FROM category_targets WHERE community_id = ?1")?
        .execute([community_id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO category_targets (community_id, category, response_ms, resolve_urgent_ms, \
         resolve_high_ms, resolve_normal_ms, resolve_low_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for c in &t.by_category {
        let x = &c.targets;
        insert.execute(params![
            community_id,
            c.category.code(),
            x.response_ms,
            x.resolve_urgent_ms,
            x.resolve_high_ms,
            x.resolve_normal_ms,
            x.resolve_low_ms
        ])?;
    }
    Ok(())
}

pub(super) fn incident_ids(conn: &Connection, community_id: &str) -> Result<Vec<String>> {
    let ids = conn
        .prepare_cached(
            "SELECT doc_id FROM documents WHERE community_id = ?1 AND kind = 'incident' \
             ORDER BY doc_id",
        )?
        .query_map([community_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

pub(super) fn set_deadline(
    conn: &Connection,
    doc_id: &str,
    place: &DocPlace,
    next: Option<Millis>,
) -> Result<()> {
    match next {
        Some(at) => {
            conn.prepare_cached(
                "INSERT INTO deadlines (doc_id, community_id, grid_id, next_check) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (doc_id) DO UPDATE SET \
                 community_id = excluded.community_id, grid_id = excluded.grid_id, \
                 next_check = excluded.next_check",
            )?
            .execute(params![doc_id, place.community_id, place.grid_id, at])?;
        }
        None => {
            conn.prepare_cached("DELETE FROM deadlines WHERE doc_id = ?1")?
                .execute([doc_id])?;
        }
    }
    Ok(())
}

pub(super) fn notify(conn: &Connection, n: &Notification) -> Result<u64> {
    conn.prepare_cached(
        "INSERT INTO notifications (doc_id, community_id, grid_id, kind, level, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        n.doc_id,
        n.community_id,
        n.grid_id,
        n.kind,
        n.level.map(Level::code),
        n.at
    ])?;
    Ok(to_u64(conn.last_insert_rowid()))
}

impl WorkflowStorage for SqliteStorage {
    fn write_workflow(&self, write: &mut dyn FnMut(&dyn DocWrite) -> Result<()>) -> Result<()> {
        self.write(|tx: &Transaction<'_>| write(&docs(tx)))
    }

    fn due(&self, now: Millis, limit: usize) -> Result<Vec<String>> {
        self.read(|tx| {
            let ids = tx
                .prepare_cached(
                    "SELECT doc_id FROM deadlines WHERE next_check <= ?1 \
                     ORDER BY next_check, doc_id LIMIT ?2",
                )?
                .query_map(params![now, to_i64(limit as u64)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }

    fn targets(&self, community_id: &str) -> Result<CommunityTargets> {
        self.read(|tx| targets(tx, community_id))
    }

    fn incident_docs(&self, scope: &Scope) -> Result<Vec<(String, Vec<u8>)>> {
        let [c, g, b, u] = scope_params(scope);
        self.read(|tx| {
            let docs = tx
                .prepare_cached(&format!(
                    "SELECT doc_id, snapshot FROM documents WHERE kind = 'incident' AND {IN_SCOPE} \
                     ORDER BY doc_id"
                ))?
                .query_map(params![c, g, b, u], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(docs)
        })
    }

    fn stored_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        load_stored(&self.reader(), doc_id)
    }

    fn board(&self, scope: &Scope, q: &BoardQuery) -> Result<BoardPage> {
        self.board_page(scope, q)
    }

    fn incident_row(&self, doc_id: &str) -> Result<Option<IncidentRow>> {
        self.index_row(doc_id)
    }

    fn open_disputes_by_grid(&self, scope: &Scope) -> Result<Vec<(String, u32, u32)>> {
        self.disputes_by_grid(scope)
    }

    fn notifications(&self, scope: &Scope, after: u64, limit: usize) -> Result<Vec<Notification>> {
        let [c, g, b, u] = scope_params(scope);
        self.read(|tx| {
            // Notifications carry no building or unit: the IN_SCOPE test needs the columns.
            let rows = tx
                .prepare_cached(&format!(
                    "SELECT id, doc_id, community_id, grid_id, kind, level, at FROM \
                     (SELECT *, NULL AS building_id, NULL AS unit_id, NULL AS micro_grid_id FROM notifications) \
                     WHERE id > ?5 AND {IN_SCOPE} ORDER BY id LIMIT ?6"
                ))?
                .query_map(
                    params![c, g, b, u, to_i64(after), to_i64(limit as u64)],
                    |r| {
                        Ok(Notification {
                            id: to_u64(r.get(0)?),
                            doc_id: r.get(1)?,
                            community_id: r.get(2)?,
                            grid_id: r.get(3)?,
                            kind: r.get(4)?,
                            level: r
                                .get::<_, Option<String>>(5)?
                                .and_then(|l| Level::from_code(&l)),
                            at: r.get(6)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }
}

//! The user's places and the documents the server refused.
//!
//! The grants arrive with the reference data (protocol 3) and are kept in `sync_meta`
//! (`sync_state.rs`). [`Store::my_places`] is what pickers start from; the one write path
//! refuses a record left outside them (`Error::OutsideMyPlaces`). Before the first sync has
//! brought grants the device knows none and refuses nothing itself.
//!
//! A document the server refused (out of scope, invalid) is kept with its reason
//! ([`Store::refused_documents`]) and not pushed again until it changes. Two ways out: fix it
//! (a write, e.g. moving a household into the user's places: the next sync pushes it), or
//! [`Store::discard_local_changes`].

use std::collections::BTreeSet;

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::db::lock;
use crate::doc::{DocKind, heads_from_text, heads_to_text};
use crate::documents;
use crate::error::{Error, Result};
use crate::model::*;
use crate::protocol::{Grant, PushOutcome};
use crate::scope::Scope;
use crate::store::{DataChange, Store};
use crate::sync_state;

/// A document the server refused, kept on the device until the user fixes or discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDocument {
    pub doc_id: String,
    pub kind: DocKind,
    /// Why (`OutOfScope`: outside the user's places; `Invalid`: not a valid record).
    pub outcome: PushOutcome,
    /// What to show: a household's address, an incident's summary.
    pub label: String,
    /// Changed since the refusal: the next sync pushes it again.
    pub changed_since: bool,
}

/// What discarding a document's local changes left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discarded {
    /// Nothing was unacknowledged: the document is as it was.
    Nothing,
    /// Back at the server's version (the next pull brings anything newer).
    Reverted,
    /// The server never had it: deleted on the device.
    Deleted,
}

impl Store {
    /// The user's grants, as the last reference data brought them (`None` before the first
    /// sync brought any).
    pub fn my_grants(&self) -> Result<Option<Vec<Grant>>> {
        sync_state::grants(&lock(&self.reader))
    }

    /// The user's scope: what the server judges their pushes by (`None`: not known yet).
    pub fn my_scope(&self) -> Result<Option<Scope>> {
        sync_state::scope(&lock(&self.reader))
    }

    /// The granted places and every place under them, parents before children (by depth,
    /// then name). Before the first sync brought grants, every place held.
    pub fn my_places(&self) -> Result<Vec<Place>> {
        let r = lock(&self.reader);
        let grants = sync_state::grants(&r)?;
        let roots: Vec<String> = match &grants {
            Some(grants) => grants.iter().map(|g| g.place_id.clone()).collect(),
            None => r
                .prepare_cached(
                    "SELECT id FROM places WHERE parent_id IS NULL \
                     OR parent_id NOT IN (SELECT id FROM places)",
                )?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        let ids = serde_json::to_string(&roots).map_err(|_| Error::Server("bad ids".into()))?;
        let mut stmt = r.prepare_cached(
            "WITH RECURSIVE tree (id, depth) AS ( \
               SELECT id, 0 FROM places WHERE id IN (SELECT value FROM json_each(?1)) \
               UNION \
               SELECT p.id, tree.depth + 1 FROM places p JOIN tree ON p.parent_id = tree.id) \
             SELECT p.id, p.kind, p.parent_id, p.name, min(tree.depth) AS d \
             FROM places p JOIN tree USING (id) GROUP BY p.id ORDER BY d, p.name, p.id",
        )?;
        let rows = stmt.query_map([&ids], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, parent_id, name) = row?;
            // A kind this app does not know (from a newer server) is left out.
            if let Some(kind) = PlaceKind::from_code(&kind) {
                out.push(Place {
                    id,
                    kind,
                    parent_id,
                    name,
                });
            }
        }
        Ok(out)
    }

    /// Documents the server refused and the device keeps, with why, by id.
    pub fn refused_documents(&self) -> Result<Vec<RefusedDocument>> {
        let r = lock(&self.reader);
        let mut out = Vec::new();
        for (doc_id, refusal, seq) in sync_state::refusals(&r)? {
            let Some(outcome) = sync_state::outcome_from_code(&refusal.outcome) else {
                continue;
            };
            let kind: Option<String> = r
                .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
                .query_row([&doc_id], |row| row.get(0))
                .optional()?;
            let Some(kind) = kind.as_deref().and_then(DocKind::from_code) else {
                continue;
            };
            let label: Option<String> = match kind {
                DocKind::Household => r
                    .prepare_cached("SELECT address FROM households WHERE id = ?1")?
                    .query_row([&doc_id], |row| row.get(0))
                    .optional()?,
                DocKind::Incident => r
                    .prepare_cached("SELECT summary FROM incidents WHERE id = ?1")?
                    .query_row([&doc_id], |row| row.get(0))
                    .optional()?,
            };
            out.push(RefusedDocument {
                doc_id,
                kind,
                outcome,
                label: label.unwrap_or_default(),
                changed_since: seq > refusal.seq,
            });
        }
        Ok(out)
    }

    /// Drops the document's local changes the server never acknowledged: the device's own
    /// changes that are not in the history of the heads the server last acknowledged. What
    /// the server acknowledged, and every change from elsewhere (which came from the
    /// server), is kept, so nothing the server holds is lost. If anything is left, the
    /// document is back at the server's version (the next pull brings anything newer);
    /// if the server never had any of it, it is deleted on the device.
    pub fn discard_local_changes(&self, doc_id: &str) -> Result<Discarded> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some((kind, mut d)) = documents::load(&tx, doc_id, &self.actor)? else {
            return Err(Error::NotFound { kind: "document" });
        };
        let server_heads: Option<String> = tx
            .prepare_cached("SELECT server_heads FROM sync_docs WHERE doc_id = ?1")?
            .query_row([doc_id], |r| r.get(0))
            .optional()?;
        let acked: BTreeSet<ChangeHash> = match &server_heads {
            Some(text) => {
                let heads = heads_from_text(text)?;
                d.fork_at(&heads)?
                    .get_changes(&[])
                    .iter()
                    .map(|c| c.hash())
                    .collect()
            }
            None => BTreeSet::new(),
        };
        let all = d.get_changes(&[]);
        let (keep, dropped): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|c| acked.contains(&c.hash()) || c.actor_id() != &self.actor);
        let outcome = if dropped.is_empty() {
            Discarded::Nothing
        } else if keep.is_empty() {
            documents::delete(&tx, doc_id)?;
            sync_state::forget(&tx, doc_id)?;
            Discarded::Deleted
        } else {
            let mut kept = AutoCommit::new();
            linli_domain::changes::apply(&mut kept, keep)
                .map_err(|_| Error::CorruptChanges("changes could not be applied"))?;
            if !kept.get_missing_deps(&[]).is_empty() {
                // Cannot happen: nobody else builds on changes the server never had.
                return Err(Error::MissingDependencies(kept.get_missing_deps(&[]).len()));
            }
            kept.set_actor(self.actor.clone());
            let heads = heads_to_text(&kept.get_heads());
            let seq: i64 = tx
                .prepare_cached("SELECT coalesce(max(local_seq), 0) + 1 FROM documents")?
                .query_row([], |r| r.get(0))?;
            tx.prepare_cached(
                "UPDATE documents SET snapshot = ?2, heads = ?3, change_rows = 0, local_seq = ?4 \
                 WHERE id = ?1",
            )?
            .execute(params![doc_id, kept.save(), heads, seq])?;
            tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
                .execute([doc_id])?;
            let mut forget_history =
                tx.prepare_cached("DELETE FROM change_history WHERE doc_id = ?1 AND hash = ?2")?;
            for c in &dropped {
                forget_history.execute(params![doc_id, c.hash().to_string()])?;
            }
            documents::project(&tx, doc_id, kind, &kept)?;
            // Everything kept is the server's: the document is clean at these heads.
            sync_state::mark_synced(&tx, doc_id, &heads, seq)?;
            Discarded::Reverted
        };
        let was_refused = sync_state::clear_refused(&tx, doc_id)?;
        tx.commit()?;
        self.cache.remove(doc_id);
        drop(conn);
        if outcome != Discarded::Nothing || was_refused {
            self.notify(&DataChange::of(kind, doc_id, false));
        }
        Ok(outcome)
    }
}

//! [`SyncStorage`] on SQLite: authentication, the document reads and writes a push makes
//! ([`DocWrite`], over one immediate transaction), the log reads a pull makes ([`LogRead`],
//! over one read transaction) and reference data. The workflow's primitives are
//! `workflow.rs`.

use std::ops::ControlFlow;

use linli_domain::doc::DocPlace;
use linli_domain::protocol::{self, Person, PushAck, ReferenceData};
use linli_domain::scope::Scope;
use linli_domain::targets::CommunityTargets;
use linli_domain::{Millis, Place};
use rusqlite::{OptionalExtension, Transaction, params};

use super::board;
use super::db::SqliteStorage;
use super::erase;
use super::register;
use super::rows::{
    IN_SCOPE, json_ids, load_place, load_stored, max_seq, meta, place_kind, role, scope_params,
    to_i64, to_u64, user_scope,
};
use super::workflow;
use crate::board::IncidentRow;
use crate::error::Result;
use crate::merge::{DocWrite, Notification, Staff, StoredDoc, Update};
use crate::pull::{Flow, LogChange, LogRead, Page};
use crate::storage::{Auth, Device, SyncStorage, now_ms, token_hash};
use crate::workflow::ServerActor;

/// The documents as one write transaction sees them.
pub(super) struct Docs<'c>(&'c Transaction<'c>);

pub(super) fn docs<'c>(tx: &'c Transaction<'c>) -> Docs<'c> {
    Docs(tx)
}

impl DocWrite for Docs<'_> {
    fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        load_stored(self.0, doc_id)
    }

    fn is_erased(&self, doc_id: &str) -> Result<bool> {
        erase::is_erased(self.0, doc_id)
    }

    fn place(&self, id: &str) -> Result<Option<Place>> {
        load_place(self.0, id)
    }

    fn store(&self, device_id: &str, doc_id: &str, update: &Update) -> Result<()> {
        store_update(self.0, device_id, doc_id, update)
    }

    fn staff(&self, user_id: &str) -> Result<Option<Staff>> {
        workflow::staff(self.0, user_id)
    }

    fn targets(&self, community_id: &str) -> Result<CommunityTargets> {
        workflow::targets(self.0, community_id)
    }

    fn put_targets(&self, community_id: &str, targets: &CommunityTargets) -> Result<()> {
        workflow::put_targets(self.0, community_id, targets)
    }

    fn incident_ids(&self, community_id: &str) -> Result<Vec<String>> {
        workflow::incident_ids(self.0, community_id)
    }

    fn set_deadline(&self, doc_id: &str, place: &DocPlace, next: Option<Millis>) -> Result<()> {
        workflow::set_deadline(self.0, doc_id, place, next)
    }

    fn notify(&self, n: &Notification) -> Result<u64> {
        workflow::notify(self.0, n)
    }

    fn index_incident(&self, doc_id: &str, row: Option<&IncidentRow>) -> Result<()> {
        board::put_row(self.0, doc_id, row)
    }
}

fn store_update(tx: &Transaction<'_>, device_id: &str, doc_id: &str, u: &Update) -> Result<()> {
    let p = &u.place;
    tx.prepare_cached(
        "INSERT INTO changes (doc_id, device_id, community_id, grid_id, building_id, unit_id, \
         moved, bytes, received_at, micro_grid_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        doc_id,
        device_id,
        p.community_id,
        p.grid_id,
        p.building_id,
        p.unit_id,
        u.moved,
        u.new_changes,
        now_ms(),
        p.micro_grid_id
    ])?;
    let seq = tx.last_insert_rowid();
    if let Some(from) = &u.left {
        tx.prepare_cached(
            "INSERT INTO departures (seq, doc_id, community_id, grid_id, building_id, unit_id, \
             micro_grid_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            seq,
            doc_id,
            from.community_id,
            from.grid_id,
            from.building_id,
            from.unit_id,
            from.micro_grid_id
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO documents (doc_id, kind, community_id, grid_id, building_id, unit_id, \
         snapshot, heads, last_seq, micro_grid_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, \
         community_id = excluded.community_id, grid_id = excluded.grid_id, \
         micro_grid_id = excluded.micro_grid_id, \
         building_id = excluded.building_id, unit_id = excluded.unit_id, \
         snapshot = excluded.snapshot, heads = excluded.heads, last_seq = excluded.last_seq",
    )?
    .execute(params![
        doc_id,
        u.kind.code(),
        p.community_id,
        p.grid_id,
        p.building_id,
        p.unit_id,
        u.snapshot,
        u.heads,
        seq,
        p.micro_grid_id
    ])?;
    register::project_stored(tx, doc_id, u.kind, p, &u.snapshot, now_ms())?;
    Ok(())
}

/// The log as one read transaction sees it.
struct Log<'c>(&'c Transaction<'c>);

impl LogRead for Log<'_> {
    fn max_seq(&self) -> Result<u64> {
        max_seq(self.0)
    }

    fn compacted_upto(&self) -> Result<u64> {
        meta(self.0, "compacted_upto")
    }

    fn docs_in_scope(
        &self,
        scope: &Scope,
        after_doc: &str,
        limit: usize,
        each: &mut dyn FnMut(String, Vec<u8>) -> Result<Flow>,
    ) -> Result<()> {
        let [c, g, b, u] = scope_params(scope);
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT doc_id, snapshot FROM documents WHERE doc_id > ?5 AND {IN_SCOPE} \
             ORDER BY doc_id LIMIT ?6"
        ))?;
        let mut rows = stmt.query(params![c, g, b, u, after_doc, to_i64(limit as u64)])?;
        while let Some(row) = rows.next()? {
            if let ControlFlow::Break(()) = each(row.get(0)?, row.get(1)?)? {
                break;
            }
        }
        Ok(())
    }

    fn changes_in_scope(
        &self,
        scope: &Scope,
        after: u64,
        upto: u64,
        not_by: &str,
        limit: usize,
        each: &mut dyn FnMut(LogChange) -> Result<Flow>,
    ) -> Result<()> {
        let [c, g, b, u] = scope_params(scope);
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT seq, doc_id, moved, bytes FROM changes \
             WHERE seq > ?5 AND seq <= ?6 AND device_id != ?7 AND {IN_SCOPE} \
             ORDER BY seq LIMIT ?8"
        ))?;
        let mut rows = stmt.query(params![
            c,
            g,
            b,
            u,
            to_i64(after),
            to_i64(upto),
            not_by,
            to_i64(limit as u64)
        ])?;
        while let Some(row) = rows.next()? {
            let change = LogChange {
                seq: to_u64(row.get(0)?),
                doc_id: row.get(1)?,
                moved: row.get(2)?,
                bytes: row.get(3)?,
            };
            if let ControlFlow::Break(()) = each(change)? {
                break;
            }
        }
        Ok(())
    }

    fn departures_in_scope(&self, scope: &Scope, after: u64, upto: u64) -> Result<Vec<String>> {
        let [c, g, b, u] = scope_params(scope);
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT DISTINCT doc_id FROM departures \
             WHERE seq > ?5 AND seq <= ?6 AND {IN_SCOPE} ORDER BY doc_id"
        ))?;
        let ids = stmt
            .query_map(params![c, g, b, u, to_i64(after), to_i64(upto)], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn erased_in_scope(&self, scope: &Scope, after: u64, upto: u64) -> Result<Vec<String>> {
        erase::erased_in_scope(self.0, &scope_params(scope), after, upto)
    }

    fn user_departures(&self, user_id: &str, after: u64, upto: u64) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT DISTINCT doc_id FROM user_departures \
             WHERE user_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY doc_id",
        )?;
        let ids = stmt
            .query_map(params![user_id, to_i64(after), to_i64(upto)], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        load_stored(self.0, doc_id)
    }
}

impl SyncStorage for SqliteStorage {
    fn health(&self) -> Result<()> {
        let r = self.reader();
        r.query_row("SELECT count(*) FROM meta", [], |row| row.get::<_, i64>(0))?;
        Ok(())
    }

    fn authenticate(&self, token: &str) -> Result<Auth> {
        let hash = token_hash(token);
        let r = self.reader();
        type Row = (
            String,
            String,
            Option<i64>,
            String,
            String,
            i64,
            Option<i64>,
            bool,
        );
        let row: Option<Row> = r
            .prepare_cached(
                "SELECT d.id, d.user_id, d.revoked_at, u.role, u.community_id, u.scope_seq, \
                 u.deactivated_at, u.final_sync \
                 FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?1",
            )?
            .query_row([&hash], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ))
            })
            .optional()?;
        let Some((
            device_id,
            user_id,
            revoked_at,
            role_code,
            community_id,
            scope_seq,
            deactivated_at,
            final_sync,
        )) = row
        else {
            return Ok(Auth::Unknown);
        };
        // A deactivated user's devices are refused, but for the one final sync each
        // unrevoked device may make when the admin chose so.
        if revoked_at.is_some() || (deactivated_at.is_some() && !final_sync) {
            return Ok(Auth::Revoked);
        }
        let (scope, communities) = user_scope(&r, &user_id, community_id)?;
        Ok(Auth::Device(Box::new(Device {
            device_id,
            user_id,
            role: role(&role_code)?,
            scope,
            communities,
            scope_seq: to_u64(scope_seq),
            final_sync: deactivated_at.is_some() && final_sync,
        })))
    }

    fn server(&self) -> &ServerActor {
        &self.server
    }

    fn write_docs(
        &self,
        write: &mut dyn FnMut(&dyn DocWrite) -> Result<Vec<PushAck>>,
    ) -> Result<Vec<PushAck>> {
        self.write(|tx| write(&Docs(tx)))
    }

    fn read_log(&self, read: &mut dyn FnMut(&dyn LogRead) -> Result<Page>) -> Result<Page> {
        self.read(|tx| read(&Log(tx)))
    }

    fn reference(&self, device: &Device, known_version: u64) -> Result<Option<ReferenceData>> {
        let mut r = self.reader();
        let tx = r.transaction()?;
        let version = meta(&tx, "reference_version")?;
        if version == known_version {
            return Ok(None);
        }
        let communities = json_ids(&device.communities);
        // Parents before children, so a device can insert them in order: the streets of
        // the communities (without their other communities), then the communities' trees.
        let mut places = tx
            .prepare_cached(
                "SELECT p.id, p.kind, p.parent_id, p.name FROM places p \
                 WHERE p.kind = 'street' AND p.id IN (SELECT c.parent_id FROM places c \
                   WHERE c.id IN (SELECT value FROM json_each(?1))) \
                 ORDER BY p.id",
            )?
            .query_map([&communities], place_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let tree = tx
            .prepare_cached(
                "WITH RECURSIVE tree (id, depth) AS ( \
                   SELECT p.id, 0 FROM places p \
                   WHERE p.id IN (SELECT value FROM json_each(?1)) AND p.kind = 'community' \
                   UNION \
                   SELECT p.id, tree.depth + 1 FROM places p JOIN tree ON p.parent_id = tree.id) \
                 SELECT p.id, p.kind, p.parent_id, p.name FROM places p JOIN tree USING (id) \
                 ORDER BY tree.depth, p.id",
            )?
            .query_map([&communities], place_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        places.extend(tree);
        let people = tx
            .prepare_cached(
                "SELECT id, name, role FROM users \
                 WHERE community_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            )?
            .query_map([&communities], |row| {
                Ok(Person {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    role: role(&row.get::<_, String>(2)?)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(ReferenceData {
            version,
            places,
            people,
            // The scope `authenticate` built: a street grant is already its communities.
            grants: protocol::grants_of(&device.scope),
        }))
    }
}

/// A place from a row of (id, kind, parent_id, name).
fn place_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Place> {
    Ok(Place {
        id: row.get(0)?,
        kind: place_kind(&row.get::<_, String>(1)?)?,
        parent_id: row.get(2)?,
        name: row.get(3)?,
    })
}

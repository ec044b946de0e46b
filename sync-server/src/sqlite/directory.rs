//! [`DirectoryStorage`] on SQLite: users, grants and their withdrawal, deactivation,
//! enrolment codes, devices and places as the console administers them. Each write is one
//! immediate transaction that also appends its row to `admin_actions` (append-only: the
//! table's triggers refuse updates and deletes).

use linli_domain::doc::DocPlace;
use linli_domain::{Millis, Place, PlaceKind};
use rusqlite::{OptionalExtension, Transaction, params};

use super::admin::{advance_seq, bump_reference_version, grant_in, put_place_in};
use super::db::SqliteStorage;
use super::rows::{json_ids, load_place, role, to_i64, to_u64, user_scope};
use super::sync::docs;
use crate::directory::{
    Action, Audit, AuditQuery, AuditRow, Deactivation, DeviceRow, DirectoryStorage, Reason,
    Redeemed, UserState,
};
use crate::error::{Error, Result};
use crate::relocate::{NewGrid, move_doc};
use crate::storage::{DeviceInfo, User};

/// Appends one audit row in `tx`.
fn record(tx: &Transaction<'_>, a: &Audit) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO admin_actions (at, actor_id, action, community_id, target_user, \
         target_device, target_place, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.at,
        a.actor_id,
        a.action.code(),
        a.community_id,
        a.target_user,
        a.target_device,
        a.target_place,
        a.reason.map(Reason::code)
    ])?;
    Ok(())
}

fn bad_code(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} code").into(),
    )
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role(&r.get::<_, String>(2)?)?,
        community_id: r.get(3)?,
    })
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        info: DeviceInfo {
            device_id: r.get(0)?,
            user_id: r.get(1)?,
            role: role(&r.get::<_, String>(2)?)?,
            created_at: r.get(3)?,
            revoked_at: r.get(4)?,
        },
        name: r.get(5)?,
    })
}

const DEVICE_COLUMNS: &str = "SELECT d.id, d.user_id, u.role, d.created_at, d.revoked_at, d.name \
     FROM devices d JOIN users u ON u.id = d.user_id";

/// The documents stored under `place` (any level), with their places.
fn docs_under(tx: &Transaction<'_>, place: &Place) -> Result<Vec<(String, DocPlace)>> {
    let filter = match place.kind {
        PlaceKind::Street => {
            "community_id IN (SELECT id FROM places WHERE parent_id = ?1 AND kind = 'community')"
        }
        PlaceKind::Community => "community_id = ?1",
        PlaceKind::Grid => "grid_id = ?1",
        PlaceKind::MicroGrid => "micro_grid_id = ?1",
        PlaceKind::Building => "building_id = ?1",
        PlaceKind::Unit => "unit_id = ?1",
    };
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT doc_id, community_id, grid_id, micro_grid_id, building_id, unit_id \
         FROM documents WHERE {filter} ORDER BY doc_id"
    ))?;
    let rows = stmt.query_map([&place.id], |r| {
        Ok((
            r.get(0)?,
            DocPlace {
                community_id: r.get(1)?,
                grid_id: r.get(2)?,
                micro_grid_id: r.get(3)?,
                building_id: r.get(4)?,
                unit_id: r.get(5)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl DirectoryStorage for SqliteStorage {
    fn add_user(&self, user: &User, grants: &[String], audit: &Audit) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO users (id, name, role, community_id) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    user.id,
                    user.name,
                    user.role.code(),
                    user.community_id
                ])?;
            if n == 0 {
                return Err(Error::Invalid {
                    field: "user id",
                    reason: "is taken",
                });
            }
            for place in grants {
                if load_place(tx, place)?.is_none() {
                    return Err(Error::NotFound { kind: "place" });
                }
                grant_in(tx, &user.id, place)?;
            }
            bump_reference_version(tx)?;
            record(tx, audit)
        })
    }

    fn deactivate_user(&self, user_id: &str, how: Deactivation, audit: &Audit) -> Result<bool> {
        self.write(|tx| {
            let final_sync = how == Deactivation::AfterFinalSync;
            let n = tx
                .prepare_cached(
                    "UPDATE users SET deactivated_at = ?2, final_sync = ?3 \
                     WHERE id = ?1 AND deactivated_at IS NULL",
                )?
                .execute(params![user_id, audit.at, final_sync])?;
            if n == 0 {
                return Ok(false);
            }
            if how == Deactivation::Now {
                tx.prepare_cached(
                    "UPDATE devices SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![user_id, audit.at])?;
            }
            // The console is not a device: its sessions end either way.
            tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([user_id])?;
            record(tx, audit)?;
            Ok(true)
        })
    }

    fn grant_place(&self, user_id: &str, place_id: &str, audit: &Audit) -> Result<bool> {
        self.write(|tx| {
            let granted = grant_in(tx, user_id, place_id)?;
            if granted {
                record(tx, audit)?;
            }
            Ok(granted)
        })
    }

    fn withdraw_grant(&self, user_id: &str, place_id: &str, audit: &Audit) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM user_scopes WHERE user_id = ?1 AND place_id = ?2")?
                .execute(params![user_id, place_id])?;
            if n == 0 {
                return Ok(false);
            }
            let place = load_place(tx, place_id)?.ok_or(Error::NotFound { kind: "place" })?;
            let own: String = tx
                .prepare_cached("SELECT community_id FROM users WHERE id = ?1")?
                .query_row([user_id], |r| r.get(0))?;
            let (scope, _) = user_scope(tx, user_id, own)?;
            // One sequence number marks the withdrawal in the log; the user's devices are
            // told `gone` for every document the remaining grants do not cover.
            let seq = advance_seq(tx)?;
            for (doc_id, at) in docs_under(tx, &place)? {
                if !scope.covers(&at) {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO user_departures (user_id, seq, doc_id) \
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![user_id, to_i64(seq), doc_id])?;
                }
            }
            bump_reference_version(tx)?;
            record(tx, audit)?;
            Ok(true)
        })
    }

    fn add_enrol_code(&self, code_hash: &[u8], expires_at: Millis, audit: &Audit) -> Result<()> {
        let user_id = audit.target_user.as_deref().ok_or(Error::Invalid {
            field: "user",
            reason: "an enrolment code is for a user",
        })?;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO enrol_codes (code_hash, user_id, created_by, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                code_hash,
                user_id,
                audit.actor_id,
                audit.at,
                expires_at
            ])?;
            record(tx, audit)
        })
    }

    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        device_id: &str,
        device_name: &str,
        token_hash: &[u8],
        now: Millis,
    ) -> Result<Redeemed> {
        self.write(|tx| {
            let code: Option<(String, String)> = tx
                .prepare_cached(
                    "SELECT user_id, created_by FROM enrol_codes \
                     WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                )?
                .query_row(params![code_hash, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((user_id, created_by)) = code else {
                return Ok(Redeemed::Spent);
            };
            let user = tx
                .prepare_cached(
                    "SELECT id, name, role, community_id FROM users \
                     WHERE id = ?1 AND deactivated_at IS NULL",
                )?
                .query_row([&user_id], user_row)
                .optional()?;
            let Some(user) = user else {
                return Ok(Redeemed::Spent);
            };
            tx.prepare_cached(
                "UPDATE enrol_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
            )?
            .execute(params![code_hash, now, device_id])?;
            tx.prepare_cached(
                "INSERT INTO devices (id, user_id, token_hash, created_at, name) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![device_id, user.id, token_hash, now, device_name])?;
            let audit = Audit::new(now, &created_by, Action::Enrolled)
                .community(Some(&user.community_id))
                .user(&user.id)
                .device(device_id);
            record(tx, &audit)?;
            Ok(Redeemed::Enrolled(user))
        })
    }

    fn enrol_failed(&self, address: &str, now: Millis) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM enrol_failures WHERE at < ?1")?
                .execute([now - 24 * 3_600_000])?;
            tx.prepare_cached("INSERT INTO enrol_failures (address, at) VALUES (?1, ?2)")?
                .execute(params![address, now])?;
            Ok(())
        })
    }

    fn enrol_failures(&self, address: &str, since: Millis) -> Result<u32> {
        let n: i64 = self
            .reader()
            .prepare_cached("SELECT count(*) FROM enrol_failures WHERE address = ?1 AND at >= ?2")?
            .query_row(params![address, since], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn revoke_device(&self, device_id: &str, audit: &Audit) -> Result<bool> {
        self.write(|tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)")?
                .query_row([device_id], |r| r.get(0))?;
            if !exists {
                return Err(Error::NotFound { kind: "device" });
            }
            let n = tx
                .prepare_cached(
                    "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![device_id, audit.at])?;
            if n > 0 {
                record(tx, audit)?;
            }
            Ok(n > 0)
        })
    }

    fn save_place(&self, place: &Place, audit: &Audit) -> Result<bool> {
        self.write(|tx| {
            let changed = put_place_in(tx, place)?;
            if changed {
                record(tx, audit)?;
            }
            Ok(changed)
        })
    }

    fn move_building(&self, building_id: &str, to_parent: &str, audit: &Audit) -> Result<usize> {
        self.write(|tx| {
            let mut building = load_place(tx, building_id)?
                .filter(|p| p.kind == PlaceKind::Building)
                .ok_or(Error::NotFound { kind: "building" })?;
            let parent = load_place(tx, to_parent)?.ok_or(Error::NotFound { kind: "grid" })?;
            let to = match (parent.kind, &parent.parent_id) {
                (PlaceKind::Grid, _) => NewGrid {
                    grid_id: parent.id.clone(),
                    micro_grid_id: None,
                },
                (PlaceKind::MicroGrid, Some(grid)) => NewGrid {
                    grid_id: grid.clone(),
                    micro_grid_id: Some(parent.id.clone()),
                },
                _ => {
                    return Err(Error::Invalid {
                        field: "grid",
                        reason: "a building moves under a grid or a micro-grid",
                    });
                }
            };
            building.parent_id = Some(parent.id);
            put_place_in(tx, &building)?;
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT doc_id FROM documents WHERE building_id = ?1 ORDER BY doc_id",
                )?
                .query_map([building_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let docs = docs(tx);
            for id in &ids {
                move_doc(&docs, &self.server, id, &to, &audit.actor_id)?;
            }
            record(tx, audit)?;
            Ok(ids.len())
        })
    }

    fn users_in(&self, communities: &[String]) -> Result<Vec<UserState>> {
        self.read(|tx| {
            let mut users = Vec::new();
            let mut stmt = tx.prepare_cached(
                "SELECT id, name, role, community_id, deactivated_at, final_sync FROM users \
                 WHERE community_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            )?;
            let rows = stmt.query_map([json_ids(communities)], |r| {
                Ok((
                    user_row(r)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })?;
            for row in rows {
                let (user, deactivated_at, final_sync) = row?;
                let grants = tx
                    .prepare_cached(
                        "SELECT place_id FROM user_scopes WHERE user_id = ?1 ORDER BY place_id",
                    )?
                    .query_map([&user.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                users.push(UserState {
                    user,
                    deactivated_at,
                    final_sync: deactivated_at.is_some() && final_sync,
                    grants,
                });
            }
            Ok(users)
        })
    }

    fn devices_of(&self, user_id: &str) -> Result<Vec<DeviceRow>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(&format!(
            "{DEVICE_COLUMNS} WHERE d.user_id = ?1 ORDER BY d.created_at, d.id"
        ))?;
        let rows = stmt.query_map([user_id], device_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device(&self, device_id: &str) -> Result<Option<DeviceRow>> {
        Ok(self
            .reader()
            .prepare_cached(&format!("{DEVICE_COLUMNS} WHERE d.id = ?1"))?
            .query_row([device_id], device_row)
            .optional()?)
    }

    fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRow>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(
            "SELECT id, at, actor_id, action, community_id, target_user, target_device, \
             target_place, reason FROM admin_actions \
             WHERE (?1 IS NULL OR community_id IN (SELECT value FROM json_each(?1))) \
               AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR id < ?3) \
             ORDER BY id DESC LIMIT ?4",
        )?;
        let communities = q.communities.as_ref().map(json_ids);
        let rows = stmt.query_map(
            params![
                communities,
                q.action.map(Action::code),
                q.before.map(to_i64),
                i64::from(q.limit)
            ],
            |r| {
                let action: String = r.get(3)?;
                let reason: Option<String> = r.get(8)?;
                Ok(AuditRow {
                    id: to_u64(r.get(0)?),
                    audit: Audit {
                        at: r.get(1)?,
                        actor_id: r.get(2)?,
                        action: Action::from_code(&action).ok_or_else(|| bad_code("action"))?,
                        community_id: r.get(4)?,
                        target_user: r.get(5)?,
                        target_device: r.get(6)?,
                        target_place: r.get(7)?,
                        reason: match reason {
                            Some(c) => {
                                Some(Reason::from_code(&c).ok_or_else(|| bad_code("reason"))?)
                            }
                            None => None,
                        },
                    },
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn finish_final_sync(&self, device_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL \
                 AND user_id IN (SELECT id FROM users \
                                 WHERE deactivated_at IS NOT NULL AND final_sync = 1)",
            )?
            .execute(params![device_id, self.server.now()])?;
            Ok(())
        })
    }
}

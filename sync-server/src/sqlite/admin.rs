//! [`AdminStorage`] on SQLite: places, users, grants, device enrolment and revocation,
//! compaction and the reference version. Each write is one immediate transaction.

use linli_domain::{Place, PlaceKind};
use rusqlite::{OptionalExtension, Transaction, params};

use super::db::SqliteStorage;
use super::rows::{load_place, max_seq, meta, role, to_i64};
use crate::error::{Error, Result};
use crate::storage::{AdminStorage, Compaction, DeviceInfo, User, now_ms};

/// Uses up one change sequence number without a change, to mark a point in the log.
pub(super) fn advance_seq(tx: &Transaction<'_>) -> Result<u64> {
    let n = tx.execute(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'changes'",
        [],
    )?;
    if n == 0 {
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', 1)",
            [],
        )?;
    }
    max_seq(tx)
}

pub(super) fn bump_reference_version(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'reference_version'")?
        .execute([])?;
    Ok(())
}

/// Creates or replaces a place in `tx`; true if anything changed.
pub(super) fn put_place_in(tx: &Transaction<'_>, place: &Place) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO places (id, kind, parent_id, name) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
             parent_id = excluded.parent_id, name = excluded.name \
             WHERE (kind, parent_id, name) IS NOT \
                   (excluded.kind, excluded.parent_id, excluded.name)",
        )?
        .execute(params![
            place.id,
            place.kind.code(),
            place.parent_id,
            place.name
        ])?;
    if n > 0 {
        if place.kind == PlaceKind::Community
            && let Some(street) = &place.parent_id
        {
            // A street admin's scope is the communities under their street (read at
            // authentication): one put there re-reads it in a snapshot pass, as a grant.
            let seq = advance_seq(tx)?;
            tx.prepare_cached(
                "UPDATE users SET scope_seq = ?2 \
                 WHERE id IN (SELECT user_id FROM user_scopes WHERE place_id = ?1)",
            )?
            .execute(params![street, to_i64(seq)])?;
        }
        bump_reference_version(tx)?;
    }
    Ok(n > 0)
}

/// Grants a place in `tx`; true if it was not granted before.
pub(super) fn grant_in(tx: &Transaction<'_>, user_id: &str, place_id: &str) -> Result<bool> {
    let n = tx
        .prepare_cached("INSERT OR IGNORE INTO user_scopes (user_id, place_id) VALUES (?1, ?2)")?
        .execute(params![user_id, place_id])?;
    if n > 0 {
        // Mark the log: the user's devices re-read their (wider) scope in a snapshot
        // pass, since the new place's documents were never in their change feed.
        let seq = advance_seq(tx)?;
        tx.prepare_cached("UPDATE users SET scope_seq = ?2 WHERE id = ?1")?
            .execute(params![user_id, to_i64(seq)])?;
        bump_reference_version(tx)?;
    }
    Ok(n > 0)
}

impl AdminStorage for SqliteStorage {
    fn place(&self, id: &str) -> Result<Option<Place>> {
        load_place(&self.reader(), id)
    }

    fn put_place(&self, place: &Place) -> Result<bool> {
        self.write(|tx| put_place_in(tx, place))
    }

    fn user(&self, id: &str) -> Result<Option<User>> {
        Ok(self
            .reader()
            .prepare_cached("SELECT id, name, role, community_id FROM users WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: role(&r.get::<_, String>(2)?)?,
                    community_id: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn put_user(&self, user: &User) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO users (id, name, role, community_id) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, \
                     community_id = excluded.community_id \
                     WHERE (name, role, community_id) IS NOT \
                           (excluded.name, excluded.role, excluded.community_id)",
                )?
                .execute(params![
                    user.id,
                    user.name,
                    user.role.code(),
                    user.community_id
                ])?;
            if n > 0 {
                bump_reference_version(tx)?;
            }
            Ok(n > 0)
        })
    }

    fn grant(&self, user_id: &str, place_id: &str) -> Result<bool> {
        self.write(|tx| grant_in(tx, user_id, place_id))
    }

    fn enroll(&self, device_id: &str, user_id: &str, token_hash: &[u8]) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO devices (id, user_id, token_hash, created_at) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, \
                     revoked_at = NULL WHERE devices.user_id = excluded.user_id",
                )?
                .execute(params![device_id, user_id, token_hash, now_ms()])?;
            if n == 0 {
                return Err(Error::Invalid {
                    field: "device",
                    reason: "is enrolled for another user",
                });
            }
            Ok(())
        })
    }

    fn revoke(&self, device_id: &str) -> Result<bool> {
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
                .execute(params![device_id, now_ms()])?;
            Ok(n > 0)
        })
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(
            "SELECT d.id, d.user_id, u.role, d.created_at, d.revoked_at \
             FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.user_id, d.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceInfo {
                device_id: r.get(0)?,
                user_id: r.get(1)?,
                role: role(&r.get::<_, String>(2)?)?,
                created_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn compact(&self, keep_last: u64) -> Result<Compaction> {
        self.write(|tx| {
            let horizon = max_seq(tx)?.saturating_sub(keep_last);
            let deleted = tx
                .prepare_cached("DELETE FROM changes WHERE seq <= ?1")?
                .execute([to_i64(horizon)])?;
            tx.prepare_cached(
                "UPDATE meta SET value = max(value, ?1) WHERE key = 'compacted_upto'",
            )?
            .execute([to_i64(horizon)])?;
            Ok(Compaction {
                deleted: deleted as u64,
                compacted_upto: meta(tx, "compacted_upto")?,
            })
        })
    }

    fn reference_version(&self) -> Result<u64> {
        meta(&self.reader(), "reference_version")
    }
}

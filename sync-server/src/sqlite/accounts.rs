//! [`AccountStorage`] on SQLite: the `accounts`, `sessions`, `sign_in_failures` and
//! `invitations` tables of migration 6.

use linli_domain::{Department, Millis};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db::SqliteStorage;
use super::rows::{json_ids, role, to_u64, user_scope};
use crate::error::Result;
use crate::storage::{Account, AccountStorage, SessionRow};
use crate::storage::{Device, User};

const ACCOUNT_COLUMNS: &str =
    "u.id, u.name, u.role, u.community_id, a.password_hash, a.department, a.password_set_at";

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let department: Option<String> = r.get(5)?;
    Ok(Account {
        user: User {
            id: r.get(0)?,
            name: r.get(1)?,
            role: role(&r.get::<_, String>(2)?)?,
            community_id: r.get(3)?,
        },
        password_hash: r.get(4)?,
        // A code this server does not know reads as no department (it then sees nothing).
        department: department.as_deref().and_then(Department::from_code),
        password_set_at: r.get(6)?,
    })
}

/// Makes sure the user has an `accounts` row, so updates have one to change.
fn ensure_row(conn: &Connection, user_id: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO accounts (user_id) VALUES (?1)")?
        .execute([user_id])?;
    Ok(())
}

fn set_password_in(conn: &Connection, user_id: &str, hash: &str, now: Millis) -> Result<()> {
    ensure_row(conn, user_id)?;
    conn.prepare_cached(
        "UPDATE accounts SET password_hash = ?2, password_set_at = ?3 WHERE user_id = ?1",
    )?
    .execute(params![user_id, hash, now])?;
    conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([user_id])?;
    // A new password voids every link that would set another, and the failures before it.
    conn.prepare_cached(
        "UPDATE invitations SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL",
    )?
    .execute(params![user_id, now])?;
    conn.prepare_cached("DELETE FROM sign_in_failures WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(())
}

impl AccountStorage for SqliteStorage {
    fn account(&self, user_id: &str) -> Result<Option<Account>> {
        Ok(self
            .reader()
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM users u \
                 LEFT JOIN accounts a ON a.user_id = u.id WHERE u.id = ?1"
            ))?
            .query_row([user_id], account_row)
            .optional()?)
    }

    fn accounts_in(&self, communities: &[String]) -> Result<Vec<Account>> {
        Ok(self
            .reader()
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM users u \
                 LEFT JOIN accounts a ON a.user_id = u.id \
                 WHERE u.community_id IN (SELECT value FROM json_each(?1)) ORDER BY u.id"
            ))?
            .query_map([json_ids(communities)], account_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn set_password(&self, user_id: &str, hash: &str, now: Millis) -> Result<()> {
        self.write(|tx| set_password_in(tx, user_id, hash, now))
    }

    fn set_department(&self, user_id: &str, department: Option<Department>) -> Result<()> {
        self.write(|tx| {
            ensure_row(tx, user_id)?;
            tx.prepare_cached("UPDATE accounts SET department = ?2 WHERE user_id = ?1")?
                .execute(params![user_id, department.map(|d| d.code())])?;
            Ok(())
        })
    }

    fn sign_in_failed(&self, user_id: Option<&str>, address: &str, now: Millis) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM sign_in_failures WHERE at < ?1")?
                .execute([now.saturating_sub(86_400_000)])?;
            tx.prepare_cached(
                "INSERT INTO sign_in_failures (address, user_id, at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![address, user_id, now])?;
            Ok(())
        })
    }

    fn failures(&self, user_id: Option<&str>, address: &str, since: Millis) -> Result<u32> {
        let r = self.reader();
        let n: i64 = match user_id {
            Some(user) => r
                .prepare_cached(
                    "SELECT count(*) FROM sign_in_failures \
                     WHERE user_id = ?1 AND address = ?2 AND at >= ?3",
                )?
                .query_row(params![user, address, since], |r| r.get(0))?,
            None => r
                .prepare_cached(
                    "SELECT count(*) FROM sign_in_failures WHERE address = ?1 AND at >= ?2",
                )?
                .query_row(params![address, since], |r| r.get(0))?,
        };
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn locked_addresses(&self, user_id: &str, since: Millis, limit: u32) -> Result<u32> {
        let n: i64 = self
            .reader()
            .prepare_cached(
                "SELECT count(*) FROM (SELECT address FROM sign_in_failures \
                 WHERE user_id = ?1 AND at >= ?2 GROUP BY address HAVING count(*) >= ?3)",
            )?
            .query_row(params![user_id, since, limit], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn clear_failures(&self, user_id: &str, address: Option<&str>) -> Result<()> {
        self.write(|tx| {
            match address {
                Some(a) => tx
                    .prepare_cached(
                        "DELETE FROM sign_in_failures WHERE user_id = ?1 AND address = ?2",
                    )?
                    .execute(params![user_id, a])?,
                None => tx
                    .prepare_cached("DELETE FROM sign_in_failures WHERE user_id = ?1")?
                    .execute([user_id])?,
            };
            Ok(())
        })
    }

    fn create_session(&self, token_hash: &[u8], s: &SessionRow) -> Result<()> {
        self.write(|tx| {
            // Sessions past their expiry are of no use to anyone: dropped as new ones start.
            tx.prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")?
                .execute([s.created_at])?;
            tx.prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, seen_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                token_hash,
                s.user_id,
                s.csrf,
                s.created_at,
                s.seen_at,
                s.expires_at
            ])?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>> {
        Ok(self
            .reader()
            .prepare_cached(
                "SELECT user_id, csrf, created_at, seen_at, expires_at FROM sessions \
                 WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok(SessionRow {
                    user_id: r.get(0)?,
                    csrf: r.get(1)?,
                    created_at: r.get(2)?,
                    seen_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn touch_session(&self, token_hash: &[u8], seen_at: Millis, expires_at: Millis) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE sessions SET seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1",
            )?
            .execute(params![token_hash, seen_at, expires_at])?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &[u8]) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([token_hash])?;
            Ok(())
        })
    }

    fn end_sessions(&self, user_id: &str) -> Result<u64> {
        self.write(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([user_id])?;
            Ok(n as u64)
        })
    }

    fn create_invitation(
        &self,
        token_hash: &[u8],
        user_id: &str,
        created_by: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO invitations (token_hash, user_id, created_by, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![token_hash, user_id, created_by, now, expires_at])?;
            Ok(())
        })
    }

    fn invitation(&self, token_hash: &[u8], now: Millis) -> Result<Option<String>> {
        Ok(self
            .reader()
            .prepare_cached(
                "SELECT user_id FROM invitations \
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            )?
            .query_row(params![token_hash, now], |r| r.get(0))
            .optional()?)
    }

    fn accept_invitation(
        &self,
        token_hash: &[u8],
        hash: &str,
        now: Millis,
    ) -> Result<Option<String>> {
        self.write(|tx| {
            let user: Option<String> = tx
                .prepare_cached(
                    "UPDATE invitations SET used_at = ?2 \
                     WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 \
                     RETURNING user_id",
                )?
                .query_row(params![token_hash, now], |r| r.get(0))
                .optional()?;
            if let Some(user_id) = &user {
                set_password_in(tx, user_id, hash, now)?;
            }
            Ok(user)
        })
    }

    fn principal(&self, user_id: &str, as_device: &str) -> Result<Option<Device>> {
        let r = self.reader();
        let row: Option<(String, String, i64)> = r
            .prepare_cached(
                "SELECT role, community_id, scope_seq FROM users \
                 WHERE id = ?1 AND deactivated_at IS NULL",
            )?
            .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()?;
        let Some((role_code, community_id, scope_seq)) = row else {
            return Ok(None);
        };
        let (scope, communities) = user_scope(&r, user_id, community_id)?;
        Ok(Some(Device {
            device_id: as_device.to_owned(),
            user_id: user_id.to_owned(),
            role: role(&role_code)?,
            scope,
            communities,
            scope_seq: to_u64(scope_seq),
            final_sync: false,
        }))
    }
}

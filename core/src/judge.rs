//! Judging the signed-in user's incident moves on the phone, by the role table
//! (`linli_domain::roles`) and what the device knows of people: the user's own row and the
//! people of its scope (reference data from the server).
//!
//! What the device cannot know, it leaves to the server, which judges every push again:
//! - a device with no reference row for its own user yet (before the first sync, or a user
//!   the server has not listed) allows every legal move and every report;
//! - the people the server sends are those of the device's scope, so a dispatch target found
//!   among them counts as of the same community (a community admin's scope is their
//!   community); a target the device does not know is refused unless the role dispatches
//!   across communities (street admin).

use rusqlite::{Connection, OptionalExtension};

use crate::db::lock;
use crate::error::{Error, Result};
use crate::lifecycle::Derived;
use crate::model::{IncidentAction, MoveDetail};
use crate::roles::{self, Denied, DispatchGrant, DispatchTarget, MoveContext, Role};
use crate::store::Store;

/// The role of `user_id` in the people table, if the device knows it (and knows the role).
pub(crate) fn role_of(conn: &Connection, user_id: &str) -> Result<Option<Role>> {
    let code: Option<String> = conn
        .prepare_cached("SELECT role FROM people WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?;
    Ok(code.as_deref().and_then(Role::from_code))
}

/// Whether `user_id` may report incidents.
pub(crate) fn check_report(conn: &Connection, user_id: &str) -> Result<()> {
    match role_of(conn, user_id)? {
        Some(role) if !roles::may_report(role) => Err(Error::NotAllowed {
            action: None,
            reason: Denied::Role,
        }),
        _ => Ok(()),
    }
}

/// Whether `user_id` may make `action` with `detail` on an incident whose events say
/// `derived`.
pub(crate) fn check_move(
    conn: &Connection,
    user_id: &str,
    action: IncidentAction,
    derived: &Derived,
    detail: &MoveDetail,
) -> Result<()> {
    let Some(role) = role_of(conn, user_id)? else {
        return Ok(());
    };
    let refuse = |reason| Error::NotAllowed {
        action: Some(action),
        reason,
    };
    let mut ctx = MoveContext {
        handler: derived.handler.as_deref(),
        target: None,
    };
    // Whether the role makes the move at all, wherever it goes.
    roles::check_move(role, user_id, action, &ctx).map_err(refuse)?;
    if action != IncidentAction::Dispatch {
        return Ok(());
    }
    let target_role;
    ctx.target = match (&detail.to, detail.department) {
        (Some(to), _) => {
            target_role = role_of(conn, to)?;
            match target_role {
                Some(role) => Some(DispatchTarget::Person {
                    user_id: to,
                    role,
                    same_community: true,
                }),
                None if role.permissions().dispatch == DispatchGrant::Street => return Ok(()),
                None => return Err(refuse(Denied::Target)),
            }
        }
        (None, Some(_)) => Some(DispatchTarget::Department),
        // No target: the move's own validation refuses it.
        (None, None) => return Ok(()),
    };
    roles::check_move(role, user_id, action, &ctx).map_err(refuse)
}

/// The moves `user_id` may make now: the action menu. Without a role known, every move the
/// status allows (the server judges).
pub(crate) fn menu(role: Option<Role>, user_id: &str, derived: &Derived) -> Vec<IncidentAction> {
    let ctx = MoveContext {
        handler: derived.handler.as_deref(),
        target: None,
    };
    match role {
        Some(role) => roles::allowed_moves(derived.status, role, user_id, &ctx),
        None => derived.status.allowed_actions(),
    }
}

impl Store {
    /// Whether the signed-in user sees residents' phones, ID numbers and sensitive care tags
    /// (`roles::sees_sensitive`), by their role in the people the device knows. Before the
    /// device knows its user's role (no reference data yet) the answer is no: hiding is the
    /// side that cannot leak.
    pub fn sees_sensitive(&self) -> Result<bool> {
        let role = role_of(&lock(&self.reader), &self.identity().user_id)?;
        Ok(role.is_some_and(roles::sees_sensitive))
    }
}

//! Who wrote a push, and whether they may: the attribution of every new change (its actor is
//! the pushing device, its message names the device's user), for incidents the role
//! table (`linli_domain::roles`) applied to every new lifecycle event, and for households
//! the authors of new needs and need events (each must be the pusher, as for incident
//! events). Pure: called by
//! [`crate::merge::merge_push`] on the merged document, people looked up through a closure.

use std::collections::BTreeSet;

use automerge::{AutoCommit, ChangeHash};
use linli_domain::doc;
use linli_domain::lifecycle;
use linli_domain::protocol::{PushOutcome, Role};
use linli_domain::roles::{self, DispatchTarget, MoveContext};
use linli_domain::scope::Scope;
use linli_domain::{IncidentAction, LifecycleEvent, Millis};
use serde::Deserialize;

use crate::error::Result;

/// The device pushing, as the judgement needs it.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    pub device_id: &'a str,
    pub user_id: &'a str,
    pub role: Role,
    pub scope: &'a Scope,
}

/// A person a dispatch may go to: their role and community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub role: Role,
    pub community_id: String,
}

/// The part of a change message (`{"u", "op", "f"}`) the server reads.
#[derive(Deserialize)]
struct Note {
    u: String,
}

/// The user a change message names, if it is a well-formed note.
pub fn message_user(message: Option<&str>) -> Option<String> {
    serde_json::from_str::<Note>(message?).ok().map(|n| n.u)
}

/// Whether every change after `old_heads` was made by the pusher's device (actor = the
/// device's UUID bytes) for its user (message `u`). Changes already held are not among them:
/// a phone re-sends others' changes it pulled.
pub fn attributed(d: &mut AutoCommit, old_heads: &[ChangeHash], who: &Pusher<'_>) -> bool {
    let Ok(device) = uuid::Uuid::parse_str(who.device_id) else {
        return false;
    };
    d.get_changes_meta(old_heads).iter().all(|m| {
        m.actor.to_bytes() == device.as_bytes()
            && message_user(m.message.as_deref()).as_deref() == Some(who.user_id)
    })
}

/// What the stored incident already holds, to tell the push's new events from old ones.
#[derive(Debug, Clone, Default)]
pub struct Before {
    /// Ids of the events the server holds.
    pub event_ids: BTreeSet<String>,
    /// The server's receipt time, if it wrote one.
    pub received_at: Option<Millis>,
    /// Of a household: ids of the needs, and of their events, the server holds.
    pub need_ids: BTreeSet<String>,
    pub need_event_ids: BTreeSet<String>,
}

impl Before {
    pub fn of(d: &AutoCommit) -> Result<Before> {
        let Ok((incident, derived)) = doc::read_incident(d) else {
            return Ok(Before::default());
        };
        Ok(Before {
            event_ids: derived.applied.into_iter().map(|(e, _)| e.id).collect(),
            received_at: incident.received_at,
            ..Before::default()
        })
    }

    /// What a stored household holds of needs.
    pub fn of_household(d: &AutoCommit) -> Result<Before> {
        let Ok((_, id, _)) = doc::describe(d) else {
            return Ok(Before::default());
        };
        let needs = doc::read_needs(d, &id).unwrap_or_default();
        Ok(Before {
            need_event_ids: needs
                .iter()
                .flat_map(|n| n.events.iter().map(|e| e.id.clone()))
                .collect(),
            need_ids: needs.into_iter().map(|n| n.id).collect(),
            ..Before::default()
        })
    }
}

/// Judges the needs of a pushed household: `None` if they read and every need and need
/// event new to the server is the pusher's own, else the refusal. Which moves a need allows
/// is the fold's business (an illegal one is kept and skipped, as on the phones).
pub fn household_needs(
    who: &Pusher<'_>,
    before: &Before,
    merged: &AutoCommit,
) -> Option<PushOutcome> {
    let Ok((_, id, _)) = doc::describe(merged) else {
        return Some(PushOutcome::Invalid);
    };
    let Ok(needs) = doc::read_needs(merged, &id) else {
        return Some(PushOutcome::Invalid);
    };
    for n in &needs {
        if !before.need_ids.contains(&n.id) && n.raised_by != who.user_id {
            return Some(PushOutcome::Invalid);
        }
        for e in &n.events {
            if !before.need_event_ids.contains(&e.id) && e.by != who.user_id {
                return Some(PushOutcome::Invalid);
            }
        }
    }
    None
}

/// Judges the incident moves of a push: `None` if every new event is the pusher's own and
/// allowed by the role table, else the refusal. `base_events` are the events of the document
/// the push built on: each new event is judged with the handler as of them plus the push's
/// own earlier moves. A new incident needs a role that reports, and the pusher as reporter.
pub fn incident_moves(
    who: &Pusher<'_>,
    is_new: bool,
    before: &Before,
    base_events: &[LifecycleEvent],
    merged: &AutoCommit,
    staff_of: &mut dyn FnMut(&str) -> Result<Option<Staff>>,
) -> Result<Option<PushOutcome>> {
    let Ok((incident, _)) = doc::read_incident(merged) else {
        return Ok(Some(PushOutcome::Invalid));
    };
    // Only the server writes its receipt.
    if incident.received_at != before.received_at {
        return Ok(Some(PushOutcome::Invalid));
    }
    if is_new {
        if incident.reporter != who.user_id {
            return Ok(Some(PushOutcome::Invalid));
        }
        if !roles::may_report(who.role) {
            return Ok(Some(PushOutcome::OutOfScope));
        }
    }
    let Ok(events) = doc::read_events(merged) else {
        return Ok(Some(PushOutcome::Invalid));
    };
    let mut new: Vec<&LifecycleEvent> = events
        .iter()
        .filter(|e| !before.event_ids.contains(&e.id))
        .collect();
    new.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut seen: Vec<LifecycleEvent> = base_events.to_vec();
    for e in new {
        if e.by != who.user_id {
            return Ok(Some(PushOutcome::Invalid));
        }
        let handler = lifecycle::derive(&seen).handler;
        let staff;
        let target = match (e.action, &e.to, e.department) {
            (IncidentAction::Dispatch, Some(to), _) => {
                staff = staff_of(to)?;
                let Some(s) = &staff else {
                    return Ok(Some(PushOutcome::OutOfScope));
                };
                Some(DispatchTarget::Person {
                    user_id: to,
                    role: s.role,
                    same_community: s.community_id == incident.community_id,
                })
            }
            (IncidentAction::Dispatch, None, Some(_)) => Some(DispatchTarget::Department),
            _ => None,
        };
        let ctx = MoveContext {
            handler: handler.as_deref(),
            target,
        };
        if let Err(denied) = roles::check_move(who.role, who.user_id, e.action, &ctx) {
            tracing::debug!(action = %e.action.code(), denied = denied.code(), "move refused");
            return Ok(Some(PushOutcome::OutOfScope));
        }
        seen.push(e.clone());
    }
    Ok(None)
}

//! What the server itself writes into incident documents, and the escalation sweep's step.
//! Storage-independent: everything goes through [`DocWrite`] within the caller's one write
//! transaction.
//!
//! - The receipt: when the server first stores an incident it writes `received_at` on its own
//!   clock, as a server change (its actor, message `{"u":"system","op":"incident.received"}`),
//!   logged like any change so every device in scope pulls it, the reporter's included.
//! - Deadlines: whenever an incident changes, its next check time
//!   (`targets::next_check` with the community's targets) is kept in `deadlines`.
//! - Escalation ([`escalate_one`]): re-reads the document inside the transaction, asks
//!   `targets::due_escalation`, and writes at most one `System` escalation event plus a
//!   notification. Re-reading inside one write transaction makes it happen once per level,
//!   across restarts and across server processes sharing the database.

use std::sync::Arc;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use linli_domain::doc::{self, DocKind, DocPlace, heads_to_text};
use linli_domain::incident::MoveDetail;
use linli_domain::lifecycle::Derived;
use linli_domain::protocol::Role;
use linli_domain::roles::{self, MoveContext};
use linli_domain::targets::{self, Targets};
use linli_domain::{Incident, IncidentAction, Level, Millis, moves};
use uuid::Uuid;

use crate::board;
use crate::error::Result;
use crate::merge::{self, DocWrite, Notification, StoredDoc, Update};

/// The author of the server's own changes and events.
pub const SYSTEM_USER: &str = "system";
/// The `device_id` of change rows the server wrote: no device has it, so every device in
/// scope pulls them.
pub const SYSTEM_DEVICE: &str = "system";

/// The server's clock: milliseconds since the Unix epoch. Tests inject their own.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The real clock.
pub fn system_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}

/// Who the server is when it writes: its own Automerge actor (random for each process, so
/// two processes never reuse a sequence number) and its clock.
#[derive(Clone)]
pub struct ServerActor {
    actor: ActorId,
    clock: Clock,
}

impl std::fmt::Debug for ServerActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerActor")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl ServerActor {
    /// A fresh actor with `clock`.
    pub fn new(clock: Clock) -> ServerActor {
        ServerActor {
            actor: ActorId::from(Uuid::new_v4().as_bytes().as_slice()),
            clock,
        }
    }

    /// A fresh actor on the real clock.
    pub fn system() -> ServerActor {
        ServerActor::new(Arc::new(system_now))
    }

    pub fn now(&self) -> Millis {
        (self.clock)()
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }
}

/// The message of a server change: the device's note shape, `{"u", "op", "f"}`.
fn message(user: &str, op: &str) -> String {
    serde_json::json!({ "u": user, "op": op, "f": [] }).to_string()
}

/// Commits what `edit` writes into the stored document `doc_id` as one server change
/// (`u` = `user`), stores it as [`SYSTEM_DEVICE`]'s and keeps the incident's deadline in
/// step. Returns the document after the change; an error from `edit` writes nothing.
pub fn write_as_server(
    tx: &dyn DocWrite,
    server: &ServerActor,
    doc_id: &str,
    stored: &StoredDoc,
    user: &str,
    op: &str,
    edit: &mut dyn FnMut(&mut AutoCommit) -> Result<()>,
) -> Result<AutoCommit> {
    let mut d = AutoCommit::load(&stored.snapshot)?;
    d.set_actor(server.actor.clone());
    let heads = d.get_heads();
    edit(&mut d)?;
    let now = server.now();
    if d.commit_with(
        CommitOptions::default()
            .with_message(message(user, op))
            .with_time(now),
    )
    .is_none()
    {
        return Ok(d);
    }
    let update = Update {
        kind: stored.kind,
        place: stored.place.clone(),
        snapshot: d.save_nocompress(),
        heads: heads_to_text(&d.get_heads()),
        new_changes: d.save_after(&heads),
        moved: false,
        left: None,
    };
    tx.store(SYSTEM_DEVICE, doc_id, &update)?;
    if stored.kind == DocKind::Incident {
        refresh_deadline(tx, now, doc_id, &d)?;
    }
    Ok(d)
}

/// After a push stored `update`: an incident the server receives for the first time gets its
/// receipt time; every incident's deadline follows its document.
pub fn after_push(
    tx: &dyn DocWrite,
    server: &ServerActor,
    doc_id: &str,
    update: &Update,
) -> Result<()> {
    if update.kind != DocKind::Incident {
        return Ok(());
    }
    let d = AutoCommit::load(&update.snapshot)?;
    let received = doc::read_incident(&d).ok().and_then(|(i, _)| i.received_at);
    if received.is_some() {
        return refresh_deadline(tx, server.now(), doc_id, &d);
    }
    let stored = StoredDoc {
        kind: update.kind,
        place: update.place.clone(),
        snapshot: update.snapshot.clone(),
    };
    let now = server.now();
    write_as_server(
        tx,
        server,
        doc_id,
        &stored,
        SYSTEM_USER,
        "incident.received",
        &mut |d| Ok(doc::put_received_at(d, now)?),
    )?;
    Ok(())
}

/// The deadlines of an incident document, with its community's targets; `None` until the
/// server received it (or if it does not read as an incident).
pub fn deadlines_of(
    tx: &dyn DocWrite,
    d: &AutoCommit,
) -> Result<Option<(targets::Deadlines, Targets)>> {
    let Ok((incident, _)) = doc::read_incident(d) else {
        return Ok(None);
    };
    let Some(received) = incident.received_at else {
        return Ok(None);
    };
    let t = tx
        .targets(&incident.community_id)?
        .for_category(incident.category);
    Ok(Some((
        targets::deadlines(received, incident.priority, &t),
        t,
    )))
}

/// An incident document read, with its deadlines (`None` until the server received it);
/// `None` if it does not read as an incident (a newer layout).
fn read_with_deadlines(
    tx: &dyn DocWrite,
    d: &AutoCommit,
) -> Result<Option<(Incident, Derived, Option<targets::Deadlines>)>> {
    let Ok((incident, derived)) = doc::read_incident(d) else {
        return Ok(None);
    };
    let dl = match incident.received_at {
        Some(received) => {
            let t = tx
                .targets(&incident.community_id)?
                .for_category(incident.category);
            Some(targets::deadlines(received, incident.priority, &t))
        }
        None => None,
    };
    Ok(Some((incident, derived, dl)))
}

/// Puts the incident's board row, at its place as stored (the micro-grid of its building
/// filled in, as a push stores it: see `merge::with_micro_grid`).
fn put_row(
    tx: &dyn DocWrite,
    doc_id: &str,
    mut incident: Incident,
    derived: &Derived,
    dl: Option<&targets::Deadlines>,
) -> Result<()> {
    let place = merge::with_micro_grid(place_of(&incident), &mut |id| tx.place(id))?;
    incident.micro_grid_id = place.micro_grid_id;
    tx.index_incident(doc_id, Some(&board::row_of(doc_id, &incident, derived, dl)))
}

fn place_of(i: &Incident) -> DocPlace {
    DocPlace {
        community_id: i.community_id.clone(),
        grid_id: i.grid_id.clone(),
        micro_grid_id: i.micro_grid_id.clone(),
        building_id: i.building_id.clone(),
        unit_id: i.unit_id.clone(),
    }
}

/// Keeps the incident's row in `deadlines` in step with its document: the next time the sweep
/// must look (now, if an escalation is already owed), or no row when nothing more is owed.
/// Keeps its board row (`incident_index`) in step too: a document that does not read as an
/// incident has none.
pub fn refresh_deadline(
    tx: &dyn DocWrite,
    now: Millis,
    doc_id: &str,
    d: &AutoCommit,
) -> Result<()> {
    let Some((incident, derived, dl)) = read_with_deadlines(tx, d)? else {
        return tx.index_incident(doc_id, None);
    };
    let next = dl.and_then(|dl| {
        if targets::due_escalation(&derived, &dl, now).is_some() {
            Some(now)
        } else {
            targets::next_check(&derived, &dl)
        }
    });
    tx.set_deadline(doc_id, &place_of(&incident), next)?;
    put_row(tx, doc_id, incident, &derived, dl.as_ref())
}

/// Puts the board row of a stored incident document (or removes it, if it does not read as
/// one) without touching its deadline: building the index for documents stored before it.
pub fn index_stored(tx: &dyn DocWrite, doc_id: &str, d: &AutoCommit) -> Result<()> {
    match read_with_deadlines(tx, d)? {
        Some((incident, derived, dl)) => put_row(tx, doc_id, incident, &derived, dl.as_ref()),
        None => tx.index_incident(doc_id, None),
    }
}

/// One escalation the sweep made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub doc_id: String,
    pub level: Level,
    pub at: Millis,
    pub notification: u64,
}

/// The sweep's step for one incident, inside the caller's write transaction: re-reads the
/// document, and if a missed target owes it the next level, writes that escalation (a
/// `System` event by "system", through `moves::apply`) and a notification. Otherwise only
/// refreshes its deadline.
pub fn escalate_one(
    tx: &dyn DocWrite,
    server: &ServerActor,
    doc_id: &str,
) -> Result<Option<Escalation>> {
    let now = server.now();
    let Some(stored) = tx.load_doc(doc_id)? else {
        return Ok(None);
    };
    let d = AutoCommit::load(&stored.snapshot)?;
    let (Some((dl, _)), Ok((incident, derived))) = (deadlines_of(tx, &d)?, doc::read_incident(&d))
    else {
        tx.set_deadline(doc_id, &stored.place, None)?;
        return Ok(None);
    };
    let Some(level) = targets::due_escalation(&derived, &dl, now) else {
        refresh_deadline(tx, now, doc_id, &d)?;
        return Ok(None);
    };
    let ctx = MoveContext::default();
    if roles::check_move(Role::System, SYSTEM_USER, IncidentAction::Escalate, &ctx).is_err() {
        return Ok(None);
    }
    // One id per level: should two writers ever race past the transaction, the event is the
    // same event.
    let event = moves::event(
        format!("escalate-{}", level.code()),
        IncidentAction::Escalate,
        SYSTEM_USER.to_owned(),
        now,
        MoveDetail {
            note: "超时未办，系统督办".into(),
            level: Some(level),
            ..MoveDetail::default()
        },
    );
    // Should the document refuse the move (a layout or event this server does not expect),
    // the incident leaves the sweep rather than failing every pass.
    if moves::apply(&mut d.clone(), &event).is_err() {
        tracing::info!("an owed escalation does not apply; incident left out of the sweep");
        tx.set_deadline(doc_id, &stored.place, None)?;
        return Ok(None);
    }
    write_as_server(
        tx,
        server,
        doc_id,
        &stored,
        SYSTEM_USER,
        "incident.escalate",
        &mut |d| {
            moves::apply(d, &event)?;
            Ok(())
        },
    )?;
    let notification = tx.notify(&Notification {
        id: 0,
        doc_id: doc_id.to_owned(),
        community_id: incident.community_id.clone(),
        grid_id: incident.grid_id.clone(),
        kind: "escalated".into(),
        level: Some(level),
        at: now,
    })?;
    tracing::info!(level = level.code(), "incident escalated");
    Ok(Some(Escalation {
        doc_id: doc_id.to_owned(),
        level,
        at: now,
        notification,
    }))
}

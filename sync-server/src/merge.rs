//! Applying a device's pushed changes to the server's copy of a document, and the scope
//! checks that decide who may write and read what. Pure: storage only through [`DocWrite`]
//! (a few primitives over one write transaction), no I/O, so every storage implementation
//! (SQLite now, PostgreSQL later) judges and stores pushes identically.
//!
//! The discipline is the device store's (`linli_core::Store::import_changes`): a strict
//! parse, once ([`linli_domain::changes::parse`]: Automerge's `load_incremental` otherwise
//! accepts a partial load silently), apply the parsed changes, refuse missing dependencies,
//! then read the result back with [`doc::describe`] and check it is the record it claims to
//! be, in a place the device may write, written by the device for its user, with moves its
//! role may make (`judge.rs`). Nothing is returned for storing unless every check passed.
//!
//! Storing (the push, the server's own changes, deadlines, notifications) is over
//! [`DocWrite`]; what the server writes after a push is `workflow.rs`, the loop is `push.rs`.

use std::collections::BTreeSet;

use automerge::{AutoCommit, ChangeHash};
use linli_domain::changes;
use linli_domain::doc::heads_to_text;
use linli_domain::doc::{self, DocKind, DocPlace};
use linli_domain::protocol::PushOutcome;
use linli_domain::targets::CommunityTargets;
use linli_domain::{Level, Millis, Place, PlaceKind};

use crate::board::IncidentRow;
use crate::error::Result;
use crate::judge::{self, Before};
pub use crate::judge::{Pusher, Staff};

/// The server's copy of a document, as stored.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub kind: DocKind,
    pub place: DocPlace,
    /// A full save of the document (uncompressed: see `merge_push`).
    pub snapshot: Vec<u8>,
}

/// What a push changes in storage.
#[derive(Debug, Clone)]
pub struct Update {
    pub kind: DocKind,
    /// The document's place after the push.
    pub place: DocPlace,
    /// The new full save (uncompressed).
    pub snapshot: Vec<u8>,
    /// The new heads, as sorted comma-separated hex hashes.
    pub heads: String,
    /// Only the changes the server did not have (`save_after` the old heads).
    pub new_changes: Vec<u8>,
    /// The push moved an existing document to another place. Devices whose scope holds the
    /// new place but not the old one never had the document, so pulls send them the whole
    /// document for this change rather than a delta they could not apply.
    pub moved: bool,
    /// Where the document was before the push, when it moved: devices covering only that
    /// place are told to forget it.
    pub left: Option<DocPlace>,
}

/// The verdict on one pushed document.
#[derive(Debug, Clone)]
pub enum Merge {
    /// Everything pushed was already held (a replay): store nothing, acknowledge `Stored`.
    Unchanged,
    /// New changes to store.
    Changed(Box<Update>),
    /// Refused; store nothing.
    Refused(PushOutcome),
}

/// A row for the console: something the server did that staff should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Increasing; 0 before it is stored.
    pub id: u64,
    pub doc_id: String,
    pub community_id: String,
    pub grid_id: String,
    /// What happened: `escalated`.
    pub kind: String,
    /// For an escalation: the level reached.
    pub level: Option<Level>,
    pub at: Millis,
}

/// What storing pushes and the server's own writes need, all within one write transaction,
/// so two requests (or two server processes) cannot interleave a load-apply-write of the
/// same document.
pub trait DocWrite {
    /// A stored document.
    fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>>;
    /// Whether the document was erased (a tombstone refuses every push of it).
    fn is_erased(&self, doc_id: &str) -> Result<bool>;
    /// A place of the tree.
    fn place(&self, id: &str) -> Result<Option<Place>>;
    /// A person's role and community (the target of a dispatch).
    fn staff(&self, user_id: &str) -> Result<Option<Staff>>;
    /// Stores a judged update pushed by `device_id` (or written by the server, as
    /// [`crate::workflow::SYSTEM_DEVICE`]): appends its change row to the log (and a
    /// departure when it moved the document), and replaces the stored document.
    fn store(&self, device_id: &str, doc_id: &str, update: &Update) -> Result<()>;
    /// A community's targets (the defaults unless an admin set them), with those of
    /// categories that differ.
    fn targets(&self, community_id: &str) -> Result<CommunityTargets>;
    /// Sets a community's targets, replacing those of every category.
    fn put_targets(&self, community_id: &str, targets: &CommunityTargets) -> Result<()>;
    /// The ids of a community's incident documents.
    fn incident_ids(&self, community_id: &str) -> Result<Vec<String>>;
    /// When the sweep next looks at the incident; `None` removes it from the sweep.
    fn set_deadline(
        &self,
        doc_id: &str,
        place: &DocPlace,
        next_check: Option<Millis>,
    ) -> Result<()>;
    /// Adds a notification row; returns its id.
    fn notify(&self, n: &Notification) -> Result<u64>;
    /// Puts the incident's board row (`None`: removes it, for a document that does not read
    /// as an incident).
    fn index_incident(&self, doc_id: &str, row: Option<&IncidentRow>) -> Result<()>;
}

/// Judges and applies one pushed document.
///
/// `place_of` looks a place up in the server's tree; it is how a document's claimed place is
/// checked to be real (a grid under its community, a building under its grid, a unit under
/// its building), so a device cannot plant a record in another scope by writing a grid it
/// holds next to a building it does not. `staff_of` looks up the person a dispatch names.
pub fn merge_push(
    who: &Pusher<'_>,
    doc_id: &str,
    stored: Option<&StoredDoc>,
    bytes: &[u8],
    place_of: &mut dyn FnMut(&str) -> Result<Option<Place>>,
    staff_of: &mut dyn FnMut(&str) -> Result<Option<Staff>>,
) -> Result<Merge> {
    let scope = who.scope;
    use Merge::Refused;
    // Parsed once, strictly: garbage, a damaged or truncated chunk refuse the whole push.
    // Missing dependencies are judged against the stored document below.
    let Ok(changes) = changes::parse(bytes) else {
        return Ok(Refused(PushOutcome::Invalid));
    };
    let mut d = match stored {
        // The server wrote this snapshot itself; failing to load it is a storage failure.
        Some(s) => AutoCommit::load(&s.snapshot)?,
        None => AutoCommit::new(),
    };
    let old_heads = d.get_heads();
    let before = match stored {
        Some(s) if s.kind == DocKind::Incident => Before::of(&d)?,
        Some(s) if s.kind == DocKind::Household => Before::of_household(&d)?,
        _ => Before::default(),
    };
    // Changes already held are skipped (a replay); those whose dependencies are missing
    // are queued, and reported just below.
    // Caught if Automerge panics (changes contradicting the document): refused, and the
    // half-changed copy dropped with this call.
    if changes::apply(&mut d, changes).is_err() {
        return Ok(Refused(PushOutcome::Invalid));
    }
    if !d.get_missing_deps(&[]).is_empty() {
        return Ok(Refused(PushOutcome::MissingDependencies));
    }
    // (hash, dependencies) of each change the server did not have.
    let new_meta: Vec<(ChangeHash, Vec<ChangeHash>)> = d
        .get_changes_meta(&old_heads)
        .into_iter()
        .map(|m| (m.hash, m.deps))
        .collect();
    if new_meta.is_empty() {
        return Ok(match stored {
            // Not even "you already sent that" to a device outside the record's scope.
            Some(s) if !scope.covers(&s.place) => Refused(PushOutcome::OutOfScope),
            Some(_) => Merge::Unchanged,
            // Nothing at all: not a document.
            None => Refused(PushOutcome::Invalid),
        });
    }
    let Ok((kind, id, place)) = doc::describe(&d) else {
        return Ok(Refused(PushOutcome::Invalid));
    };
    let place = with_micro_grid(place, place_of)?;
    if id != doc_id || stored.is_some_and(|s| s.kind != kind) {
        return Ok(Refused(PushOutcome::Invalid));
    }
    // Every new change is the pushing device's, for its user (held ones were skipped above).
    if !judge::attributed(&mut d, &old_heads, who) {
        return Ok(Refused(PushOutcome::Invalid));
    }
    // Judge the device by what it saw and what it did, not by where others have since moved
    // the record: the document as of the changes its push builds on must have been in its
    // scope, and its own changes must leave the record in its scope, at a real place. A
    // visit recorded offline to a household that another device meanwhile moved out of this
    // device's scope is accepted; moving a record out of one's own scope is not.
    let pushed: BTreeSet<ChangeHash> = new_meta.iter().map(|(h, _)| *h).collect();
    let deps: BTreeSet<ChangeHash> = new_meta
        .iter()
        .flat_map(|(_, deps)| deps.iter().copied())
        .collect();
    let base: Vec<ChangeHash> = deps.difference(&pushed).copied().collect();
    let tips: Vec<ChangeHash> = pushed
        .difference(&deps)
        .chain(base.iter())
        .copied()
        .collect();
    let old: BTreeSet<ChangeHash> = old_heads.iter().copied().collect();
    let built_on_current = base.iter().copied().collect::<BTreeSet<_>>() == old;
    // The common case: the device built on exactly what the server holds, so what it saw is
    // the stored place and what it left is the merged result. Only a push concurrent with
    // others' changes needs the document rebuilt at its base and at its tips.
    let (seen, after) = if built_on_current {
        (stored.map(|s| s.place.clone()), place.clone())
    } else {
        let seen = if base.is_empty() {
            None
        } else {
            match doc::describe(&d.fork_at(&base)?) {
                Ok((_, _, seen)) => Some(with_micro_grid(seen, place_of)?),
                Err(_) => return Ok(Refused(PushOutcome::Invalid)),
            }
        };
        let Ok((_, _, after)) = doc::describe(&d.fork_at(&tips)?) else {
            return Ok(Refused(PushOutcome::Invalid));
        };
        (seen, with_micro_grid(after, place_of)?)
    };
    if seen.is_some_and(|seen| !scope.covers(&seen)) {
        return Ok(Refused(PushOutcome::OutOfScope));
    }
    if !scope.covers(&after)
        || !place_is_real(&after, place_of)?
        || (after != place && !place_is_real(&place, place_of)?)
    {
        return Ok(Refused(PushOutcome::OutOfScope));
    }
    if kind == DocKind::Incident {
        let base_events = if base.is_empty() {
            Vec::new()
        } else {
            doc::read_events(&d.fork_at(&base)?).unwrap_or_default()
        };
        if let Some(refused) =
            judge::incident_moves(who, stored.is_none(), &before, &base_events, &d, staff_of)?
        {
            return Ok(Refused(refused));
        }
    } else if let Some(refused) = judge::household_needs(who, &before, &d) {
        return Ok(Refused(refused));
    }
    let left = stored.filter(|s| s.place != place).map(|s| s.place.clone());
    let moved = left.is_some();
    let new_changes = d.save_after(&old_heads);
    // Stored (and sent in snapshot passes) without Automerge's per-document compression:
    // pages are DEFLATEd whole, which then also finds what documents share (measured: 3.76 MB
    // → 1.67 MB for a 10,000-household first sync).
    let snapshot = d.save_nocompress();
    let heads = heads_to_text(&d.get_heads());
    Ok(Merge::Changed(Box::new(Update {
        kind,
        place,
        snapshot,
        heads,
        new_changes,
        moved,
        left,
    })))
}

/// The place a document is scoped and stored by: as it claims, with the micro-grid of its
/// building filled in when the document names none (written by a version-1 app, which sees
/// such a building under the grid, or before the building was put in a micro-grid), so the
/// micro-grid's worker receives it.
pub(crate) fn with_micro_grid(
    mut place: DocPlace,
    place_of: &mut dyn FnMut(&str) -> Result<Option<Place>>,
) -> Result<DocPlace> {
    if place.micro_grid_id.is_none()
        && let Some(b) = &place.building_id
        && let Some(parent) = place_of(b)?.and_then(|b| b.parent_id)
        && place_of(&parent)?.is_some_and(|p| p.kind == PlaceKind::MicroGrid)
    {
        place.micro_grid_id = Some(parent);
    }
    Ok(place)
}

/// Whether the place a document claims exists in the tree with that shape: a community, a
/// grid of it, optionally a micro-grid of the grid, a building of the grid or of the grid's
/// micro-grid, and a unit of the building.
fn place_is_real(
    place: &DocPlace,
    place_of: &mut dyn FnMut(&str) -> Result<Option<Place>>,
) -> Result<bool> {
    fn is(
        place_of: &mut dyn FnMut(&str) -> Result<Option<Place>>,
        id: &str,
        kind: PlaceKind,
        parent: Option<&str>,
    ) -> Result<bool> {
        Ok(match place_of(id)? {
            Some(p) => p.kind == kind && (parent.is_none() || p.parent_id.as_deref() == parent),
            None => false,
        })
    }
    if !is(place_of, &place.community_id, PlaceKind::Community, None)?
        || !is(
            place_of,
            &place.grid_id,
            PlaceKind::Grid,
            Some(&place.community_id),
        )?
    {
        return Ok(false);
    }
    if let Some(m) = &place.micro_grid_id
        && !is(place_of, m, PlaceKind::MicroGrid, Some(&place.grid_id))?
    {
        return Ok(false);
    }
    if let Some(b) = &place.building_id {
        let Some(building) = place_of(b)?.filter(|p| p.kind == PlaceKind::Building) else {
            return Ok(false);
        };
        let fits = match (&place.micro_grid_id, building.parent_id.as_deref()) {
            (_, None) => false,
            // Under the micro-grid the document names.
            (Some(m), Some(p)) => p == m,
            (None, Some(p)) if p == place.grid_id => true,
            // A version-1 app sees such a building under the grid (protocol::for_version)
            // and names no micro-grid: the building's micro-grid must still be of that grid.
            (None, Some(p)) => is(place_of, p, PlaceKind::MicroGrid, Some(&place.grid_id))?,
        };
        if !fits {
            return Ok(false);
        }
    }
    match (&place.unit_id, &place.building_id) {
        (None, _) => Ok(true),
        (Some(u), Some(b)) => is(place_of, u, PlaceKind::Unit, Some(b)),
        (Some(_), None) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_domain::scope::Scope;

    fn tree() -> Vec<Place> {
        let p = |id: &str, kind, parent: Option<&str>| Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: id.into(),
        };
        vec![
            p("c", PlaceKind::Community, None),
            p("g1", PlaceKind::Grid, Some("c")),
            p("g2", PlaceKind::Grid, Some("c")),
            p("b1", PlaceKind::Building, Some("g1")),
            p("u1", PlaceKind::Unit, Some("b1")),
            p("m1", PlaceKind::MicroGrid, Some("g1")),
            p("m2", PlaceKind::MicroGrid, Some("g2")),
            p("b3", PlaceKind::Building, Some("m1")),
        ]
    }

    fn lookup(id: &str) -> Result<Option<Place>> {
        Ok(tree().into_iter().find(|p| p.id == id))
    }

    fn place(grid: &str, building: Option<&str>, unit: Option<&str>) -> DocPlace {
        DocPlace {
            community_id: "c".into(),
            grid_id: grid.into(),
            micro_grid_id: None,
            building_id: building.map(Into::into),
            unit_id: unit.map(Into::into),
        }
    }

    #[test]
    fn claimed_places_must_be_real() {
        let mut f = lookup;
        assert!(place_is_real(&place("g1", Some("b1"), Some("u1")), &mut f).unwrap());
        assert!(place_is_real(&place("g2", None, None), &mut f).unwrap());
        // A building of grid 1 claimed under grid 2.
        assert!(!place_is_real(&place("g2", Some("b1"), None), &mut f).unwrap());
        assert!(!place_is_real(&place("g9", None, None), &mut f).unwrap());
        assert!(!place_is_real(&place("g1", None, Some("u1")), &mut f).unwrap());
        assert!(!place_is_real(&place("b1", None, None), &mut f).unwrap());
    }

    #[test]
    fn micro_grids_must_be_real_too() {
        let mut f = lookup;
        let at = |grid: &str, m: Option<&str>, b: Option<&str>| DocPlace {
            micro_grid_id: m.map(Into::into),
            ..place(grid, b, None)
        };
        assert!(place_is_real(&at("g1", Some("m1"), Some("b3")), &mut f).unwrap());
        assert!(place_is_real(&at("g1", Some("m1"), None), &mut f).unwrap());
        // A version-1 app names no micro-grid for a building under one.
        assert!(place_is_real(&at("g1", None, Some("b3")), &mut f).unwrap());
        // A micro-grid of another grid, a building not under the micro-grid named.
        assert!(!place_is_real(&at("g1", Some("m2"), None), &mut f).unwrap());
        assert!(!place_is_real(&at("g1", Some("m1"), Some("b1")), &mut f).unwrap());
        assert!(!place_is_real(&at("g2", None, Some("b3")), &mut f).unwrap());
        assert!(!place_is_real(&at("g1", Some("b1"), None), &mut f).unwrap());
    }

    #[test]
    fn a_building_in_a_micro_grid_places_a_document_there() {
        let mut f = lookup;
        let filled = with_micro_grid(place("g1", Some("b3"), None), &mut f).unwrap();
        assert_eq!(filled.micro_grid_id.as_deref(), Some("m1"));
        let plain = with_micro_grid(place("g1", Some("b1"), Some("u1")), &mut f).unwrap();
        assert_eq!(plain, place("g1", Some("b1"), Some("u1")));
        assert_eq!(
            with_micro_grid(place("g1", None, None), &mut f)
                .unwrap()
                .micro_grid_id,
            None
        );
    }

    fn all_scope() -> Scope {
        let mut s = Scope::default();
        s.grant(PlaceKind::Community, "c");
        s
    }

    #[test]
    fn garbage_empty_and_dangling_pushes_are_refused() {
        let scope = all_scope();
        let who = Pusher {
            device_id: "00000000-0000-4000-8000-000000000001",
            user_id: "u",
            role: linli_domain::protocol::Role::Admin,
            scope: &scope,
        };
        let outcome = |stored: Option<&StoredDoc>, bytes: &[u8]| match merge_push(
            &who,
            "x",
            stored,
            bytes,
            &mut lookup,
            &mut |_| Ok(None),
        )
        .unwrap()
        {
            Merge::Refused(o) => Some(o),
            _ => None,
        };
        assert_eq!(outcome(None, b"garbage"), Some(PushOutcome::Invalid));
        assert_eq!(outcome(None, b""), Some(PushOutcome::Invalid));

        // A change whose parent the server has never seen.
        let mut d = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut d, automerge::ROOT, "a", 1).unwrap();
        let heads = d.get_heads();
        automerge::transaction::Transactable::put(&mut d, automerge::ROOT, "a", 2).unwrap();
        let dangling = d.save_after(&heads);
        assert_eq!(
            outcome(None, &dangling),
            Some(PushOutcome::MissingDependencies)
        );
        // Valid Automerge, but not a household or incident.
        assert_eq!(outcome(None, &d.save()), Some(PushOutcome::Invalid));
    }
}

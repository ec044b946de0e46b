//! The store: every write of the device, and the merge surface sync is built on.
//!
//! A write loads the record's document (from a small cache, else snapshot + appended
//! changes), makes one Automerge change whose actor is this device and whose message names
//! the user and the operation, appends the change bytes and updates the query tables in one
//! SQLite transaction. Nothing is written when validation or any step fails.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::transaction::CommitOptions;
use automerge::{
    ActorId, AutoCommit, Automerge, AutomergeError, ChangeHash, LoadOptions, OnPartialLoad,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::doc::{self, DocKind, heads_from_text, heads_to_text};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::{db, projection};

/// Appended changes of a document are folded into its snapshot beyond this many.
const COMPACT_AFTER: i64 = 64;
/// Documents kept loaded in memory for repeated writes.
const CACHE_DOCS: usize = 128;

/// Who is writing: this device (the Automerge actor) and the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// A UUID, fixed for the app's installation.
    pub device_id: String,
    pub user_id: String,
}

/// What a change did, stored as the Automerge change message (`{"u","op","f"}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeNote {
    #[serde(rename = "u")]
    pub user: String,
    pub op: String,
    #[serde(rename = "f", default)]
    pub fields: Vec<String>,
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    docs: HashMap<String, (DocKind, AutoCommit)>,
}

/// What changed, for screens to refresh: after a local write, an import, or a sync round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataChange {
    pub households: bool,
    pub incidents: bool,
    /// The place tree or the people changed.
    pub reference: bool,
    pub doc_ids: Vec<String>,
    pub from_sync: bool,
}

impl DataChange {
    pub(crate) fn of(kind: DocKind, doc_id: &str, from_sync: bool) -> DataChange {
        DataChange {
            households: kind == DocKind::Household,
            incidents: kind == DocKind::Incident,
            reference: false,
            doc_ids: vec![doc_id.to_owned()],
            from_sync,
        }
    }
}

type Observer = Arc<dyn Fn(&DataChange) + Send + Sync>;

pub struct Store {
    pub(crate) writer: Mutex<Writer>,
    observers: Mutex<Vec<(u64, Observer)>>,
    pub(crate) reader: Mutex<Connection>,
    identity: Identity,
    actor: ActorId,
    pub(crate) clock_offset_ms: AtomicI64,
}

/// The result of importing changes from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub kind: DocKindName,
    /// Changes this device did not have before (0 for a duplicate).
    pub new_changes: usize,
}

/// The kind of a document, for callers outside the crate.
pub type DocKindName = &'static str;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite half-written (the transaction rolls
    // back on drop); the cached documents are dropped below when a write fails. So a
    // poisoned lock is safe to take over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn load_doc(conn: &Connection, id: &str, actor: &ActorId) -> Result<Option<(DocKind, AutoCommit)>> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT kind, snapshot FROM documents WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, snapshot)) = row else {
        return Ok(None);
    };
    let kind = DocKind::from_code(&kind).ok_or(Error::CorruptChanges("unknown document kind"))?;
    let mut d = match snapshot {
        Some(bytes) => AutoCommit::load(&bytes)?,
        None => AutoCommit::new(),
    };
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        d.load_incremental(&bytes)?;
    }
    d.set_actor(actor.clone());
    Ok(Some((kind, d)))
}

impl Store {
    /// Opens the store at `path`, creating or upgrading it. Loads no documents.
    pub fn open(path: impl AsRef<Path>, identity: Identity) -> Result<Store> {
        let device = uuid::Uuid::parse_str(&identity.device_id)
            .map_err(|_| invalid("device_id", "not a UUID"))?;
        check_short("user_id", &identity.user_id, true)?;
        let (writer, reader) = db::open(path.as_ref())?;
        let offset = crate::sync::load_clock_offset(&writer)?;
        Ok(Store {
            writer: Mutex::new(Writer {
                conn: writer,
                docs: HashMap::new(),
            }),
            reader: Mutex::new(reader),
            observers: Mutex::new(Vec::new()),
            actor: ActorId::from(device.as_bytes().as_slice()),
            identity,
            clock_offset_ms: AtomicI64::new(offset),
        })
    }

    /// Calls `observer` after every committed change (outside any lock); returns an id for
    /// [`Store::unsubscribe`].
    pub fn subscribe(&self, observer: impl Fn(&DataChange) + Send + Sync + 'static) -> u64 {
        let mut obs = lock(&self.observers);
        let id = obs.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
        obs.push((id, Arc::new(observer)));
        id
    }

    pub fn unsubscribe(&self, id: u64) {
        lock(&self.observers).retain(|(i, _)| *i != id);
    }

    pub(crate) fn notify(&self, change: &DataChange) {
        let observers: Vec<Observer> = lock(&self.observers)
            .iter()
            .map(|(_, o)| o.clone())
            .collect();
        for o in observers {
            o(change);
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Now, by this device's clock corrected by the offset learned from the server.
    pub fn now(&self) -> Millis {
        let local = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        local + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Sets how far the server's clock is ahead of this device's (set by sync).
    pub fn set_clock_offset(&self, offset_ms: Millis) {
        self.clock_offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    // ---- places -----------------------------------------------------------------------

    /// Stores places of the tree (reference data from the server), replacing those with
    /// the same id.
    pub fn put_places(&self, places: &[Place]) -> Result<()> {
        for p in places {
            check_short("place.id", &p.id, true)?;
            check_short("place.name", &p.name, true)?;
        }
        let mut w = lock(&self.writer);
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO places (id, kind, parent_id, name) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for p in places {
                stmt.execute(params![p.id, p.kind.code(), p.parent_id, p.name.trim()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Resolves a building or unit to a full address.
    fn resolve_address(tx: &Transaction<'_>, place_id: &str, room: &str) -> Result<Address> {
        let mut address = Address {
            room: room.trim().to_owned(),
            ..Address::default()
        };
        let mut next = Some(place_id.to_owned());
        let mut first = true;
        while let Some(id) = next.take() {
            let row: Option<(String, Option<String>)> = tx
                .prepare_cached("SELECT kind, parent_id FROM places WHERE id = ?1")?
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (kind, parent) = row.ok_or(Error::NotFound { kind: "place" })?;
            match PlaceKind::from_code(&kind) {
                Some(PlaceKind::Unit) if first => address.unit_id = Some(id),
                Some(PlaceKind::Building) if address.building_id.is_none() => {
                    address.building_id = Some(id)
                }
                Some(PlaceKind::Grid) if !first => {
                    address.grid_id = id;
                }
                Some(PlaceKind::Community) if !first => {
                    address.community_id = id;
                    break;
                }
                _ => return Err(invalid("place", "must be a building or unit under a grid")),
            }
            first = false;
            next = parent;
        }
        if address.grid_id.is_empty() || address.community_id.is_empty() {
            return Err(invalid("place", "must be a building or unit under a grid"));
        }
        Ok(address)
    }

    /// (community, grid, building) of any place at or below a grid.
    fn place_scope(
        tx: &Transaction<'_>,
        place_id: &str,
    ) -> Result<(String, String, Option<String>)> {
        let mut community = None;
        let mut grid = None;
        let mut building = None;
        let mut next = Some(place_id.to_owned());
        while let Some(id) = next.take() {
            let (kind, parent): (String, Option<String>) = tx
                .prepare_cached("SELECT kind, parent_id FROM places WHERE id = ?1")?
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or(Error::NotFound { kind: "place" })?;
            match PlaceKind::from_code(&kind) {
                Some(PlaceKind::Building) => building = Some(id),
                Some(PlaceKind::Grid) => grid = grid.or(Some(id)),
                Some(PlaceKind::Community) => {
                    community = Some(id);
                    break;
                }
                _ => {}
            }
            next = parent;
        }
        match (community, grid) {
            (Some(c), Some(g)) => Ok((c, g, building)),
            _ => Err(invalid("place", "must be at or below a grid")),
        }
    }

    // ---- the write path ---------------------------------------------------------------

    /// Makes one change to one document and persists it with its projections.
    ///
    /// `edit` mutates the document (and may read the transaction); `project` updates the
    /// query tables. Either failing leaves nothing written and the cached copy dropped.
    fn write<R>(
        &self,
        doc_id: &str,
        kind: DocKind,
        create: bool,
        op: &str,
        edit: impl FnOnce(&mut AutoCommit, &Transaction<'_>) -> Result<(R, Vec<&'static str>)>,
        project: impl FnOnce(&Transaction<'_>, &AutoCommit, &R) -> Result<()>,
    ) -> Result<R> {
        let now = self.now();
        let mut guard = lock(&self.writer);
        let w = &mut *guard;
        let mut d = if create {
            AutoCommit::new().with_actor(self.actor.clone())
        } else {
            match w.docs.remove(doc_id) {
                Some((k, d)) if k == kind => d,
                Some(_) => return Err(Error::NotFound { kind: kind.code() }),
                None => match load_doc(&w.conn, doc_id, &self.actor)? {
                    Some((k, d)) if k == kind => d,
                    _ => {
                        return Err(Error::NotFound { kind: kind.code() });
                    }
                },
            }
        };
        // On any error below `d` is dropped, not returned to the cache: the next use reloads
        // it from what was committed.
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old_heads = d.get_heads();
        let (result, fields) = edit(&mut d, &tx)?;
        let note = ChangeNote {
            user: self.identity.user_id.clone(),
            op: op.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        };
        let message = serde_json::to_string(&note).map_err(|_| invalid("note", "unencodable"))?;
        let changed = d
            .commit_with(
                CommitOptions::default()
                    .with_message(message)
                    .with_time(now),
            )
            .is_some();
        if changed {
            persist(&tx, doc_id, kind, &mut d, &old_heads, create)?;
            project(&tx, &d, &result)?;
            tx.commit()?;
        } else {
            drop(tx);
        }
        cache(&mut w.docs, doc_id, kind, d);
        drop(guard);
        if changed {
            self.notify(&DataChange::of(kind, doc_id, false));
        }
        Ok(result)
    }

    /// Reads a document, from the cache or the database.
    fn with_doc<R>(
        &self,
        doc_id: &str,
        kind: DocKind,
        read: impl FnOnce(&mut AutoCommit) -> Result<R>,
    ) -> Result<R> {
        let mut guard = lock(&self.writer);
        let w = &mut *guard;
        if !w.docs.contains_key(doc_id) {
            let loaded = load_doc(&w.conn, doc_id, &self.actor)?
                .ok_or(Error::NotFound { kind: kind.code() })?;
            cache(&mut w.docs, doc_id, loaded.0, loaded.1);
        }
        match w.docs.get_mut(doc_id) {
            Some((k, d)) if *k == kind => read(d),
            _ => Err(Error::NotFound { kind: kind.code() }),
        }
    }

    // ---- households ---------------------------------------------------------------------

    pub fn create_household(&self, new: NewHousehold) -> Result<String> {
        let now = self.now();
        new.validate(now)?;
        let id = new_id();
        let members: Vec<(String, NewMember)> =
            new.members.iter().map(|m| (new_id(), m.clone())).collect();
        self.write(
            &id,
            DocKind::Household,
            true,
            "household.create",
            |d, tx| {
                let address = Self::resolve_address(tx, &new.place_id, &new.room)?;
                doc::init_household(d, &id, now, &address, &new)?;
                for (mid, m) in &members {
                    doc::put_member(d, mid, m)?;
                }
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )?;
        Ok(id)
    }

    pub fn update_household(&self, id: &str, patch: HouseholdPatch) -> Result<()> {
        patch.validate()?;
        self.write(
            id,
            DocKind::Household,
            false,
            "household.update",
            |d, tx| {
                let mut fields = Vec::new();
                if patch.place_id.is_some() || patch.room.is_some() {
                    let current = doc::read_address(d)?;
                    let place = patch
                        .place_id
                        .clone()
                        .or(current.unit_id.clone())
                        .or(current.building_id.clone())
                        .ok_or(invalid("place", "household has no building"))?;
                    let room = patch.room.clone().unwrap_or(current.room);
                    doc::write_address(d, &Self::resolve_address(tx, &place, &room)?)?;
                    fields.push("address");
                }
                doc::put_household_fields(
                    d,
                    patch.residency,
                    patch.housing,
                    patch.notes.as_deref(),
                )?;
                if patch.residency.is_some() {
                    fields.push("residency");
                }
                if patch.housing.is_some() {
                    fields.push("housing");
                }
                if patch.notes.is_some() {
                    fields.push("notes");
                }
                Ok(((), fields))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )
    }

    pub fn add_member(&self, household_id: &str, member: NewMember) -> Result<String> {
        member.validate(self.now())?;
        let mid = new_id();
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.add",
            |d, _| {
                doc::put_member(d, &mid, &member)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )?;
        Ok(mid)
    }

    pub fn update_member(
        &self,
        household_id: &str,
        member_id: &str,
        patch: MemberPatch,
    ) -> Result<()> {
        patch.validate(self.now())?;
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.update",
            |d, _| Ok(((), doc::patch_member(d, member_id, &patch)?)),
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )
    }

    /// Saves a member edited as a whole form: only the fields that differ from what the
    /// device holds are written, so a concurrent edit of another field elsewhere survives.
    pub fn edit_member(&self, household_id: &str, member_id: &str, form: NewMember) -> Result<()> {
        form.validate(self.now())?;
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.update",
            |d, _| {
                let current = doc::read_members(d)?
                    .into_iter()
                    .find(|m| m.id == member_id)
                    .ok_or(Error::NotFound { kind: "member" })?;
                let differs = |a: &Option<String>, b: &Option<String>| {
                    a.as_deref().map(str::trim) != b.as_deref().map(str::trim)
                };
                let patch = MemberPatch {
                    name: (current.name != form.name.trim()).then(|| form.name.clone()),
                    relation: (current.relation != form.relation).then_some(form.relation),
                    birth_year: (current.birth_year != form.birth_year).then_some(form.birth_year),
                    phone: differs(&current.phone, &form.phone).then(|| form.phone.clone()),
                    id_number: differs(&current.id_number, &form.id_number)
                        .then(|| form.id_number.clone()),
                };
                Ok(((), doc::patch_member(d, member_id, &patch)?))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )
    }

    pub fn remove_member(&self, household_id: &str, member_id: &str) -> Result<()> {
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.remove",
            |d, _| {
                doc::remove_member(d, member_id)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )
    }

    pub fn set_tag(&self, household_id: &str, tag: CareTag, on: bool) -> Result<()> {
        self.write(
            household_id,
            DocKind::Household,
            false,
            if on { "tag.add" } else { "tag.remove" },
            |d, _| {
                doc::set_tag(d, tag, on)?;
                Ok(((), vec![tag.code()]))
            },
            |tx, d, _| projection::household(tx, &doc::read_household_head(d)?),
        )
    }

    /// The full household with members and visits (loads its document).
    pub fn household(&self, id: &str) -> Result<Household> {
        self.with_doc(id, DocKind::Household, |d| Ok(doc::read_household(d)?))
    }

    // ---- visits -------------------------------------------------------------------------

    pub fn record_visit(&self, new: NewVisit) -> Result<String> {
        let now = self.now();
        new.validate(now)?;
        let visit = Visit {
            id: new_id(),
            household_id: new.household_id.clone(),
            visitor: self.identity.user_id.clone(),
            at: new.at.unwrap_or(now),
            purpose: new.purpose,
            needs: new.needs,
            done_on_spot: new.done_on_spot,
            follow_up: new.follow_up,
        };
        self.write(
            &new.household_id,
            DocKind::Household,
            false,
            "visit.record",
            |d, _| {
                doc::put_visit(d, &visit)?;
                Ok(((), vec![]))
            },
            |tx, _, _| projection::visit(tx, &visit),
        )?;
        Ok(visit.id)
    }

    // ---- incidents ----------------------------------------------------------------------

    pub fn report_incident(&self, new: NewIncident) -> Result<String> {
        new.validate()?;
        let now = self.now();
        let id = new_id();
        self.write(
            &id,
            DocKind::Incident,
            true,
            "incident.report",
            |d, tx| {
                let (community_id, grid_id, building_id) = match (&new.place_id, &new.household_id) {
                    (Some(place), _) => Self::place_scope(tx, place)?,
                    (None, Some(hh)) => tx
                        .prepare_cached(
                            "SELECT community_id, grid_id, building_id FROM households WHERE id = ?1",
                        )?
                        .query_row([hh], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()?
                        .ok_or(Error::NotFound { kind: "household" })?,
                    (None, None) => return Err(invalid("place", "an incident needs a place")),
                };
                if let Some(hh) = &new.household_id {
                    let known: bool = tx
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM households WHERE id = ?1)")?
                        .query_row([hh], |r| r.get(0))?;
                    if !known {
                        return Err(Error::NotFound { kind: "household" });
                    }
                }
                let incident = Incident {
                    id: id.clone(),
                    category: new.category,
                    description: new.description.clone(),
                    community_id,
                    grid_id,
                    building_id,
                    household_id: new.household_id.clone(),
                    reporter: self.identity.user_id.clone(),
                    priority: new.priority,
                    assignee: new.assignee.clone(),
                    reported_at: now,
                    status: IncidentStatus::Reported,
                    events: vec![],
                };
                doc::init_incident(d, &incident)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )?;
        Ok(id)
    }

    /// Moves an incident along its lifecycle; returns the new status. An illegal move is
    /// an error and records nothing.
    pub fn move_incident(
        &self,
        id: &str,
        action: IncidentAction,
        note: &str,
    ) -> Result<IncidentStatus> {
        check_text("note", note, false)?;
        let event = LifecycleEvent {
            id: new_id(),
            action,
            by: self.identity.user_id.clone(),
            at: self.now(),
            note: note.to_owned(),
        };
        self.write(
            id,
            DocKind::Incident,
            false,
            &format!("incident.{}", action.code()),
            |d, _| {
                let mut events = doc::read_events(d)?;
                let from = crate::lifecycle::derive(&events).status;
                let to = from
                    .after(action)
                    .ok_or(Error::IllegalTransition { from, action })?;
                events.push(event.clone());
                // Guard against a device clock behind earlier events: the move must take
                // effect where the fold will place it.
                if crate::lifecycle::derive(&events).status != to {
                    return Err(Error::IllegalTransition { from, action });
                }
                doc::put_event(d, &event)?;
                if action == IncidentAction::Accept && doc::read_incident(d)?.0.assignee.is_none() {
                    doc::put_assignee(d, Some(&self.identity.user_id))?;
                }
                Ok((to, vec![]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    /// Dispatches (派单) an incident to someone, or clears the assignee.
    pub fn assign_incident(&self, id: &str, assignee: Option<&str>) -> Result<()> {
        if let Some(a) = assignee {
            check_short("assignee", a, true)?;
        }
        self.write(
            id,
            DocKind::Incident,
            false,
            "incident.assign",
            |d, _| {
                doc::put_assignee(d, assignee)?;
                Ok(((), vec!["assignee"]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    pub fn set_incident_priority(&self, id: &str, priority: Priority) -> Result<()> {
        self.write(
            id,
            DocKind::Incident,
            false,
            "incident.priority",
            |d, _| {
                doc::put_priority(d, priority)?;
                Ok(((), vec!["priority"]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    pub fn incident(&self, id: &str) -> Result<Incident> {
        self.with_doc(id, DocKind::Incident, |d| Ok(doc::read_incident(d)?.0))
    }

    // ---- merge surface ------------------------------------------------------------------

    /// The document's current heads (hex change hashes), or `NotFound`.
    pub fn heads(&self, doc_id: &str) -> Result<Vec<String>> {
        let r = lock(&self.reader);
        let text: String = r
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([doc_id], |row| row.get(0))
            .optional()?
            .ok_or(Error::NotFound { kind: "document" })?;
        Ok(text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Everything of the document that is not in the history of `heads`, as Automerge
    /// bytes for `import_changes` elsewhere. Empty `heads` gives the whole document.
    pub fn changes_since(&self, doc_id: &str, heads: &[String]) -> Result<Vec<u8>> {
        let heads = heads_from_text(&heads.join(","))?;
        let kind = self.kind_of(doc_id)?;
        self.with_doc(doc_id, kind, |d| Ok(d.save_after(&heads)))
    }

    /// The kind of a stored document.
    pub fn kind_of(&self, doc_id: &str) -> Result<DocKind> {
        let r = lock(&self.reader);
        let code: String = r
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([doc_id], |row| row.get(0))
            .optional()?
            .ok_or(Error::NotFound { kind: "document" })?;
        DocKind::from_code(&code).ok_or(Error::CorruptChanges("unknown document kind"))
    }

    /// Applies changes made elsewhere (another device, the server). Idempotent: changes
    /// already here are skipped. Corrupt bytes, changes whose dependencies are missing, or
    /// a document that is not a valid household or incident are errors, and nothing is
    /// written. Query tables are updated in the same transaction.
    pub fn import_changes(&self, doc_id: &str, bytes: &[u8]) -> Result<ImportOutcome> {
        self.import(doc_id, bytes, false)
    }

    pub(crate) fn import(
        &self,
        doc_id: &str,
        bytes: &[u8],
        from_server: bool,
    ) -> Result<ImportOutcome> {
        let mut outcomes = self.import_batch(&[(doc_id, bytes)], from_server)?;
        outcomes
            .pop()
            .ok_or(Error::CorruptChanges("nothing imported"))
    }

    /// Imports several documents' changes in ONE transaction (a pulled page: one commit, not
    /// one per document); all or nothing. With `from_server`, a document with no unpushed
    /// local changes is marked as held by the server at its new heads, so what was pulled is
    /// never pushed back.
    pub(crate) fn import_batch(
        &self,
        items: &[(&str, &[u8])],
        from_server: bool,
    ) -> Result<Vec<ImportOutcome>> {
        // Strict parse first: a partial load is otherwise silently accepted by Automerge.
        // Missing dependencies are judged against the stored document below.
        for (_, bytes) in items {
            match Automerge::load_with_options(
                bytes,
                LoadOptions::new().on_partial_load(OnPartialLoad::Error),
            ) {
                Ok(_) | Err(AutomergeError::MissingDeps) => {}
                Err(_) => return Err(Error::CorruptChanges("bytes are not Automerge changes")),
            }
        }
        let mut guard = lock(&self.writer);
        let Writer { conn, docs } = &mut *guard;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Documents touched by this batch; a document may appear twice in one page.
        let mut touched: HashMap<String, (DocKind, AutoCommit)> = HashMap::new();
        let mut outcomes = Vec::with_capacity(items.len());
        let mut changed: Vec<(DocKind, String)> = Vec::new();
        for (doc_id, bytes) in items {
            let doc_id = *doc_id;
            let existing = match touched.remove(doc_id).or_else(|| docs.remove(doc_id)) {
                Some(held) => Some(held),
                None => load_doc(&tx, doc_id, &self.actor)?,
            };
            let create = existing.is_none();
            let (mut d, known_kind) = match existing {
                Some((k, d)) => (d, Some(k)),
                None => (AutoCommit::new().with_actor(self.actor.clone()), None),
            };
            let old_heads = d.get_heads();
            d.load_incremental(bytes)
                .map_err(|_| Error::CorruptChanges("changes could not be applied"))?;
            let missing = d.get_missing_deps(&[]);
            if !missing.is_empty() {
                return Err(Error::MissingDependencies(missing.len()));
            }
            let kind = doc::kind_of(&d)?;
            if known_kind.is_some_and(|k| k != kind) {
                return Err(Error::CorruptChanges("document changed kind"));
            }
            if doc_id_of(&d)? != doc_id {
                return Err(Error::CorruptChanges("document id does not match"));
            }
            let new_changes = d.get_changes_meta(&old_heads).len();
            if new_changes > 0 {
                let clean = create || crate::sync::is_clean(&tx, doc_id)?;
                let seq = persist(&tx, doc_id, kind, &mut d, &old_heads, create)?;
                if from_server && clean {
                    crate::sync::mark_synced(&tx, doc_id, &heads_to_text(&d.get_heads()), seq)?;
                }
                match kind {
                    DocKind::Household => projection::household_doc(&tx, &d)?,
                    DocKind::Incident => projection::incident_doc(&tx, &d)?,
                }
                changed.push((kind, doc_id.to_owned()));
            }
            outcomes.push(ImportOutcome {
                kind: kind.code(),
                new_changes,
            });
            touched.insert(doc_id.to_owned(), (kind, d));
        }
        tx.commit()?;
        for (id, (kind, d)) in touched {
            cache(docs, &id, kind, d);
        }
        drop(guard);
        // Sync reports its imports once per round instead.
        if !from_server {
            for (kind, id) in &changed {
                self.notify(&DataChange::of(*kind, id, false));
            }
        }
        Ok(outcomes)
    }

    /// Removes a document that left this device's scope, with its rows in every table;
    /// returns its kind. A document with local changes the server has not accepted is kept
    /// (returns `None`): nothing of the user's own is dropped.
    pub(crate) fn forget(&self, doc_id: &str) -> Result<Option<DocKind>> {
        let mut guard = lock(&self.writer);
        let w = &mut *guard;
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kind: Option<String> = tx
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([doc_id], |r| r.get(0))
            .optional()?;
        let Some(kind) = kind.as_deref().and_then(DocKind::from_code) else {
            return Ok(None);
        };
        if !crate::sync::is_clean(&tx, doc_id)? {
            return Ok(None);
        }
        for sql in [
            "DELETE FROM doc_changes WHERE doc_id = ?1",
            "DELETE FROM documents WHERE id = ?1",
            "DELETE FROM sync_docs WHERE doc_id = ?1",
            "DELETE FROM change_history WHERE doc_id = ?1",
            "DELETE FROM household_search WHERE rowid = (SELECT rowid FROM households WHERE id = ?1)",
            "DELETE FROM household_search_short WHERE rowid = \
             (SELECT rowid FROM households WHERE id = ?1)",
            "DELETE FROM household_tags WHERE household_id = ?1",
            "DELETE FROM visits WHERE household_id = ?1",
            "DELETE FROM households WHERE id = ?1",
            "DELETE FROM incidents WHERE id = ?1",
        ] {
            tx.prepare_cached(sql)?.execute([doc_id])?;
        }
        tx.commit()?;
        w.docs.remove(doc_id);
        Ok(Some(kind))
    }

    /// Folds every document's appended changes into its snapshot.
    pub fn compact_all(&self) -> Result<usize> {
        let ids: Vec<String> = {
            let w = lock(&self.writer);
            let mut stmt = w
                .conn
                .prepare("SELECT id FROM documents WHERE change_rows > 0")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for id in &ids {
            let mut guard = lock(&self.writer);
            let w = &mut *guard;
            let Some((kind, mut d)) = load_doc(&w.conn, id, &self.actor)? else {
                continue;
            };
            let tx = w
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            compact(&tx, id, &mut d)?;
            tx.commit()?;
            cache(&mut w.docs, id, kind, d);
        }
        Ok(ids.len())
    }

    /// The writer's connection, for tests that inspect the raw tables.
    #[doc(hidden)]
    pub fn with_raw_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&lock(&self.writer).conn)
    }
}

fn doc_id_of(d: &AutoCommit) -> Result<String> {
    use automerge::ReadDoc;
    match d.get(automerge::ROOT, "id")? {
        Some((automerge::Value::Scalar(s), _)) => s
            .as_str()
            .map(str::to_owned)
            .ok_or(Error::CorruptChanges("document id is not text")),
        _ => Err(Error::CorruptChanges("document has no id")),
    }
}

fn cache(
    docs: &mut HashMap<String, (DocKind, AutoCommit)>,
    id: &str,
    kind: DocKind,
    d: AutoCommit,
) {
    if docs.len() >= CACHE_DOCS
        && let Some(evict) = docs.keys().next().cloned()
    {
        docs.remove(&evict);
    }
    docs.insert(id.to_owned(), (kind, d));
}

/// Appends the document's changes since `old_heads`, records their history and moves the
/// document's heads. A new document stores everything as its first snapshot.
fn persist(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: DocKind,
    d: &mut AutoCommit,
    old_heads: &[ChangeHash],
    create: bool,
) -> Result<i64> {
    let seq: i64 = tx
        .prepare_cached("SELECT coalesce(max(local_seq), 0) + 1 FROM documents")?
        .query_row([], |r| r.get(0))?;
    let heads = heads_to_text(&d.get_heads());
    if create {
        tx.prepare_cached(
            "INSERT INTO documents (id, kind, snapshot, heads, change_rows, local_seq) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        )?
        .execute(params![doc_id, kind.code(), d.save(), heads, seq])?;
    } else {
        let bytes = d.save_after(old_heads);
        tx.prepare_cached("INSERT INTO doc_changes (doc_id, bytes) VALUES (?1, ?2)")?
            .execute(params![doc_id, bytes])?;
        let rows: i64 = tx
            .prepare_cached(
                "UPDATE documents SET heads = ?2, change_rows = change_rows + 1, local_seq = ?3 \
                 WHERE id = ?1 RETURNING change_rows",
            )?
            .query_row(params![doc_id, heads, seq], |r| r.get(0))?;
        if rows > COMPACT_AFTER {
            compact(tx, doc_id, d)?;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO change_history (doc_id, hash, device, user_id, at, op, fields) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for meta in d.get_changes_meta(old_heads) {
        let note: ChangeNote = meta
            .message
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(ChangeNote {
                user: String::new(),
                op: "unknown".into(),
                fields: vec![],
            });
        insert.execute(params![
            doc_id,
            meta.hash.to_string(),
            meta.actor.to_hex_string(),
            note.user,
            meta.timestamp,
            note.op,
            note.fields.join(",")
        ])?;
    }
    Ok(seq)
}

/// Replaces the document's snapshot with its full state and deletes the changes folded in.
fn compact(tx: &Transaction<'_>, doc_id: &str, d: &mut AutoCommit) -> Result<()> {
    tx.prepare_cached("UPDATE documents SET snapshot = ?2, change_rows = 0 WHERE id = ?1")?
        .execute(params![doc_id, d.save()])?;
    tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
        .execute([doc_id])?;
    Ok(())
}

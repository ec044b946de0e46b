//! The store: one per signed-in user, opened once. This file holds what every record kind
//! shares: opening, the identity and the clock, observers, the one write path and
//! whole-document reads.
//!
//! A write ([`Store::write`]) loads the record's document (from the cache, else snapshot +
//! appended changes), makes one Automerge change whose actor is this device and whose message
//! names the user and the operation, appends the change bytes and updates the query tables
//! in one SQLite transaction. Nothing is written when validation or any step fails.
//! Whole-document reads go through the document cache and the reader connection, never the
//! writer, so a long write (a pulled page) does not hold up a screen.
//!
//! The calls of each record kind are in their own files: `places.rs`, `households.rs`,
//! `visits.rs`, `incidents.rs`; the merge surface in `merge.rs`.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::cache::DocCache;
use crate::db::{self, lock};
use crate::doc::{self, DocKind};
use crate::documents::{self, ChangeNote};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::sync_state;

/// Who is writing: this device (the Automerge actor) and the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// A UUID, fixed for the app's installation.
    pub device_id: String,
    pub user_id: String,
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

    /// Adds a document of `kind` to what changed.
    pub(crate) fn add(&mut self, kind: DocKind, doc_id: &str) {
        self.households |= kind == DocKind::Household;
        self.incidents |= kind == DocKind::Incident;
        self.doc_ids.push(doc_id.to_owned());
    }
}

type Observer = Arc<dyn Fn(&DataChange) + Send + Sync>;
type Hook = Arc<dyn Fn() + Send + Sync>;

pub struct Store {
    /// The one connection that writes. Held for a whole write transaction.
    pub(crate) writer: Mutex<Connection>,
    /// Reads: the query tables, and documents the cache lacks.
    pub(crate) reader: Mutex<Connection>,
    pub(crate) cache: DocCache,
    observers: Mutex<Vec<(u64, Observer)>>,
    identity: Identity,
    pub(crate) actor: ActorId,
    clock_offset_ms: AtomicI64,
    /// Runs inside a document write just before its commit (tests only).
    before_commit: Mutex<Option<Hook>>,
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Store {
    /// Opens the store at `path` encrypted with `key` (32 raw bytes, kept by the app in the
    /// platform's key store), creating or upgrading it; a plaintext store from an older app
    /// is encrypted first. Loads no documents. A key of another length is
    /// `InvalidInput { field: "key" }`; a key that does not open the file is
    /// [`Error::WrongKey`], and the file is left as it was.
    pub fn open(path: impl AsRef<Path>, identity: Identity, key: &[u8]) -> Result<Store> {
        let key = db::KeySpec::new(key)?;
        Store::open_with(path.as_ref(), identity, Some(&key))
    }

    /// Opens the store unencrypted (plain SQLite): for tests and benchmarks that compare
    /// or read the raw file. Apps use [`Store::open`].
    #[doc(hidden)]
    pub fn open_unencrypted(path: impl AsRef<Path>, identity: Identity) -> Result<Store> {
        Store::open_with(path.as_ref(), identity, None)
    }

    fn open_with(path: &Path, identity: Identity, key: Option<&db::KeySpec>) -> Result<Store> {
        let device = uuid::Uuid::parse_str(&identity.device_id)
            .map_err(|_| invalid("device_id", Reason::BadFormat))?;
        check_short("user_id", &identity.user_id, true)?;
        let (mut writer, reader) = db::open(path, key)?;
        let offset = sync_state::clock_offset(&writer)?;
        let actor = ActorId::from(device.as_bytes().as_slice());
        // Records an older app set aside may be readable now (after an update).
        documents::project_unread(&mut writer, &actor)?;
        Ok(Store {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            cache: DocCache::default(),
            observers: Mutex::new(Vec::new()),
            actor,
            identity,
            clock_offset_ms: AtomicI64::new(offset),
            before_commit: Mutex::new(None),
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
        local_now() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Sets how far the server's clock is ahead of this device's (set by sync).
    pub fn set_clock_offset(&self, offset_ms: Millis) {
        self.clock_offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    // ---- the write path -----------------------------------------------------------------

    /// Makes one change to one document and persists it with its projections.
    ///
    /// `edit` mutates the document (and may read the transaction); `project` updates the
    /// query tables. Either failing leaves nothing written and the cached copy dropped.
    pub(crate) fn write<R>(
        &self,
        doc_id: &str,
        kind: DocKind,
        create: bool,
        op: &str,
        edit: impl FnOnce(&mut AutoCommit, &Transaction<'_>) -> Result<(R, Vec<&'static str>)>,
        project: impl FnOnce(&Transaction<'_>, &AutoCommit, &R) -> Result<()>,
    ) -> Result<R> {
        let now = self.now();
        let mut conn = lock(&self.writer);
        let mut d = if create {
            AutoCommit::new().with_actor(self.actor.clone())
        } else {
            let held = match self.cache.take(doc_id) {
                Some(held) => Some(held),
                None => documents::load(&conn, doc_id, &self.actor)?,
            };
            match held {
                Some((k, d)) if k == kind => {
                    // A record in a layout newer than this app is left as it is: a write
                    // could break what the newer app put there.
                    doc::kind_of(&d)?;
                    d
                }
                _ => return Err(Error::NotFound { kind: kind.code() }),
            }
        };
        // On any error below `d` is dropped, not returned to the cache: the next use reloads
        // it from what was committed.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old_heads = d.get_heads();
        let (result, fields) = edit(&mut d, &tx)?;
        check_my_places(&tx, &d)?;
        let note = ChangeNote {
            user: self.identity.user_id.clone(),
            op: op.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        };
        let message =
            serde_json::to_string(&note).map_err(|_| invalid("note", Reason::BadFormat))?;
        let changed = d
            .commit_with(
                CommitOptions::default()
                    .with_message(message)
                    .with_time(now),
            )
            .is_some();
        if changed {
            documents::persist(&tx, doc_id, kind, &mut d, &old_heads, create)?;
            project(&tx, &d, &result)?;
            let hook = lock(&self.before_commit).clone();
            if let Some(hook) = hook {
                hook();
            }
            tx.commit()?;
        } else {
            drop(tx);
        }
        self.cache.put(doc_id, kind, d);
        drop(conn);
        if changed {
            self.notify(&DataChange::of(kind, doc_id, false));
        }
        Ok(result)
    }

    /// Runs `f` in one writer transaction (writes that are not a change to a document:
    /// reference data, sync state). Committed if `f` succeeds.
    pub(crate) fn transaction<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R>,
    ) -> Result<R> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    // ---- whole-document reads -------------------------------------------------------------

    /// Reads a document of `kind`: from the cache, else loaded through the reader connection
    /// (and offered to the cache). Never takes the writer lock.
    pub(crate) fn read_doc<R>(
        &self,
        doc_id: &str,
        kind: DocKind,
        read: impl FnOnce(&mut AutoCommit) -> Result<R>,
    ) -> Result<R> {
        let entry = match self.cache.get(doc_id) {
            Ok(entry) => entry,
            Err(epoch) => {
                let loaded = {
                    let mut conn = lock(&self.reader);
                    // One read transaction: the snapshot and the appended changes of the
                    // same commit, even if a compaction commits in between.
                    let tx = conn.transaction()?;
                    documents::load(&tx, doc_id, &self.actor)?
                };
                let (k, d) = loaded.ok_or(Error::NotFound { kind: kind.code() })?;
                self.cache.offer(doc_id, epoch, k, d)
            }
        };
        let mut held = lock(&entry);
        if held.0 != kind {
            return Err(Error::NotFound { kind: kind.code() });
        }
        read(&mut held.1)
    }

    // ---- for tests --------------------------------------------------------------------

    /// The writer's connection, for tests that inspect the raw tables. Holds the writer
    /// while `f` runs.
    #[doc(hidden)]
    pub fn with_raw_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&lock(&self.writer))
    }

    /// Runs `hook` inside every document write, just before its commit (`None` removes
    /// it): lets a test look at the store while a write is half done.
    #[doc(hidden)]
    pub fn set_before_commit_hook(&self, hook: Option<Box<dyn Fn() + Send + Sync>>) {
        *lock(&self.before_commit) = hook.map(Arc::from);
    }
}

/// Refuses a record left outside the user's places (the grants the last reference data
/// brought): the server would refuse it too. Before the first sync brought grants, nothing
/// is refused here; the server judges every push anyway.
fn check_my_places(tx: &Transaction<'_>, d: &AutoCommit) -> Result<()> {
    let Some(scope) = sync_state::scope(tx)? else {
        return Ok(());
    };
    // A record this app cannot describe is judged by the writes' own validation.
    let Ok((_, _, mut place)) = doc::describe(d) else {
        return Ok(());
    };
    if place.micro_grid_id.is_none()
        && let Some(building) = &place.building_id
    {
        // The server scopes a record naming no micro-grid by its building's micro-grid.
        place.micro_grid_id = tx
            .prepare_cached(
                "SELECT p.id FROM places b JOIN places p ON p.id = b.parent_id \
                 WHERE b.id = ?1 AND p.kind = 'micro_grid'",
            )?
            .query_row([building], |r| r.get(0))
            .optional()?;
    }
    if scope.covers(&place) {
        Ok(())
    } else {
        Err(Error::OutsideMyPlaces { field: "place" })
    }
}

/// The device clock, in milliseconds since the epoch.
pub(crate) fn local_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

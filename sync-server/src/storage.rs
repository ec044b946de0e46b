//! The storage traits every server database implements, and the types they speak.
//!
//! Split by concern: [`SyncStorage`] is what a sync round needs, [`AdminStorage`] what the
//! `admin` command needs, [`WorkflowStorage`] what the incident workflow needs (targets,
//! the escalation sweep, the JSON API's reads and writes), [`AccountStorage`] what the console's
//! sign-in needs, [`RegisterStorage`] the register and ledgers; [`Storage`] is all five. All SQL (and all other blocking work on the
//! database) lives behind them; the HTTP layer calls them from
//! `tokio::task::spawn_blocking`, never on an async worker. Methods are coarse (one push of a
//! whole request, one page of a pull) so that an implementation can make each one
//! transaction. What must not differ between implementations is shared, pure code: judging
//! pushes in [`crate::merge`], paging pulls in [`crate::pull`] (over [`LogRead`]).
//! [`crate::sqlite::SqliteStorage`] is the embedded implementation; PostgreSQL is to follow,
//! and must pass the conformance suite in `tests/conformance/`.

use linli_domain::doc::DocPlace;
use linli_domain::protocol::{Cursor, DocPush, PushAck, ReferenceData, Role};
use linli_domain::scope::Scope;
use linli_domain::targets::CommunityTargets;
use linli_domain::{Department, Millis, Place};
use sha2::{Digest, Sha256};

use crate::board::{BoardPage, BoardQuery, IncidentRow};
pub use crate::directory::{DeviceInfo, DirectoryStorage, User};
pub use crate::erase::PrivacyStorage;
use crate::error::Result;
pub use crate::merge::Notification;
use crate::merge::{DocWrite, Pusher, StoredDoc};
use crate::pull::{self, Puller};
pub use crate::pull::{LogRead, MAX_PAGE_LIMIT, PAGE_BYTES, Page};
use crate::push;
use crate::register::{
    ExportRecord, HouseholdRow, LedgerFilter, LedgerNeed, LedgerVisit, MemberRow, RegisterPage,
    RegisterQuery,
};
use crate::workflow::{self, Escalation, ServerActor};

/// An authenticated, unrevoked device and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub user_id: String,
    pub role: Role,
    /// The granted places, a street grant expanded to the communities under it (documents
    /// name no street; see `linli_domain::scope`).
    pub scope: Scope,
    /// The communities whose place tree and people the device receives: the user's own and
    /// those of every granted place (a street's: every community under it).
    pub communities: Vec<String>,
    /// The server sequence when the user's grants last changed. A device whose cursor is
    /// before it is sent a snapshot pass, since documents of newly granted places were
    /// never in its change feed.
    pub scope_seq: u64,
    /// The user was deactivated after a final sync, which this device has not made yet:
    /// this sync is its last (see `DirectoryStorage::finish_final_sync`).
    pub final_sync: bool,
}

impl Device {
    /// The device as the push judgement sees it.
    pub fn pusher(&self) -> Pusher<'_> {
        Pusher {
            device_id: &self.device_id,
            user_id: &self.user_id,
            role: self.role,
            scope: &self.scope,
        }
    }
}

/// The result of looking up a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Unknown,
    Revoked,
    Device(Box<Device>),
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub deleted: u64,
    /// Changes up to this sequence are gone; devices behind it get a snapshot pass.
    pub compacted_upto: u64,
}

/// What the sync endpoint needs: authentication, pushes, the pull primitives and reference
/// data. Every method is blocking (the router calls it through `spawn_blocking`).
pub trait SyncStorage: Send + Sync + 'static {
    /// A trivial query, for `/health`.
    fn health(&self) -> Result<()>;

    /// Looks up the device holding `token`.
    fn authenticate(&self, token: &str) -> Result<Auth>;

    /// The server's actor and clock, for what it writes itself.
    fn server(&self) -> &ServerActor;

    /// Runs `write` in one write transaction: every [`DocWrite`] call it makes is part of it,
    /// and it commits only if `write` succeeds. The primitive under [`SyncStorage::push`].
    fn write_docs(
        &self,
        write: &mut dyn FnMut(&dyn DocWrite) -> Result<Vec<PushAck>>,
    ) -> Result<Vec<PushAck>>;

    /// Judges and stores every pushed document in one transaction, so two requests cannot
    /// interleave a load-apply-write of the same document. One acknowledgement per push, in
    /// order; a refused document writes nothing and does not stop the others. The judging
    /// is [`crate::merge`]'s, the same for every implementation; implementations provide
    /// [`SyncStorage::write_docs`].
    fn push(&self, device: &Device, pushes: &[DocPush]) -> Result<Vec<PushAck>> {
        if pushes.is_empty() {
            return Ok(Vec::new());
        }
        let who = device.pusher();
        self.write_docs(&mut |tx| push::push_all(tx, self.server(), &who, pushes))
    }

    /// Runs `read` over one read transaction of the log: every [`LogRead`] call it makes
    /// sees the same state. The primitive under [`SyncStorage::pull`].
    fn read_log(&self, read: &mut dyn FnMut(&dyn LogRead) -> Result<Page>) -> Result<Page>;

    /// One page of what the device's scope holds after `cursor` (see
    /// `linli_domain::protocol` for the cursor's meaning). `page_limit` is clamped to
    /// `1..=MAX_PAGE_LIMIT`. The algorithm is [`crate::pull`]'s, the same for every
    /// implementation; implementations provide [`SyncStorage::read_log`].
    fn pull(&self, device: &Device, cursor: &Cursor, page_limit: u32) -> Result<Page> {
        let who = Puller {
            device_id: &device.device_id,
            user_id: &device.user_id,
            scope: &device.scope,
            scope_seq: device.scope_seq,
        };
        self.read_log(&mut |log| pull::pull(log, who, cursor, page_limit))
    }

    /// Whether the device's scope holds anything a pull from sequence `after` would bring
    /// (see [`pull::changed_since`]: the same rule as a pull, over one read of the log),
    /// and the log's highest sequence.
    fn changed_since(&self, device: &Device, after: u64) -> Result<(bool, u64)> {
        let who = Puller {
            device_id: &device.device_id,
            user_id: &device.user_id,
            scope: &device.scope,
            scope_seq: device.scope_seq,
        };
        let mut answer = (false, 0);
        self.read_log(&mut |log| {
            answer = pull::changed_since(log, who, after)?;
            Ok(Page {
                docs: Vec::new(),
                gone: Vec::new(),
                erased: Vec::new(),
                cursor: Cursor::default(),
                more: false,
            })
        })?;
        Ok(answer)
    }

    /// The device's places and people, unless it already holds `known_version`.
    fn reference(&self, device: &Device, known_version: u64) -> Result<Option<ReferenceData>>;
}

/// What the `admin` command and the demo seed need: places, people, grants, devices,
/// compaction. (The checks on what is written live in [`crate::admin`].)
pub trait AdminStorage: Send + Sync + 'static {
    fn place(&self, id: &str) -> Result<Option<Place>>;
    /// Creates or replaces a place; true if anything changed (and only then is the
    /// reference version bumped).
    fn put_place(&self, place: &Place) -> Result<bool>;
    fn user(&self, id: &str) -> Result<Option<User>>;
    /// Creates or replaces a user; true if anything changed (and only then is the reference
    /// version bumped).
    fn put_user(&self, user: &User) -> Result<bool>;
    /// Grants a user a place; true if it was not granted before. A new grant marks the log
    /// (see [`Device::scope_seq`]) and bumps the reference version.
    fn grant(&self, user_id: &str, place_id: &str) -> Result<bool>;
    /// Registers a device of a user with the hash of its token. An existing device of the
    /// same user gets the new token and is unrevoked; one of another user is an error.
    fn enroll(&self, device_id: &str, user_id: &str, token_hash: &[u8]) -> Result<()>;
    /// Revokes a device; false if it was already revoked, an error if it does not exist.
    fn revoke(&self, device_id: &str) -> Result<bool>;
    fn devices(&self) -> Result<Vec<DeviceInfo>>;
    /// Deletes change rows with `seq <= max_seq - keep_last`. Documents keep their full
    /// snapshots, so nothing is lost: devices behind the horizon get a snapshot pass.
    fn compact(&self, keep_last: u64) -> Result<Compaction>;
    /// Bumped on every change to places, people or grants.
    fn reference_version(&self) -> Result<u64>;
}

/// What the incident workflow needs: the server's own writes in one transaction, the sweep's
/// due list, targets, and the reads of the JSON API. Judging and writing moves is shared code
/// (`workflow.rs`, `api/`); implementations provide the primitives.
pub trait WorkflowStorage: SyncStorage {
    /// Runs `write` in one write transaction (as [`SyncStorage::write_docs`]); it commits only
    /// if `write` succeeds.
    fn write_workflow(&self, write: &mut dyn FnMut(&dyn DocWrite) -> Result<()>) -> Result<()>;

    /// Incidents whose next check is at or before `now`, oldest first, at most `limit`.
    fn due(&self, now: Millis, limit: usize) -> Result<Vec<String>>;

    /// A community's targets (defaults unless set), with those of categories that differ.
    fn targets(&self, community_id: &str) -> Result<CommunityTargets>;

    /// The incident documents in `scope`: (id, full save), by id.
    fn incident_docs(&self, scope: &Scope) -> Result<Vec<(String, Vec<u8>)>>;

    /// One stored document (any kind), for a page that shows it; the caller checks scope.
    fn stored_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>>;

    /// One page of the response board: the incident rows in `scope` that pass `q`'s
    /// filters, in the board order ([`crate::board::board_order`], overdue judged at
    /// `q.now`), `q.offset` rows skipped and at most `q.limit` given, and how many match in
    /// all. Reads `incident_index`, never documents.
    fn board(&self, scope: &Scope, q: &BoardQuery) -> Result<BoardPage>;

    /// An incident's board row (none for an unknown id, or a document that does not read
    /// as an incident).
    fn incident_row(&self, doc_id: &str) -> Result<Option<IncidentRow>>;

    /// Per grid of `scope` that has disputes, by grid: (grid id, open disputes, all
    /// disputes). Open: not closed with an outcome (see
    /// [`IncidentRow::is_open_dispute`]).
    fn open_disputes_by_grid(&self, scope: &Scope) -> Result<Vec<(String, u32, u32)>>;

    /// Notifications of places in `scope` with an id above `after`, oldest first.
    fn notifications(&self, scope: &Scope, after: u64, limit: usize) -> Result<Vec<Notification>>;

    /// Sets a community's targets and moves its incidents' deadlines to match, in one
    /// transaction.
    fn set_targets(&self, community_id: &str, targets: &CommunityTargets) -> Result<()> {
        if targets.validate().is_err() {
            return Err(crate::Error::Invalid {
                field: "targets",
                reason: "each between a minute and a year, response shortest",
            });
        }
        let server = self.server().clone();
        self.write_workflow(&mut |tx| {
            tx.put_targets(community_id, targets)?;
            for id in tx.incident_ids(community_id)? {
                if let Some(stored) = tx.load_doc(&id)? {
                    let d = automerge::AutoCommit::load(&stored.snapshot)?;
                    workflow::refresh_deadline(tx, server.now(), &id, &d)?;
                }
            }
            Ok(())
        })
    }

    /// One pass of the escalation sweep: every due incident is looked at in its own write
    /// transaction, which re-reads it, so each level is reached once however many sweeps
    /// (or server processes) run.
    fn sweep(&self) -> Result<Vec<Escalation>> {
        let server = self.server().clone();
        let mut done = Vec::new();
        loop {
            let due = self.due(server.now(), 100)?;
            let mut progressed = false;
            for id in &due {
                let mut made = None;
                self.write_workflow(&mut |tx| {
                    made = workflow::escalate_one(tx, &server, id)?;
                    Ok(())
                })?;
                if let Some(e) = made {
                    done.push(e);
                    progressed = true;
                }
            }
            // An incident owed two levels is raised one level per transaction, then is due
            // again; stop when a pass raised nothing (the rest is not due yet, or another
            // process took it).
            if !progressed {
                return Ok(done);
            }
        }
    }
}

// Console accounts: who may sign in to the console, their sessions, sign-in throttling and
// invitations. The rules (hashing, locks, session lengths) are the console's (`console/`);
// secrets are never stored: a password as its argon2id PHC string, a token as its SHA-256.

/// A user as the console knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    /// The argon2id PHC string; `None`: no password set yet (an invitation sets one).
    pub password_hash: Option<String>,
    /// A department handler's department.
    pub department: Option<Department>,
    pub password_set_at: Option<Millis>,
}

/// A stored console session (looked up by the hash of its cookie token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: String,
    /// The anti-forgery token every form of the session carries.
    pub csrf: String,
    pub created_at: Millis,
    pub seen_at: Millis,
    pub expires_at: Millis,
}

/// What the console needs of a database. Every method is blocking (handlers call them
/// through `spawn_blocking`), and each write is one transaction.
pub trait AccountStorage: Send + Sync + 'static {
    /// The account of `user_id`; a user without an account row has one with no password.
    fn account(&self, user_id: &str) -> Result<Option<Account>>;

    /// The accounts of every user of these communities, by id.
    fn accounts_in(&self, communities: &[String]) -> Result<Vec<Account>>;

    /// Sets a password hash, clears failures and any lock, and ends every session of the
    /// user (a reset must lock out whoever knew the old password).
    fn set_password(&self, user_id: &str, hash: &str, now: Millis) -> Result<()>;

    /// Sets (or clears) a department handler's department.
    fn set_department(&self, user_id: &str, department: Option<Department>) -> Result<()>;

    /// Records a failed sign-in from `address` against `user_id` (`None`: no such account).
    /// Rows older than a day are dropped here.
    fn sign_in_failed(&self, user_id: Option<&str>, address: &str, now: Millis) -> Result<()>;

    /// Failed sign-ins at or after `since` from `address`: against `user_id` only if given,
    /// else against any account.
    fn failures(&self, user_id: Option<&str>, address: &str, since: Millis) -> Result<u32>;

    /// How many addresses made at least `limit` failed sign-ins against `user_id` at or after
    /// `since` (the addresses the account is locked for).
    fn locked_addresses(&self, user_id: &str, since: Millis, limit: u32) -> Result<u32>;

    /// Forgets the failed sign-ins against `user_id`: from `address` only (a success there),
    /// or from every address (an admin unlocking the account).
    fn clear_failures(&self, user_id: &str, address: Option<&str>) -> Result<()>;

    fn create_session(&self, token_hash: &[u8], session: &SessionRow) -> Result<()>;

    fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>>;

    /// Moves a session's last-seen time and expiry.
    fn touch_session(&self, token_hash: &[u8], seen_at: Millis, expires_at: Millis) -> Result<()>;

    fn end_session(&self, token_hash: &[u8]) -> Result<()>;

    /// Ends every session of a user; returns how many there were.
    fn end_sessions(&self, user_id: &str) -> Result<u64>;

    /// Stores a single-use invitation (its token's hash) to set `user_id`'s password.
    fn create_invitation(
        &self,
        token_hash: &[u8],
        user_id: &str,
        created_by: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()>;

    /// The user an unused, unexpired invitation is for, without using it.
    fn invitation(&self, token_hash: &[u8], now: Millis) -> Result<Option<String>>;

    /// Uses an invitation and sets the password it was for, in one transaction; the user
    /// if the invitation was unused and unexpired, else `None` and nothing written.
    fn accept_invitation(
        &self,
        token_hash: &[u8],
        hash: &str,
        now: Millis,
    ) -> Result<Option<String>>;

    /// The user as the API and the console judge them: role, scope and communities (the
    /// same as a device of theirs), under the device id `as_device`.
    fn principal(&self, user_id: &str, as_device: &str) -> Result<Option<Device>>;
}

/// The register and ledgers (issue 11): the rows projected from household documents, the
/// search, and the export log. Every method is blocking; reads run in one read transaction.
pub trait RegisterStorage: Send + Sync + 'static {
    /// One page of the households in `scope` matching `q`, ordered by place and room, each
    /// with its current members, and how many match in all.
    fn register_page(&self, scope: &Scope, q: &RegisterQuery) -> Result<RegisterPage>;

    /// A household document's place (as the server scopes it) and snapshot (`None`: no
    /// such household). The caller checks the place against its scope.
    fn household_document(&self, doc_id: &str) -> Result<Option<(DocPlace, Vec<u8>)>>;

    /// The board rows of the incidents that name the household, newest first.
    fn household_incidents(&self, household_id: &str) -> Result<Vec<IncidentRow>>;

    /// Every household in `scope` passing `f` (place; care tag as category) with its
    /// current members, ordered by place and room; returns how many households. Streams
    /// from one read transaction; `each` may stop the export with an error.
    fn ledger_households(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(HouseholdRow, Vec<MemberRow>) -> Result<()>,
    ) -> Result<u64>;

    /// Every visit in `scope` passing `f` (place, period; purpose as category), oldest first.
    fn ledger_visits(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(LedgerVisit) -> Result<()>,
    ) -> Result<u64>;

    /// The visits in `scope` in the `weeks` weeks from `start` (a Monday 00:00 in
    /// Asia/Shanghai, so every week is 7 × 24 h long), counted in SQL per grid and week:
    /// `(grid id, week index from 0, visits)`, ordered by grid and week.
    fn visits_per_week(
        &self,
        scope: &Scope,
        start: Millis,
        weeks: u32,
    ) -> Result<Vec<(String, u32, u32)>>;

    /// Every need raised in `scope` passing `f` (place, period raised; need category),
    /// oldest first.
    fn ledger_needs(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(LedgerNeed) -> Result<()>,
    ) -> Result<u64>;

    /// Every incident in `scope` passing `f` (place, period reported; incident category),
    /// oldest reported first.
    fn ledger_incidents(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(IncidentRow) -> Result<()>,
    ) -> Result<u64>;

    /// Adds a row to the export log.
    fn record_export(&self, e: &ExportRecord) -> Result<()>;

    /// The newest `limit` exports whose rows could come from one of `communities`.
    fn exports(&self, communities: &[String], limit: u32) -> Result<Vec<ExportRecord>>;
}

/// The server's database: every concern, as the router's state holds it.
pub trait Storage:
    SyncStorage
    + AdminStorage
    + WorkflowStorage
    + AccountStorage
    + RegisterStorage
    + DirectoryStorage
    + PrivacyStorage
{
}

impl<
    T: SyncStorage
        + AdminStorage
        + WorkflowStorage
        + AccountStorage
        + RegisterStorage
        + DirectoryStorage
        + PrivacyStorage
        + ?Sized,
> Storage for T
{
}

/// How a token is stored: its SHA-256, never the token itself.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A fresh device token: 244 bits of OS randomness as 64 hex characters.
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    workflow::system_now()
}

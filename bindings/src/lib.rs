//! Linli's core for Kotlin, Swift and Python (uniffi, proc-macros, library mode).
//!
//! A thin glue layer: every method is a one-line call into `linli_core::Store`; the types
//! are the core's own (mirrored in `types.rs`). Errors cross as [`LinliError`], whose
//! variants are what a caller can act on, with no personal data in their text. uniffi turns
//! a panic into an internal error instead of letting it cross the FFI. Calls are blocking
//! (SQLite on the device: call them off the main thread) except `sync` and
//! `wait_for_changes`, which are async (Kotlin `suspend`, Swift `async`) and stop when
//! their coroutine / task is cancelled.

mod alerts;
mod enrol;
mod members;
mod needs;
mod places;
mod types;

use std::sync::Arc;

use linli_core::protocol::Person;
use linli_core::*;

uniffi::setup_scaffolding!("linli");

/// What went wrong, as something the app can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LinliError {
    /// The input was refused (field named, value not); nothing was written. Fix the form.
    /// `field` is the core's field code, `reason` a stable reason code (`required`,
    /// `too_long`, `check_character`, … : `linli_domain::Reason`), never free text.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// The record is not on this device (yet): sync, or go back.
    #[error("{kind} not found")]
    NotFound { kind: String },
    /// The incident cannot make this move now; refresh it.
    #[error("an incident that is {from:?} cannot be {action:?}")]
    IllegalTransition {
        from: IncidentStatus,
        action: IncidentAction,
    },
    /// The need cannot make this move now; refresh it. Nothing written.
    #[error("a need that is {from:?} cannot be {action:?}")]
    IllegalNeedTransition {
        from: NeedStatus,
        action: NeedAction,
    },
    /// The signed-in user's role may not make this move (`action`; `None` = reporting):
    /// `reason_code` is the role table's `role`, `not_handler` or `target`. Nothing written.
    #[error("not allowed: {reason_code}")]
    NotAllowed {
        action: Option<IncidentAction>,
        reason_code: String,
    },
    /// No connection to the server; everything is kept and will sync later.
    #[error("network: {reason}")]
    Network { reason: String },
    /// The record would be outside the user's places (their grants): pick a place of
    /// theirs. Nothing written.
    #[error("outside my places: {field}")]
    OutsideMyPlaces { field: String },
    /// The server does not accept this device: sign in / enrol again.
    #[error("not authorised")]
    Unauthorized,
    /// An admin revoked this device.
    #[error("device revoked")]
    Revoked,
    /// The app is too old for the server or for a record: update it.
    #[error("app update required")]
    UnsupportedVersion,
    /// The database key does not open this store (another key, or a damaged file).
    /// Nothing was written to the file.
    #[error("wrong database key")]
    WrongKey,
    /// The device's database failed or is from a newer app.
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// The server failed or answered something unreadable; try again later.
    #[error("server: {reason}")]
    Server { reason: String },
}

impl From<Error> for LinliError {
    fn from(e: Error) -> LinliError {
        let reason = e.to_string();
        match e {
            Error::InvalidInput { field, reason } => LinliError::InvalidInput {
                field: field.into(),
                reason: reason.code().into(),
            },
            Error::NotFound { kind } => LinliError::NotFound { kind: kind.into() },
            Error::IllegalTransition { from, action } => {
                LinliError::IllegalTransition { from, action }
            }
            Error::IllegalNeedTransition { from, action } => {
                LinliError::IllegalNeedTransition { from, action }
            }
            Error::NotAllowed { action, reason } => LinliError::NotAllowed {
                action,
                reason_code: reason.code().into(),
            },
            Error::Network(reason) => LinliError::Network { reason },
            Error::OutsideMyPlaces { field } => LinliError::OutsideMyPlaces {
                field: field.into(),
            },
            Error::Unauthorized => LinliError::Unauthorized,
            Error::Revoked => LinliError::Revoked,
            Error::WrongKey => LinliError::WrongKey,
            Error::UnsupportedVersion => LinliError::UnsupportedVersion,
            Error::Server(reason) => LinliError::Server { reason },
            Error::EnrolCodeSpent => LinliError::InvalidInput {
                field: "enrol_code".into(),
                reason: "used_or_expired".into(),
            },
            Error::Throttled => LinliError::Server {
                reason: "throttled".into(),
            },
            Error::CorruptChanges(_)
            | Error::MissingDependencies(_)
            | Error::IncompatibleSchema { .. }
            | Error::Storage(_)
            | Error::Document(_)
            | Error::Io(_) => LinliError::Storage { reason },
        }
    }
}

type Result<T> = std::result::Result<T, LinliError>;

/// Hears sync progress after every round.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
}

/// Hears that data changed (a write on another screen, a sync round), to refresh.
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    fn on_change(&self, change: DataChange);
}

/// Where to sync: the server's base URL and this device's token; for a server with its own
/// CA (a street office's), that CA's PEM certificate.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncSettings {
    pub server_url: String,
    pub token: String,
    #[uniffi(default = None)]
    pub trusted_certificates: Option<String>,
}

impl SyncSettings {
    fn config(self) -> SyncConfig {
        SyncConfig {
            trusted_certificates: self.trusted_certificates,
            ..SyncConfig::new(self.server_url, self.token)
        }
    }
}

/// The device's store: one per signed-in user, opened once.
#[derive(uniffi::Object)]
pub struct LinliStore {
    pub(crate) store: Store,
}

#[uniffi::export(async_runtime = "tokio")]
impl LinliStore {
    /// Opens (creating or upgrading) the store at `path` for this device and user, encrypted
    /// with `key`: 32 random bytes the app generated once and keeps in the platform's key
    /// store (Android Keystore, iOS Keychain). A plaintext store from an older app is
    /// encrypted on the way. Another key than the store's → `WrongKey`; a key of another
    /// length → `InvalidInput { field: "key" }`.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        device_id: String,
        user_id: String,
        key: Vec<u8>,
    ) -> Result<Arc<LinliStore>> {
        let store = Store::open(path, Identity { device_id, user_id }, &key)?;
        Ok(Arc::new(LinliStore { store }))
    }

    /// Erases every record, history and sync state of this store (sign-out). The app then
    /// drops the store and deletes its files and key. A sync that finds the device revoked
    /// erases the store itself before it fails with `Revoked`.
    pub fn erase_all(&self) -> Result<()> {
        Ok(self.store.erase_everything()?)
    }

    /// Now, by the device clock corrected by the server's (milliseconds).
    pub fn now(&self) -> i64 {
        self.store.now()
    }

    pub fn user_id(&self) -> String {
        self.store.identity().user_id.clone()
    }

    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) -> u64 {
        self.store.subscribe(move |c| listener.on_change(c.clone()))
    }

    pub fn unsubscribe(&self, id: u64) {
        self.store.unsubscribe(id)
    }

    // ---- places and people ----

    pub fn put_places(&self, places: Vec<Place>) -> Result<()> {
        Ok(self.store.put_places(&places)?)
    }

    pub fn places_under(&self, parent_id: Option<String>) -> Result<Vec<Place>> {
        Ok(self.store.places_under(parent_id.as_deref())?)
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        Ok(self.store.people()?)
    }

    // ---- households ----

    pub fn create_household(&self, household: NewHousehold) -> Result<String> {
        Ok(self.store.create_household(household)?)
    }

    pub fn update_household(&self, id: String, patch: HouseholdPatch) -> Result<()> {
        Ok(self.store.update_household(&id, patch)?)
    }

    pub fn add_member(&self, household_id: String, member: NewMember) -> Result<String> {
        Ok(self.store.add_member(&household_id, member)?)
    }

    pub fn edit_member(
        &self,
        household_id: String,
        member_id: String,
        member: NewMember,
    ) -> Result<()> {
        Ok(self.store.edit_member(&household_id, &member_id, member)?)
    }

    pub fn remove_member(&self, household_id: String, member_id: String) -> Result<()> {
        Ok(self.store.remove_member(&household_id, &member_id)?)
    }

    /// Sets a member's gender, residence status (户籍 / 常住 / 流动) and own care tags.
    pub fn set_member_details(
        &self,
        household_id: String,
        member_id: String,
        details: MemberDetails,
    ) -> Result<()> {
        Ok(self
            .store
            .set_member_details(&household_id, &member_id, &details)?)
    }

    /// Records a move-out (迁出) on `at` (milliseconds): the member leaves the list and is kept
    /// among the former members with the date.
    pub fn move_out_member(&self, household_id: String, member_id: String, at: i64) -> Result<()> {
        Ok(self.store.move_out_member(&household_id, &member_id, at)?)
    }

    /// Members who moved out, with their dates.
    pub fn former_members(&self, household_id: String) -> Result<Vec<Member>> {
        Ok(self.store.former_members(&household_id)?)
    }

    pub fn set_tag(&self, household_id: String, tag: CareTag, on: bool) -> Result<()> {
        Ok(self.store.set_tag(&household_id, tag, on)?)
    }

    pub fn household(&self, id: String) -> Result<Household> {
        Ok(self.store.household(&id)?)
    }

    pub fn households_in(&self, place_id: String) -> Result<Vec<HouseholdSummary>> {
        Ok(self.store.households_in(&place_id)?)
    }

    pub fn households_tagged(
        &self,
        place_id: String,
        tag: CareTag,
    ) -> Result<Vec<HouseholdSummary>> {
        Ok(self.store.households_tagged(&place_id, tag)?)
    }

    /// By a member's name in Chinese or pinyin (initials, full, mixed: `zxy`, `zhang xy`), a
    /// phone or the address; best first (the core's `Store::search_households`).
    pub fn search_households(&self, query: String, limit: u32) -> Result<Vec<HouseholdSummary>> {
        Ok(self.store.search_households(&query, limit)?)
    }

    pub fn households_due(
        &self,
        place_id: String,
        policy: VisitPolicy,
        now: i64,
    ) -> Result<Vec<HouseholdSummary>> {
        Ok(self.store.households_due(&place_id, policy, now)?)
    }

    // ---- visits ----

    pub fn record_visit(&self, visit: NewVisit) -> Result<String> {
        Ok(self.store.record_visit(visit)?)
    }

    pub fn visits_of(&self, household_id: String) -> Result<Vec<VisitSummary>> {
        Ok(self.store.visits_of(&household_id)?)
    }

    // ---- incidents ----

    pub fn report_incident(&self, incident: NewIncident) -> Result<String> {
        Ok(self.store.report_incident(incident)?)
    }

    pub fn move_incident(
        &self,
        id: String,
        action: IncidentAction,
        note: String,
    ) -> Result<IncidentStatus> {
        Ok(self.store.move_incident(&id, action, &note)?)
    }

    pub fn move_incident_with(
        &self,
        id: String,
        action: IncidentAction,
        detail: MoveDetail,
    ) -> Result<IncidentStatus> {
        Ok(self.store.move_incident_with(&id, action, detail)?)
    }

    pub fn dispatch_incident(
        &self,
        id: String,
        to: Option<String>,
        department: Option<Department>,
        note: String,
    ) -> Result<IncidentStatus> {
        Ok(self
            .store
            .dispatch_incident(&id, to.as_deref(), department, &note)?)
    }

    pub fn incident_moves(&self, id: String) -> Result<Vec<IncidentAction>> {
        Ok(self.store.incident_moves(&id)?)
    }

    pub fn open_disputes_by_grid(&self) -> Result<Vec<GridDisputes>> {
        Ok(self.store.open_disputes_by_grid()?)
    }

    pub fn assign_incident(&self, id: String, assignee: Option<String>) -> Result<()> {
        Ok(self.store.assign_incident(&id, assignee.as_deref())?)
    }

    pub fn set_incident_priority(&self, id: String, priority: Priority) -> Result<()> {
        Ok(self.store.set_incident_priority(&id, priority)?)
    }

    pub fn incident(&self, id: String) -> Result<Incident> {
        Ok(self.store.incident(&id)?)
    }

    pub fn incidents(&self, filter: IncidentFilter) -> Result<Vec<IncidentSummary>> {
        Ok(self.store.incidents(&filter)?)
    }

    pub fn overdue_incidents(&self, now: i64) -> Result<Vec<IncidentSummary>> {
        Ok(self.store.overdue_incidents(now)?)
    }

    // ---- history and sync ----

    pub fn history(&self, doc_id: String) -> Result<Vec<HistoryEntry>> {
        Ok(self.store.history(&doc_id)?)
    }

    pub fn sync_state(&self) -> Result<SyncState> {
        Ok(self.store.sync_state()?)
    }

    /// Pushes and pulls until up to date. Cancel by cancelling the coroutine / task: the next
    /// sync resumes where the last complete round left off. Records the server refused are
    /// in the report's `refused` (with why), not an error; they stay on the device.
    pub async fn sync(
        &self,
        settings: SyncSettings,
        listener: Option<Arc<dyn SyncListener>>,
    ) -> Result<SyncReport> {
        let config = settings.config();
        let on_progress = move |p: &SyncProgress| {
            if let Some(l) = &listener {
                l.on_progress(p.clone())
            }
        };
        let report = self.store.sync(&config, &on_progress);
        Ok(report.await?)
    }

    /// Holds the server's long poll for up to `wait_seconds` (the server clamps it to
    /// 1..=55): true as soon as something in this device's scope changed that a sync would
    /// pull, false at the timeout. Cancel by cancelling the coroutine / task. The app's loop:
    /// wait, and on true, sync.
    pub async fn wait_for_changes(
        &self,
        settings: SyncSettings,
        wait_seconds: u32,
    ) -> Result<bool> {
        let config = settings.config();
        let wait = std::time::Duration::from_secs(u64::from(wait_seconds));
        let changed = self.store.wait_for_changes(&config, wait);
        Ok(changed.await?)
    }
}

/// When an incident's 15-minute response target runs out (milliseconds).
#[uniffi::export]
pub fn response_deadline(incident: IncidentSummary) -> Option<i64> {
    incident.response_deadline()
}

#[uniffi::export]
pub fn incident_deadlines(incident: Incident) -> Option<linli_core::targets::Deadlines> {
    linli_core::incident_deadlines(&incident)
}

#[uniffi::export]
pub fn resolve_deadline(incident: IncidentSummary) -> Option<i64> {
    incident.resolve_deadline()
}

#[uniffi::export]
pub fn resolve_overdue(incident: IncidentSummary, now: i64) -> bool {
    incident.resolve_overdue(now)
}

/// Whether an incident is past its response target without being accepted.
#[uniffi::export]
pub fn response_overdue(incident: IncidentSummary, now: i64) -> bool {
    incident.response_overdue(now)
}

/// The moves allowed from `status`, for an incident's action menu.
#[uniffi::export]
pub fn allowed_actions(status: IncidentStatus) -> Vec<IncidentAction> {
    status.allowed_actions()
}

/// Whether a care tag makes a household due for visits more often.
#[uniffi::export]
pub fn tag_needs_care(tag: CareTag) -> bool {
    tag.needs_care()
}

/// The default visit policy (monthly; weekly for care-tagged households).
#[uniffi::export]
pub fn default_visit_policy() -> VisitPolicy {
    VisitPolicy::default()
}

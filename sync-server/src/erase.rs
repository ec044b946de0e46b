//! Erasure (删除个人信息, issue 12) and the privacy audit: the types and the storage trait,
//! storage-independent. An erasure deletes every change, snapshot and query row of a
//! household document in one transaction and leaves a tombstone ([`Tombstone`]) that
//! refuses any later push of it (`PushOutcome::Erased`) and tells the devices in scope to
//! purge it (`SyncResponse::erased`). The audit ([`AuditEntry`]) is append-only and holds
//! codes and ids, never personal data; ledger exports stay in their own log
//! (`RegisterStorage::exports`), which the audit page lists beside it.

use linli_domain::Millis;
use linli_domain::doc::DocPlace;

use crate::error::Result;

/// Why a household is erased: a chosen code (free text would invite personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraseReason {
    /// The resident asked (PIPL art. 47).
    ResidentRequest,
    /// Entered by mistake, or a duplicate.
    EnteredByMistake,
    /// The purpose is fulfilled and the record is no longer needed.
    NoLongerNeeded,
    /// Collected or kept against the rules.
    Unlawful,
}

impl EraseReason {
    pub const ALL: [EraseReason; 4] = [
        EraseReason::ResidentRequest,
        EraseReason::EnteredByMistake,
        EraseReason::NoLongerNeeded,
        EraseReason::Unlawful,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EraseReason::ResidentRequest => "resident_request",
            EraseReason::EnteredByMistake => "entered_by_mistake",
            EraseReason::NoLongerNeeded => "no_longer_needed",
            EraseReason::Unlawful => "unlawful",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EraseReason::ResidentRequest => "本人申请删除",
            EraseReason::EnteredByMistake => "误录或重复登记",
            EraseReason::NoLongerNeeded => "处理目的已实现，无需保存",
            EraseReason::Unlawful => "违规收集或保存",
        }
    }

    pub fn from_code(code: &str) -> Option<EraseReason> {
        EraseReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The longest note an erasure may carry (characters).
pub const MAX_NOTE_CHARS: usize = 200;

/// An erasure as the console asks for it; the caller has checked who may erase it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub doc_id: String,
    pub by_user: String,
    pub reason: EraseReason,
    /// Kept only in the audit row.
    pub note: String,
    pub at: Millis,
}

/// What stays of an erased document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub doc_id: String,
    pub place: DocPlace,
    pub erased_at: Millis,
    pub erased_by: String,
    pub reason: EraseReason,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erased {
    /// Erased now: how many change rows went.
    Done { changes: u64 },
    /// Erased before: nothing changed.
    Already,
    /// No such household: nothing changed.
    NotFound,
}

/// What the audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A household page shown with ID numbers and phones unmasked.
    ViewSensitive,
    /// A household erased (`detail`: the reason code, then the note).
    Erase,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::ViewSensitive => "view_sensitive",
            AuditAction::Erase => "erase",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditAction::ViewSensitive => "查看敏感信息",
            AuditAction::Erase => "删除住户",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditAction> {
        [AuditAction::ViewSensitive, AuditAction::Erase]
            .into_iter()
            .find(|a| a.code() == code)
    }
}

/// One row of the audit: ids and codes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Millis,
    pub user_id: String,
    pub action: AuditAction,
    pub doc_id: Option<String>,
    /// Whose admins may read the row.
    pub community_id: String,
    pub detail: String,
}

/// Erasure and the audit on a database. Every method is blocking; each write is one
/// transaction.
pub trait PrivacyStorage: Send + Sync + 'static {
    /// Erases a household document in one transaction: its change rows, departures,
    /// snapshot and register rows go, a tombstone and an audit row are written, and the
    /// log's sequence moves so pulls tell devices in scope. Incidents that name the
    /// household keep their documents and their reference to it. The freed pages are
    /// overwritten and the write-ahead log truncated where the database allows.
    fn erase_household(&self, e: &Erasure) -> Result<Erased>;

    /// The tombstone of an erased document.
    fn tombstone(&self, doc_id: &str) -> Result<Option<Tombstone>>;

    /// Appends a row to the audit.
    fn record_audit(&self, entry: &AuditEntry) -> Result<()>;

    /// The newest `limit` audit rows of these communities.
    fn privacy_audit(&self, communities: &[String], limit: u32) -> Result<Vec<AuditEntry>>;
}

//! The core's records and enums as uniffi sees them.
//!
//! Each item mirrors its definition in `linli-core` field for field (uniffi "remote" types):
//! no conversion code, and the compiler refuses a mirror that drifts from the core.

use linli_core::protocol::{Person, PushOutcome, Role};
use linli_core::targets::Deadlines;
use linli_core::*;

#[uniffi::remote(Enum)]
pub enum PlaceKind {
    Community,
    Grid,
    Building,
    Unit,
    Street,
    MicroGrid,
}

#[uniffi::remote(Enum)]
pub enum Residency {
    Resident,
    Floating,
}

#[uniffi::remote(Enum)]
pub enum Housing {
    Owned,
    Rented,
    Resettlement,
}

#[uniffi::remote(Enum)]
pub enum CareTag {
    ElderlyAlone,
    Disabled,
    LowIncome,
    LeftBehindChild,
    Veteran,
    PartyMember,
    Correction,
}

#[uniffi::remote(Enum)]
pub enum Relation {
    Head,
    Spouse,
    Child,
    Parent,
    Grandchild,
    Grandparent,
    Sibling,
    Tenant,
    Other,
}

#[uniffi::remote(Enum)]
pub enum VisitPurpose {
    Routine,
    AskNeeds,
    FollowUp,
    Care,
    Policy,
    Registration,
    Other,
}

#[uniffi::remote(Enum)]
pub enum NeedCategory {
    Repair,
    ElderCare,
    Dispute,
    Policy,
    MicroWish,
    Employment,
    Health,
    Other,
}

#[uniffi::remote(Enum)]
pub enum IncidentCategory {
    Dispute,
    Parking,
    Noise,
    HighRiseLittering,
    FlyingWireCharging,
    LeakRepair,
    SafetyHazard,
    Other,
}

#[uniffi::remote(Enum)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

#[uniffi::remote(Enum)]
pub enum IncidentStatus {
    Reported,
    Accepted,
    Dispatched,
    InProgress,
    Resolved,
    Closed,
}

#[uniffi::remote(Enum)]
pub enum IncidentAction {
    Accept,
    Start,
    Resolve,
    Close,
    Reopen,
    Dispatch,
    Return,
    Feedback,
    Escalate,
    Other,
}

#[uniffi::remote(Enum)]
pub enum ReturnReason {
    Jurisdiction,
    Ownership,
    Overlap,
    Other,
}

#[uniffi::remote(Enum)]
pub enum Rating {
    Satisfied,
    Basic,
    Unsatisfied,
}

#[uniffi::remote(Enum)]
pub enum DisputeOutcome {
    Mediated,
    Failed,
    Transferred,
}

#[uniffi::remote(Enum)]
pub enum Level {
    Grid,
    Community,
    Street,
}

#[uniffi::remote(Enum)]
pub enum Department {
    Property,
    UrbanManagement,
    Police,
    Mediation,
    Other,
}

#[uniffi::remote(Enum)]
pub enum Role {
    GridWorker,
    BuildingLeader,
    UnitLeader,
    Admin,
    StreetAdmin,
    DepartmentHandler,
    MicroGridWorker,
    System,
}

#[uniffi::remote(Enum)]
pub enum PushOutcome {
    Stored,
    OutOfScope,
    MissingDependencies,
    Invalid,
    Erased,
}

#[uniffi::remote(Record)]
pub struct Place {
    pub id: String,
    pub kind: PlaceKind,
    pub parent_id: Option<String>,
    pub name: String,
}

#[uniffi::remote(Record)]
pub struct Address {
    pub community_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub room: String,
    #[uniffi(default = None)]
    pub micro_grid_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub relation: Relation,
    pub birth_year: Option<i32>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
    pub tags: Vec<CareTag>,
    pub moved_out_at: Option<i64>,
}

#[uniffi::remote(Record)]
pub struct NewMember {
    pub name: String,
    pub relation: Relation,
    pub birth_year: Option<i32>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Household {
    pub id: String,
    pub address: Address,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub notes: String,
    pub members: Vec<Member>,
    pub visits: Vec<Visit>,
    pub created_at: i64,
}

#[uniffi::remote(Record)]
pub struct NewHousehold {
    pub place_id: String,
    pub room: String,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub notes: String,
    pub members: Vec<NewMember>,
}

#[uniffi::remote(Record)]
pub struct HouseholdPatch {
    pub place_id: Option<String>,
    pub room: Option<String>,
    pub residency: Option<Residency>,
    pub housing: Option<Housing>,
    pub notes: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Need {
    pub category: NeedCategory,
    pub text: String,
}

#[uniffi::remote(Record)]
pub struct Visit {
    pub id: String,
    pub household_id: String,
    pub visitor: String,
    pub at: i64,
    pub purpose: VisitPurpose,
    pub needs: Vec<Need>,
    pub done_on_spot: String,
    pub follow_up: bool,
}

#[uniffi::remote(Record)]
pub struct NewVisit {
    pub household_id: String,
    pub at: Option<i64>,
    pub purpose: VisitPurpose,
    pub needs: Vec<Need>,
    pub done_on_spot: String,
    pub follow_up: bool,
}

#[uniffi::remote(Record)]
pub struct LifecycleEvent {
    pub id: String,
    pub action: IncidentAction,
    pub by: String,
    pub at: i64,
    pub note: String,
    pub to: Option<String>,
    pub department: Option<Department>,
    pub reason: Option<ReturnReason>,
    pub rating: Option<Rating>,
    pub level: Option<Level>,
    pub outcome: Option<DisputeOutcome>,
}

#[uniffi::remote(Record)]
pub struct MoveDetail {
    #[uniffi(default = "")]
    pub note: String,
    #[uniffi(default = None)]
    pub to: Option<String>,
    #[uniffi(default = None)]
    pub department: Option<Department>,
    #[uniffi(default = None)]
    pub reason: Option<ReturnReason>,
    #[uniffi(default = None)]
    pub rating: Option<Rating>,
    #[uniffi(default = None)]
    pub level: Option<Level>,
    #[uniffi(default = None)]
    pub outcome: Option<DisputeOutcome>,
}

#[uniffi::remote(Record)]
pub struct Deadlines {
    pub respond_by: i64,
    pub resolve_by: i64,
}

#[uniffi::remote(Record)]
pub struct GridDisputes {
    pub grid_id: String,
    pub open: u32,
}

#[uniffi::remote(Record)]
pub struct DisputeInfo {
    pub parties: String,
    pub mediator: String,
}

#[uniffi::remote(Record)]
pub struct Incident {
    pub id: String,
    pub category: IncidentCategory,
    pub description: String,
    pub community_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub household_id: Option<String>,
    pub reporter: String,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub department: Option<Department>,
    pub reported_at: i64,
    pub received_at: Option<i64>,
    pub status: IncidentStatus,
    pub level: Level,
    pub dispute: Option<DisputeInfo>,
    pub events: Vec<LifecycleEvent>,
    #[uniffi(default = None)]
    pub micro_grid_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct NewIncident {
    pub category: IncidentCategory,
    pub description: String,
    pub place_id: Option<String>,
    pub household_id: Option<String>,
    pub priority: Priority,
    pub assignee: Option<String>,
    #[uniffi(default = None)]
    pub dispute: Option<DisputeInfo>,
}

#[uniffi::remote(Record)]
pub struct HouseholdSummary {
    pub id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub room: String,
    pub address: String,
    pub head_name: Option<String>,
    pub member_count: u32,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub last_visit_at: Option<i64>,
}

#[uniffi::remote(Record)]
pub struct VisitSummary {
    pub id: String,
    pub household_id: String,
    pub visitor: String,
    pub at: i64,
    pub purpose: VisitPurpose,
    pub needs: Vec<NeedCategory>,
    pub follow_up: bool,
}

#[uniffi::remote(Record)]
pub struct IncidentSummary {
    pub id: String,
    pub category: IncidentCategory,
    pub status: IncidentStatus,
    pub priority: Priority,
    pub grid_id: String,
    pub building_id: Option<String>,
    #[uniffi(default = None)]
    pub unit_id: Option<String>,
    pub household_id: Option<String>,
    pub reporter: String,
    pub assignee: Option<String>,
    #[uniffi(default = None)]
    pub handler: Option<String>,
    #[uniffi(default = None)]
    pub department: Option<Department>,
    pub summary: String,
    pub reported_at: i64,
    #[uniffi(default = None)]
    pub received_at: Option<i64>,
    pub level: Level,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    #[uniffi(default = None)]
    pub outcome: Option<DisputeOutcome>,
}

#[uniffi::remote(Record)]
pub struct IncidentFilter {
    pub statuses: Vec<IncidentStatus>,
    pub assignee: Option<String>,
    pub place_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct VisitPolicy {
    pub every_days: u32,
    pub care_every_days: u32,
}

#[uniffi::remote(Record)]
pub struct HistoryEntry {
    pub hash: String,
    pub device: String,
    pub user_id: String,
    pub at: i64,
    pub op: String,
    pub fields: Vec<String>,
}

#[uniffi::remote(Record)]
pub struct SyncProgress {
    pub rounds: u32,
    pub docs_up: u32,
    pub docs_down: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

#[uniffi::remote(Record)]
pub struct SyncReport {
    pub progress: SyncProgress,
    pub refused: Vec<RefusedDoc>,
    pub clock_offset_ms: i64,
    pub finished_at: i64,
}

#[uniffi::remote(Record)]
pub struct RefusedDoc {
    pub doc_id: String,
    pub outcome: PushOutcome,
}

#[uniffi::remote(Record)]
pub struct SyncState {
    pub reference_version: u64,
    pub last_sync_at: Option<i64>,
    pub pending_docs: u32,
}

#[uniffi::remote(Record)]
pub struct DataChange {
    pub households: bool,
    pub incidents: bool,
    pub reference: bool,
    pub doc_ids: Vec<String>,
    pub from_sync: bool,
}

#[uniffi::remote(Record)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub role: Role,
}

// ---- needs raised on visits, followed up ----

#[uniffi::remote(Enum)]
pub enum NeedStatus {
    Open,
    InHand,
    Done,
    Referred,
}

#[uniffi::remote(Enum)]
pub enum NeedAction {
    Take,
    Done,
    Refer,
    Reopen,
    Assign,
    Reschedule,
    Other,
}

#[uniffi::remote(Record)]
pub struct NeedEvent {
    pub id: String,
    pub action: NeedAction,
    pub by: String,
    pub at: i64,
    pub note: String,
    pub owner: Option<String>,
    pub due_at: Option<i64>,
    pub incident_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct NeedItem {
    pub id: String,
    pub household_id: String,
    pub visit_id: String,
    pub category: NeedCategory,
    pub text: String,
    pub raised_by: String,
    pub raised_at: i64,
    pub status: NeedStatus,
    pub owner: String,
    pub due_at: i64,
    pub incident_id: Option<String>,
    pub done_at: Option<i64>,
    pub events: Vec<NeedEvent>,
}

#[uniffi::remote(Record)]
pub struct NewNeed {
    pub visit_id: String,
    pub category: NeedCategory,
    pub text: String,
    #[uniffi(default = None)]
    pub owner: Option<String>,
    #[uniffi(default = None)]
    pub due_at: Option<i64>,
}

#[uniffi::remote(Record)]
pub struct NeedMoveDetail {
    #[uniffi(default = "")]
    pub note: String,
    #[uniffi(default = None)]
    pub owner: Option<String>,
    #[uniffi(default = None)]
    pub due_at: Option<i64>,
    #[uniffi(default = None)]
    pub incident_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct NeedSummary {
    pub id: String,
    pub household_id: String,
    pub address: String,
    pub visit_id: String,
    pub category: NeedCategory,
    pub summary: String,
    pub status: NeedStatus,
    pub owner: String,
    pub raised_by: String,
    pub raised_at: i64,
    pub due_at: i64,
    pub incident_id: Option<String>,
}

#[uniffi::remote(Record)]
pub struct NewNeedIncident {
    pub category: IncidentCategory,
    pub priority: Priority,
    #[uniffi(default = "")]
    pub description: String,
}

//! Incidents (事件, 矛盾纠纷, 诉求) and the moves of their closed loop: 网格发现 → 社区/街道响应
//! (accept, dispatch, handle, escalate) → 跟踪反馈 (resident feedback, close).
//!
//! Plain data plus validation. How an incident's status follows from its events is
//! `lifecycle.rs`; who may make which move is `roles.rs`; its clocks are `targets.rs`.

use serde::{Deserialize, Serialize};

use crate::codes::Reason;
pub use crate::codes::{
    Department, DisputeOutcome, IncidentAction, IncidentCategory, IncidentStatus, Level, Priority,
    Rating, ReturnReason,
};
use crate::error::{Result, invalid};
use crate::model::{Millis, check_short, check_text};

/// One move of an incident, as recorded; the status is derived from the set of these.
/// The optional fields belong to particular moves: `to`/`department` to a dispatch,
/// `reason` to a return, `rating` to feedback, `level` to an escalation and `outcome` to the
/// resolution of a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    pub id: String,
    pub action: IncidentAction,
    pub by: String,
    pub at: Millis,
    pub note: String,
    pub to: Option<String>,
    pub department: Option<Department>,
    pub reason: Option<ReturnReason>,
    pub rating: Option<Rating>,
    pub level: Option<Level>,
    pub outcome: Option<DisputeOutcome>,
}

impl LifecycleEvent {
    /// An event with no move-specific fields.
    pub fn new(id: String, action: IncidentAction, by: String, at: Millis, note: String) -> Self {
        LifecycleEvent {
            id,
            action,
            by,
            at,
            note,
            to: None,
            department: None,
            reason: None,
            rating: None,
            level: None,
            outcome: None,
        }
    }
}

/// What a move carries besides its action, as the forms fill it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveDetail {
    pub note: String,
    /// Dispatch: the handler (a user id).
    pub to: Option<String>,
    /// Dispatch: the department, when dispatched to one.
    pub department: Option<Department>,
    /// Return: why.
    pub reason: Option<ReturnReason>,
    /// Feedback: the resident's verdict.
    pub rating: Option<Rating>,
    /// Escalation: the level raised to.
    pub level: Option<Level>,
    /// Resolution of a dispute: how it ended.
    pub outcome: Option<DisputeOutcome>,
}

impl MoveDetail {
    /// Checks the fields a move needs are there, and only those.
    pub fn validate(&self, action: IncidentAction, category: IncidentCategory) -> Result<()> {
        use IncidentAction as A;
        check_text("note", &self.note, false)?;
        if let Some(to) = &self.to {
            check_short("to", to, true)?;
        }
        let needs = |present: bool, field: &'static str, wanted: bool| match (present, wanted) {
            (false, true) => Err(invalid(field, Reason::Required)),
            (true, false) => Err(invalid(field, Reason::NotAllowedHere)),
            _ => Ok(()),
        };
        needs(
            self.to.is_some() || self.department.is_some(),
            "to",
            action == A::Dispatch,
        )?;
        needs(self.reason.is_some(), "reason", action == A::Return)?;
        needs(self.rating.is_some(), "rating", action == A::Feedback)?;
        needs(self.level.is_some(), "level", action == A::Escalate)?;
        // A dispute is resolved with its outcome; other incidents have none.
        needs(
            self.outcome.is_some(),
            "outcome",
            action == A::Resolve && category == IncidentCategory::Dispute,
        )?;
        if self.level == Some(Level::Grid) {
            return Err(invalid("level", Reason::OutOfRange));
        }
        if matches!(action, A::Close | A::Return | A::Reopen) && self.note.trim().is_empty() {
            return Err(invalid("note", Reason::Required));
        }
        if action == A::Other {
            return Err(invalid("action", Reason::NotAllowedHere));
        }
        Ok(())
    }
}

/// The parties and mediator of a dispute (矛盾纠纷), free text: 张某 与 李某.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeInfo {
    pub parties: String,
    pub mediator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The current handler: the last dispatch's, else whoever accepted it.
    pub assignee: Option<String>,
    pub department: Option<Department>,
    /// When the reporter's device recorded it (the device's clock).
    pub reported_at: Millis,
    /// When the server first received it (the server's clock): every target is measured from
    /// here. `None` on a device until the server's receipt has synced back: "not yet received".
    pub received_at: Option<Millis>,
    pub status: IncidentStatus,
    pub level: Level,
    pub dispute: Option<DisputeInfo>,
    /// In the order they were applied to derive `status`.
    pub events: Vec<LifecycleEvent>,
    /// The micro-grid (微网格) of its building, if any (last, so positional constructors keep working).
    #[serde(default)]
    pub micro_grid_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub category: IncidentCategory,
    pub description: String,
    /// The place it happened (grid, building or unit); may be omitted when a household is given.
    pub place_id: Option<String>,
    pub household_id: Option<String>,
    pub priority: Priority,
    pub assignee: Option<String>,
    /// For a dispute: who the parties are and who mediates.
    pub dispute: Option<DisputeInfo>,
}

impl NewIncident {
    pub fn validate(&self) -> Result<()> {
        check_text("description", &self.description, true)?;
        if self.place_id.is_none() && self.household_id.is_none() {
            return Err(invalid("place", Reason::Required));
        }
        if let Some(a) = &self.assignee {
            check_short("assignee", a, true)?;
        }
        if let Some(d) = &self.dispute {
            if self.category != IncidentCategory::Dispute {
                return Err(invalid("dispute", Reason::NotAllowedHere));
            }
            check_text("parties", &d.parties, false)?;
            check_short("mediator", &d.mediator, false)?;
        }
        Ok(())
    }
}

//! An incident's closed loop, as a pure function of its events.
//!
//! ```text
//! reported ─accept─▶ accepted ─dispatch─▶ dispatched ─start─▶ in_progress ─resolve─▶ resolved
//!                      ▲  │  └──start──────────────────────────▲     │                  │
//!                      └──┼──── return (退单, from dispatched or in progress) ◀─┘        feedback
//!                         └──resolve (就地解决) ─────────────────────────────▶     满意 / 基本满意 ─▶ closed
//!                                                                      不满意 ─▶ in_progress (reopened)
//! escalate (督办): any open status, raises the level grid → community → street, status unchanged
//! close (with a reason, no feedback) ─▶ closed;  reopen (resolved or closed) ─▶ in_progress
//! ```
//!
//! The status is never stored as a field that devices overwrite. Each move is an event in a
//! set that only grows (a keyed map in the incident's document); the status is a pure
//! function of that set. Two devices that merged the same events therefore agree on the
//! status whatever order the merges happened in. Events are folded in (time, id) order; an
//! event that is not a legal move at its turn (say, both devices accepted offline) is kept in
//! the history but changes nothing. Who may make a move is not the fold's business: the phone
//! and the server check that before an event is written or stored (`roles.rs`).
//!
//! One rule the fold does keep, because it needs only the events: feedback of 满意 / 基本满意
//! closes the incident only if it is recorded by someone other than the handler who resolved
//! it (no false closures, 虚假办结).

#[cfg(test)]
use crate::incident::ReturnReason;
use crate::incident::{
    Department, DisputeOutcome, IncidentAction, IncidentStatus, Level, LifecycleEvent, Rating,
};
use crate::model::Millis;

impl IncidentStatus {
    /// Whether the loop is still open (not resolved, not closed).
    pub fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Resolved | IncidentStatus::Closed)
    }

    /// The status after `action` by itself, or `None` if the move is never allowed from
    /// here. Feedback is shown as closing; whether it does depends on who gives it (see
    /// [`derive`]).
    pub fn after(self, action: IncidentAction) -> Option<IncidentStatus> {
        use IncidentAction as A;
        use IncidentStatus as S;
        match (self, action) {
            (S::Reported, A::Accept) => Some(S::Accepted),
            // The handler's own acceptance (签收) of a dispatched order is recorded; the order
            // stays dispatched until work starts.
            (S::Dispatched, A::Accept) => Some(S::Dispatched),
            (S::Accepted | S::Dispatched, A::Dispatch) => Some(S::Dispatched),
            (S::Accepted | S::Dispatched, A::Start) => Some(S::InProgress),
            // Small things are often handled on the spot: accepted → resolved is allowed.
            (S::Accepted | S::Dispatched | S::InProgress, A::Resolve) => Some(S::Resolved),
            // 退单: back to whoever dispatched.
            (S::Dispatched | S::InProgress, A::Return) => Some(S::Accepted),
            (S::Resolved, A::Feedback) => Some(S::Closed),
            (S::Resolved, A::Close) => Some(S::Closed),
            (S::Resolved | S::Closed, A::Reopen) => Some(S::InProgress),
            (s, A::Escalate) if s.is_open() => Some(s),
            _ => None,
        }
    }

    /// The moves allowed from this status by someone, in menu order. Which of them a given
    /// user may make is [`crate::roles::allowed_moves`].
    pub fn allowed_actions(self) -> Vec<IncidentAction> {
        IncidentAction::MENU
            .iter()
            .copied()
            .filter(|a| self.after(*a).is_some())
            .collect()
    }
}

/// What the events say about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub status: IncidentStatus,
    /// The first accept: the response time is measured to it.
    pub accepted_at: Option<Millis>,
    /// The current handler's own acceptance (签收) of the last dispatch.
    pub handler_accepted_at: Option<Millis>,
    pub dispatched_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    /// The current handler: the last dispatch's, else whoever first accepted.
    pub handler: Option<String>,
    pub department: Option<Department>,
    /// Who resolved it last (feedback by them does not close it).
    pub resolver: Option<String>,
    /// The level answerable now, raised by escalations.
    pub level: Level,
    /// When each level above the grid was reached.
    pub escalated_at: Vec<(Level, Millis)>,
    pub returns: u32,
    pub reopens: u32,
    /// The last feedback that took effect.
    pub rating: Option<Rating>,
    /// How a dispute ended, from its last resolution.
    pub outcome: Option<DisputeOutcome>,
    /// Events in fold order, with whether each took effect.
    pub applied: Vec<(LifecycleEvent, bool)>,
}

impl Derived {
    fn new(capacity: usize) -> Derived {
        Derived {
            status: IncidentStatus::Reported,
            accepted_at: None,
            handler_accepted_at: None,
            dispatched_at: None,
            resolved_at: None,
            closed_at: None,
            handler: None,
            department: None,
            resolver: None,
            level: Level::Grid,
            escalated_at: Vec::new(),
            returns: 0,
            reopens: 0,
            rating: None,
            outcome: None,
            applied: Vec::with_capacity(capacity),
        }
    }

    /// Applies one event if it is a legal move now; returns whether it took effect.
    fn apply(&mut self, e: &LifecycleEvent) -> bool {
        use IncidentAction as A;
        let Some(mut next) = self.status.after(e.action) else {
            return false;
        };
        match e.action {
            A::Accept => {
                if self.status == IncidentStatus::Dispatched {
                    self.handler_accepted_at = Some(e.at);
                } else {
                    self.accepted_at.get_or_insert(e.at);
                    self.handler.get_or_insert_with(|| e.by.clone());
                }
            }
            A::Dispatch => {
                if e.to.is_none() && e.department.is_none() {
                    return false;
                }
                self.handler = e.to.clone();
                self.department = e.department;
                self.dispatched_at = Some(e.at);
                self.handler_accepted_at = None;
            }
            A::Return => {
                self.returns += 1;
                self.handler = None;
                self.department = None;
                self.handler_accepted_at = None;
            }
            A::Resolve => {
                self.resolved_at = Some(e.at);
                self.resolver = Some(e.by.clone());
                if e.outcome.is_some() {
                    self.outcome = e.outcome;
                }
            }
            A::Feedback => match e.rating {
                Some(Rating::Unsatisfied) => {
                    next = IncidentStatus::InProgress;
                    self.reopen();
                    self.rating = e.rating;
                }
                Some(Rating::Satisfied | Rating::Basic)
                    if self.resolver.as_deref() != Some(e.by.as_str()) =>
                {
                    self.closed_at = Some(e.at);
                    self.rating = e.rating;
                }
                // Praise from the resolver, or no rating: kept, but it closes nothing.
                _ => return false,
            },
            A::Close => self.closed_at = Some(e.at),
            A::Reopen => self.reopen(),
            A::Escalate => match e.level {
                Some(level) if level > self.level => {
                    self.level = level;
                    self.escalated_at.push((level, e.at));
                }
                _ => return false,
            },
            A::Start | A::Other => {}
        }
        self.status = next;
        true
    }

    fn reopen(&mut self) {
        self.reopens += 1;
        self.resolved_at = None;
        self.closed_at = None;
        self.rating = None;
    }
}

/// Folds the events into a status. Order-independent: the input order does not matter.
pub fn derive(events: &[LifecycleEvent]) -> Derived {
    let mut sorted: Vec<&LifecycleEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut d = Derived::new(sorted.len());
    for e in sorted {
        let took = d.apply(e);
        d.applied.push((e.clone(), took));
    }
    d
}

#[cfg(test)]
mod tests;

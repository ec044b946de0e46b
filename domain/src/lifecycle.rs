//! An incident's closed loop: reported → accepted → in progress → resolved → closed, with reopen.
//!
//! The status is never stored as a field that devices overwrite. Each move is an event in a
//! set that only grows (a keyed map in the incident's document); the status is a pure
//! function of that set. Two devices that merged the same events therefore agree on the
//! status whatever order the merges happened in. Events are folded in (time, id) order;
//! an event that is not a legal move at its turn (say, both devices accepted offline) is
//! kept in the history but changes nothing.

use crate::model::{IncidentAction, IncidentStatus, LifecycleEvent, Millis};

impl IncidentStatus {
    /// The status after `action`, or `None` if the move is not allowed.
    pub fn after(self, action: IncidentAction) -> Option<IncidentStatus> {
        use IncidentAction as A;
        use IncidentStatus as S;
        match (self, action) {
            (S::Reported, A::Accept) => Some(S::Accepted),
            (S::Accepted, A::Start) => Some(S::InProgress),
            // Small things are often handled on the spot: accepted → resolved is allowed.
            (S::Accepted | S::InProgress, A::Resolve) => Some(S::Resolved),
            (S::Resolved, A::Close) => Some(S::Closed),
            // Bad feedback sends the case back to whoever handles it.
            (S::Resolved | S::Closed, A::Reopen) => Some(S::InProgress),
            _ => None,
        }
    }
}

impl IncidentStatus {
    /// The moves allowed from this status, for the app's action menu.
    pub fn allowed_actions(self) -> Vec<IncidentAction> {
        IncidentAction::ALL
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
    /// The first accepted event: the response time is measured to it.
    pub accepted_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    /// Events in fold order, with whether each took effect.
    pub applied: Vec<(LifecycleEvent, bool)>,
}

/// Fold the events into a status. Order-independent: the input order does not matter.
pub fn derive(events: &[LifecycleEvent]) -> Derived {
    let mut sorted: Vec<&LifecycleEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut d = Derived {
        status: IncidentStatus::Reported,
        accepted_at: None,
        resolved_at: None,
        closed_at: None,
        applied: Vec::with_capacity(sorted.len()),
    };
    for e in sorted {
        let next = d.status.after(e.action);
        if let Some(next) = next {
            d.status = next;
            match e.action {
                IncidentAction::Accept => {
                    d.accepted_at.get_or_insert(e.at);
                }
                IncidentAction::Resolve => d.resolved_at = Some(e.at),
                IncidentAction::Close => d.closed_at = Some(e.at),
                IncidentAction::Reopen => {
                    d.resolved_at = None;
                    d.closed_at = None;
                }
                IncidentAction::Start | IncidentAction::Other => {}
            }
        }
        d.applied.push((e.clone(), next.is_some()));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentAction as A;
    use IncidentStatus as S;

    fn ev(id: &str, action: IncidentAction, at: Millis) -> LifecycleEvent {
        LifecycleEvent {
            id: id.into(),
            action,
            by: "u".into(),
            at,
            note: String::new(),
        }
    }

    #[test]
    fn full_loop_with_reopen() {
        let events = vec![
            ev("a", A::Accept, 10),
            ev("b", A::Start, 20),
            ev("c", A::Resolve, 30),
            ev("d", A::Close, 40),
            ev("e", A::Reopen, 50),
        ];
        let d = derive(&events);
        assert_eq!(d.status, S::InProgress);
        assert_eq!(d.accepted_at, Some(10));
        assert_eq!(d.closed_at, None);
    }

    #[test]
    fn concurrent_accepts_keep_the_first_and_order_does_not_matter() {
        let mut events = vec![
            ev("x", A::Accept, 15),
            ev("y", A::Accept, 12),
            ev("z", A::Resolve, 20),
        ];
        let d1 = derive(&events);
        events.reverse();
        let d2 = derive(&events);
        assert_eq!(d1.status, S::Resolved);
        assert_eq!(d1.status, d2.status);
        assert_eq!(d1.accepted_at, Some(12));
        assert_eq!(d1.applied.iter().filter(|(_, took)| !took).count(), 1);
    }

    #[test]
    fn allowed_actions_follow_the_table() {
        assert_eq!(S::Reported.allowed_actions(), vec![A::Accept]);
        assert_eq!(S::Accepted.allowed_actions(), vec![A::Start, A::Resolve]);
        assert_eq!(S::Resolved.allowed_actions(), vec![A::Close, A::Reopen]);
        assert_eq!(S::Closed.allowed_actions(), vec![A::Reopen]);
    }

    #[test]
    fn illegal_moves_change_nothing() {
        assert_eq!(S::Reported.after(A::Close), None);
        assert_eq!(S::Closed.after(A::Accept), None);
        assert_eq!(derive(&[ev("a", A::Resolve, 1)]).status, S::Reported);
    }
}

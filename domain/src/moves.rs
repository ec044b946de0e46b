//! Making a move on an incident's document: the one piece of code the phone and the server
//! (its console actions and its escalation sweep) both write events with, so the two never
//! disagree on what a move writes or when it is legal.
//!
//! Who may make the move is judged before this, with `roles::check_move` and the caller's
//! knowledge of places and people.

use automerge::AutoCommit;

use crate::codes::Reason;
use crate::doc;
use crate::error::{Error, Result, invalid};
use crate::incident::{IncidentAction, IncidentStatus, LifecycleEvent, MoveDetail};
use crate::lifecycle::{self, Derived};
use crate::model::Millis;

/// The event a move records: who, when, and what the form said.
pub fn event(
    id: String,
    action: IncidentAction,
    by: String,
    at: Millis,
    d: MoveDetail,
) -> LifecycleEvent {
    LifecycleEvent {
        to: d.to,
        department: d.department,
        reason: d.reason,
        rating: d.rating,
        level: d.level,
        outcome: d.outcome,
        ..LifecycleEvent::new(id, action, by, at, d.note)
    }
}

/// What the incident's events say now.
pub fn current(d: &AutoCommit) -> Result<Derived> {
    Ok(lifecycle::derive(&doc::read_events(d)?))
}

/// Records `event` in the incident's document if it is a legal move that takes effect where
/// the fold places it (a device clock behind earlier events, or praise from the resolver
/// itself, would record a move that changes nothing: refused instead). Keeps the document's
/// `assignee` field, which the first release reads, in step with the handler. Returns the
/// status after the move. Nothing is written on error.
pub fn apply(d: &mut AutoCommit, event: &LifecycleEvent) -> Result<IncidentStatus> {
    let (incident, before) = doc::read_incident(d)?;
    let detail = MoveDetail {
        note: event.note.clone(),
        to: event.to.clone(),
        department: event.department,
        reason: event.reason,
        rating: event.rating,
        level: event.level,
        outcome: event.outcome,
    };
    let from = before.status;
    let illegal = Error::IllegalTransition {
        from,
        action: event.action,
    };
    // An illegal move says so before any detail of it is judged.
    if from.after(event.action).is_none() {
        return Err(illegal);
    }
    detail.validate(event.action, incident.category)?;
    if before.applied.iter().any(|(e, _)| e.id == event.id) {
        return Err(invalid("event", Reason::Duplicate));
    }
    let mut events: Vec<LifecycleEvent> = before.applied.iter().map(|(e, _)| e.clone()).collect();
    events.push(event.clone());
    let after = lifecycle::derive(&events);
    let took = after
        .applied
        .iter()
        .any(|(e, took)| e.id == event.id && *took);
    if !took {
        return Err(illegal);
    }
    doc::put_event(d, event)?;
    match event.action {
        IncidentAction::Accept if incident.assignee.is_none() => {
            doc::put_assignee(d, Some(&event.by))?;
        }
        IncidentAction::Dispatch => doc::put_assignee(d, event.to.as_deref())?,
        IncidentAction::Return => doc::put_assignee(d, None)?,
        _ => {}
    }
    Ok(after.status)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::incident::*;
    use crate::model::Millis;

    fn incident(category: IncidentCategory) -> AutoCommit {
        let mut d = AutoCommit::new();
        let i = Incident {
            id: "i1".into(),
            category,
            description: "楼道飞线充电".into(),
            community_id: "c".into(),
            grid_id: "g".into(),
            micro_grid_id: None,
            building_id: None,
            unit_id: None,
            household_id: None,
            reporter: "zhao".into(),
            priority: Priority::High,
            assignee: None,
            department: None,
            reported_at: 1,
            received_at: None,
            status: IncidentStatus::Reported,
            level: Level::Grid,
            dispute: None,
            events: vec![],
        };
        doc::init_incident(&mut d, &i).unwrap();
        d
    }

    fn mv(
        d: &mut AutoCommit,
        id: &str,
        action: IncidentAction,
        by: &str,
        at: Millis,
        detail: MoveDetail,
    ) -> Result<IncidentStatus> {
        apply(d, &event(id.into(), action, by.into(), at, detail))
    }

    #[test]
    fn a_dispatch_names_the_handler_and_a_return_clears_it() {
        let mut d = incident(IncidentCategory::FlyingWireCharging);
        let none = MoveDetail::default;
        assert_eq!(
            mv(&mut d, "1", IncidentAction::Accept, "grid", 10, none()).unwrap(),
            IncidentStatus::Accepted
        );
        assert_eq!(
            doc::read_incident(&d).unwrap().0.assignee.as_deref(),
            Some("grid")
        );
        let to = MoveDetail {
            to: Some("wu".into()),
            ..none()
        };
        assert_eq!(
            mv(&mut d, "2", IncidentAction::Dispatch, "admin", 20, to).unwrap(),
            IncidentStatus::Dispatched
        );
        assert_eq!(
            doc::read_incident(&d).unwrap().0.assignee.as_deref(),
            Some("wu")
        );
        let back = MoveDetail {
            reason: Some(ReturnReason::Jurisdiction),
            note: "不在本网格".into(),
            ..none()
        };
        assert_eq!(
            mv(&mut d, "3", IncidentAction::Return, "wu", 30, back).unwrap(),
            IncidentStatus::Accepted
        );
        let (i, derived) = doc::read_incident(&d).unwrap();
        assert_eq!(i.assignee, None);
        assert_eq!(derived.returns, 1);
    }

    #[test]
    fn illegal_moves_and_missing_details_write_nothing() {
        let mut d = incident(IncidentCategory::Dispute);
        let heads = d.get_heads();
        let none = MoveDetail::default;
        assert!(matches!(
            mv(
                &mut d,
                "1",
                IncidentAction::Close,
                "a",
                10,
                MoveDetail {
                    note: "联系不上".into(),
                    ..none()
                }
            ),
            Err(Error::IllegalTransition { .. })
        ));
        assert!(matches!(
            mv(&mut d, "1", IncidentAction::Dispatch, "a", 10, none()),
            Err(Error::IllegalTransition { .. })
        ));
        assert_eq!(d.get_heads(), heads);
        mv(&mut d, "2", IncidentAction::Accept, "g", 10, none()).unwrap();
        // A dispatch names its handler.
        assert!(matches!(
            mv(&mut d, "5", IncidentAction::Dispatch, "a", 15, none()),
            Err(Error::InvalidInput { field: "to", .. })
        ));
        // A dispute is resolved with its outcome.
        assert!(matches!(
            mv(&mut d, "3", IncidentAction::Resolve, "g", 20, none()),
            Err(Error::InvalidInput {
                field: "outcome",
                ..
            })
        ));
        mv(
            &mut d,
            "3",
            IncidentAction::Resolve,
            "g",
            20,
            MoveDetail {
                outcome: Some(DisputeOutcome::Mediated),
                ..none()
            },
        )
        .unwrap();
        // Praise from the resolver would change nothing: refused.
        let praise = MoveDetail {
            rating: Some(Rating::Satisfied),
            ..none()
        };
        assert!(matches!(
            mv(
                &mut d,
                "4",
                IncidentAction::Feedback,
                "g",
                30,
                praise.clone()
            ),
            Err(Error::IllegalTransition { .. })
        ));
        assert_eq!(
            mv(&mut d, "4", IncidentAction::Feedback, "zhao", 30, praise).unwrap(),
            IncidentStatus::Closed
        );
        // A move timed before the last one would not take effect where the fold puts it.
        let mut e = incident(IncidentCategory::Noise);
        mv(&mut e, "1", IncidentAction::Accept, "g", 100, none()).unwrap();
        assert!(mv(&mut e, "2", IncidentAction::Resolve, "g", 50, none()).is_err());
        assert_ne!(d.get_heads(), heads);
    }
}

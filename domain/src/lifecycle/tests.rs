use super::*;
use IncidentAction as A;
use IncidentStatus as S;

fn ev(id: &str, action: IncidentAction, at: Millis) -> LifecycleEvent {
    by(id, action, at, "u")
}

fn by(id: &str, action: IncidentAction, at: Millis, who: &str) -> LifecycleEvent {
    LifecycleEvent::new(id.into(), action, who.into(), at, String::new())
}

fn dispatch(id: &str, at: Millis, to: &str) -> LifecycleEvent {
    LifecycleEvent {
        to: Some(to.into()),
        ..by(id, A::Dispatch, at, "admin")
    }
}

fn feedback(id: &str, at: Millis, who: &str, rating: Rating) -> LifecycleEvent {
    LifecycleEvent {
        rating: Some(rating),
        ..by(id, A::Feedback, at, who)
    }
}

fn escalate(id: &str, at: Millis, level: Level) -> LifecycleEvent {
    LifecycleEvent {
        level: Some(level),
        ..by(id, A::Escalate, at, "system")
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
    assert_eq!(d.reopens, 1);
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
    assert_eq!(S::Reported.allowed_actions(), vec![A::Accept, A::Escalate]);
    assert_eq!(
        S::Accepted.allowed_actions(),
        vec![A::Dispatch, A::Start, A::Resolve, A::Escalate]
    );
    assert_eq!(
        S::Dispatched.allowed_actions(),
        vec![
            A::Accept,
            A::Dispatch,
            A::Start,
            A::Resolve,
            A::Return,
            A::Escalate
        ]
    );
    assert_eq!(
        S::Resolved.allowed_actions(),
        vec![A::Feedback, A::Close, A::Reopen]
    );
    assert_eq!(S::Closed.allowed_actions(), vec![A::Reopen]);
}

#[test]
fn illegal_and_unknown_moves_change_nothing() {
    assert_eq!(S::Reported.after(A::Close), None);
    assert_eq!(S::Closed.after(A::Accept), None);
    assert_eq!(S::Accepted.after(A::Other), None);
    assert_eq!(derive(&[ev("a", A::Resolve, 1)]).status, S::Reported);
    let d = derive(&[ev("a", A::Accept, 1), ev("b", A::Other, 2)]);
    assert_eq!(d.status, S::Accepted);
    assert_eq!(d.applied.len(), 2);
    assert!(!d.applied[1].1);
}

/// The loop: report → accept → dispatch → return → dispatch → resolve → 不满意
/// (reopens) → resolve → 满意 by a leader → closed.
#[test]
fn the_whole_loop_with_a_return_and_a_bad_callback() {
    let events = vec![
        by("01", A::Accept, 100, "grid"),
        dispatch("02", 200, "property-1"),
        LifecycleEvent {
            reason: Some(ReturnReason::Ownership),
            note: "不归物业管".into(),
            ..by("03", A::Return, 300, "property-1")
        },
        dispatch("04", 400, "property-2"),
        by("05", A::Accept, 450, "property-2"),
        by("06", A::Start, 500, "property-2"),
        by("07", A::Resolve, 600, "property-2"),
        feedback("08", 700, "leader", Rating::Unsatisfied),
        by("09", A::Resolve, 800, "property-2"),
        feedback("10", 900, "leader", Rating::Satisfied),
    ];
    let d = derive(&events);
    assert_eq!(d.status, S::Closed);
    assert_eq!(d.accepted_at, Some(100));
    assert_eq!(d.handler_accepted_at, Some(450));
    assert_eq!(d.handler.as_deref(), Some("property-2"));
    assert_eq!(d.returns, 1);
    assert_eq!(d.reopens, 1);
    assert_eq!(d.rating, Some(Rating::Satisfied));
    assert_eq!(d.closed_at, Some(900));
    assert!(d.applied.iter().all(|(_, took)| *took));
    // After the return the order went back to the dispatcher, unassigned.
    let returned = derive(&events[..3]);
    assert_eq!(returned.status, S::Accepted);
    assert_eq!(returned.handler, None);
}

#[test]
fn praise_from_the_resolver_closes_nothing() {
    let base = vec![
        by("a", A::Accept, 1, "grid"),
        by("b", A::Resolve, 2, "grid"),
    ];
    let mut own = base.clone();
    own.push(feedback("c", 3, "grid", Rating::Satisfied));
    let d = derive(&own);
    assert_eq!(d.status, S::Resolved);
    assert!(!d.applied[2].1);
    let mut leader = base;
    leader.push(feedback("c", 3, "leader", Rating::Basic));
    assert_eq!(derive(&leader).status, S::Closed);
}

#[test]
fn escalation_raises_one_level_once() {
    let events = vec![
        escalate("a", 10, Level::Community),
        escalate("b", 11, Level::Community),
        by("c", A::Accept, 12, "grid"),
        escalate("d", 20, Level::Street),
        escalate("e", 21, Level::Community),
    ];
    let d = derive(&events);
    assert_eq!(d.status, S::Accepted);
    assert_eq!(d.level, Level::Street);
    assert_eq!(
        d.escalated_at,
        vec![(Level::Community, 10), (Level::Street, 20)]
    );
    let took: Vec<bool> = d.applied.iter().map(|(_, t)| *t).collect();
    assert_eq!(took, vec![true, false, true, true, false]);
    // A resolved incident is not escalated.
    let done = derive(&[
        by("a", A::Accept, 1, "g"),
        by("b", A::Resolve, 2, "g"),
        escalate("c", 3, Level::Community),
    ]);
    assert_eq!(done.level, Level::Grid);
}

#[test]
fn a_dispatch_without_a_handler_changes_nothing() {
    let d = derive(&[by("a", A::Accept, 1, "g"), by("b", A::Dispatch, 2, "admin")]);
    assert_eq!(d.status, S::Accepted);
}

#[test]
fn a_dispute_keeps_its_outcome() {
    let d = derive(&[
        by("a", A::Accept, 1, "g"),
        LifecycleEvent {
            outcome: Some(DisputeOutcome::Mediated),
            ..by("b", A::Resolve, 2, "g")
        },
    ]);
    assert_eq!(d.outcome, Some(DisputeOutcome::Mediated));
}

/// Every order of the same events folds to the same result.
#[test]
fn any_order_folds_the_same() {
    let events = vec![
        by("01", A::Accept, 100, "grid"),
        dispatch("02", 200, "h"),
        by("03", A::Accept, 200, "h"),
        escalate("04", 200, Level::Community),
        by("05", A::Resolve, 300, "h"),
        feedback("06", 400, "leader", Rating::Unsatisfied),
    ];
    let expected = derive(&events);
    // Rotations and reversals of the input.
    for k in 0..events.len() {
        let mut e = events.clone();
        e.rotate_left(k);
        assert_eq!(derive(&e), expected);
        e.reverse();
        assert_eq!(derive(&e), expected);
    }
}

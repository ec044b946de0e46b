//! Needs raised on door-knock visits (敲门问需) as follow-ups: each need is an item of its
//! household with a due date and an owner, followed up until it is done or referred to an
//! incident (转事件).
//!
//! ```text
//! open ─take─▶ in_hand ─done─▶ done ─reopen─▶ open
//!   │             │
//!   ├──done───────┼────────────▶ done
//!   └──refer──────┴────────────▶ referred (the incident carries it on)
//! assign (owner) and reschedule (due date): while open or in hand, status unchanged
//! ```
//!
//! As with an incident's lifecycle (`lifecycle.rs`), the status, owner and due date are never
//! fields that devices overwrite: each change is an event in a keyed map of the need, and
//! what the need is now is a pure fold of that set, in (time, id) order, an event that is not
//! legal at its turn kept but skipped. Two phones that changed the same need offline both
//! keep their events, and every device that merged them folds them the same way. The need as
//! raised (its visit, category, text, first owner and due date) is written once.

use crate::codes::Reason;
use serde::{Deserialize, Serialize};

pub use crate::codes::{NeedAction, NeedCategory, NeedStatus};
use crate::error::{Error, Result, invalid};
use crate::model::{Millis, check_short, check_text};

pub const DAY_MS: Millis = 24 * 3600 * 1000;

/// One change to a need, as recorded. `owner` belongs to `assign` (and may name who takes
/// it), `due_at` to `reschedule`, `incident_id` to `refer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedEvent {
    pub id: String,
    pub action: NeedAction,
    pub by: String,
    pub at: Millis,
    pub note: String,
    pub owner: Option<String>,
    pub due_at: Option<Millis>,
    pub incident_id: Option<String>,
}

/// A need of a household, as raised plus what its events say now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedItem {
    pub id: String,
    pub household_id: String,
    /// The visit it was raised on.
    pub visit_id: String,
    pub category: NeedCategory,
    pub text: String,
    pub raised_by: String,
    pub raised_at: Millis,
    pub status: NeedStatus,
    /// Who follows it up (at first the visit's author).
    pub owner: String,
    pub due_at: Millis,
    /// The incident it became (转事件).
    pub incident_id: Option<String>,
    pub done_at: Option<Millis>,
    /// Events in fold order, with whether each took effect.
    pub events: Vec<NeedEvent>,
}

/// A need as raised, before any event: what is written once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedNeed {
    pub visit_id: String,
    pub category: NeedCategory,
    pub text: String,
    pub by: String,
    pub at: Millis,
    pub owner: String,
    pub due_at: Millis,
}

/// A need to raise on a visit. `owner` defaults to the visit's author, `due_at` to the
/// category's default after the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNeed {
    pub visit_id: String,
    pub category: NeedCategory,
    pub text: String,
    pub owner: Option<String>,
    pub due_at: Option<Millis>,
}

/// The details of a change to a need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeedMoveDetail {
    pub note: String,
    pub owner: Option<String>,
    pub due_at: Option<Millis>,
    pub incident_id: Option<String>,
}

/// The default due date of a need of `category` raised at `at`.
pub fn default_due(category: NeedCategory, at: Millis) -> Millis {
    at + category.default_due_days() * DAY_MS
}

pub fn check_need_text(text: &str) -> Result<()> {
    check_text("need", text, true)
}

fn check_due(due_at: Millis) -> Result<()> {
    if due_at < 0 {
        return Err(invalid("due_at", Reason::OutOfRange));
    }
    Ok(())
}

impl NewNeed {
    pub fn validate(&self) -> Result<()> {
        check_short("visit_id", &self.visit_id, true)?;
        check_need_text(&self.text)?;
        if let Some(o) = &self.owner {
            check_short("owner", o, true)?;
        }
        if let Some(d) = self.due_at {
            check_due(d)?;
        }
        Ok(())
    }
}

impl NeedStatus {
    /// Still to follow up (open or in hand).
    pub fn is_open(self) -> bool {
        matches!(self, NeedStatus::Open | NeedStatus::InHand)
    }

    /// The status after `action`, or `None` if the move is never allowed from here.
    pub fn after(self, action: NeedAction) -> Option<NeedStatus> {
        use NeedAction as A;
        use NeedStatus as S;
        match (self, action) {
            (S::Open, A::Take) => Some(S::InHand),
            (S::Open | S::InHand, A::Done) => Some(S::Done),
            (S::Open | S::InHand, A::Refer) => Some(S::Referred),
            (S::Done, A::Reopen) => Some(S::Open),
            (s, A::Assign | A::Reschedule) if s.is_open() => Some(s),
            _ => None,
        }
    }

    /// The moves allowed from this status, in menu order (refer is made through
    /// converting to an incident).
    pub fn allowed_actions(self) -> Vec<NeedAction> {
        NeedAction::ALL
            .iter()
            .copied()
            .filter(|a| self.after(*a).is_some())
            .collect()
    }
}

/// Checks a move's details before it is written: what each move needs and nothing stray.
pub fn check_move(action: NeedAction, d: &NeedMoveDetail) -> Result<()> {
    check_text("note", &d.note, false)?;
    if let Some(o) = &d.owner {
        check_short("owner", o, true)?;
    }
    if let Some(due) = d.due_at {
        check_due(due)?;
    }
    if let Some(i) = &d.incident_id {
        check_short("incident_id", i, true)?;
    }
    let ok = match action {
        NeedAction::Assign => d.owner.is_some() && d.due_at.is_none() && d.incident_id.is_none(),
        NeedAction::Reschedule => {
            d.due_at.is_some() && d.owner.is_none() && d.incident_id.is_none()
        }
        NeedAction::Refer => d.incident_id.is_some() && d.due_at.is_none() && d.owner.is_none(),
        NeedAction::Take => d.due_at.is_none() && d.incident_id.is_none(),
        NeedAction::Done | NeedAction::Reopen => {
            d.owner.is_none() && d.due_at.is_none() && d.incident_id.is_none()
        }
        NeedAction::Other => return Err(invalid("action", Reason::Unknown)),
    };
    if !ok {
        return Err(invalid("detail", Reason::NotAllowedHere));
    }
    Ok(())
}

/// Checks that `action` is legal from `from`.
pub fn check_transition(from: NeedStatus, action: NeedAction) -> Result<NeedStatus> {
    from.after(action)
        .ok_or(Error::IllegalNeedTransition { from, action })
}

/// What the events say about a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedDerived {
    pub status: NeedStatus,
    pub owner: String,
    pub due_at: Millis,
    pub incident_id: Option<String>,
    pub done_at: Option<Millis>,
    /// Events in fold order, with whether each took effect.
    pub applied: Vec<(NeedEvent, bool)>,
}

impl NeedDerived {
    fn apply(&mut self, e: &NeedEvent) -> bool {
        use NeedAction as A;
        let Some(next) = self.status.after(e.action) else {
            return false;
        };
        match e.action {
            A::Take => self.owner = e.owner.clone().unwrap_or_else(|| e.by.clone()),
            A::Assign => match &e.owner {
                Some(o) => self.owner = o.clone(),
                None => return false,
            },
            A::Reschedule => match e.due_at {
                Some(d) => self.due_at = d,
                None => return false,
            },
            A::Refer => match &e.incident_id {
                Some(i) => self.incident_id = Some(i.clone()),
                None => return false,
            },
            A::Done => self.done_at = Some(e.at),
            A::Reopen => self.done_at = None,
            A::Other => return false,
        }
        self.status = next;
        true
    }
}

/// Folds a need's events over what was raised. Order-independent: the input order does not
/// matter.
pub fn derive(raised: &RaisedNeed, events: &[NeedEvent]) -> NeedDerived {
    let mut sorted: Vec<&NeedEvent> = events.iter().collect();
    sorted.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut d = NeedDerived {
        status: NeedStatus::Open,
        owner: raised.owner.clone(),
        due_at: raised.due_at,
        incident_id: None,
        done_at: None,
        applied: Vec::with_capacity(sorted.len()),
    };
    for e in sorted {
        let took = d.apply(e);
        d.applied.push((e.clone(), took));
    }
    d
}

/// The item a household's need reads as: what was raised, folded with its events.
pub fn item(
    id: String,
    household_id: String,
    raised: RaisedNeed,
    events: &[NeedEvent],
) -> NeedItem {
    let d = derive(&raised, events);
    NeedItem {
        id,
        household_id,
        visit_id: raised.visit_id,
        category: raised.category,
        text: raised.text,
        raised_by: raised.by,
        raised_at: raised.at,
        status: d.status,
        owner: d.owner,
        due_at: d.due_at,
        incident_id: d.incident_id,
        done_at: d.done_at,
        events: d.applied.into_iter().map(|(e, _)| e).collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn raised() -> RaisedNeed {
        RaisedNeed {
            visit_id: "v1".into(),
            category: NeedCategory::Repair,
            text: "水管漏水".into(),
            by: "li".into(),
            at: 1_000,
            owner: "li".into(),
            due_at: default_due(NeedCategory::Repair, 1_000),
        }
    }

    fn ev(id: &str, action: NeedAction, by: &str, at: Millis) -> NeedEvent {
        NeedEvent {
            id: id.into(),
            action,
            by: by.into(),
            at,
            note: String::new(),
            owner: None,
            due_at: None,
            incident_id: None,
        }
    }

    #[test]
    fn default_due_dates_follow_the_category() {
        assert_eq!(default_due(NeedCategory::Repair, 0), 3 * DAY_MS);
        assert_eq!(default_due(NeedCategory::ElderCare, 0), DAY_MS);
        assert_eq!(default_due(NeedCategory::Policy, 0), 7 * DAY_MS);
    }

    #[test]
    fn the_fold_is_order_independent_and_skips_illegal_moves() {
        let a = ev("a", NeedAction::Take, "zhao", 10);
        let b = ev("b", NeedAction::Done, "li", 20);
        let c = ev("c", NeedAction::Take, "li", 30); // after done: skipped
        let mut r = ev("d", NeedAction::Reschedule, "li", 5);
        r.due_at = Some(99);
        let one = derive(&raised(), &[a.clone(), b.clone(), c.clone(), r.clone()]);
        let two = derive(&raised(), &[c, r, b, a]);
        assert_eq!(one, two);
        assert_eq!(one.status, NeedStatus::Done);
        assert_eq!(one.owner, "zhao");
        assert_eq!(one.due_at, 99);
        assert_eq!(one.done_at, Some(20));
        assert!(!one.applied[3].1);
    }

    #[test]
    fn transitions() {
        assert_eq!(
            NeedStatus::Open.after(NeedAction::Take),
            Some(NeedStatus::InHand)
        );
        assert_eq!(NeedStatus::Referred.after(NeedAction::Reopen), None);
        assert_eq!(NeedStatus::Done.after(NeedAction::Take), None);
        assert!(check_transition(NeedStatus::Referred, NeedAction::Done).is_err());
        assert!(check_move(NeedAction::Assign, &NeedMoveDetail::default()).is_err());
        assert!(check_move(NeedAction::Other, &NeedMoveDetail::default()).is_err());
    }
}

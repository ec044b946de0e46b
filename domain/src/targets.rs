//! An incident's clocks: the response target (15分钟全响应) and the resolution target by
//! priority, both measured from when the SERVER first received the incident, never by a
//! phone's clock; and which escalation a missed target calls for.
//!
//! Targets are in calendar time (a 24-hour target is 24 hours, nights included). Missing the
//! response target raises the incident to the community; missing the resolution target
//! raises it to the street. Each level is reached once.

use serde::{Deserialize, Serialize};

use crate::codes::Reason;
use crate::error::{Result, invalid};
use crate::incident::{IncidentCategory, IncidentStatus, Level, Priority};
use crate::lifecycle::Derived;
use crate::model::Millis;

const MINUTE: Millis = 60 * 1000;

/// 15分钟全响应: the default response target.
pub const RESPONSE_TARGET_MS: Millis = 15 * MINUTE;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// A community's targets (configurable per community; these are the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// From receipt to the first accept.
    pub response_ms: Millis,
    /// From receipt to resolved, by priority.
    pub resolve_urgent_ms: Millis,
    pub resolve_high_ms: Millis,
    pub resolve_normal_ms: Millis,
    pub resolve_low_ms: Millis,
}

impl Default for Targets {
    /// Respond in 15 minutes; resolve urgent in 24 h, high in 72 h, normal in 7 days, low in
    /// 15 days.
    fn default() -> Targets {
        Targets {
            response_ms: RESPONSE_TARGET_MS,
            resolve_urgent_ms: DAY,
            resolve_high_ms: 3 * DAY,
            resolve_normal_ms: 7 * DAY,
            resolve_low_ms: 15 * DAY,
        }
    }
}

impl Targets {
    pub fn resolve_ms(&self, priority: Priority) -> Millis {
        match priority {
            Priority::Urgent => self.resolve_urgent_ms,
            Priority::High => self.resolve_high_ms,
            Priority::Normal => self.resolve_normal_ms,
            Priority::Low => self.resolve_low_ms,
        }
    }

    /// Every target between a minute and a year; the response shorter than any resolution.
    pub fn validate(&self) -> Result<()> {
        let all = [
            self.response_ms,
            self.resolve_urgent_ms,
            self.resolve_high_ms,
            self.resolve_normal_ms,
            self.resolve_low_ms,
        ];
        if all.iter().any(|t| *t < MINUTE || *t > 366 * DAY) {
            return Err(invalid("target", Reason::OutOfRange));
        }
        if all[1..].iter().any(|t| *t <= self.response_ms) {
            return Err(invalid("target", Reason::OutOfRange));
        }
        Ok(())
    }
}

/// A community's targets: its own for every incident, and a whole set for any category that
/// differs (a dispute answered sooner, a leak resolved faster). Targets are thus per
/// community, category and priority.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityTargets {
    #[serde(flatten)]
    pub base: Targets,
    #[serde(default)]
    pub by_category: Vec<CategoryTargets>,
}

/// The targets of one category of incident, replacing the community's for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTargets {
    pub category: IncidentCategory,
    #[serde(flatten)]
    pub targets: Targets,
}

impl CommunityTargets {
    /// The targets an incident of `category` runs against.
    pub fn for_category(&self, category: IncidentCategory) -> Targets {
        self.by_category
            .iter()
            .find(|c| c.category == category)
            .map(|c| c.targets)
            .unwrap_or(self.base)
    }

    /// Every set valid, and each category at most once.
    pub fn validate(&self) -> Result<()> {
        self.base.validate()?;
        for (i, c) in self.by_category.iter().enumerate() {
            c.targets.validate()?;
            if self.by_category[..i]
                .iter()
                .any(|d| d.category == c.category)
            {
                return Err(invalid("category", Reason::Duplicate));
            }
        }
        Ok(())
    }
}

/// When an incident is due, from its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub respond_by: Millis,
    pub resolve_by: Millis,
}

pub fn deadlines(received_at: Millis, priority: Priority, targets: &Targets) -> Deadlines {
    Deadlines {
        respond_by: received_at.saturating_add(targets.response_ms),
        resolve_by: received_at.saturating_add(targets.resolve_ms(priority)),
    }
}

/// The escalation a sweep at `now` owes the incident, if any: the highest level a missed
/// target calls for, when the incident is not there yet. An accept in time (or at all,
/// before the deadline passed) meets the response target; resolving meets the resolution
/// target; closed and resolved incidents are not escalated.
pub fn due_escalation(derived: &Derived, deadlines: &Deadlines, now: Millis) -> Option<Level> {
    if !derived.status.is_open() {
        return None;
    }
    let response_missed = now >= deadlines.respond_by
        && derived
            .accepted_at
            .is_none_or(|at| at > deadlines.respond_by);
    let resolution_missed =
        now >= deadlines.resolve_by && derived.status != IncidentStatus::Resolved;
    let owed = if resolution_missed {
        Level::Street
    } else if response_missed {
        Level::Community
    } else {
        return None;
    };
    // One level at a time: a sweep raises grid → community before community → street.
    let next = match derived.level {
        Level::Grid => Level::Community,
        Level::Community => Level::Street,
        Level::Street => return None,
    };
    (owed >= next).then_some(next)
}

/// The next instant at which [`due_escalation`] may change its answer, for a deadlines
/// table: the response deadline until it is met or passed, then the resolution deadline.
pub fn next_check(derived: &Derived, deadlines: &Deadlines) -> Option<Millis> {
    if !derived.status.is_open() || derived.level == Level::Street {
        return None;
    }
    if derived.level == Level::Grid && derived.accepted_at.is_none() {
        return Some(deadlines.respond_by);
    }
    Some(deadlines.resolve_by)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{IncidentAction as A, LifecycleEvent};
    use crate::lifecycle::derive;

    fn ev(id: &str, action: A, at: Millis) -> LifecycleEvent {
        LifecycleEvent::new(id.into(), action, "u".into(), at, String::new())
    }

    fn escalated(id: &str, at: Millis, level: Level) -> LifecycleEvent {
        LifecycleEvent {
            level: Some(level),
            ..ev(id, A::Escalate, at)
        }
    }

    #[test]
    fn defaults_follow_the_workflow() {
        let t = Targets::default();
        assert!(t.validate().is_ok());
        let d = deadlines(1_000, Priority::High, &t);
        assert_eq!(d.respond_by, 1_000 + 15 * 60 * 1000);
        assert_eq!(d.resolve_by, 1_000 + 72 * 3600 * 1000);
        assert_eq!(t.resolve_ms(Priority::Low), 15 * DAY);
        let bad = Targets {
            response_ms: 2 * DAY,
            ..t
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn a_category_can_have_its_own_targets() {
        let dispute = Targets {
            response_ms: 5 * MINUTE,
            ..Targets::default()
        };
        let t = CommunityTargets {
            base: Targets::default(),
            by_category: vec![CategoryTargets {
                category: IncidentCategory::Dispute,
                targets: dispute,
            }],
        };
        assert!(t.validate().is_ok());
        assert_eq!(
            t.for_category(IncidentCategory::Dispute).response_ms,
            5 * MINUTE
        );
        assert_eq!(
            t.for_category(IncidentCategory::Parking),
            Targets::default()
        );
        let d = deadlines(
            0,
            Priority::Normal,
            &t.for_category(IncidentCategory::Dispute),
        );
        assert_eq!(d.respond_by, 5 * MINUTE);
        // JSON as the console sends it: the community's fields, then the exceptions.
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"category\":\"dispute\""), "{json}");
        let back: CommunityTargets = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        // A plain set of targets is a community without exceptions.
        let plain: CommunityTargets =
            serde_json::from_str(&serde_json::to_string(&Targets::default()).unwrap()).unwrap();
        assert_eq!(plain, CommunityTargets::default());
        let twice = CommunityTargets {
            by_category: vec![t.by_category[0], t.by_category[0]],
            ..t.clone()
        };
        assert!(twice.validate().is_err());
    }

    #[test]
    fn a_missed_response_escalates_to_the_community_once() {
        let t = Targets::default();
        let d = deadlines(0, Priority::Normal, &t);
        let none = derive(&[]);
        assert_eq!(due_escalation(&none, &d, d.respond_by - 1), None);
        assert_eq!(
            due_escalation(&none, &d, d.respond_by),
            Some(Level::Community)
        );
        assert_eq!(next_check(&none, &d), Some(d.respond_by));
        let raised = derive(&[escalated("e", d.respond_by, Level::Community)]);
        assert_eq!(due_escalation(&raised, &d, d.respond_by + 1), None);
        assert_eq!(next_check(&raised, &d), Some(d.resolve_by));
        // Accepted in time: no escalation for the response.
        let on_time = derive(&[ev("a", A::Accept, d.respond_by - 5)]);
        assert_eq!(due_escalation(&on_time, &d, d.respond_by + 1), None);
        // Accepted late, still owed the community level.
        let late = derive(&[ev("a", A::Accept, d.respond_by + 5)]);
        assert_eq!(
            due_escalation(&late, &d, d.respond_by + 10),
            Some(Level::Community)
        );
    }

    #[test]
    fn a_missed_resolution_reaches_the_street_one_level_at_a_time() {
        let t = Targets::default();
        let d = deadlines(0, Priority::Urgent, &t);
        let accepted = derive(&[ev("a", A::Accept, 1)]);
        assert_eq!(
            due_escalation(&accepted, &d, d.resolve_by),
            Some(Level::Community)
        );
        let at_community = derive(&[
            ev("a", A::Accept, 1),
            escalated("e", d.resolve_by, Level::Community),
        ]);
        assert_eq!(
            due_escalation(&at_community, &d, d.resolve_by + 1),
            Some(Level::Street)
        );
        let at_street = derive(&[
            ev("a", A::Accept, 1),
            escalated("e", d.resolve_by, Level::Community),
            escalated("f", d.resolve_by + 1, Level::Street),
        ]);
        assert_eq!(due_escalation(&at_street, &d, d.resolve_by + 2), None);
        assert_eq!(next_check(&at_street, &d), None);
        let resolved = derive(&[ev("a", A::Accept, 1), ev("b", A::Resolve, 2)]);
        assert_eq!(due_escalation(&resolved, &d, d.resolve_by + 1), None);
    }
}

//! The response board's rows (`incident_index`): one row per incident document, what the
//! console filters, sorts and pages without loading documents. Storage-independent and pure:
//! [`row_of`] makes a row from a read incident, [`BoardQuery`] says what a board page asks
//! for, [`board_order`] is the order every implementation must return.
//!
//! Rows are kept in step with documents in the transaction that stores them
//! (`workflow::refresh_deadline`, through `DocWrite::index_incident`); a document that does
//! not read as an incident (a newer layout) has no row.
//!
//! The board order: overdue first (`next_due < now`), then the higher level (street before
//! community before grid), then the earliest `next_due` (none last), then the earliest
//! receipt (the report time until received), then the id.

use std::cmp::Ordering;

use linli_domain::lifecycle::Derived;
use linli_domain::targets::Deadlines;
use linli_domain::{
    Department, DisputeOutcome, Incident, IncidentCategory, IncidentStatus, Level, Millis,
    Priority, Rating,
};

/// One row of `incident_index`: every column, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub doc_id: String,
    pub community_id: String,
    pub grid_id: String,
    pub micro_grid_id: Option<String>,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub category: IncidentCategory,
    pub priority: Priority,
    pub status: IncidentStatus,
    /// Not closed (a resolved incident awaits its feedback: still open).
    pub open: bool,
    pub level: Level,
    /// The level's order: 0 grid, 1 community, 2 street.
    pub level_rank: u32,
    pub handler: Option<String>,
    pub department: Option<Department>,
    pub reporter: String,
    pub description: String,
    pub reported_at: Millis,
    pub received_at: Option<Millis>,
    pub accepted_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub respond_by: Option<Millis>,
    pub resolve_by: Option<Millis>,
    /// The deadline pending now: the response until accepted, then the resolution until
    /// resolved; `None` when none is (or before the server received it).
    pub next_due: Option<Millis>,
    pub returns: u32,
    pub reopens: u32,
    pub rating: Option<Rating>,
    pub outcome: Option<DisputeOutcome>,
}

/// A level's rank in the board order: its position in `Level`'s order (grid lowest).
pub fn level_rank(level: Level) -> u32 {
    Level::ALL
        .iter()
        .position(|l| *l == level)
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(0)
}

/// The level of a rank (the inverse of [`level_rank`]); `None` for a rank no level has.
pub fn level_of_rank(rank: u32) -> Option<Level> {
    usize::try_from(rank)
        .ok()
        .and_then(|r| Level::ALL.get(r).copied())
}

/// The board's row of an incident: `incident` as read (its place as stored: the micro-grid
/// filled in from its building), `derived` from its events, `deadlines` from its receipt and
/// its community's targets (`None` until received).
pub fn row_of(
    doc_id: &str,
    incident: &Incident,
    derived: &Derived,
    deadlines: Option<&Deadlines>,
) -> IncidentRow {
    let status = derived.status;
    let next_due = deadlines.and_then(|dl| {
        if derived.accepted_at.is_none() {
            Some(dl.respond_by)
        } else if status.is_open() {
            Some(dl.resolve_by)
        } else {
            None
        }
    });
    IncidentRow {
        doc_id: doc_id.to_owned(),
        community_id: incident.community_id.clone(),
        grid_id: incident.grid_id.clone(),
        micro_grid_id: incident.micro_grid_id.clone(),
        building_id: incident.building_id.clone(),
        unit_id: incident.unit_id.clone(),
        category: incident.category,
        priority: incident.priority,
        status,
        open: status != IncidentStatus::Closed,
        level: derived.level,
        level_rank: level_rank(derived.level),
        handler: derived.handler.clone(),
        department: derived.department,
        reporter: incident.reporter.clone(),
        description: incident.description.clone(),
        reported_at: incident.reported_at,
        received_at: incident.received_at,
        accepted_at: derived.accepted_at,
        resolved_at: derived.resolved_at,
        closed_at: derived.closed_at,
        respond_by: deadlines.map(|d| d.respond_by),
        resolve_by: deadlines.map(|d| d.resolve_by),
        next_due,
        returns: derived.returns,
        reopens: derived.reopens,
        rating: derived.rating,
        outcome: derived.outcome,
    }
}

impl IncidentRow {
    /// Whether its pending deadline has passed at `now`.
    pub fn overdue(&self, now: Millis) -> bool {
        self.next_due.is_some_and(|due| due < now)
    }

    /// Whether it counts as an open dispute (矛盾纠纷清零): a dispute not closed with an
    /// outcome recorded.
    pub fn is_open_dispute(&self) -> bool {
        self.category == IncidentCategory::Dispute
            && !(self.status == IncidentStatus::Closed && self.outcome.is_some())
    }
}

/// The board order at `now` (see the module's doc): `Less` sorts first.
pub fn board_order(a: &IncidentRow, b: &IncidentRow, now: Millis) -> Ordering {
    b.overdue(now)
        .cmp(&a.overdue(now))
        .then(b.level_rank.cmp(&a.level_rank))
        .then_with(|| match (a.next_due, b.next_due) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then(
            a.received_at
                .unwrap_or(a.reported_at)
                .cmp(&b.received_at.unwrap_or(b.reported_at)),
        )
        .then_with(|| a.doc_id.cmp(&b.doc_id))
}

/// What a board page asks for. Every filter is optional; the rows are also limited to the
/// caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardQuery {
    pub category: Option<IncidentCategory>,
    pub status: Option<IncidentStatus>,
    pub grid_id: Option<String>,
    /// The current handler (a user id).
    pub handler: Option<String>,
    pub department: Option<Department>,
    /// A department handler's orders only (see [`OrdersOf`]).
    pub orders_of: Option<OrdersOf>,
    /// Only rows not closed.
    pub open_only: bool,
    /// The time "overdue" is judged at.
    pub now: Millis,
    pub offset: u32,
    pub limit: u32,
}

impl BoardQuery {
    /// Whether `row` passes the filters (not the scope).
    pub fn matches(&self, row: &IncidentRow) -> bool {
        self.category.is_none_or(|c| row.category == c)
            && self.status.is_none_or(|s| row.status == s)
            && self.grid_id.as_ref().is_none_or(|g| &row.grid_id == g)
            && self
                .handler
                .as_ref()
                .is_none_or(|h| row.handler.as_ref() == Some(h))
            && self.department.is_none_or(|d| row.department == Some(d))
            && self.orders_of.as_ref().is_none_or(|o| o.covers(row))
            && (!self.open_only || row.open)
    }
}

/// Whose orders a department handler sees: those dispatched to their department, and those
/// dispatched to them by name. Without a department, only the latter: never everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersOf {
    pub department: Option<Department>,
    pub user_id: String,
}

impl OrdersOf {
    pub fn covers(&self, row: &IncidentRow) -> bool {
        self.covers_order(row.department, row.handler.as_deref())
    }

    /// The same rule on an order's department and handler (the incident page reads them from
    /// the document).
    pub fn covers_order(&self, department: Option<Department>, handler: Option<&str>) -> bool {
        (self.department.is_some() && department == self.department)
            || handler == Some(self.user_id.as_str())
    }
}

/// One page of the board, in [`board_order`], and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardPage {
    pub rows: Vec<IncidentRow>,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_domain::IncidentAction;
    use linli_domain::lifecycle::derive;
    use linli_domain::{LifecycleEvent, moves};

    fn incident() -> Incident {
        Incident {
            id: "i".into(),
            category: IncidentCategory::Noise,
            description: "夜间噪音".into(),
            community_id: "c".into(),
            grid_id: "g".into(),
            micro_grid_id: Some("m".into()),
            building_id: Some("b".into()),
            unit_id: None,
            household_id: None,
            reporter: "r".into(),
            priority: Priority::High,
            assignee: None,
            department: None,
            reported_at: 100,
            received_at: Some(200),
            status: IncidentStatus::Reported,
            level: Level::Grid,
            dispute: None,
            events: Vec::new(),
        }
    }

    fn ev(id: &str, action: IncidentAction, at: Millis) -> LifecycleEvent {
        moves::event(id.into(), action, "h".into(), at, Default::default())
    }

    const DL: Deadlines = Deadlines {
        respond_by: 1_000,
        resolve_by: 5_000,
    };

    #[test]
    fn next_due_follows_the_loop() {
        let i = incident();
        let reported = derive(&[]);
        let row = row_of("i", &i, &reported, Some(&DL));
        assert_eq!(row.next_due, Some(1_000));
        assert!(row.open);
        assert_eq!((row.level, row.level_rank), (Level::Grid, 0));
        assert_eq!(row.micro_grid_id.as_deref(), Some("m"));
        assert_eq!(row.respond_by, Some(1_000));
        assert_eq!(row.resolve_by, Some(5_000));
        // Not received yet: no deadline at all.
        let none = row_of("i", &i, &reported, None);
        assert_eq!((none.next_due, none.respond_by), (None, None));

        let accepted = derive(&[ev("1", IncidentAction::Accept, 300)]);
        let row = row_of("i", &i, &accepted, Some(&DL));
        assert_eq!(row.next_due, Some(5_000));
        assert_eq!(row.accepted_at, Some(300));
        assert_eq!(row.handler.as_deref(), Some("h"));

        let resolved = derive(&[
            ev("1", IncidentAction::Accept, 300),
            ev("2", IncidentAction::Resolve, 400),
        ]);
        let row = row_of("i", &i, &resolved, Some(&DL));
        assert_eq!(row.next_due, None);
        assert!(row.open, "resolved awaits its feedback");
        assert_eq!(row.status, IncidentStatus::Resolved);
        assert_eq!(row.resolved_at, Some(400));
    }

    #[test]
    fn an_escalated_incident_ranks_by_its_level() {
        let i = incident();
        let mut e = ev("1", IncidentAction::Escalate, 300);
        e.level = Some(Level::Community);
        let row = row_of("i", &i, &derive(&[e]), Some(&DL));
        assert_eq!((row.level, row.level_rank), (Level::Community, 1));
        assert_eq!(level_rank(Level::Street), 2);
        assert_eq!(level_of_rank(2), Some(Level::Street));
        assert_eq!(level_of_rank(3), None);
    }

    fn row(id: &str, rank: u32, next_due: Option<Millis>, received: Millis) -> IncidentRow {
        let mut r = row_of(id, &incident(), &derive(&[]), None);
        r.level_rank = rank;
        r.next_due = next_due;
        r.received_at = Some(received);
        r
    }

    #[test]
    fn the_board_order() {
        let now = 1_000;
        let mut rows = [
            row("f", 0, None, 1),
            row("e", 0, Some(2_000), 5),
            row("d", 0, Some(2_000), 3),
            row("c", 2, Some(3_000), 9),
            row("b", 0, Some(500), 9),
            row("a", 1, Some(900), 9),
            row("g", 0, Some(2_000), 3),
        ];
        rows.sort_by(|x, y| board_order(x, y, now));
        let ids: Vec<&str> = rows.iter().map(|r| r.doc_id.as_str()).collect();
        // Overdue (a, b) first, the community's before the grid's; then the street's; then
        // by due time, receipt and id; nothing due last.
        assert_eq!(ids, ["a", "b", "c", "d", "g", "e", "f"]);
    }

    #[test]
    fn filters_and_open_disputes() {
        let mut r = row_of("i", &incident(), &derive(&[]), Some(&DL));
        let all = BoardQuery::default();
        assert!(all.matches(&r));
        let q = BoardQuery {
            grid_id: Some("other".into()),
            ..BoardQuery::default()
        };
        assert!(!q.matches(&r));
        let q = BoardQuery {
            department: Some(Department::Police),
            ..BoardQuery::default()
        };
        assert!(!q.matches(&r));
        assert!(!r.is_open_dispute());
        r.category = IncidentCategory::Dispute;
        assert!(r.is_open_dispute());
        r.status = IncidentStatus::Closed;
        assert!(r.is_open_dispute(), "closed without an outcome");
        r.outcome = Some(DisputeOutcome::Mediated);
        assert!(!r.is_open_dispute());
    }
}

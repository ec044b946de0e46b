//! The board's rows, read from the incident documents of the scope (until the incident
//! index serves them).

use automerge::AutoCommit;
use linli_domain::scope::Scope;
use linli_domain::targets;
use linli_domain::{
    Department, DisputeOutcome, IncidentCategory, IncidentStatus, Level, Millis, Priority, doc,
};

use crate::storage::Storage;

pub struct BoardQuery {
    pub category: Option<IncidentCategory>,
    pub status: Option<IncidentStatus>,
    pub grid_id: Option<String>,
    pub handler: Option<String>,
    pub department: Option<Department>,
    pub open_only: bool,
    pub now: Millis,
    pub offset: u32,
    pub limit: u32,
}

pub struct IncidentRow {
    pub doc_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub category: IncidentCategory,
    pub priority: Priority,
    pub status: IncidentStatus,
    pub level: Level,
    pub handler: Option<String>,
    pub department: Option<Department>,
    pub description: String,
    pub reported_at: Millis,
    pub received_at: Option<Millis>,
    pub accepted_at: Option<Millis>,
    pub next_due: Option<Millis>,
    pub outcome: Option<DisputeOutcome>,
}

pub struct BoardPage {
    pub rows: Vec<IncidentRow>,
    pub total: u64,
}

pub fn board(storage: &dyn Storage, scope: &Scope, q: &BoardQuery) -> crate::Result<BoardPage> {
    let mut rows = Vec::new();
    for (id, bytes) in storage.incident_docs(scope)? {
        let d = AutoCommit::load(&bytes)?;
        let Ok((i, derived)) = doc::read_incident(&d) else {
            continue;
        };
        let t = storage.targets(&i.community_id)?.for_category(i.category);
        let dl = i
            .received_at
            .map(|at| targets::deadlines(at, i.priority, &t));
        let next_due = match (dl, derived.accepted_at, derived.resolved_at) {
            (Some(dl), None, _) => Some(dl.respond_by),
            (Some(dl), Some(_), None) => Some(dl.resolve_by),
            _ => None,
        };
        let row = IncidentRow {
            doc_id: id,
            grid_id: i.grid_id,
            building_id: i.building_id,
            unit_id: i.unit_id,
            category: i.category,
            priority: i.priority,
            status: derived.status,
            level: derived.level,
            handler: derived.handler,
            department: derived.department,
            description: i.description,
            reported_at: i.reported_at,
            received_at: i.received_at,
            accepted_at: derived.accepted_at,
            next_due: next_due.filter(|_| derived.status != IncidentStatus::Closed),
            outcome: derived.outcome,
        };
        let keep = q.category.is_none_or(|c| c == row.category)
            && q.status.is_none_or(|s| s == row.status)
            && q.grid_id.as_ref().is_none_or(|g| *g == row.grid_id)
            && q.handler
                .as_ref()
                .is_none_or(|h| Some(h) == row.handler.as_ref())
            && q.department.is_none_or(|d| Some(d) == row.department)
            && (!q.open_only || row.status != IncidentStatus::Closed);
        if keep {
            rows.push(row);
        }
    }
    rows.sort_by_key(|r| {
        (
            r.next_due.is_none_or(|d| d >= q.now),
            std::cmp::Reverse(r.level),
            r.next_due.unwrap_or(Millis::MAX),
            r.received_at.unwrap_or(r.reported_at),
        )
    });
    let total = rows.len() as u64;
    let rows = rows
        .into_iter()
        .skip(q.offset as usize)
        .take(q.limit as usize)
        .collect();
    Ok(BoardPage { rows, total })
}

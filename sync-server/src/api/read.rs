//! The API's reads: incidents in the caller's scope with their derived status, level and
//! deadlines; one incident with its timeline; open disputes per grid (矛盾纠纷清零: every
//! dispute not closed with an outcome); notifications; a community's targets.

use automerge::AutoCommit;
use axum::Json;
use axum::extract::{Path, State};
use linli_domain::doc;
use linli_domain::lifecycle::Derived;
use linli_domain::targets::{self, CommunityTargets, Targets};
use linli_domain::{Incident, LifecycleEvent, Millis};
use serde::{Deserialize, Serialize};

use super::{ApiError, Caller, Params, blocking};
use crate::AppState;
use crate::board::{BoardQuery, IncidentRow};
use crate::storage::{Device, Storage};

/// An incident as the console lists it.
#[derive(Debug, Serialize)]
pub struct IncidentView {
    pub id: String,
    pub category: &'static str,
    pub description: String,
    pub community_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub reporter: String,
    pub priority: &'static str,
    pub status: &'static str,
    pub level: &'static str,
    pub handler: Option<String>,
    pub department: Option<&'static str>,
    pub reported_at: Millis,
    pub received_at: Option<Millis>,
    pub accepted_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub respond_by: Option<Millis>,
    pub resolve_by: Option<Millis>,
    pub returns: u32,
    pub reopens: u32,
    pub rating: Option<&'static str>,
    pub outcome: Option<&'static str>,
    /// Only in `GET /api/v1/incidents/{id}`: every event in fold order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

/// One event of the timeline.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: String,
    pub action: &'static str,
    pub by: String,
    pub at: Millis,
    pub note: String,
    pub to: Option<String>,
    pub level: Option<&'static str>,
    pub rating: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub outcome: Option<&'static str>,
    /// Whether it changed the status where the fold placed it.
    pub took_effect: bool,
}

fn event_view((e, took): &(LifecycleEvent, bool)) -> EventView {
    EventView {
        id: e.id.clone(),
        action: e.action.code(),
        by: e.by.clone(),
        at: e.at,
        note: e.note.clone(),
        to: e.to.clone(),
        level: e.level.map(|l| l.code()),
        rating: e.rating.map(|r| r.code()),
        reason: e.reason.map(|r| r.code()),
        outcome: e.outcome.map(|o| o.code()),
        took_effect: *took,
    }
}

fn view(i: Incident, d: &Derived, t: &Targets, timeline: bool) -> IncidentView {
    let dl = i
        .received_at
        .map(|at| targets::deadlines(at, i.priority, t));
    IncidentView {
        category: i.category.code(),
        priority: i.priority.code(),
        status: d.status.code(),
        level: d.level.code(),
        handler: d.handler.clone(),
        department: d.department.map(|x| x.code()),
        reported_at: i.reported_at,
        received_at: i.received_at,
        accepted_at: d.accepted_at,
        resolved_at: d.resolved_at,
        respond_by: dl.map(|x| x.respond_by),
        resolve_by: dl.map(|x| x.resolve_by),
        returns: d.returns,
        reopens: d.reopens,
        rating: d.rating.map(|r| r.code()),
        outcome: d.outcome.map(|o| o.code()),
        timeline: timeline.then(|| d.applied.iter().map(event_view).collect()),
        id: i.id,
        description: i.description,
        community_id: i.community_id,
        grid_id: i.grid_id,
        building_id: i.building_id,
        unit_id: i.unit_id,
        reporter: i.reporter,
    }
}

/// Every incident in the device's scope, read and derived.
fn incidents(storage: &dyn Storage, device: &Device) -> Result<Vec<(Incident, Derived)>, ApiError> {
    let mut out = Vec::new();
    for (_, bytes) in storage.incident_docs(&device.scope)? {
        let d = AutoCommit::load(&bytes).map_err(crate::Error::from)?;
        // A document of a newer layout is skipped here, as a phone sets it aside.
        if let Ok(read) = doc::read_incident(&d) {
            out.push(read);
        }
    }
    Ok(out)
}

/// An incident as listed, from its board row (the same fields as read from its document).
fn row_view(r: IncidentRow) -> IncidentView {
    IncidentView {
        id: r.doc_id,
        category: r.category.code(),
        description: r.description,
        community_id: r.community_id,
        grid_id: r.grid_id,
        building_id: r.building_id,
        unit_id: r.unit_id,
        reporter: r.reporter,
        priority: r.priority.code(),
        status: r.status.code(),
        level: r.level.code(),
        handler: r.handler,
        department: r.department.map(|x| x.code()),
        reported_at: r.reported_at,
        received_at: r.received_at,
        accepted_at: r.accepted_at,
        resolved_at: r.resolved_at,
        respond_by: r.respond_by,
        resolve_by: r.resolve_by,
        returns: r.returns,
        reopens: r.reopens,
        rating: r.rating.map(|x| x.code()),
        outcome: r.outcome.map(|x| x.code()),
        timeline: None,
    }
}

/// `GET /api/v1/incidents`: every incident in the caller's scope, by id, from the board's
/// rows (no document is loaded).
pub async fn list_incidents(
    State(state): State<AppState>,
    Caller(device): Caller,
) -> Result<Json<Vec<IncidentView>>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        let all = BoardQuery {
            limit: u32::MAX,
            ..BoardQuery::default()
        };
        let mut rows = storage.board(&device.scope, &all)?.rows;
        rows.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
        Ok(Json(rows.into_iter().map(row_view).collect()))
    })
    .await
}

/// `GET /api/v1/incidents/{id}`.
pub async fn get_incident(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        let found = incidents(storage.as_ref(), &device)?
            .into_iter()
            .find(|(i, _)| i.id == id);
        let Some((i, d)) = found else {
            return Err(ApiError::not_found());
        };
        let t = storage.targets(&i.community_id)?.for_category(i.category);
        Ok(Json(view(i, &d, &t, true)))
    })
    .await
}

/// Open disputes of one grid.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct GridDisputes {
    pub grid_id: String,
    pub open: u32,
}

/// `GET /api/v1/disputes/open`: per grid of the scope that has disputes, how many are open
/// (anything but closed with an outcome recorded: `IncidentRow::is_open_dispute`), from the
/// board's rows.
pub async fn open_disputes(
    State(state): State<AppState>,
    Caller(device): Caller,
) -> Result<Json<Vec<GridDisputes>>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        let per_grid = storage.open_disputes_by_grid(&device.scope)?;
        Ok(Json(
            per_grid
                .into_iter()
                .map(|(grid_id, open, _)| GridDisputes { grid_id, open })
                .collect(),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct After {
    #[serde(default)]
    pub after: u64,
}

/// A notification as the console shows it.
#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: u64,
    pub incident_id: String,
    pub grid_id: String,
    pub kind: String,
    pub level: Option<&'static str>,
    pub at: Millis,
}

/// `GET /api/v1/notifications?after=N`.
pub async fn notifications(
    State(state): State<AppState>,
    Caller(device): Caller,
    Params(after): Params<After>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        let rows = storage.notifications(&device.scope, after.after, 500)?;
        Ok(Json(
            rows.into_iter()
                .map(|n| NotificationView {
                    id: n.id,
                    incident_id: n.doc_id,
                    grid_id: n.grid_id,
                    kind: n.kind,
                    level: n.level.map(|l| l.code()),
                    at: n.at,
                })
                .collect(),
        ))
    })
    .await
}

/// `GET /api/v1/communities/{id}/targets`.
pub async fn targets(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(community): Path<String>,
) -> Result<Json<CommunityTargets>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        if !device.communities.contains(&community) {
            return Err(ApiError::not_found());
        }
        Ok(Json(storage.targets(&community)?))
    })
    .await
}

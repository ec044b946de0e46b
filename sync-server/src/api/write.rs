//! The API's writes: reporting an incident, making a move on one, setting a community's
//! targets. Each is one write transaction that re-reads the document, checks scope and the
//! role table, and writes through `linli_domain::moves` as a server change naming the user.

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use linli_domain::doc::{self, DocKind, DocPlace, heads_to_text};
use linli_domain::protocol::Role;
use linli_domain::roles::{self, DispatchTarget, MoveContext};
use linli_domain::targets::CommunityTargets;
use linli_domain::{
    Department, DisputeInfo, DisputeOutcome, Incident, IncidentAction, IncidentCategory,
    IncidentStatus, Level, MoveDetail, NewIncident, PlaceKind, Priority, Rating, ReturnReason,
    moves,
};
use serde::{Deserialize, Serialize};

use super::{ApiError, Body, Caller, blocking, code};
use crate::AppState;
use crate::merge::{DocWrite, StoredDoc, Update};
use crate::storage::Storage;
use crate::workflow::{self, SYSTEM_DEVICE};

/// `POST /api/v1/incidents`.
#[derive(Debug, Deserialize)]
pub struct ReportBody {
    pub category: String,
    pub description: String,
    /// A grid, building or unit.
    pub place_id: String,
    pub priority: Option<String>,
    pub parties: Option<String>,
    pub mediator: Option<String>,
}

/// `POST /api/v1/incidents/{id}/moves`.
#[derive(Debug, Deserialize)]
pub struct MoveBody {
    pub action: String,
    #[serde(default)]
    pub note: String,
    pub to: Option<String>,
    pub department: Option<String>,
    pub reason: Option<String>,
    pub rating: Option<String>,
    pub level: Option<String>,
    pub outcome: Option<String>,
}

/// What a write answers.
#[derive(Debug, Serialize)]
pub struct Written {
    pub id: String,
    pub status: &'static str,
    pub level: &'static str,
}

/// Where a place sits in the tree: its community, grid, micro-grid, building and unit.
fn locate(storage: &dyn Storage, place_id: &str) -> Result<DocPlace, ApiError> {
    let mut at = DocPlace::default();
    let mut id = Some(place_id.to_owned());
    let mut first = true;
    while let Some(current) = id {
        let Some(p) = storage.place(&current)? else {
            return Err(ApiError::invalid("place_id"));
        };
        match p.kind {
            PlaceKind::Unit => at.unit_id = Some(p.id),
            PlaceKind::Building => at.building_id = Some(p.id),
            PlaceKind::MicroGrid => at.micro_grid_id = Some(p.id),
            PlaceKind::Grid => at.grid_id = p.id,
            PlaceKind::Community | PlaceKind::Street if first => {
                return Err(ApiError::invalid("place_id"));
            }
            PlaceKind::Community => at.community_id = p.id,
            // Above the community: not part of a document's place.
            PlaceKind::Street => {}
        }
        first = false;
        id = p.parent_id;
    }
    if at.community_id.is_empty() || at.grid_id.is_empty() {
        return Err(ApiError::invalid("place_id"));
    }
    Ok(at)
}

/// Stores a document the server created (as a server change) and writes its receipt.
fn store_new(
    tx: &dyn DocWrite,
    server: &workflow::ServerActor,
    id: &str,
    d: &mut AutoCommit,
    place: &DocPlace,
) -> crate::Result<()> {
    let update = Update {
        kind: DocKind::Incident,
        place: place.clone(),
        snapshot: d.save_nocompress(),
        heads: heads_to_text(&d.get_heads()),
        new_changes: d.save_after(&[]),
        moved: false,
        left: None,
    };
    tx.store(SYSTEM_DEVICE, id, &update)?;
    workflow::after_push(tx, server, id, &update)
}

/// `POST /api/v1/incidents`: reports an incident at a place in the caller's scope.
pub async fn report(
    State(state): State<AppState>,
    Caller(device): Caller,
    Body(body): Body<ReportBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    blocking(move || {
        let written = report_incident(storage.as_ref(), &device, &body)?;
        changes.notify();
        Ok((StatusCode::CREATED, Json(written)))
    })
    .await
}

/// Reports an incident at a place in `device`'s scope, as a server change naming its user
/// (the API's and the console's report). Call [`crate::Changes::notify`] after.
pub fn report_incident(
    storage: &dyn Storage,
    device: &crate::Device,
    body: &ReportBody,
) -> Result<Written, ApiError> {
    if !roles::may_report(device.role) {
        return Err(ApiError::forbidden("role"));
    }
    let category = code(
        "category",
        Some(&body.category),
        IncidentCategory::from_code,
    )?
    .ok_or(ApiError::invalid("category"))?;
    let priority = code("priority", body.priority.as_deref(), Priority::from_code)?
        .unwrap_or(Priority::Normal);
    let dispute = match (&body.parties, &body.mediator) {
        (None, None) => None,
        (p, m) => Some(DisputeInfo {
            parties: p.clone().unwrap_or_default(),
            mediator: m.clone().unwrap_or_default(),
        }),
    };
    let new = NewIncident {
        category,
        description: body.description.clone(),
        place_id: Some(body.place_id.clone()),
        household_id: None,
        priority,
        assignee: None,
        dispute: dispute.clone(),
    };
    new.validate()?;
    let place = locate(storage, &body.place_id)?;
    if !device.scope.covers(&place) {
        return Err(ApiError::not_found());
    }
    let server = storage.server().clone();
    let id = uuid::Uuid::now_v7().to_string();
    let incident = Incident {
        id: id.clone(),
        category,
        description: new.description.clone(),
        community_id: place.community_id.clone(),
        grid_id: place.grid_id.clone(),
        micro_grid_id: place.micro_grid_id.clone(),
        building_id: place.building_id.clone(),
        unit_id: place.unit_id.clone(),
        household_id: None,
        reporter: device.user_id.clone(),
        priority,
        assignee: None,
        department: None,
        reported_at: server.now(),
        received_at: None,
        status: IncidentStatus::Reported,
        level: Level::Grid,
        dispute,
        events: Vec::new(),
    };
    storage.write_workflow(&mut |tx| {
        let mut d = AutoCommit::new().with_actor(server.actor().clone());
        doc::init_incident(&mut d, &incident)?;
        d.commit_with(
            CommitOptions::default()
                .with_message(note(&device.user_id, "incident.report"))
                .with_time(server.now()),
        );
        store_new(tx, &server, &id, &mut d, &place)
    })?;
    tracing::info!(by = %device.device_id, "incident reported");
    Ok(Written {
        id,
        status: IncidentStatus::Reported.code(),
        level: Level::Grid.code(),
    })
}

fn note(user: &str, op: &str) -> String {
    serde_json::json!({ "u": user, "op": op, "f": [] }).to_string()
}

fn detail(body: &MoveBody) -> Result<MoveDetail, ApiError> {
    Ok(MoveDetail {
        note: body.note.clone(),
        to: body.to.clone(),
        department: code(
            "department",
            body.department.as_deref(),
            Department::from_code,
        )?,
        reason: code("reason", body.reason.as_deref(), ReturnReason::from_code)?,
        rating: code("rating", body.rating.as_deref(), Rating::from_code)?,
        level: code("level", body.level.as_deref(), Level::from_code)?,
        outcome: code(
            "outcome",
            body.outcome.as_deref(),
            DisputeOutcome::from_code,
        )?,
    })
}

/// `POST /api/v1/incidents/{id}/moves`: one move, judged by the role table with the
/// incident's current handler, written as the caller's.
pub async fn make_move(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(id): Path<String>,
    Body(body): Body<MoveBody>,
) -> Result<Json<Written>, ApiError> {
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    blocking(move || {
        let action = IncidentAction::from_code(&body.action)
            .filter(|a| *a != IncidentAction::Other)
            .ok_or(ApiError::invalid("action"))?;
        let detail = detail(&body)?;
        let department = department_of(storage.as_ref(), &device)?;
        let written = move_incident(storage.as_ref(), &device, department, &id, action, &detail)?;
        changes.notify();
        Ok(Json(written))
    })
    .await
}

/// A department handler's department (from their console account); `None` for other roles.
pub fn department_of(
    storage: &dyn Storage,
    device: &crate::Device,
) -> Result<Option<Department>, ApiError> {
    if device.role != Role::DepartmentHandler {
        return Ok(None);
    }
    Ok(storage.account(&device.user_id)?.and_then(|a| a.department))
}

/// Whom the role table sees as the incident's handler when `user_id` acts: the dispatch's
/// person; or, for an order dispatched to a department with no one named, a handler of
/// that department (who may then sign for it, start, resolve or return it).
pub fn effective_handler<'a>(
    handler: Option<&'a str>,
    dispatched_to: Option<Department>,
    user_id: &'a str,
    department: Option<Department>,
) -> Option<&'a str> {
    match (handler, dispatched_to, department) {
        (None, Some(to), Some(mine)) if to == mine => Some(user_id),
        (h, _, _) => h,
    }
}

/// Makes one move on an incident in `device`'s scope, judged by the role table, written as
/// a server change naming its user, in one transaction (the API's and the console's move).
/// `department`: the actor's, if a department handler. Call [`crate::Changes::notify`]
/// after.
pub fn move_incident(
    storage: &dyn Storage,
    device: &crate::Device,
    department: Option<Department>,
    id: &str,
    action: IncidentAction,
    detail: &MoveDetail,
) -> Result<Written, ApiError> {
    let server = storage.server().clone();
    let mut outcome: Result<Written, ApiError> = Err(ApiError::not_found());
    let written = storage.write_workflow(&mut |tx| {
        outcome = one_move(tx, &server, device, department, id, action, detail);
        match outcome {
            Ok(_) => Ok(()),
            // Roll back anything written before the refusal.
            Err(_) => Err(crate::Error::Invalid {
                field: "move",
                reason: "refused",
            }),
        }
    });
    match (outcome, written) {
        (Err(refused), _) => {
            tracing::debug!(action = action.code(), code = refused.code, "move refused");
            Err(refused)
        }
        (Ok(_), Err(e)) => Err(e.into()),
        (Ok(w), Ok(())) => {
            tracing::info!(action = action.code(), "move made");
            Ok(w)
        }
    }
}

fn one_move(
    tx: &dyn DocWrite,
    server: &workflow::ServerActor,
    device: &crate::Device,
    department: Option<Department>,
    id: &str,
    action: IncidentAction,
    detail: &MoveDetail,
) -> Result<Written, ApiError> {
    let Some(stored): Option<StoredDoc> = tx.load_doc(id)? else {
        return Err(ApiError::not_found());
    };
    if stored.kind != DocKind::Incident || !device.scope.covers(&stored.place) {
        return Err(ApiError::not_found());
    }
    let d = AutoCommit::load(&stored.snapshot).map_err(crate::Error::from)?;
    let (incident, derived) = doc::read_incident(&d)?;
    detail.validate(action, incident.category)?;
    let staff = match &detail.to {
        Some(to) if action == IncidentAction::Dispatch => {
            Some(tx.staff(to)?.ok_or(ApiError::invalid("to"))?)
        }
        _ => None,
    };
    let target = match (action, &detail.to, &staff) {
        (IncidentAction::Dispatch, Some(to), Some(s)) => Some(DispatchTarget::Person {
            user_id: to,
            role: s.role,
            same_community: s.community_id == incident.community_id,
        }),
        (IncidentAction::Dispatch, None, _) => Some(DispatchTarget::Department),
        _ => None,
    };
    let ctx = MoveContext {
        handler: effective_handler(
            derived.handler.as_deref(),
            derived.department,
            &device.user_id,
            department,
        ),
        target,
    };
    roles::check_move(device.role, &device.user_id, action, &ctx)
        .map_err(|denied| ApiError::forbidden(denied.code()))?;
    let event = moves::event(
        uuid::Uuid::now_v7().to_string(),
        action,
        device.user_id.clone(),
        server.now(),
        detail.clone(),
    );
    let mut status = derived.status;
    let d = workflow::write_as_server(
        tx,
        server,
        id,
        &stored,
        &device.user_id,
        &format!("incident.{}", action.code()),
        &mut |d| {
            status = moves::apply(d, &event)?;
            Ok(())
        },
    )?;
    let level = moves::current(&d)?.level;
    Ok(Written {
        id: id.to_owned(),
        status: status.code(),
        level: level.code(),
    })
}

/// `PUT /api/v1/communities/{id}/targets`: an admin of the community (or its street) sets
/// its targets.
pub async fn set_targets(
    State(state): State<AppState>,
    Caller(device): Caller,
    Path(community): Path<String>,
    Body(targets): Body<CommunityTargets>,
) -> Result<Json<CommunityTargets>, ApiError> {
    let storage = state.storage().clone();
    blocking(move || {
        if !device.scope.communities.contains(&community) {
            return Err(ApiError::not_found());
        }
        if !device.role.is_admin() {
            return Err(ApiError::forbidden("role"));
        }
        storage.set_targets(&community, &targets)?;
        Ok(Json(storage.targets(&community)?))
    })
    .await
}

//! One incident: its facts, its timeline (every event in fold order, with whether it took
//! effect), and a form for each move the signed-in user may make on it now (the role table's
//! `allowed_moves`, with the department rule of [`crate::api::effective_handler`]).

use askama::Template;
use automerge::AutoCommit;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::doc::{self, DocKind};
use linli_domain::roles::{self, MoveContext};
use linli_domain::targets;
use linli_domain::{
    Department, DisputeOutcome, IncidentAction, IncidentCategory, IncidentStatus, Level, Millis,
    MoveDetail, Rating, ReturnReason,
};
use serde::Deserialize;

use super::session::Staff;
use super::view::{self, Names};
use super::{Page, blocking, render_status};
use crate::AppState;
use crate::api::{self, ApiError};
use crate::storage::Storage;

/// One event of the timeline, ready to show.
pub struct Event {
    pub action: &'static str,
    pub label: &'static str,
    pub by: String,
    pub at: String,
    pub note: String,
    /// To whom, which reason, rating, level or outcome, in words.
    pub detail: String,
    pub took_effect: bool,
}

/// A move the user may make, with the choices its form needs.
pub struct MoveForm {
    pub action: &'static str,
    pub label: &'static str,
    pub targets: Vec<(String, String)>,
    pub reasons: Vec<(&'static str, &'static str)>,
    pub ratings: Vec<(&'static str, &'static str)>,
    pub levels: Vec<(&'static str, &'static str)>,
    pub outcomes: Vec<(&'static str, &'static str)>,
    /// The note must be filled in (a reason for close, return and reopen).
    pub note_required: bool,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    now: Millis,
    id: String,
    category: &'static str,
    priority: &'static str,
    status: &'static str,
    status_label: &'static str,
    level: &'static str,
    level_label: &'static str,
    description: String,
    location: String,
    reporter: String,
    reported_at: String,
    received_at: String,
    handler: String,
    deadline: Option<Millis>,
    deadline_kind: &'static str,
    respond_by: String,
    resolve_by: String,
    parties: String,
    mediator: String,
    outcome: &'static str,
    rating: &'static str,
    returns: u32,
    reopens: u32,
    timeline: Vec<Event>,
    moves: Vec<MoveForm>,
    notice: Option<String>,
    error: Option<&'static str>,
}

fn labels<T: Copy>(
    all: &[T],
    f: impl Fn(T) -> (&'static str, &'static str),
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|x| f(*x)).collect()
}

fn event_detail(e: &linli_domain::LifecycleEvent, names: &Names) -> String {
    let mut parts = Vec::new();
    if let Some(to) = &e.to {
        parts.push(format!("派给 {}", names.person(to)));
    }
    if let Some(d) = e.department {
        parts.push(format!("派给 {}", d.label()));
    }
    if let Some(r) = e.reason {
        parts.push(format!("原因：{}", r.label()));
    }
    if let Some(r) = e.rating {
        parts.push(format!("评价：{}", r.label()));
    }
    if let Some(l) = e.level {
        parts.push(format!("升级至{}", l.label()));
    }
    if let Some(o) = e.outcome {
        parts.push(format!("结果：{}", o.label()));
    }
    parts.join("；")
}

/// Reads the incident `id` for `staff` and builds its page (`None` if not in their scope).
fn build(
    storage: &dyn Storage,
    staff: &Staff,
    id: &str,
    notice: Option<String>,
    error: Option<&'static str>,
) -> Result<IncidentPage, Page> {
    // An id far longer than any document's is not looked up.
    if id.len() > 100 {
        return Err(Page::NotFound);
    }
    let Some(stored) = storage.stored_doc(id)? else {
        return Err(Page::NotFound);
    };
    if stored.kind != DocKind::Incident || !staff.device.scope.covers(&stored.place) {
        return Err(Page::NotFound);
    }
    let d = AutoCommit::load(&stored.snapshot).map_err(crate::Error::from)?;
    let Ok((i, derived)) = doc::read_incident(&d) else {
        return Err(Page::Bad("该事件由更新版本的应用创建，控制台暂不能显示。"));
    };
    // A department handler sees only the orders of their department (the board's rule).
    if let Some(orders) = staff.orders_of()
        && !orders.covers_order(derived.department, derived.handler.as_deref())
    {
        return Err(Page::NotFound);
    }
    let names = Names::of(storage, &staff.device)?;
    let now = storage.server().now();
    let t = storage.targets(&i.community_id)?.for_category(i.category);
    let dl = i
        .received_at
        .map(|at| targets::deadlines(at, i.priority, &t));
    let open = derived.status != IncidentStatus::Closed;
    let (deadline, deadline_kind) = match (dl, derived.accepted_at, derived.resolved_at) {
        (Some(dl), None, _) if open => (Some(dl.respond_by), "响应"),
        (Some(dl), Some(_), None) if open => (Some(dl.resolve_by), "办结"),
        _ => (None, ""),
    };
    let handler = api::effective_handler(
        derived.handler.as_deref(),
        derived.department,
        &staff.device.user_id,
        staff.department(),
    );
    let ctx = MoveContext {
        handler,
        target: None,
    };
    let allowed = roles::allowed_moves(
        derived.status,
        staff.device.role,
        &staff.device.user_id,
        &ctx,
    );
    let mut targets_list: Vec<(String, String)> = names
        .people
        .iter()
        .map(|p| {
            (
                format!("user:{}", p.id),
                format!("{}（{}）", p.name, p.role.label()),
            )
        })
        .collect();
    targets_list.extend(Department::ALL.iter().map(|d| {
        (
            format!("department:{}", d.code()),
            format!("部门：{}", d.label()),
        )
    }));
    let moves = allowed
        .into_iter()
        .filter(|a| *a != IncidentAction::Escalate || derived.level < Level::Street)
        .map(|a| MoveForm {
            action: a.code(),
            label: a.label(),
            targets: if a == IncidentAction::Dispatch {
                targets_list.clone()
            } else {
                Vec::new()
            },
            reasons: if a == IncidentAction::Return {
                labels(ReturnReason::ALL, |r| (r.code(), r.label()))
            } else {
                Vec::new()
            },
            ratings: if a == IncidentAction::Feedback {
                labels(Rating::ALL, |r| (r.code(), r.label()))
            } else {
                Vec::new()
            },
            levels: if a == IncidentAction::Escalate {
                Level::ALL
                    .iter()
                    .filter(|l| **l > derived.level)
                    .map(|l| (l.code(), l.label()))
                    .collect()
            } else {
                Vec::new()
            },
            outcomes: if a == IncidentAction::Resolve && i.category == IncidentCategory::Dispute {
                labels(DisputeOutcome::ALL, |o| (o.code(), o.label()))
            } else {
                Vec::new()
            },
            note_required: matches!(
                a,
                IncidentAction::Close | IncidentAction::Return | IncidentAction::Reopen
            ),
        })
        .collect();
    let timeline = derived
        .applied
        .iter()
        .map(|(e, took)| Event {
            action: e.action.code(),
            label: e.action.label(),
            by: names.person(&e.by),
            at: view::time(e.at),
            note: e.note.clone(),
            detail: event_detail(e, &names),
            took_effect: *took,
        })
        .collect();
    Ok(IncidentPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        now,
        id: i.id.clone(),
        category: i.category.label(),
        priority: i.priority.label(),
        status: derived.status.code(),
        status_label: derived.status.label(),
        level: derived.level.code(),
        level_label: derived.level.label(),
        location: names.location(&i.grid_id, i.building_id.as_deref(), i.unit_id.as_deref()),
        reporter: names.person(&i.reporter),
        reported_at: view::time(i.reported_at),
        received_at: view::time_opt(i.received_at),
        handler: match (&derived.handler, derived.department) {
            (Some(h), _) => names.person(h),
            (None, Some(d)) => d.label().to_owned(),
            _ => "—".into(),
        },
        deadline,
        deadline_kind,
        respond_by: view::time_opt(dl.map(|x| x.respond_by)),
        resolve_by: view::time_opt(dl.map(|x| x.resolve_by)),
        parties: i
            .dispute
            .as_ref()
            .map(|x| x.parties.clone())
            .unwrap_or_default(),
        mediator: i
            .dispute
            .as_ref()
            .map(|x| x.mediator.clone())
            .unwrap_or_default(),
        outcome: derived.outcome.map(|o| o.label()).unwrap_or(""),
        rating: derived.rating.map(|r| r.label()).unwrap_or(""),
        returns: derived.returns,
        reopens: derived.reopens,
        description: i.description,
        timeline,
        moves,
        notice,
        error,
    })
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `GET /admin/incidents/{id}`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    done: Result<Query<Done>, QueryRejection>,
) -> Response {
    let notice = done
        .ok()
        .and_then(|Query(d)| d.done)
        .and_then(|a| IncidentAction::from_code(&a))
        .map(|a| format!("已{}。", a.label()));
    let storage = state.storage().clone();
    match blocking(move || build(storage.as_ref(), &staff, &id, notice, None)).await {
        Ok(p) => render_status(StatusCode::OK, &p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveFields {
    #[serde(default)]
    action: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    outcome: String,
}

fn code<T>(
    field: &'static str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    if text.is_empty() {
        return Ok(None);
    }
    parse(text).map(Some).ok_or(ApiError::invalid(field))
}

/// The move's detail from the form's fields (empty fields are absent).
fn detail(f: &MoveFields) -> Result<MoveDetail, ApiError> {
    let (to, department) = match f.target.split_once(':') {
        _ if f.target.is_empty() => (None, None),
        Some(("user", id)) if !id.is_empty() => (Some(id.to_owned()), None),
        Some(("department", d)) => (
            None,
            Some(Department::from_code(d).ok_or(ApiError::invalid("target"))?),
        ),
        _ => return Err(ApiError::invalid("target")),
    };
    Ok(MoveDetail {
        note: f.note.trim().to_owned(),
        to,
        department,
        reason: code("reason", &f.reason, ReturnReason::from_code)?,
        rating: code("rating", &f.rating, Rating::from_code)?,
        level: code("level", &f.level, Level::from_code)?,
        outcome: code("outcome", &f.outcome, DisputeOutcome::from_code)?,
    })
}

/// `POST /admin/incidents/{id}/moves`: one move; back to the incident with a notice, or the
/// page again with the refusal in Chinese (nothing written).
pub async fn make_move(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<MoveFields>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    if !staff.csrf_ok(&fields.csrf) {
        return Page::Forged.into_response();
    }
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    let outcome = blocking(move || {
        let tried = IncidentAction::from_code(&fields.action)
            .filter(|a| *a != IncidentAction::Other)
            .ok_or(ApiError::invalid("action"))
            .and_then(|action| Ok((action, detail(&fields)?)))
            .and_then(|(action, detail)| {
                api::move_incident(
                    storage.as_ref(),
                    &staff.device,
                    staff.department(),
                    &id,
                    action,
                    &detail,
                )
                .map(|_| action)
            });
        match tried {
            Ok(action) => {
                changes.notify();
                // A handler who returned an order no longer sees it: back to the board. The
                // index row was written in the move's transaction.
                let still_seen = match staff.orders_of() {
                    None => true,
                    Some(orders) => storage
                        .incident_row(&id)?
                        .is_some_and(|row| orders.covers(&row)),
                };
                Ok(Ok((id, action, still_seen)))
            }
            Err(refused) if refused.status == StatusCode::NOT_FOUND => Err(Page::NotFound),
            Err(refused) => {
                let status = refused.status;
                let page = build(
                    storage.as_ref(),
                    &staff,
                    &id,
                    None,
                    Some(view::message(&refused)),
                )?;
                Ok(Err((status, page)))
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok((id, action, true))) => {
            Redirect::to(&format!("/admin/incidents/{id}?done={}", action.code())).into_response()
        }
        Ok(Ok((_, action, false))) => {
            Redirect::to(&format!("/admin/board?done={}", action.code())).into_response()
        }
        Ok(Err((status, page))) => render_status(status, &page),
        Err(e) => e.into_response(),
    }
}

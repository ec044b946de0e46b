//! A hotline report (热线登记): a resident phoned in, and an admin reports the incident for
//! them: place, category, priority, description and the caller's contact. It is written as
//! the admin's report, through the same path as the API's.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::roles;
use linli_domain::{IncidentCategory, PlaceKind, Priority};
use serde::Deserialize;

use super::session::Staff;
use super::view::{self, Names};
use super::{Page, blocking, render_status};
use crate::AppState;
use crate::api::{self, ApiError, ReportBody};

/// The caller's contact is kept with the description; this long at most.
pub const MAX_CONTACT_CHARS: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct ReportFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    place_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    places: Vec<(String, String)>,
    categories: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    form: ReportFields,
    error: Option<&'static str>,
}

fn form_page(
    storage: &dyn crate::Storage,
    staff: &Staff,
    form: ReportFields,
    error: Option<&'static str>,
) -> Result<ReportPage, Page> {
    let names = Names::of(storage, &staff.device)?;
    Ok(ReportPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        places: names.places_of(
            &staff.device,
            &[
                PlaceKind::Grid,
                PlaceKind::MicroGrid,
                PlaceKind::Building,
                PlaceKind::Unit,
            ],
        ),
        categories: IncidentCategory::ALL
            .iter()
            .map(|c| (c.code(), c.label()))
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.code(), p.label()))
            .collect(),
        form,
        error,
    })
}

/// `GET /admin/report`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    if !roles::may_report(staff.device.role) {
        return Page::Forbidden("您的角色不能登记事件。").into_response();
    }
    let storage = state.storage().clone();
    let fields = ReportFields {
        priority: Priority::Normal.code().into(),
        ..ReportFields::default()
    };
    match blocking(move || form_page(storage.as_ref(), &staff, fields, None)).await {
        Ok(p) => render_status(StatusCode::OK, &p),
        Err(e) => e.into_response(),
    }
}

/// The description as stored: the caller's words, then who called.
fn description(fields: &ReportFields) -> Result<String, ApiError> {
    let text = fields.description.trim();
    let contact = fields.contact.trim();
    if contact.chars().count() > MAX_CONTACT_CHARS {
        return Err(ApiError::invalid("contact"));
    }
    if text.is_empty() || contact.is_empty() {
        return Ok(text.to_owned());
    }
    Ok(format!("{text}\n（热线来电，联系人：{contact}）"))
}

/// `POST /admin/report`: on success, the new incident's page.
pub async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Form<ReportFields>, FormRejection>,
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
        let tried = description(&fields).and_then(|description| {
            api::report_incident(
                storage.as_ref(),
                &staff.device,
                &ReportBody {
                    category: fields.category.clone(),
                    description,
                    place_id: fields.place_id.clone(),
                    priority: Some(fields.priority.clone()).filter(|p| !p.is_empty()),
                    parties: None,
                    mediator: None,
                },
            )
        });
        match tried {
            Ok(w) => {
                changes.notify();
                Ok(Ok(w.id))
            }
            Err(e) => {
                // An unknown or out-of-scope place is a choice to correct, not a 404.
                let message = if e.status == StatusCode::NOT_FOUND {
                    view::refusal("invalid", Some("place_id"))
                } else {
                    view::message(&e)
                };
                let status = if e.status.is_client_error() {
                    StatusCode::BAD_REQUEST
                } else {
                    e.status
                };
                Ok(Err((
                    status,
                    form_page(storage.as_ref(), &staff, fields, Some(message))?,
                )))
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(id)) => Redirect::to(&format!("/admin/incidents/{id}")).into_response(),
        Ok(Err((status, page))) => render_status(status, &page),
        Err(e) => e.into_response(),
    }
}

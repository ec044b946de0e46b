//! Erasing a household (删除住户信息, issue 12) from the console:
//! `POST /admin/households/{id}/erase` with the form's CSRF token, a reason code chosen from
//! a list ([`EraseReason`]), an optional note (kept only in the audit row) and a ticked
//! confirmation. Only a community admin of the household's community may erase it; a
//! household outside their scope is not found. The storage does the rest in one transaction
//! ([`crate::erase::PrivacyStorage::erase_household`]).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::Role;
use serde::Deserialize;

use super::session::Staff;
use super::users::check_csrf;
use super::{Page, blocking};
use crate::AppState;
use crate::erase::{EraseReason, Erased, Erasure, MAX_NOTE_CHARS};

/// The erase form.
#[derive(Debug, Deserialize)]
pub struct EraseFields {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: String,
    /// `yes` when the confirmation box is ticked.
    #[serde(default)]
    pub confirm: String,
}

/// `POST /admin/households/{id}/erase`.
pub async fn erase(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<EraseFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        if staff.device.role != Role::Admin {
            return Err(Page::Forbidden("只有本社区管理员可以删除住户信息。"));
        }
        let Some((place, _)) = storage.household_document(&id)? else {
            return Err(Page::NotFound);
        };
        if !staff.device.scope.covers(&place) {
            return Err(Page::NotFound);
        }
        let reason = EraseReason::from_code(&f.reason).ok_or(Page::Bad("请选择删除原因。"))?;
        if f.confirm != "yes" {
            return Err(Page::Bad("请勾选确认：删除后无法恢复。"));
        }
        let note = f.note.trim();
        if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(char::is_control) {
            return Err(Page::Bad("备注最多 200 字，且不能含控制字符。"));
        }
        let erased = storage.erase_household(&Erasure {
            doc_id: id.clone(),
            by_user: staff.device.user_id.clone(),
            reason,
            note: note.to_owned(),
            at: storage.server().now(),
        })?;
        match erased {
            Erased::Done { changes } => {
                tracing::info!(doc = %id, changes, reason = reason.code(), "console: household erased");
                Ok(())
            }
            Erased::Already | Erased::NotFound => Err(Page::NotFound),
        }
    })
    .await;
    match done {
        Ok(()) => Redirect::to("/admin/households?erased=1").into_response(),
        Err(e) => e.into_response(),
    }
}

//! Merging duplicate households (合并重复户) in the console: on a household's page, a community
//! admin of that place is offered the other households at the same door (building, unit,
//! room) and may merge one into this one (`POST /admin/households/{id}/merge`, CSRF, a
//! confirmation box). The server writes it as its own changes ([`crate::household_merge`])
//! with one `admin_actions` row; the merged household's page then says where it went.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::Role;
use linli_domain::doc::DocPlace;
use serde::Deserialize;

use super::session::Staff;
use super::users::check_csrf;
use super::{Page, blocking};
use crate::AppState;
use crate::directory::{Action, Audit};
use crate::register::{self, RegisterQuery};
use crate::storage::Storage;

/// Another household at the same door, as the merge form offers it.
pub struct Candidate {
    pub id: String,
    /// Its current members' names.
    pub members: String,
}

/// Whether `staff` may merge households at `place`: a community admin whose scope covers it.
fn may_merge(staff: &Staff, place: &DocPlace) -> bool {
    staff.device.role == Role::Admin && staff.device.scope.covers(place)
}

/// The place the door is under: its unit, else building, else grid.
fn door_place(p: &DocPlace) -> String {
    p.unit_id
        .clone()
        .or_else(|| p.building_id.clone())
        .unwrap_or_else(|| p.grid_id.clone())
}

fn same_door(a: &DocPlace, a_room: &str, b: &DocPlace, b_room: &str) -> bool {
    a.community_id == b.community_id
        && a.building_id == b.building_id
        && a.unit_id == b.unit_id
        && a_room.trim() == b_room.trim()
}

/// The other listed households at the door of household `id` (at `place`, `room`), for an
/// admin who may merge them; none for anyone else.
pub(super) fn candidates(
    storage: &dyn Storage,
    staff: &Staff,
    id: &str,
    place: &DocPlace,
    room: &str,
) -> Result<Vec<Candidate>, Page> {
    if !may_merge(staff, place) {
        return Ok(Vec::new());
    }
    let q = RegisterQuery {
        search: None,
        place_id: Some(door_place(place)),
        moved_out: true,
        offset: 0,
        limit: register::MAX_PAGE,
    };
    let found = storage.register_page(&staff.device.scope, &q)?;
    Ok(found
        .households
        .into_iter()
        .filter(|(h, _)| h.doc_id != id && same_door(&h.place, &h.room, place, room))
        .map(|(h, members)| Candidate {
            id: h.doc_id,
            members: members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct MergeFields {
    #[serde(default)]
    csrf: String,
    /// The household merged into this one.
    #[serde(default)]
    other: String,
    /// The confirmation box.
    #[serde(default)]
    confirm: String,
}

/// A stored household's place and address room, if it is one the admin may merge.
fn household_at(
    storage: &dyn Storage,
    staff: &Staff,
    id: &str,
) -> Result<(DocPlace, String), Page> {
    let Some((place, snapshot)) = storage.household_document(id)? else {
        return Err(Page::NotFound);
    };
    if !may_merge(staff, &place) {
        return Err(Page::NotFound);
    }
    let d = automerge::AutoCommit::load(&snapshot).map_err(|_| Page::Internal)?;
    let p = register::project(id, &d, &place, 0).ok_or(Page::NotFound)?;
    if p.merged_into.is_some() {
        return Err(Page::Bad("该户已被合并，不能再合并。"));
    }
    Ok((place, p.household.room))
}

/// `POST /admin/households/{id}/merge`: household `other` (same door) is merged into `id`.
pub async fn merge(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<MergeFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    let kept = id.clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        if staff.device.role != Role::Admin {
            return Err(Page::Forbidden("只有本社区管理员可以合并重复户。"));
        }
        let (place, room) = household_at(storage.as_ref(), &staff, &id)?;
        if f.other.trim().is_empty() {
            return Err(Page::Bad("请选择要并入的住户。"));
        }
        let (other_place, other_room) = household_at(storage.as_ref(), &staff, f.other.trim())?;
        if f.other.trim() == id || !same_door(&place, &room, &other_place, &other_room) {
            return Err(Page::Bad("只能合并同一门牌（同楼栋、单元、房号）的住户。"));
        }
        if f.confirm != "1" {
            return Err(Page::Bad("请勾选确认：两户确为同一户。"));
        }
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::MergeHousehold,
        )
        .community(Some(place.community_id.as_str()))
        .place(&door_place(&place));
        match storage.merge_households(&id, f.other.trim(), &audit) {
            Ok(m) => {
                tracing::info!(
                    household = %id,
                    members = m.members,
                    tags = m.tags,
                    needs = m.needs,
                    "console: households merged"
                );
                Ok(())
            }
            Err(crate::Error::Invalid { .. }) => {
                Err(Page::Bad("两户不在同一门牌，或其中一户已被合并。"))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await;
    match done {
        Ok(()) => {
            changes.notify();
            Redirect::to(&format!("/admin/households/{kept}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}

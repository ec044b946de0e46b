//! Places (地点管理): the place tree of the admin's communities; creating and renaming
//! places; moving a building to another grid or micro-grid of its community (its households
//! and incidents follow, see [`crate::relocate`]). Only admins over the place; each action
//! writes its audit row.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::{Place, PlaceKind};
use serde::Deserialize;

use super::session::Staff;
use super::users::{admin_only, check_csrf, community_of, managed_place, reason, reasons};
use super::view::Names;
use super::{Page, blocking, render};
use crate::AppState;
use crate::directory::{Action, Audit, check_place};
use crate::storage::Storage;

pub struct PlaceRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub depth: usize,
    pub building: bool,
}

#[derive(Template)]
#[template(path = "places.html")]
struct PlacesPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    places: Vec<PlaceRow>,
    parents: Vec<(String, String)>,
    grids: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
}

/// The tree in depth-first order, children by name.
fn tree(names: &Names) -> Vec<PlaceRow> {
    fn walk(names: &Names, parent: Option<&str>, depth: usize, out: &mut Vec<PlaceRow>) {
        let mut children: Vec<&Place> = names
            .places
            .iter()
            .filter(|p| p.parent_id.as_deref() == parent)
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for p in children {
            // Streets are shown as headings to every admin; only they are not editable here.
            if depth < 8 {
                out.push(PlaceRow {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    kind: p.kind.label(),
                    depth,
                    building: p.kind == PlaceKind::Building,
                });
                walk(names, Some(&p.id), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    // Roots: places whose parent is not among the places shown.
    let roots: Vec<&Place> = names
        .places
        .iter()
        .filter(|p| {
            p.parent_id
                .as_ref()
                .is_none_or(|id| !names.places.iter().any(|q| &q.id == id))
        })
        .collect();
    for r in roots {
        out.push(PlaceRow {
            id: r.id.clone(),
            name: r.name.clone(),
            kind: r.kind.label(),
            depth: 0,
            building: r.kind == PlaceKind::Building,
        });
        walk(names, Some(&r.id), 1, &mut out);
    }
    out
}

fn places_page(storage: &dyn Storage, staff: &Staff) -> Result<PlacesPage, Page> {
    let names = Names::of(storage, &staff.device)?;
    let all = [
        PlaceKind::Community,
        PlaceKind::Grid,
        PlaceKind::MicroGrid,
        PlaceKind::Building,
    ];
    Ok(PlacesPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: true,
        csrf: staff.csrf.clone(),
        places: tree(&names),
        parents: names.places_of(&staff.device, &all),
        grids: names.places_of(&staff.device, &[PlaceKind::Grid, PlaceKind::MicroGrid]),
        kinds: [
            PlaceKind::Grid,
            PlaceKind::MicroGrid,
            PlaceKind::Building,
            PlaceKind::Unit,
        ]
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect(),
        reasons: reasons(),
    })
}

/// `GET /admin/places`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let storage = state.storage().clone();
    let shown = blocking(move || {
        admin_only(&staff)?;
        places_page(storage.as_ref(), &staff)
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PlaceFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    reason: String,
}

fn check_name(name: &str) -> Result<String, Page> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(Page::Bad("请填写名称（不超过64字）。"));
    }
    Ok(n.to_owned())
}

/// The tree's refusal of a place (wrong level) as a Chinese message.
fn saved(storage: &dyn Storage, place: &Place, audit: &Audit) -> Result<(), Page> {
    let parent = match &place.parent_id {
        Some(id) => storage.place(id)?,
        None => None,
    };
    match check_place(place, parent.as_ref()) {
        Ok(()) => {}
        Err(crate::Error::Invalid { .. }) | Err(crate::Error::NotFound { .. }) => {
            return Err(Page::Bad(
                "上级地点不符合层级（社区 > 网格 > 微网格 > 楼栋 > 单元）。",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    storage.save_place(place, audit)?;
    Ok(())
}

/// `POST /admin/places`: a new place (a fresh id) under a place of the admin's.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Form<PlaceFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let kind = PlaceKind::from_code(&f.kind)
            .filter(|k| !matches!(k, PlaceKind::Street | PlaceKind::Community))
            .ok_or(Page::Bad("请选择地点类型。"))?;
        let name = check_name(&f.name)?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let parent =
            managed_place(&names, &staff, &f.parent).map_err(|_| Page::Bad("请选择上级地点。"))?;
        let place = Place {
            id: format!("p-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            kind,
            parent_id: Some(parent.id.clone()),
            name,
        };
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::CreatePlace,
        )
        .community(community_of(&names, &parent).as_deref())
        .place(&place.id)
        .reason(reason(&f.reason, false)?);
        saved(storage.as_ref(), &place, &audit)
    })
    .await;
    match done {
        Ok(()) => Redirect::to("/admin/places").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /admin/places/{id}/rename`.
pub async fn rename(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<PlaceFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let mut place = managed_place(&names, &staff, &id)?;
        place.name = check_name(&f.name)?;
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::RenamePlace,
        )
        .community(community_of(&names, &place).as_deref())
        .place(&place.id)
        .reason(reason(&f.reason, false)?);
        saved(storage.as_ref(), &place, &audit)
    })
    .await;
    match done {
        Ok(()) => Redirect::to("/admin/places").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /admin/places/{id}/move`: the building moves under `grid` (a grid or micro-grid of
/// the same community), with a reason; its records follow in the same transaction.
pub async fn move_building(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<PlaceFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let building = managed_place(&names, &staff, &id)?;
        if building.kind != PlaceKind::Building {
            return Err(Page::NotFound);
        }
        let target = managed_place(&names, &staff, &f.grid)
            .ok()
            .filter(|p| matches!(p.kind, PlaceKind::Grid | PlaceKind::MicroGrid))
            .filter(|p| community_of(&names, p) == community_of(&names, &building))
            .ok_or(Page::Bad("请选择本社区的网格或微网格。"))?;
        if building.parent_id.as_deref() == Some(target.id.as_str()) {
            return Err(Page::Bad("楼栋已在该网格。"));
        }
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::MoveBuilding,
        )
        .community(community_of(&names, &building).as_deref())
        .place(&building.id)
        .reason(reason(&f.reason, true)?);
        let moved = storage.move_building(&building.id, &target.id, &audit)?;
        tracing::info!(building = %building.id, records = moved, "console: building moved");
        Ok(())
    })
    .await;
    match done {
        Ok(()) => {
            // Phones holding a long poll hear of the moved records at once.
            changes.notify();
            Redirect::to("/admin/places").into_response()
        }
        Err(e) => e.into_response(),
    }
}

//! People (人员管理), for community and street admins: the users of their communities;
//! creating one; a user's page with their places (grant, withdraw), devices (enrolment QR
//! code, revoke: `devices.rs`) and deactivation, "after a final sync" or "now" (a lost
//! phone). An admin manages only the roles below theirs in their own communities; anyone
//! else is "not found", the same from outside. Every action writes its audit row in its
//! transaction (`DirectoryStorage`).

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::protocol::Role;
use linli_domain::{Place, PlaceKind};
use serde::Deserialize;

use super::session::Staff;
use super::view::{self, Names};
use super::{Page, blocking, render};
use crate::AppState;
use crate::directory::{Action, Audit, Deactivation, Reason, User, UserState, creatable_roles};
use crate::storage::Storage;

/// A device as the user page lists it.
pub struct DeviceView {
    pub id: String,
    pub name: String,
    pub enrolled: String,
    pub revoked: Option<String>,
}

/// An enrolment code just made: its link, the link as a QR code (SVG) and its expiry.
pub struct Enrolment {
    pub link: String,
    pub svg: String,
    pub expires: String,
}

/// Admins only: others get 403.
pub(super) fn admin_only(staff: &Staff) -> Result<(), Page> {
    if staff.device.role.is_admin() {
        Ok(())
    } else {
        Err(Page::Forbidden("只有管理员可以管理人员、设备与地点。"))
    }
}

/// Whether `staff` manages `user`: one of their communities, a role below theirs, not
/// themselves.
pub(super) fn manages(staff: &Staff, user: &User) -> bool {
    staff.device.role.is_admin()
        && user.id != staff.device.user_id
        && staff.device.communities.contains(&user.community_id)
        && creatable_roles(staff.device.role).contains(&user.role)
}

/// The user `id` if `staff` manages them (else not found).
pub(super) fn managed(storage: &dyn Storage, staff: &Staff, id: &str) -> Result<User, Page> {
    match storage.user(id)? {
        Some(u) if manages(staff, &u) => Ok(u),
        _ => Err(Page::NotFound),
    }
}

/// A place of the staff's communities they may administer (a street only for a street
/// admin), else not found.
pub(super) fn managed_place(names: &Names, staff: &Staff, id: &str) -> Result<Place, Page> {
    match names.places.iter().find(|p| p.id == id) {
        Some(p) if p.kind != PlaceKind::Street || staff.device.role == Role::StreetAdmin => {
            Ok(p.clone())
        }
        _ => Err(Page::NotFound),
    }
}

/// The community a place lies in (`None` for a street).
pub(super) fn community_of(names: &Names, place: &Place) -> Option<String> {
    let mut at = Some(place);
    while let Some(p) = at {
        if p.kind == PlaceKind::Community {
            return Some(p.id.clone());
        }
        at = p
            .parent_id
            .as_ref()
            .and_then(|id| names.places.iter().find(|x| &x.id == id));
    }
    None
}

/// The reason a form chose: required ones must be given, and any given must be a code.
pub(super) fn reason(code: &str, required: bool) -> Result<Option<Reason>, Page> {
    match (code.trim(), required) {
        ("", false) => Ok(None),
        ("", true) => Err(Page::Bad("请选择原因。")),
        (c, _) => Reason::from_code(c)
            .map(Some)
            .ok_or(Page::Bad("请选择原因。")),
    }
}

pub(super) fn reasons() -> Vec<(&'static str, &'static str)> {
    Reason::ALL.iter().map(|r| (r.code(), r.label())).collect()
}

pub(super) fn check_csrf(staff: &Staff, csrf: &str) -> Result<(), Page> {
    if staff.csrf_ok(csrf) {
        Ok(())
    } else {
        Err(Page::Forged)
    }
}

fn status(u: &UserState) -> &'static str {
    match (u.deactivated_at, u.final_sync) {
        (None, _) => "正常",
        (Some(_), true) => "已停用（待最后同步）",
        (Some(_), false) => "已停用",
    }
}

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub community: String,
    pub grants: String,
    pub status: &'static str,
    pub manageable: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    communities: Vec<(String, String)>,
    places: Vec<(String, String)>,
    reasons: Vec<(&'static str, &'static str)>,
}

const GRANTABLE: &[PlaceKind] = &[
    PlaceKind::Community,
    PlaceKind::Grid,
    PlaceKind::MicroGrid,
    PlaceKind::Building,
    PlaceKind::Unit,
];

/// `GET /admin/users`.
pub async fn list(State(state): State<AppState>, staff: Staff) -> Response {
    let storage = state.storage().clone();
    let shown = blocking(move || {
        admin_only(&staff)?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let users = storage
            .users_in(&staff.device.communities)?
            .into_iter()
            .map(|u| UserRow {
                manageable: manages(&staff, &u.user),
                status: status(&u),
                grants: u
                    .grants
                    .iter()
                    .map(|g| names.place(g))
                    .collect::<Vec<_>>()
                    .join("、"),
                community: names.place(&u.user.community_id),
                role: u.user.role.label(),
                name: u.user.name,
                id: u.user.id,
            })
            .collect();
        Ok(UsersPage {
            staff_name: staff.account.user.name.clone(),
            is_admin: true,
            csrf: staff.csrf.clone(),
            users,
            roles: creatable_roles(staff.device.role)
                .iter()
                .map(|r| (r.code(), r.label()))
                .collect(),
            communities: names.places_of(&staff.device, &[PlaceKind::Community]),
            places: names.places_of(&staff.device, GRANTABLE),
            reasons: reasons(),
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/users`: creates a user (a fresh id) with an optional first place.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Form<NewUserFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let role = Role::from_code(&f.role)
            .filter(|r| creatable_roles(staff.device.role).contains(r))
            .ok_or(Page::Bad("请选择可以设置的角色。"))?;
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Page::Bad("请填写姓名（不超过64字）。"));
        }
        if !staff.device.communities.contains(&f.community) {
            return Err(Page::Bad("请选择所属社区。"));
        }
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let grants = match f.place.trim() {
            "" => Vec::new(),
            id => {
                let place = managed_place(&names, &staff, id)
                    .map_err(|_| Page::Bad("请选择负责的地点。"))?;
                vec![place.id]
            }
        };
        let user = User {
            id: format!("u-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            name: name.to_owned(),
            role,
            community_id: f.community.clone(),
        };
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::CreateUser,
        )
        .community(Some(&user.community_id))
        .user(&user.id)
        .reason(reason(&f.reason, false)?);
        storage.add_user(&user, &grants, &audit)?;
        tracing::info!(user = %user.id, "console: user created");
        Ok(user.id)
    })
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("/admin/users/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    id: String,
    name: String,
    role: &'static str,
    community: String,
    status: &'static str,
    active: bool,
    grants: Vec<(String, String)>,
    places: Vec<(String, String)>,
    devices: Vec<DeviceView>,
    reasons: Vec<(&'static str, &'static str)>,
    enrolment: Option<Enrolment>,
}

/// The user page of a managed user, with an enrolment just made if any.
pub(super) fn user_page(
    storage: &dyn Storage,
    staff: &Staff,
    id: &str,
    enrolment: Option<Enrolment>,
) -> Result<Response, Page> {
    let user = managed(storage, staff, id)?;
    let names = Names::of(storage, &staff.device)?;
    let state = storage
        .users_in(std::slice::from_ref(&user.community_id))?
        .into_iter()
        .find(|u| u.user.id == user.id)
        .ok_or(Page::NotFound)?;
    let devices = storage
        .devices_of(&user.id)?
        .into_iter()
        .map(|d| DeviceView {
            id: d.info.device_id,
            name: d.name.unwrap_or_else(|| "—".into()),
            enrolled: view::time(d.info.created_at),
            revoked: d.info.revoked_at.map(view::time),
        })
        .collect();
    let page = UserPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: true,
        csrf: staff.csrf.clone(),
        status: status(&state),
        active: state.deactivated_at.is_none(),
        grants: state
            .grants
            .iter()
            .map(|g| (g.clone(), names.place(g)))
            .collect(),
        places: names.places_of(&staff.device, GRANTABLE),
        community: names.place(&user.community_id),
        role: user.role.label(),
        name: user.name,
        id: user.id,
        devices,
        reasons: reasons(),
        enrolment,
    };
    Ok(render(&page))
}

/// `GET /admin/users/{id}`.
pub async fn page(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let storage = state.storage().clone();
    blocking(move || {
        admin_only(&staff)?;
        user_page(storage.as_ref(), &staff, &id, None)
    })
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionFields {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    /// Deactivation: `after_sync` or `now`.
    #[serde(default)]
    pub how: String,
    /// Grant: the place.
    #[serde(default)]
    pub place: String,
}

/// Runs one action on a managed user and goes back to their page.
async fn user_action(
    state: AppState,
    staff: Staff,
    id: String,
    form: Result<Form<ActionFields>, FormRejection>,
    act: impl FnOnce(&dyn Storage, &Staff, &Names, &User, &ActionFields) -> Result<(), Page>
    + Send
    + 'static,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let changes = state.changes().clone();
    let back = format!("/admin/users/{id}");
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let user = managed(storage.as_ref(), &staff, &id)?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        act(storage.as_ref(), &staff, &names, &user, &f)
    })
    .await;
    match done {
        Ok(()) => {
            // Phones holding a long poll hear of withdrawn records at once.
            changes.notify();
            Redirect::to(&back).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn audit_of(storage: &dyn Storage, staff: &Staff, action: Action, user: &User) -> Audit {
    Audit::new(storage.server().now(), &staff.device.user_id, action)
        .community(Some(&user.community_id))
        .user(&user.id)
}

/// `POST /admin/users/{id}/deactivate`: `how` = `after_sync` or `now`, with a reason.
pub async fn deactivate(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<ActionFields>, FormRejection>,
) -> Response {
    user_action(state, staff, id, form, |storage, staff, _, user, f| {
        let (how, action) = match f.how.as_str() {
            "after_sync" => (Deactivation::AfterFinalSync, Action::DeactivateAfterSync),
            "now" => (Deactivation::Now, Action::DeactivateNow),
            _ => return Err(Page::Bad("请选择停用方式。")),
        };
        let audit = audit_of(storage, staff, action, user).reason(reason(&f.reason, true)?);
        storage.deactivate_user(&user.id, how, &audit)?;
        tracing::info!(user = %user.id, how = action.code(), "console: user deactivated");
        Ok(())
    })
    .await
}

/// `POST /admin/users/{id}/grants`: grants a place of the admin's communities.
pub async fn grant(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<ActionFields>, FormRejection>,
) -> Response {
    user_action(state, staff, id, form, |storage, staff, names, user, f| {
        let place =
            managed_place(names, staff, &f.place).map_err(|_| Page::Bad("请选择负责的地点。"))?;
        let audit = audit_of(storage, staff, Action::Grant, user)
            .place(&place.id)
            .reason(reason(&f.reason, false)?);
        storage.grant_place(&user.id, &place.id, &audit)?;
        Ok(())
    })
    .await
}

/// `POST /admin/users/{id}/grants/{place}/withdraw`: withdraws a grant; its records leave
/// the user's phones at their next sync.
pub async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, place)): Path<(String, String)>,
    form: Result<Form<ActionFields>, FormRejection>,
) -> Response {
    user_action(
        state,
        staff,
        id,
        form,
        move |storage, staff, names, user, f| {
            let place = managed_place(names, staff, &place)?;
            let audit = audit_of(storage, staff, Action::Withdraw, user)
                .place(&place.id)
                .reason(reason(&f.reason, true)?);
            if !storage.withdraw_grant(&user.id, &place.id, &audit)? {
                return Err(Page::NotFound);
            }
            Ok(())
        },
    )
    .await
}

//! Console accounts: one's own password; for admins, the people of their communities with
//! their sign-in state, single-use invitation links (valid 24 h) that set a first or a reset
//! password, and unlocking. An admin manages only those below them (a street admin:
//! community admins and handlers; a community admin: handlers) in their own communities.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::Millis;
use linli_domain::protocol::Role;
use serde::Deserialize;

use super::auth::Address;
use super::password;
use super::session::{Staff, may_sign_in};
use super::{Page, blocking, render, render_status};
use crate::AppState;
use crate::error::{Error, Result};
use crate::storage::Account;
use crate::storage::{Storage, new_token, token_hash};

pub const INVITATION_MS: Millis = 24 * 3_600_000;
/// What a reset leaves as the password hash: no password matches it.
const NO_PASSWORD: &str = "!";

/// Sets a user's password (the command line and the demo; the console uses invitations).
pub fn set_password(storage: &dyn Storage, user_id: &str, password: &str) -> Result<()> {
    let Some(account) = storage.account(user_id)? else {
        return Err(Error::NotFound { kind: "user" });
    };
    if !may_sign_in(account.user.role) {
        return Err(Error::Invalid {
            field: "user",
            reason: "only admins and department handlers sign in to the console",
        });
    }
    if password::check_new(password, password).is_err() {
        return Err(Error::Invalid {
            field: "password",
            reason: "10 to 128 characters",
        });
    }
    let hash = password::hash(password)?;
    storage.set_password(user_id, &hash, storage.server().now())
}

/// A single-use invitation for `user_id`, made by `by`: the token of the link
/// `/admin/invitations/{token}` (shown once, stored hashed).
pub fn invite(storage: &dyn Storage, user_id: &str, by: &str) -> Result<String> {
    let Some(account) = storage.account(user_id)? else {
        return Err(Error::NotFound { kind: "user" });
    };
    if !may_sign_in(account.user.role) {
        return Err(Error::Invalid {
            field: "user",
            reason: "only admins and department handlers sign in to the console",
        });
    }
    let token = new_token();
    let now = storage.server().now();
    storage.create_invitation(&token_hash(&token), user_id, by, now, now + INVITATION_MS)?;
    Ok(token)
}

fn rank(role: Role) -> u8 {
    match role {
        Role::StreetAdmin => 3,
        Role::Admin => 2,
        Role::DepartmentHandler => 1,
        _ => 0,
    }
}

/// Whether `staff` may invite, reset or unlock `target`.
fn manages(staff: &Staff, target: &Account) -> bool {
    staff.device.role.is_admin()
        && may_sign_in(target.user.role)
        && rank(staff.device.role) > rank(target.user.role)
        && staff.device.communities.contains(&target.user.community_id)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    user_id: String,
    role: &'static str,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

fn account_page_of(
    staff: &Staff,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> AccountPage {
    AccountPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        user_id: staff.account.user.id.clone(),
        role: staff.account.user.role.label(),
        notice,
        error,
    }
}

/// `GET /admin/account`.
pub async fn account_page(staff: Staff) -> Response {
    render(&account_page_of(&staff, None, None))
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/account`: changes one's own password (the current one is asked for). Every
/// other session of the user ends; this one is signed out too and signs in again.
pub async fn change_password(
    State(state): State<AppState>,
    Address(address): Address,
    staff: Staff,
    form: Result<Form<PasswordFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    if !staff.csrf_ok(&f.csrf) {
        return Page::Forged.into_response();
    }
    // The current password is guarded like a sign-in: a stolen session cookie gives no
    // unlimited guesses at it.
    let storage = state.storage().clone();
    let user_id = staff.account.user.id.clone();
    let phc = staff.account.password_hash.clone();
    let current = f.current.clone();
    let checked = blocking(move || {
        if current.is_empty() {
            // Not a guess: nothing to count.
            return Ok(Some("当前密码不正确。"));
        }
        let now = storage.server().now();
        let since = now - password::WINDOW_MS;
        if storage.failures(Some(&user_id), &address, since)? >= password::ACCOUNT_LIMIT {
            return Ok(Some("连续输入错误次数过多，请15分钟后再试。"));
        }
        if phc
            .as_deref()
            .is_some_and(|h| password::verify(&current, h))
        {
            return Ok(None);
        }
        storage.sign_in_failed(Some(&user_id), &address, now)?;
        Ok(Some("当前密码不正确。"))
    })
    .await;
    match checked {
        Ok(None) => {}
        Ok(Some(m)) => {
            return render_status(
                StatusCode::BAD_REQUEST,
                &account_page_of(&staff, None, Some(m)),
            );
        }
        Err(e) => return e.into_response(),
    }
    if let Err(m) = password::check_new(&f.new, &f.confirm) {
        return render_status(
            StatusCode::BAD_REQUEST,
            &account_page_of(&staff, None, Some(m)),
        );
    }
    let storage = state.storage().clone();
    let user_id = staff.account.user.id.clone();
    let done = blocking(move || {
        let hash = password::hash(&f.new)?;
        storage.set_password(&user_id, &hash, storage.server().now())?;
        tracing::info!("console password changed");
        Ok(())
    })
    .await;
    match done {
        Ok(()) => Redirect::to("/admin/login").into_response(),
        Err(e) => e.into_response(),
    }
}

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub department: &'static str,
    pub has_password: bool,
    pub locked: bool,
    pub manageable: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    people: Vec<PersonRow>,
    link: Option<String>,
    link_for: String,
    notice: Option<&'static str>,
}

fn people_page(
    storage: &dyn Storage,
    staff: &Staff,
    link: Option<(String, String)>,
    notice: Option<&'static str>,
) -> Result<PeoplePage, Page> {
    let now = storage.server().now();
    let people = storage
        .accounts_in(&staff.device.communities)?
        .into_iter()
        .filter(|a| may_sign_in(a.user.role))
        .map(|a| PersonRow {
            manageable: manages(staff, &a),
            id: a.user.id.clone(),
            name: a.user.name.clone(),
            role: a.user.role.label(),
            department: a.department.map(|d| d.label()).unwrap_or(""),
            has_password: a.password_hash.as_deref().is_some_and(|h| h != NO_PASSWORD),
            locked: storage
                .locked_addresses(
                    &a.user.id,
                    now - password::WINDOW_MS,
                    password::ACCOUNT_LIMIT,
                )
                .is_ok_and(|n| n > 0),
        })
        .collect();
    let (link, link_for) = match link {
        Some((l, f)) => (Some(l), f),
        None => (None, String::new()),
    };
    Ok(PeoplePage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        people,
        link,
        link_for,
        notice,
    })
}

/// `GET /admin/people` (admins).
pub async fn list(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.device.role.is_admin() {
        return Page::Forbidden("只有管理员可以管理账号。").into_response();
    }
    let storage = state.storage().clone();
    match blocking(move || people_page(storage.as_ref(), &staff, None, None)).await {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfFields {
    #[serde(default)]
    csrf: String,
}

/// The account `id` if `staff` manages it (else not found: the same from outside).
fn managed(storage: &dyn Storage, staff: &Staff, id: &str) -> Result<Account, Page> {
    match storage.account(id)? {
        Some(a) if manages(staff, &a) => Ok(a),
        _ => Err(Page::NotFound),
    }
}

/// `POST /admin/people/{id}/invite`: a new single-use link that sets the user's password.
/// For a user who had one, it is a reset: the old password stops working and their sessions
/// end at once.
pub async fn invite_link(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<CsrfFields>, FormRejection>,
) -> Response {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !staff.csrf_ok(&csrf) {
        return Page::Forged.into_response();
    }
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let target = managed(storage.as_ref(), &staff, &id)?;
        if target.password_hash.is_some() {
            storage.set_password(&target.user.id, NO_PASSWORD, storage.server().now())?;
        }
        let token = invite(storage.as_ref(), &target.user.id, &staff.account.user.id)?;
        tracing::info!("console invitation issued");
        people_page(
            storage.as_ref(),
            &staff,
            Some((format!("/admin/invitations/{token}"), target.user.name)),
            None,
        )
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

/// `POST /admin/people/{id}/unlock`: forgets the account's failed sign-ins, from every
/// address (its locks end).
pub async fn unlock(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<CsrfFields>, FormRejection>,
) -> Response {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !staff.csrf_ok(&csrf) {
        return Page::Forged.into_response();
    }
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let target = managed(storage.as_ref(), &staff, &id)?;
        storage.clear_failures(&target.user.id, None)?;
        people_page(storage.as_ref(), &staff, None, Some("已解锁。"))
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    token: String,
    name: String,
    error: Option<&'static str>,
}

fn looks_like_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /admin/invitations/{token}`: the form that sets the password (no session needed:
/// the link is the credential, once).
pub async fn invitation_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !looks_like_token(&token) {
        return Page::NotFound.into_response();
    }
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let now = storage.server().now();
        let Some(user_id) = storage.invitation(&token_hash(&token), now)? else {
            return Err(Page::Bad("邀请链接无效或已过期，请联系管理员重新发送。"));
        };
        let name = storage
            .account(&user_id)?
            .map(|a| a.user.name)
            .unwrap_or_default();
        Ok(InvitationPage {
            token,
            name,
            error: None,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPasswordFields {
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/invitations/{token}`: sets the password and uses the invitation up. The
/// token in the path is the form's CSRF protection: a forger does not know it.
pub async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: Result<Form<NewPasswordFields>, FormRejection>,
) -> Response {
    if !looks_like_token(&token) {
        return Page::NotFound.into_response();
    }
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        let now = storage.server().now();
        let hash = token_hash(&token);
        let Some(user_id) = storage.invitation(&hash, now)? else {
            return Err(Page::Bad("邀请链接无效或已过期，请联系管理员重新发送。"));
        };
        if let Err(m) = password::check_new(&f.new, &f.confirm) {
            let name = storage
                .account(&user_id)?
                .map(|a| a.user.name)
                .unwrap_or_default();
            return Ok(Some(InvitationPage {
                token,
                name,
                error: Some(m),
            }));
        }
        let phc = password::hash(&f.new)?;
        if storage.accept_invitation(&hash, &phc, now)?.is_none() {
            return Err(Page::Bad("邀请链接无效或已过期，请联系管理员重新发送。"));
        }
        tracing::info!("console invitation used");
        Ok(None)
    })
    .await;
    match done {
        Ok(None) => Redirect::to("/admin/login").into_response(),
        Ok(Some(page)) => render_status(StatusCode::BAD_REQUEST, &page),
        Err(e) => e.into_response(),
    }
}

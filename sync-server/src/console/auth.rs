//! Signing in and out.
//!
//! The sign-in form is protected by a double-submit token (a `linli_login` cookie and the
//! same value in the form). A wrong user name and a wrong password look and take the same.
//! Failures count against the pair of account and address (after
//! [`password::ACCOUNT_LIMIT`] in [`password::WINDOW_MS`] the account is locked for that
//! address only) and against the address (refused after [`password::ADDRESS_LIMIT`]), so a
//! guesser is slowed down and no stranger can lock an admin out.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::password;
use super::session::{
    self, LOGIN_COOKIE, SESSION_COOKIE, Staff, cookie, may_sign_in, read_cookie, same_secret,
};
use super::{Page, blocking, render_status};
use crate::AppState;
use crate::storage::{new_token, token_hash};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    user: String,
    error: Option<&'static str>,
}

/// The login cookie lives as long as a form may sit open.
const LOGIN_COOKIE_S: i64 = 3600;

fn login_form(
    state: &AppState,
    status: StatusCode,
    user: String,
    error: Option<&'static str>,
) -> Response {
    let csrf = new_token();
    let mut res = render_status(
        status,
        &LoginPage {
            csrf: csrf.clone(),
            user,
            error,
        },
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, &csrf, LOGIN_COOKIE_S, state.secure_cookies()),
    );
    res
}

/// `GET /admin/login`.
pub async fn login_page(State(state): State<AppState>) -> Response {
    login_form(&state, StatusCode::OK, String::new(), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// The client's address (see [`session::client_address`]).
pub struct Address(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Address {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Address(session::client_address(parts)))
    }
}

enum Outcome {
    SignedIn(String),
    Wrong,
    Locked,
    Throttled,
}

/// `POST /admin/login`.
pub async fn login(
    State(state): State<AppState>,
    Address(address): Address,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return login_form(
            &state,
            StatusCode::BAD_REQUEST,
            String::new(),
            Some("表单无效，请重试。"),
        );
    };
    let user = form.user.trim().to_owned();
    let kept_user: String = user.chars().take(64).collect();
    if !read_cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_secret(c, &form.csrf)) {
        return login_form(
            &state,
            StatusCode::FORBIDDEN,
            kept_user,
            Some("页面已过期，请重新登录。"),
        );
    }
    if user.is_empty() || form.password.is_empty() {
        return login_form(
            &state,
            StatusCode::BAD_REQUEST,
            kept_user,
            Some("请输入账号和密码。"),
        );
    }
    if user.len() > 128 || form.password.chars().count() > password::MAX_CHARS {
        return login_form(
            &state,
            StatusCode::UNAUTHORIZED,
            kept_user,
            Some("账号或密码错误。"),
        );
    }
    let storage = state.storage().clone();
    let outcome = blocking(move || {
        let now = storage.server().now();
        let since = now - password::WINDOW_MS;
        if storage.failures(None, &address, since)? >= password::ADDRESS_LIMIT {
            return Ok(Outcome::Throttled);
        }
        let account = storage.account(&user)?;
        let Some(account) = account.filter(|a| may_sign_in(a.user.role)) else {
            password::verify_nothing(&form.password);
            storage.sign_in_failed(None, &address, now)?;
            return Ok(Outcome::Wrong);
        };
        let id = account.user.id.as_str();
        if storage.failures(Some(id), &address, since)? >= password::ACCOUNT_LIMIT {
            // Not even checked: a locked account cannot be guessed at from here. The try
            // counts against the address.
            storage.sign_in_failed(None, &address, now)?;
            return Ok(Outcome::Locked);
        }
        let ok = account
            .password_hash
            .as_deref()
            .is_some_and(|h| password::verify(&form.password, h));
        if !ok {
            storage.sign_in_failed(Some(id), &address, now)?;
            if storage.failures(Some(id), &address, since)? >= password::ACCOUNT_LIMIT {
                tracing::warn!("console account locked for an address after failed sign-ins");
            }
            return Ok(Outcome::Wrong);
        }
        storage.clear_failures(id, Some(&address))?;
        let (token, row) = session::start(&account.user.id, now);
        storage.create_session(&token_hash(&token), &row)?;
        tracing::info!(role = account.user.role.code(), "console sign-in");
        Ok(Outcome::SignedIn(token))
    })
    .await;
    match outcome {
        Ok(Outcome::SignedIn(token)) => {
            let mut res = Redirect::to("/admin/board").into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                cookie(
                    SESSION_COOKIE,
                    &token,
                    session::ABSOLUTE_MS / 1000,
                    state.secure_cookies(),
                ),
            );
            h.append(
                header::SET_COOKIE,
                cookie(LOGIN_COOKIE, "", 0, state.secure_cookies()),
            );
            res
        }
        Ok(Outcome::Wrong) => login_form(
            &state,
            StatusCode::UNAUTHORIZED,
            kept_user,
            Some("账号或密码错误。"),
        ),
        Ok(Outcome::Locked) => login_form(
            &state,
            StatusCode::UNAUTHORIZED,
            kept_user,
            Some(
                "连续登录失败次数过多，账号在此处已暂时锁定，请15分钟后再试或联系上级管理员解锁。",
            ),
        ),
        Ok(Outcome::Throttled) => login_form(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            kept_user,
            Some("登录尝试过于频繁，请15分钟后再试。"),
        ),
        Err(page) => page.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/logout`: ends the session.
pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let given = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if !staff.csrf_ok(&given) {
        return Page::Forged.into_response();
    }
    let storage = state.storage().clone();
    let hash = staff.token_hash.clone();
    if let Err(page) = blocking(move || Ok(storage.end_session(&hash)?)).await {
        return page.into_response();
    }
    let mut res = Redirect::to("/admin/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, "", 0, state.secure_cookies()),
    );
    res
}

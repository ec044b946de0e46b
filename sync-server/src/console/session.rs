//! Console sessions: the cookie, the signed-in [`Staff`] extractor, and CSRF.
//!
//! A session is a random token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the
//! server terminates TLS) scoped to `/admin`; the server keeps only its SHA-256. Sessions end
//! after [`IDLE_MS`] without a request, and [`ABSOLUTE_MS`] after sign-in whatever happens.
//! Each session has its own CSRF token, which every form carries and every POST checks.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use linli_domain::protocol::Role;
use linli_domain::{Department, Millis};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::storage::{Account, SessionRow};
use crate::storage::{Device, new_token, token_hash};

pub const SESSION_COOKIE: &str = "linli_session";
/// The sign-in form's double-submit cookie (there is no session to hold its CSRF token).
pub const LOGIN_COOKIE: &str = "linli_login";
pub const IDLE_MS: Millis = 2 * 3_600_000;
pub const ABSOLUTE_MS: Millis = 12 * 3_600_000;
/// A session's expiry moves at most this often (not on every request).
const TOUCH_EVERY_MS: Millis = 60_000;
/// The device id under which a console user acts (it names no phone).
pub const CONSOLE_DEVICE: &str = "console";

/// Roles that work in the console.
pub fn may_sign_in(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::StreetAdmin | Role::DepartmentHandler
    )
}

/// The signed-in user of a console request.
pub struct Staff {
    pub account: Account,
    /// Their role and scope, as the API and the role table judge them.
    pub device: Device,
    pub csrf: String,
    pub token_hash: Vec<u8>,
}

impl Staff {
    pub fn department(&self) -> Option<Department> {
        if self.device.role == Role::DepartmentHandler {
            self.account.department
        } else {
            None
        }
    }

    /// For a department handler, the orders they may see (their department's, and those
    /// dispatched to them by name); `None` for admins, who see their whole scope.
    pub fn orders_of(&self) -> Option<crate::board::OrdersOf> {
        (self.device.role == Role::DepartmentHandler).then(|| crate::board::OrdersOf {
            department: self.department(),
            user_id: self.device.user_id.clone(),
        })
    }

    /// Whether the form's token is this session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        same_secret(&self.csrf, given)
    }
}

/// Constant-time comparison of two secrets.
pub fn same_secret(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A cookie's value from the request, if present.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure` if asked;
/// `max_age` 0 deletes it.
pub fn cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// Starts a session for `user_id`: the cookie token (to send once) and its stored row.
pub fn start(user_id: &str, now: Millis) -> (String, SessionRow) {
    let row = SessionRow {
        user_id: user_id.to_owned(),
        csrf: new_token(),
        created_at: now,
        seen_at: now,
        expires_at: now + IDLE_MS,
    };
    (new_token(), row)
}

/// The client's address, for the sign-in throttle ("unknown" when the server was not
/// served with connection info, as in router tests).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<crate::ClientAddr>>()
        .map(|c| c.0.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Where a request without a valid session goes: the sign-in page (htmx requests are told
/// to go there instead of swapping it into a fragment).
pub struct SignInFirst {
    htmx: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        if self.htmx {
            (
                StatusCode::UNAUTHORIZED,
                [("HX-Redirect", "/admin/login")],
                "",
            )
                .into_response()
        } else {
            Redirect::to("/admin/login").into_response()
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let htmx = parts.headers.contains_key("HX-Request");
        let deny = || SignInFirst { htmx }.into_response();
        let Some(token) = read_cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(deny());
        };
        let hash = token_hash(token);
        let storage = state.storage().clone();
        let found = tokio::task::spawn_blocking(move || -> crate::Result<Option<Staff>> {
            let now = storage.server().now();
            let Some(session) = storage.session(&hash)? else {
                return Ok(None);
            };
            if session.expires_at <= now || session.created_at + ABSOLUTE_MS <= now {
                storage.end_session(&hash)?;
                return Ok(None);
            }
            let Some(account) = storage.account(&session.user_id)? else {
                return Ok(None);
            };
            if !may_sign_in(account.user.role) {
                return Ok(None);
            }
            let Some(device) = storage.principal(&session.user_id, CONSOLE_DEVICE)? else {
                return Ok(None);
            };
            if now - session.seen_at >= TOUCH_EVERY_MS {
                let until = (now + IDLE_MS).min(session.created_at + ABSOLUTE_MS);
                storage.touch_session(&hash, now, until)?;
            }
            Ok(Some(Staff {
                account,
                device,
                csrf: session.csrf,
                token_hash: hash,
            }))
        })
        .await;
        match found {
            Ok(Ok(Some(staff))) => Ok(staff),
            Ok(Ok(None)) => Err(deny()),
            Ok(Err(e)) => Err(super::Page::from(e).into_response()),
            Err(_) => Err(super::Page::from(crate::Error::Task).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_read_and_write() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; linli_session=abc ; b=2"),
        );
        assert_eq!(read_cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(read_cookie(&h, "c"), None);
        let c = cookie(SESSION_COOKIE, "t", 60, true);
        let c = c.to_str().unwrap();
        for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(
            !cookie(SESSION_COOKIE, "t", 60, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("", ""));
    }
}

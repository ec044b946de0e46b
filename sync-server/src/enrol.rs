//! `POST /v1/enrol`: a phone exchanges a single-use enrolment code (from the console's QR
//! code, `linli://enrol?server=…&code=…`) for its device token, so nobody types a token.
//!
//! | answer | when |
//! |---|---|
//! | 200 `{token, device_id, user: {id, name, role}}` | the code was unused, unexpired and its user active |
//! | 400 `{error: "invalid", field}` | not JSON, a code of the wrong shape, a bad device name |
//! | 410 `{error: "gone"}` | no such code, used, expired, or its user deactivated (alike) |
//! | 429 `{error: "throttled"}` | too many failed codes from this address lately |
//!
//! The code is compared by its SHA-256 (the server never stores it); the token is shown once
//! and stored hashed, as at the command line.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::directory::{ENROL_FAILURE_LIMIT, ENROL_WINDOW_MS, Redeemed, looks_like_code};
use crate::storage::{new_token, token_hash};

/// The enrolment path.
pub const ENROL_PATH: &str = "/v1/enrol";

#[derive(Debug, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_name: String,
}

#[derive(Debug, Serialize)]
pub struct EnrolledUser {
    pub id: String,
    pub name: String,
    pub role: &'static str,
}

#[derive(Debug, Serialize)]
pub struct EnrolResponse {
    pub token: String,
    pub device_id: String,
    pub user: EnrolledUser,
}

fn refuse(status: StatusCode, error: &str, field: Option<&str>) -> Response {
    let body = match field {
        Some(f) => serde_json::json!({ "error": error, "field": f }),
        None => serde_json::json!({ "error": error }),
    };
    (status, Json(body)).into_response()
}

/// The client's address (as the console's sign-in throttle sees it).
pub struct Client(String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Client(crate::console::session::client_address(parts)))
    }
}

/// A device name: 1 to 64 printable characters.
fn name_ok(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty() && n.chars().count() <= 64 && !n.chars().any(char::is_control)
}

enum Outcome {
    Enrolled(EnrolResponse),
    Gone,
    Throttled,
}

/// `POST /v1/enrol`.
pub async fn enrol(
    State(state): State<AppState>,
    Client(address): Client,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else {
        return refuse(StatusCode::BAD_REQUEST, "invalid", Some("body"));
    };
    if !looks_like_code(&req.code) {
        return refuse(StatusCode::BAD_REQUEST, "invalid", Some("code"));
    }
    if !name_ok(&req.device_name) {
        return refuse(StatusCode::BAD_REQUEST, "invalid", Some("device_name"));
    }
    let storage = state.storage().clone();
    let outcome = tokio::task::spawn_blocking(move || -> crate::Result<Outcome> {
        let now = storage.server().now();
        if storage.enrol_failures(&address, now - ENROL_WINDOW_MS)? >= ENROL_FAILURE_LIMIT {
            return Ok(Outcome::Throttled);
        }
        let device_id = uuid::Uuid::new_v4().to_string();
        let token = new_token();
        let redeemed = storage.redeem_enrol_code(
            &token_hash(&req.code),
            &device_id,
            req.device_name.trim(),
            &token_hash(&token),
            now,
        )?;
        match redeemed {
            Redeemed::Enrolled(user) => {
                tracing::info!(device = %device_id, "device enrolled with a code");
                Ok(Outcome::Enrolled(EnrolResponse {
                    token,
                    device_id,
                    user: EnrolledUser {
                        id: user.id,
                        name: user.name,
                        role: user.role.code(),
                    },
                }))
            }
            Redeemed::Spent => {
                storage.enrol_failed(&address, now)?;
                Ok(Outcome::Gone)
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(Outcome::Enrolled(r))) => (StatusCode::OK, Json(r)).into_response(),
        Ok(Ok(Outcome::Gone)) => refuse(StatusCode::GONE, "gone", None),
        Ok(Ok(Outcome::Throttled)) => refuse(StatusCode::TOO_MANY_REQUESTS, "throttled", None),
        Ok(Err(e)) => e.into_response(),
        Err(_) => crate::Error::Task.into_response(),
    }
}

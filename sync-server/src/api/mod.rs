//! The JSON API for the console and for tests, under `/api/v1`. Authenticated as an enrolled
//! device's bearer token (sessions come with the console), scoped by the device's grants
//! (`Scope::covers` on the record, whatever id is in the URL), and judged by the same role
//! table as pushes. Writes go through `linli_domain::moves` as server changes whose message
//! names the acting user, so phones and console never disagree.
//!
//! - `mod.rs`: the routes, the JSON error ([`ApiError`]: a status and a stable `code`) and
//!   the authentication extractor
//! - `write.rs`: report an incident, make a move, set targets
//! - `read.rs`: incidents in scope (derived status, level, deadlines), one incident with its
//!   timeline, open disputes per grid, notifications, targets
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/incidents` | report: `{category, description, place_id, priority?, parties?, mediator?}` |
//! | GET | `/api/v1/incidents` | incidents in scope |
//! | GET | `/api/v1/incidents/{id}` | one incident with its timeline |
//! | POST | `/api/v1/incidents/{id}/moves` | `{action, note?, to?, department?, reason?, rating?, level?, outcome?}` |
//! | GET | `/api/v1/disputes/open` | open disputes per grid (矛盾纠纷清零) |
//! | GET | `/api/v1/notifications?after=N` | escalations, for the console |
//! | GET, PUT | `/api/v1/communities/{id}/targets` | a community's targets (PUT: admins) |

mod read;
mod write;

pub use write::{
    ReportBody, Written, department_of, effective_handler, move_incident, report_incident,
};

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use linli_domain::protocol::Refusal;
use serde::Serialize;

use crate::storage::Device;
use crate::{AppState, Authenticated, Error};

/// The API's routes, to be merged into [`crate::app`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/incidents",
            post(write::report).get(read::list_incidents),
        )
        .route("/api/v1/incidents/{id}", get(read::get_incident))
        .route("/api/v1/incidents/{id}/moves", post(write::make_move))
        .route("/api/v1/disputes/open", get(read::open_disputes))
        .route("/api/v1/notifications", get(read::notifications))
        .route(
            "/api/v1/communities/{id}/targets",
            get(read::targets).put(write::set_targets),
        )
}

/// A refused API request: a status and a stable code (and, for bad input, the field).
/// Never personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<&'static str>,
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            field: None,
        }
    }

    pub fn invalid(field: &'static str) -> ApiError {
        ApiError {
            field: Some(field),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid")
        }
    }

    /// Not found, or not in the caller's scope: the two look the same from outside.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn forbidden(code: &'static str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Refused(r) => ApiError::new(crate::refusal_status(r), r.code()),
            Error::Invalid { field, .. } => ApiError::invalid(field),
            Error::NotFound { .. } => ApiError::not_found(),
            Error::Domain(d) => match *d {
                linli_domain::Error::InvalidInput { field, .. } => ApiError::invalid(field),
                linli_domain::Error::IllegalTransition { .. } => {
                    ApiError::new(StatusCode::CONFLICT, "illegal_move")
                }
                linli_domain::Error::NotFound { .. } => ApiError::not_found(),
                other => {
                    tracing::error!(error = %other, "api request failed");
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
                }
            },
            other => {
                tracing::error!(error = %other, "api request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.code,
                field: self.field,
            }),
        )
            .into_response()
    }
}

/// The device a request's bearer token belongs to, with JSON refusals.
pub struct Caller(pub Device);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Authenticated::from_request_parts(parts, state).await {
            Ok(Authenticated(d)) => Ok(Caller(d)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A JSON body, with a 400 `malformed` (never axum's plain-text rejection) when it does not
/// parse.
pub struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Refusal::Malformed.code(),
            )),
        }
    }
}

/// A query string, with the same 400 `malformed` as [`Body`] when it does not parse.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Refusal::Malformed.code(),
            )),
        }
    }
}

/// Runs storage work off the async workers, mapping errors to [`ApiError`].
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::from(Error::Task))?
}

/// A code of a `code_enum` type from JSON text, or a 400 naming the field.
fn code<T>(
    field: &'static str,
    text: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    match text {
        None => Ok(None),
        Some(t) => parse(t).map(Some).ok_or(ApiError::invalid(field)),
    }
}

impl From<linli_domain::Error> for ApiError {
    fn from(e: linli_domain::Error) -> ApiError {
        ApiError::from(Error::from(e))
    }
}

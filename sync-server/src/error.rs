//! Errors of the sync server, and how they become HTTP responses.
//!
//! A request the server refuses as a whole is an [`Error::Refused`] carrying the protocol's
//! [`Refusal`]; it answers with a 4xx status and a `text/plain` body that is exactly
//! [`Refusal::code`] (e.g. `unauthorized`), so a device reads the reason with
//! [`Refusal::from_code`] without decoding anything else:
//!
//! | refusal | status |
//! |---|---|
//! | `Unauthorized` | 401 |
//! | `Revoked` | 403 |
//! | `Malformed` | 400 |
//! | `TooLarge` | 413 |
//! | `UnsupportedVersion` | 426 |
//!
//! Everything else is a failure of the server itself (storage, a stored document that does
//! not load): logged, and answered 500 with the body `internal`. Error text names what
//! failed, never the personal data involved.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use linli_domain::protocol::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The whole request is refused; see the module doc for the statuses.
    #[error("request refused: {}", .0.code())]
    Refused(Refusal),

    /// An admin command was given something the server does not accept.
    #[error("invalid {field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },

    #[error("{kind} not found")]
    NotFound { kind: &'static str },

    /// The database was written by a newer server.
    #[error("database schema version {found} is newer than the supported {supported}")]
    IncompatibleSchema { found: i64, supported: i64 },

    #[error("configuration: {0}")]
    Config(String),

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// A stored document failed to load or save: the server's own data is damaged.
    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),

    /// A document the server holds did not read or take a write as the domain expects.
    #[error("record error: {0}")]
    Domain(Box<linli_domain::Error>),

    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// A response could not be encoded.
    #[error("message could not be encoded")]
    Encode,

    /// A blocking task panicked or was cancelled.
    #[error("background task failed")]
    Task,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The HTTP status of a refusal.
pub fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Unauthorized => StatusCode::UNAUTHORIZED,
        Refusal::Revoked => StatusCode::FORBIDDEN,
        Refusal::Malformed => StatusCode::BAD_REQUEST,
        Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        // 426 is the one status that says "speak another version"; the body says which
        // refusal it is, so a client never has to interpret an Upgrade header.
        Refusal::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        match self {
            Error::Refused(r) => (refusal_status(r), text_plain, r.code()).into_response(),
            other => {
                tracing::error!(error = %other, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, text_plain, "internal").into_response()
            }
        }
    }
}

impl From<linli_domain::Error> for Error {
    fn from(e: linli_domain::Error) -> Error {
        Error::Domain(Box::new(e))
    }
}

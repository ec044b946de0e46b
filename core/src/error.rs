//! Errors of the core.
//!
//! Error text never carries personal data: a field is named, its value is not.

/// Everything a core call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller passed something the domain does not accept; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        field: &'static str,
        reason: crate::Reason,
    },

    /// A referenced record does not exist on this device.
    #[error("{kind} not found")]
    NotFound { kind: &'static str },

    /// The incident cannot make this move from its current status.
    #[error("an incident that is {from} cannot be {action}")]
    IllegalTransition {
        from: crate::IncidentStatus,
        action: crate::IncidentAction,
    },

    /// The need cannot make this move from its current status; nothing was written.
    #[error("a need that is {from} cannot be {action}")]
    IllegalNeedTransition {
        from: crate::NeedStatus,
        action: crate::NeedAction,
    },

    /// The signed-in user's role may not make this move (or report, when `action` is
    /// `None`), by the role table (`roles.rs`); nothing was written.
    #[error("not allowed to {}: {}", action.map_or("report", |a| a.code()), reason.code())]
    NotAllowed {
        action: Option<crate::IncidentAction>,
        reason: crate::roles::Denied,
    },

    /// The record would be outside the user's places (the grants the server sent with the
    /// reference data): the server would refuse it. Nothing was written. Not raised before
    /// the first sync has brought the grants.
    #[error("{field} is outside the user's places")]
    OutsideMyPlaces { field: &'static str },

    /// Bytes offered for import are not valid Automerge data; nothing was written.
    #[error("corrupt change data: {0}")]
    CorruptChanges(&'static str),

    /// Imported changes depend on changes this device does not have; nothing was written.
    #[error("changes depend on {0} change(s) this device does not have")]
    MissingDependencies(usize),

    /// The database was written by a newer version of Linli.
    #[error("database schema version {found} is newer than the supported {supported}")]
    IncompatibleSchema { found: i64, supported: i64 },

    /// The database could not be read with the key given: another key, or not a Linli
    /// database. Nothing was written to the file.
    #[error("the database key does not open this store")]
    WrongKey,

    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),

    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),

    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// The server could not be reached (after retries); try again later. Nothing is lost.
    #[error("network error: {0}")]
    Network(String),

    /// The server does not know this device's token.
    #[error("the server refused this device's credentials")]
    Unauthorized,

    /// This device was revoked by an admin; it must be enrolled again.
    #[error("this device has been revoked")]
    Revoked,

    /// The app is older than what it met: a server speaking a newer protocol, or a record in
    /// a newer document layout (kept on the device, shown once the app is updated). The app
    /// needs updating.
    #[error("this app is too old for the server or the record: update the app")]
    UnsupportedVersion,

    /// The server answered with an error or an unreadable response.
    #[error("server error: {0}")]
    Server(String),

    /// The enrolment code was used already, has expired (10 minutes), or never existed: ask
    /// the admin for a new QR code.
    #[error("the enrolment code was used or has expired")]
    EnrolCodeSpent,

    /// Too many failed enrolments from this address lately: wait a while (15 minutes).
    #[error("too many attempts: try again later")]
    Throttled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<linli_domain::Error> for Error {
    fn from(e: linli_domain::Error) -> Error {
        use linli_domain::Error as D;
        match e {
            D::InvalidInput { field, reason } => Error::InvalidInput { field, reason },
            D::NotFound { kind } => Error::NotFound { kind },
            D::IllegalTransition { from, action } => Error::IllegalTransition { from, action },
            D::IllegalNeedTransition { from, action } => {
                Error::IllegalNeedTransition { from, action }
            }
            D::Corrupt(what) => Error::CorruptChanges(what),
            D::UnsupportedLayout { .. } => Error::UnsupportedVersion,
            D::Document(e) => Error::Document(e),
        }
    }
}

pub(crate) fn invalid(field: &'static str, reason: crate::Reason) -> Error {
    Error::InvalidInput { field, reason }
}

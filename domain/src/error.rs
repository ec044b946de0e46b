//! Errors of the domain: validation, lifecycle moves and document layout.
//!
//! Error text never carries personal data: a field is named, its value is not. The device
//! core and the server each wrap this error in their own.

use crate::codes::{IncidentAction, IncidentStatus, NeedAction, NeedStatus, Reason};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller passed something the domain does not accept; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: Reason },

    /// A referenced record (or part of one, such as a member) does not exist.
    #[error("{kind} not found")]
    NotFound { kind: &'static str },

    /// The incident cannot make this move from its current status.
    #[error("an incident that is {from} cannot be {action}")]
    IllegalTransition {
        from: IncidentStatus,
        action: IncidentAction,
    },

    /// The need cannot make this move from its current status.
    #[error("a need that is {from} cannot be {action}")]
    IllegalNeedTransition {
        from: NeedStatus,
        action: NeedAction,
    },

    /// A document does not have the shape of a household or an incident.
    #[error("corrupt document: {0}")]
    Corrupt(&'static str),

    /// A document is in a layout newer than this code knows: the app needs updating. Never
    /// "corrupt": the data is fine, this reader is old.
    #[error("document layout {found} is newer than the supported {supported}")]
    UnsupportedLayout { found: i64, supported: i64 },

    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn invalid(field: &'static str, reason: Reason) -> Error {
    Error::InvalidInput { field, reason }
}

//! What Linli's phones and its server share, without any I/O (no SQLite, no HTTP, no async
//! runtime): the device core (`linli-core`) and the sync server (`linli-sync-server`) both
//! build on it, so they cannot disagree on a record, a status or a message.
//!
//! - `codes.rs`: every closed set of values (stable codes, Chinese labels)
//! - `model.rs`: places, households, members, visits and their validation
//! - `incident.rs`: incidents and the moves of their loop; `lifecycle.rs`: an incident's
//!   status, derived from its events; `roles.rs`: who may make which move; `targets.rs`:
//!   the response and resolution clocks and escalation; `moves.rs`: writing a move into
//!   an incident's document (phone and server alike)
//! - `needs.rs`: needs raised on visits as follow-ups, their status folded from events
//! - `doc.rs`: the Automerge layout of each record, its versions, and heads as text
//! - `scope.rs`: which places a user may see and write
//! - `pinyin.rs`: names as pinyin search keys (phone and console search alike)
//! - `protocol.rs`: the sync wire protocol (messages and their encoding)
//! - `error.rs`: the domain's error

pub mod changes;
pub mod codes;
pub mod doc;
mod error;
pub mod incident;
pub mod lifecycle;
pub mod model;
pub mod moves;
pub mod needs;
pub mod pinyin;
pub mod protocol;
pub mod roles;
pub mod scope;
pub mod targets;

pub use error::{Error, Result, invalid};
pub use incident::*;
pub use model::*;
pub use roles::Role;
pub use targets::RESPONSE_TARGET_MS;

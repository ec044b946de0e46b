//! Linli's core: the offline store of a grid worker's phone.
//!
//! Households (with their members, tags and door-knock visits) and incidents are Automerge
//! documents kept in SQLite, with query tables beside them for the screens. Every write is
//! one transaction; sync merges changes from other devices through [`Store::import_changes`]
//! and [`Store::changes_since`].
//!
//! The domain itself (the model, the lifecycle, the document layout and the protocol) is
//! the `linli-domain` crate, shared with the server and re-exported here.
//!
//! - `schema.rs`, `db.rs`: the SQLite schema, migrations and connections
//! - `store.rs`: writes and the merge surface; `projection.rs`: the query tables
//! - `query.rs`: list, search and history queries
//! - `sync.rs`: the device's sync state and rounds;
//!   `http.rs`: the transport

mod db;
mod error;
mod http;
mod projection;
mod query;
pub mod schema;
mod store;
mod sync;

pub use error::{Error, Result};
// The shared domain, re-exported so that apps and bindings see one API.
pub use linli_domain::doc::heads_to_text;
pub(crate) use linli_domain::model;
pub use linli_domain::model::*;
pub use linli_domain::{doc, lifecycle, protocol, scope};
pub use query::{
    HistoryEntry, HouseholdSummary, IncidentFilter, IncidentSummary, VisitPolicy, VisitSummary,
};
pub use store::{DataChange, Identity, ImportOutcome, Store};
pub use sync::{RefusedDoc, SyncConfig, SyncProgress, SyncReport, SyncState};

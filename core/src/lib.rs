//! Linli's core: the offline store of a grid worker's phone.
//!
//! Households (with their members, tags and door-knock visits) and incidents are Automerge
//! documents kept in SQLite, with query tables beside them for the screens. Every write is
//! one transaction; sync merges changes from other devices through [`Store::import_changes`]
//! and [`Store::changes_since`].
//!
//! - `model.rs`: the domain types and their validation
//! - `lifecycle.rs`: an incident's status, derived from its events
//! - `doc.rs`: the Automerge layout of each record
//! - `schema.rs`, `db.rs`: the SQLite schema, migrations and connections
//! - `store.rs`: writes and the merge surface; `projection.rs`: the query tables
//! - `query.rs`: list, search and history queries
//! - `protocol.rs`: the sync wire protocol; `sync.rs`: the device's sync state and rounds;
//!   `http.rs`: the transport

mod db;
pub mod doc;
mod error;
mod http;
pub mod lifecycle;
mod model;
mod projection;
pub mod protocol;
mod query;
pub mod schema;
mod store;
mod sync;

pub use error::{Error, Result};
pub use model::*;
pub use query::{
    HistoryEntry, HouseholdSummary, IncidentFilter, IncidentSummary, VisitPolicy, VisitSummary,
};
pub use store::{DataChange, Identity, ImportOutcome, Store, heads_to_text};
pub use sync::{RefusedDoc, SyncConfig, SyncProgress, SyncReport, SyncState};

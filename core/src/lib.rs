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

mod db;
pub mod doc;
mod error;
pub mod lifecycle;
mod model;
mod projection;
mod query;
pub mod schema;
mod store;

pub use error::{Error, Result};
pub use model::*;
pub use query::{
    HistoryEntry, HouseholdSummary, IncidentFilter, IncidentSummary, VisitPolicy, VisitSummary,
};
pub use store::{Identity, ImportOutcome, Store};

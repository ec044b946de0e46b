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
//! Modules, each depending only on those listed after it:
//!
//! - `sync.rs`: `SyncConfig` and the sync driver; `round.rs`: one round, prepared and
//!   applied without the network; `http.rs`: the transport
//! - `alerts.rs`: what a background sync brought for the user (assigned, escalated,
//!   follow-ups due), between two snapshots of the store
//! - `doors.rs`: the households already at an address and room (the duplicate warning)
//! - `query.rs`: list, search and history queries; `people.rs`: the people of the scope
//! - `my_places.rs`: the user's places (grants) and the documents the server refused
//! - `needs.rs`: needs raised on visits as follow-ups: raising, moves, lists, 转事件
//! - `households.rs`, `visits.rs`, `incidents.rs`, `places.rs`: each record kind's calls;
//!   `merge.rs`: changes in and out, forgetting, compaction
//! - `judge.rs`: the role table applied to the signed-in user, with the people it knows
//! - `erase.rs`: erasing everything (sign-out, revocation)
//! - `store.rs`: the store, the one write path, whole-document reads
//! - `documents.rs`: document bytes in SQLite; `projection.rs`: the query tables;
//!   `cache.rs`: the document cache; `sync_state.rs`: the sync bookkeeping
//! - `schema.rs`, `db.rs`: the SQLite schema, migrations and (encrypted) connections

mod alerts;
mod cache;
mod db;
mod documents;
mod doors;
mod enrol;
mod erase;
mod error;
mod households;
mod http;
mod incidents;
mod judge;
mod merge;
mod my_places;
mod needs;
mod people;
pub use linli_domain::pinyin;
mod places;
mod projection;
mod purge;
mod query;
mod round;
pub mod schema;
mod store;
mod sync;
mod sync_state;
mod visits;

pub use db::KEY_LEN;
pub use error::{Error, Result};
// The shared domain, re-exported so that apps and bindings see one API.
pub use linli_domain::doc::heads_to_text;
pub use linli_domain::incident::*;
pub use linli_domain::model::*;
pub use linli_domain::needs::{
    NeedAction, NeedEvent, NeedItem, NeedMoveDetail, NeedStatus, NewNeed, default_due,
};
pub use linli_domain::{Role, doc, lifecycle, protocol, roles, scope, targets};

/// The domain's records, as the core's modules use them.
pub(crate) mod model {
    pub use linli_domain::RESPONSE_TARGET_MS;
    pub use linli_domain::incident::*;
    pub use linli_domain::model::*;
    pub use linli_domain::needs::*;
}
pub use alerts::{Alert, AlertKind, AlertSnapshot, IncidentMark, NeedMark, alerts};
pub use enrol::{EnrolLink, Enrolment, enrol, parse_enrol_link};
pub use merge::ImportOutcome;
pub use my_places::{Discarded, RefusedDocument};
pub use needs::{NeedSummary, NewNeedIncident};
pub use query::{
    GridDisputes, HistoryEntry, HouseholdSummary, IncidentFilter, IncidentSummary, VisitPolicy,
    VisitSummary, incident_deadlines,
};
pub use round::{RefusedDoc, SyncProgress, SyncReport};
pub use store::{DataChange, Identity, Store};
pub use sync::SyncConfig;
pub use sync_state::SyncState;

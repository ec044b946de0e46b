//! The embedded SQLite implementation of the storage traits, [`SqliteStorage`].
//!
//! - `db.rs`: the connections (one writer, a few readers, WAL, `synchronous = FULL`) and
//!   opening a database
//! - `schema.rs`: the schema version and the numbered migrations in `migrations/*.sql`
//! - `rows.rs`: row conversions and the small queries both halves share
//! - `sync.rs`: [`crate::storage::SyncStorage`]: authentication, pushes, the pull's log
//!   reads ([`crate::pull::LogRead`]), reference data
//! - `admin.rs`: [`crate::storage::AdminStorage`]: places, users, grants, devices,
//!   compaction
//! - `directory.rs`: [`crate::directory::DirectoryStorage`]: users, grants and their
//!   withdrawal, deactivation, enrolment codes, devices, places, the audit trail
//! - `accounts.rs`: [`crate::storage::AccountStorage`]: console accounts, sessions,
//!   sign-in throttling, invitations
//! - `workflow.rs`: [`crate::storage::WorkflowStorage`]: targets, deadlines, notifications,
//!   incident reads
//! - `board.rs`: the response board's `incident_index`: its rows, building it once for
//!   documents stored before version 6, and board pages
//! - `register.rs`: [`crate::storage::RegisterStorage`]: the `register_*` rows of household
//!   documents (kept with each store, built once for older ones), search, ledgers, exports
//! - `counts.rs`: the statistics page's counts grouped in SQL (visits per grid and week)
//! - `erase.rs`: [`crate::erase::PrivacyStorage`]: erasing a household (tombstone, audit
//!   row, WAL checkpoint) and the audit log
//!
//! The change log is `changes`, numbered by `seq` (`AUTOINCREMENT`, so a number is never
//! reused, even after compaction deletes rows). Each row carries the document's place after
//! the change, so a pull filters by scope with an index per level. `documents` holds each
//! document's full snapshot, which snapshot passes send; `departures` where documents moved
//! away from.

mod accounts;
mod admin;
mod board;
mod counts;
mod db;
mod directory;
mod erase;
mod register;
mod register_rows;
mod rows;
mod schema;
mod sync;
mod workflow;

pub use db::SqliteStorage;
pub use schema::VERSION as SCHEMA_VERSION;

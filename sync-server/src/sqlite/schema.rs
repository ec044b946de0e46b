//! The server's SQLite schema: numbered migrations, applied in order on open and recorded in
//! `PRAGMA user_version`.
//!
//! `migrations/NNN_name.sql` are frozen once shipped: a change to the schema is a new file,
//! never an edit. Every shipped version is kept as a fixture with data
//! (`tests/fixtures/server_schema_vN.sql`) and upgraded in `tests/migration.rs`.

use rusqlite::Transaction;

use crate::error::{Error, Result};

/// Each migration, in order: migration `n` (1-based) takes the schema from version `n - 1`
/// to `n`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_departures.sql"),
    include_str!("migrations/003_workflow.sql"),
    include_str!("migrations/004_category_targets.sql"),
    include_str!("migrations/005_places.sql"),
    include_str!("migrations/006_console.sql"),
    include_str!("migrations/007_register.sql"),
    include_str!("migrations/008_directory.sql"),
    include_str!("migrations/009_erasure.sql"),
];

/// The schema version this server writes, kept in `PRAGMA user_version`.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`VERSION`], in the caller's (immediate) transaction, which runs
/// with foreign keys off (SQLite's procedure for rebuilding a table).
pub(super) fn migrate(tx: &Transaction<'_>) -> Result<()> {
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let Some(done) = usize::try_from(found)
        .ok()
        .filter(|&v| v <= MIGRATIONS.len())
    else {
        // Written by a newer server (or not ours): refuse rather than guess.
        return Err(Error::IncompatibleSchema {
            found,
            supported: VERSION,
        });
    };
    if done == MIGRATIONS.len() {
        return Ok(());
    }
    for sql in &MIGRATIONS[done..] {
        tx.execute_batch(sql)?;
    }
    // Migrations run with foreign keys off (a table rebuild needs it); nothing may dangle.
    let dangling: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if dangling > 0 {
        return Err(Error::Config("a migration left dangling references".into()));
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

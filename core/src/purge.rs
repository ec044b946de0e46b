//! Purging documents erased on the server (issue 12): the device deletes everything it holds
//! of them, its own unpushed changes included (erasure wins over an offline edit).
//!
//! In one transaction with `secure_delete` on (deleted rows are zeroed in the file): the
//! document and its appended changes, its query rows (household, tags, visits, needs, the
//! names' pinyin keys, both FTS tables' rows), its change history, its sync state and any
//! refusal kept for it. Both FTS indexes are then merged (`optimize`), so no old segment
//! keeps the erased text's tokens. After the commit the file is rebuilt (`VACUUM`: free
//! pages may hold older versions of the record, written before) and the write-ahead log is
//! checkpointed and truncated, so neither the database nor its WAL holds the record.

use rusqlite::OptionalExtension;

use crate::db::lock;
use crate::doc::DocKind;
use crate::documents;
use crate::error::Result;
use crate::store::Store;
use crate::sync_state;

impl Store {
    /// Purges the documents erased on the server; returns those the device held, with
    /// their kinds. Documents it never held are no-ops; nothing is rebuilt if none was held.
    pub fn purge_erased(&self, doc_ids: &[String]) -> Result<Vec<(DocKind, String)>> {
        if doc_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = lock(&self.writer);
        conn.pragma_update(None, "secure_delete", "ON")?;
        let held = (|| -> Result<Vec<(DocKind, String)>> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut held = Vec::new();
            for id in doc_ids {
                let kind: Option<String> = tx
                    .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                documents::delete(&tx, id)?;
                sync_state::forget(&tx, id)?;
                sync_state::clear_refused(&tx, id)?;
                if let Some(kind) = kind.as_deref().and_then(DocKind::from_code) {
                    held.push((kind, id.clone()));
                }
            }
            if !held.is_empty() {
                // Deleted FTS rows leave their tokens in old segments until a merge.
                for table in ["household_search", "household_search_short"] {
                    tx.execute(
                        &format!("INSERT INTO {table} ({table}) VALUES ('optimize')"),
                        [],
                    )?;
                }
            }
            tx.commit()?;
            Ok(held)
        })();
        // Back to the store's usual setting whatever happened.
        conn.pragma_update(None, "secure_delete", "OFF")?;
        let held = held?;
        for (_, id) in &held {
            self.cache.remove(id);
        }
        if !held.is_empty() {
            conn.execute_batch("VACUUM")?;
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                tracing::warn!("checkpoint after a purge did not complete; the next one will");
            }
        }
        Ok(held)
    }
}

//! The device's side of sync: what to push, and applying what the server answered.
//!
//! Rounds are atomic from the device's view: its state (which documents the server holds at
//! which heads, the pull cursor) moves only after a complete response has been applied. A
//! round cut off anywhere is simply repeated: pushes the server already stored are stored
//! once (Automerge dedupes by change hash), pulled changes already here are skipped. Local
//! writes never wait for sync: each import is its own short transaction.

use std::time::Duration;

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::doc::DocKind;
use crate::doc::heads_from_text;
use crate::error::{Error, Result};
use crate::http::Transport;
use crate::model::Millis;
use crate::protocol::{
    Cursor, DocChanges, DocPush, MAX_REQUEST_BYTES, PROTOCOL_VERSION, Person, PushAck, PushOutcome,
    ReferenceData, Role, SyncRequest,
};
use crate::store::{DataChange, Store, lock};

/// Where and how to sync.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Base URL of the sync server, e.g. `https://linli.example.gov.cn`.
    pub server_url: String,
    /// The device token from enrolment.
    pub token: String,
    /// Largest page to ask for.
    pub page_limit: u32,
    /// Attempts per round on network errors and 5xx, with doubling back-off.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl SyncConfig {
    pub fn new(server_url: impl Into<String>, token: impl Into<String>) -> SyncConfig {
        SyncConfig {
            server_url: server_url.into(),
            token: token.into(),
            page_limit: 500,
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Counts so far in a sync, reported after every round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncProgress {
    pub rounds: u32,
    pub docs_up: u32,
    pub docs_down: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// What a completed sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub progress: SyncProgress,
    /// Documents the server refused (kept on the device), with why.
    pub refused: Vec<RefusedDoc>,
    /// Server clock minus device clock, as measured in the last round.
    pub clock_offset_ms: Millis,
    pub finished_at: Millis,
}

/// A document the server refused in the last sync, and why; its changes stay on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDoc {
    pub doc_id: String,
    pub outcome: PushOutcome,
}

/// How sync stands on this device, for the sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// Version of the place tree and people held (0: none yet).
    pub reference_version: u64,
    pub last_sync_at: Option<Millis>,
    /// Documents with changes the server does not have yet.
    pub pending_docs: u32,
}

struct Pending {
    doc_id: String,
    changes: Vec<u8>,
    heads: String,
    local_seq: i64,
}

// ---- state kept in the store's transactions ----------------------------------------------

/// Whether the document has no local changes the server lacks.
pub(crate) fn is_clean(tx: &Transaction<'_>, doc_id: &str) -> Result<bool> {
    let row: Option<(i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT d.local_seq, s.synced_seq FROM documents d \
             LEFT JOIN sync_docs s ON s.doc_id = d.id WHERE d.id = ?1",
        )?
        .query_row([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(matches!(row, Some((local, Some(synced))) if local == synced))
}

pub(crate) fn mark_synced(
    tx: &Transaction<'_>,
    doc_id: &str,
    server_heads: &str,
    seq: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO sync_docs (doc_id, server_heads, synced_seq) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![doc_id, server_heads, seq])?;
    Ok(())
}

fn meta_get(tx: &rusqlite::Connection, key: &str) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn meta_set(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO sync_meta (key, value) VALUES (?1, ?2)")?
        .execute([key, value])?;
    Ok(())
}

const CURSOR: &str = "cursor";
const REFERENCE_VERSION: &str = "reference_version";
const LAST_SYNC: &str = "last_sync_at";
pub(crate) const CLOCK_OFFSET: &str = "clock_offset_ms";

pub(crate) fn load_clock_offset(conn: &rusqlite::Connection) -> Result<Millis> {
    Ok(meta_get(conn, CLOCK_OFFSET)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

impl Store {
    /// Where sync stands on this device.
    pub fn sync_state(&self) -> Result<SyncState> {
        let r = lock(&self.reader);
        let last_sync_at = meta_get(&r, LAST_SYNC)?.and_then(|v| v.parse().ok());
        let pending_docs: u32 = r
            .prepare_cached(
                "SELECT count(*) FROM documents d LEFT JOIN sync_docs s ON s.doc_id = d.id \
                 WHERE s.synced_seq IS NULL OR d.local_seq > s.synced_seq",
            )?
            .query_row([], |row| row.get(0))?;
        drop(r);
        Ok(SyncState {
            reference_version: self.reference_version()?,
            last_sync_at,
            pending_docs,
        })
    }

    /// The reference data version held (0: none). Read each round instead of
    /// [`Store::sync_state`], which counts pending documents over the whole store.
    fn reference_version(&self) -> Result<u64> {
        let r = lock(&self.reader);
        Ok(meta_get(&r, REFERENCE_VERSION)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    fn cursor(&self) -> Result<Cursor> {
        let r = lock(&self.reader);
        Ok(meta_get(&r, CURSOR)?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// The people of this device's scope, by name (from the server's reference data).
    pub fn people(&self) -> Result<Vec<Person>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached("SELECT id, name, role FROM people ORDER BY name, id")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role) = row?;
            if let Some(role) = Role::from_code(&role) {
                out.push(Person { id, name, role });
            }
        }
        Ok(out)
    }

    /// Documents with changes the server lacks, each with the bytes since the server's
    /// heads, up to about `budget` bytes (at least one document), skipping `skip`.
    fn pending_pushes(&self, budget: usize, skip: &[String]) -> Result<(Vec<Pending>, bool)> {
        let rows: Vec<(String, Option<String>, i64, String)> = {
            let r = lock(&self.reader);
            let mut stmt = r.prepare_cached(
                "SELECT d.id, s.server_heads, d.local_seq, d.heads FROM documents d \
                 LEFT JOIN sync_docs s ON s.doc_id = d.id \
                 WHERE s.synced_seq IS NULL OR d.local_seq > s.synced_seq ORDER BY d.local_seq",
            )?;
            stmt.query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        let mut size = 0usize;
        let mut truncated = false;
        for (doc_id, server_heads, local_seq, heads) in rows {
            if skip.contains(&doc_id) {
                continue;
            }
            if !out.is_empty() && size >= budget {
                truncated = true;
                break;
            }
            let since = match server_heads {
                Some(h) => heads_from_text(&h)?
                    .into_iter()
                    .map(|h| h.to_string())
                    .collect(),
                None => Vec::new(),
            };
            let changes = self.changes_since(&doc_id, &since)?;
            size += changes.len() + doc_id.len();
            out.push(Pending {
                doc_id,
                changes,
                heads,
                local_seq,
            });
        }
        Ok((out, truncated))
    }

    fn apply_acks(
        &self,
        pushed: &[Pending],
        acks: &[PushAck],
    ) -> Result<Vec<(String, PushOutcome)>> {
        let mut refused = Vec::new();
        let mut w = lock(&self.writer);
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in pushed {
            let Some(ack) = acks.iter().find(|a| a.doc_id == p.doc_id) else {
                return Err(Error::Server(
                    "a pushed document was not acknowledged".into(),
                ));
            };
            match ack.outcome {
                // The server holds everything up to the heads we shipped. Writes made since
                // have a higher local_seq and stay pending.
                PushOutcome::Stored => mark_synced(&tx, &p.doc_id, &p.heads, p.local_seq)?,
                // The server lost track of our history: ship the whole document next time.
                PushOutcome::MissingDependencies => {
                    tx.prepare_cached("DELETE FROM sync_docs WHERE doc_id = ?1")?
                        .execute([&p.doc_id])?;
                    refused.push((p.doc_id.clone(), ack.outcome));
                }

                PushOutcome::OutOfScope | PushOutcome::Invalid => {
                    refused.push((p.doc_id.clone(), ack.outcome));
                }
            }
        }
        tx.commit()?;
        Ok(refused)
    }

    fn apply_pulled(&self, docs: &[DocChanges], reference: bool) -> Result<DataChange> {
        let mut change = DataChange {
            reference,
            from_sync: true,
            ..DataChange::default()
        };
        let items: Vec<(&str, &[u8])> = docs
            .iter()
            .map(|d| (d.doc_id.as_str(), d.changes.as_slice()))
            .collect();
        let outcomes = self.import_batch(&items, true)?;
        for (d, outcome) in docs.iter().zip(outcomes) {
            if outcome.new_changes > 0 {
                change.households |= outcome.kind == "household";
                change.incidents |= outcome.kind == "incident";
                change.doc_ids.push(d.doc_id.clone());
            }
        }
        Ok(change)
    }

    fn apply_reference(&self, reference: &ReferenceData) -> Result<()> {
        self.put_places(&reference.places)?;
        let mut w = lock(&self.writer);
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM people", [])?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO people (id, name, role) VALUES (?1, ?2, ?3)")?;
            for p in &reference.people {
                stmt.execute(params![p.id, p.name, p.role.code()])?;
            }
        }
        meta_set(&tx, REFERENCE_VERSION, &reference.version.to_string())?;
        tx.commit()?;
        Ok(())
    }

    fn save_round(
        &self,
        cursor: &Cursor,
        clock_offset: Millis,
        finished: Option<Millis>,
    ) -> Result<()> {
        let text = serde_json::to_string(cursor).map_err(|_| Error::Server("bad cursor".into()))?;
        let mut w = lock(&self.writer);
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, CURSOR, &text)?;
        meta_set(&tx, CLOCK_OFFSET, &clock_offset.to_string())?;
        if let Some(at) = finished {
            meta_set(&tx, LAST_SYNC, &at.to_string())?;
        }
        tx.commit()?;
        self.set_clock_offset(clock_offset);
        Ok(())
    }

    /// Pushes everything the server lacks and pulls everything in scope this device lacks,
    /// in as many rounds as it takes. Safe to cancel (drop the future) at any point: the
    /// next sync resumes where the last complete round left off.
    pub async fn sync(
        &self,
        config: &SyncConfig,
        on_progress: &(dyn Fn(&SyncProgress) + Send + Sync),
    ) -> Result<SyncReport> {
        let transport = Transport::new(config)?;
        let mut progress = SyncProgress::default();
        let mut refused: Vec<(String, PushOutcome)> = Vec::new();
        // Documents the server lacked history for, re-sent whole once in this sync.
        let mut resent: Vec<String> = Vec::new();
        let mut restarted = false;
        let mut offset: Millis;
        loop {
            let skip: Vec<String> = refused.iter().map(|(d, _)| d.clone()).collect();

            let (pending, more_to_push) = self.pending_pushes(MAX_REQUEST_BYTES / 2, &skip)?;
            let request = SyncRequest {
                protocol: PROTOCOL_VERSION,
                cursor: self.cursor()?,
                reference_version: self.reference_version()?,
                push: pending
                    .iter()
                    .map(|p| DocPush {
                        doc_id: p.doc_id.clone(),
                        changes: p.changes.clone(),
                    })
                    .collect(),
                page_limit: config.page_limit,
            };
            let sent_at = local_now();
            let (response, up, down) = transport.round(&request).await?;
            let received_at = local_now();
            // The server answered somewhere between sending and receiving.
            offset = response.server_time - (sent_at + received_at) / 2;

            for (doc, outcome) in self.apply_acks(&pending, &response.acks)? {
                if outcome == PushOutcome::MissingDependencies && !resent.contains(&doc) {
                    resent.push(doc);
                } else {
                    refused.push((doc, outcome));
                }
            }
            let retry = pending.iter().any(|p| resent.contains(&p.doc_id));
            if let Some(reference) = &response.reference {
                self.apply_reference(reference)?;
            }
            let mut change = match self.apply_pulled(&response.docs, response.reference.is_some()) {
                Ok(change) => change,
                // This device lacks history the server's changes build on: its own changes,
                // lost (say, restored from an old backup) after the server acknowledged
                // them. The server never sends a device its own changes, but a snapshot pass
                // carries whole documents: start one, once.
                Err(Error::MissingDependencies(_)) if !restarted => {
                    restarted = true;
                    tracing::warn!("pulled changes lack local history; starting a snapshot pass");
                    self.save_round(&Cursor::default(), offset, None)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            for doc_id in &response.gone {
                if let Some(kind) = self.forget(doc_id)? {
                    change.households |= kind == DocKind::Household;
                    change.incidents |= kind == DocKind::Incident;
                    change.doc_ids.push(doc_id.clone());
                }
            }
            let done = !response.more && !more_to_push && !retry;
            self.save_round(
                &response.cursor,
                offset,
                done.then_some(received_at + offset),
            )?;

            progress.rounds += 1;
            progress.docs_up += pending.len() as u32;
            progress.docs_down += response.docs.len() as u32;
            progress.bytes_up += up as u64;
            progress.bytes_down += down as u64;
            on_progress(&progress);
            if change.households || change.incidents || change.reference {
                self.notify(&change);
            }
            if done {
                break;
            }
        }
        let scope_refused = refused
            .iter()
            .filter(|(_, o)| *o == PushOutcome::OutOfScope)
            .count();
        if scope_refused > 0 {
            return Err(Error::OutOfScope {
                count: scope_refused,
            });
        }
        Ok(SyncReport {
            progress,
            refused: refused
                .into_iter()
                .map(|(doc_id, outcome)| RefusedDoc { doc_id, outcome })
                .collect(),
            clock_offset_ms: offset,
            finished_at: local_now() + offset,
        })
    }
}

fn local_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

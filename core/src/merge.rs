//! The merge surface sync is built on: heads and changes of a document, importing changes
//! made elsewhere (one document, or a pulled page in one transaction), forgetting a document
//! that left the device's scope, and compaction.

use std::collections::HashMap;

use automerge::AutoCommit;
use linli_domain::changes;
use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::db::lock;
use crate::doc::{DocKind, heads_from_text, heads_to_text};
use crate::documents;
use crate::error::{Error, Result};
use crate::store::{DataChange, Store};
use crate::sync_state;

/// The result of importing changes from elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub kind: DocKindName,
    /// Changes this device did not have before (0 for a duplicate).
    pub new_changes: usize,
}

/// The kind of a document, for callers outside the crate.
pub type DocKindName = &'static str;

impl Store {
    /// The document's current heads (hex change hashes), or `NotFound`.
    pub fn heads(&self, doc_id: &str) -> Result<Vec<String>> {
        let r = lock(&self.reader);
        let text: String = r
            .prepare_cached("SELECT heads FROM documents WHERE id = ?1")?
            .query_row([doc_id], |row| row.get(0))
            .optional()?
            .ok_or(Error::NotFound { kind: "document" })?;
        Ok(text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Everything of the document that is not in the history of `heads`, as Automerge
    /// bytes for `import_changes` elsewhere. Empty `heads` gives the whole document.
    pub fn changes_since(&self, doc_id: &str, heads: &[String]) -> Result<Vec<u8>> {
        let heads = heads_from_text(&heads.join(","))?;
        let kind = self.kind_of(doc_id)?;
        self.read_doc(doc_id, kind, |d| Ok(d.save_after(&heads)))
    }

    /// The kind of a stored document.
    pub fn kind_of(&self, doc_id: &str) -> Result<DocKind> {
        let r = lock(&self.reader);
        let code: String = r
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([doc_id], |row| row.get(0))
            .optional()?
            .ok_or(Error::NotFound { kind: "document" })?;
        DocKind::from_code(&code).ok_or(Error::CorruptChanges("unknown document kind"))
    }

    /// Applies changes made elsewhere (another device, the server). Idempotent: changes
    /// already here are skipped. Corrupt bytes, changes whose dependencies are missing, or
    /// a document that is not a valid household or incident are errors, and nothing is
    /// written. Query tables are updated in the same transaction. A document in a layout
    /// newer than this app is stored but not shown (reading it is `UnsupportedVersion`).
    pub fn import_changes(&self, doc_id: &str, bytes: &[u8]) -> Result<ImportOutcome> {
        let mut outcomes = self.import_batch(&[(doc_id, bytes)], false)?;
        outcomes
            .pop()
            .ok_or(Error::CorruptChanges("nothing imported"))
    }

    /// Imports several documents' changes in ONE transaction (a pulled page: one commit, not
    /// one per document); all or nothing. With `from_server`, a document with no unpushed
    /// local changes is marked as held by the server at its new heads, so what was pulled is
    /// never pushed back.
    pub(crate) fn import_batch(
        &self,
        items: &[(&str, &[u8])],
        from_server: bool,
    ) -> Result<Vec<ImportOutcome>> {
        // Parsed once, strictly, before anything is locked: a damaged or truncated chunk
        // refuses the batch (Automerge's `load_incremental` would keep what came before it).
        // Missing dependencies are judged against the stored document below.
        let parsed = items
            .iter()
            .map(|(_, bytes)| {
                changes::parse(bytes)
                    .map_err(|_| Error::CorruptChanges("bytes are not Automerge changes"))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Documents touched by this batch; a document may appear twice in one page. Taken out
        // of the cache, so reads meanwhile see the committed versions.
        let mut touched: HashMap<String, (DocKind, AutoCommit)> = HashMap::new();
        let mut outcomes = Vec::with_capacity(items.len());
        let mut changed: Vec<(DocKind, String)> = Vec::new();
        for ((doc_id, _), parsed) in items.iter().zip(parsed) {
            let doc_id = *doc_id;
            let existing = match touched.remove(doc_id).or_else(|| self.cache.take(doc_id)) {
                Some(held) => Some(held),
                None => documents::load(&tx, doc_id, &self.actor)?,
            };
            let create = existing.is_none();
            let (mut d, known_kind) = match existing {
                Some((k, d)) => (d, Some(k)),
                None => (AutoCommit::new().with_actor(self.actor.clone()), None),
            };
            let old_heads = d.get_heads();
            // On an error the document (perhaps half changed by a panic Automerge caught) is
            // dropped with the transaction; the cache no longer holds it, so the next read
            // loads the stored one.
            changes::apply(&mut d, parsed)
                .map_err(|_| Error::CorruptChanges("changes could not be applied"))?;
            let missing = d.get_missing_deps(&[]);
            if !missing.is_empty() {
                return Err(Error::MissingDependencies(missing.len()));
            }
            // Known kind, any layout: a newer layout is stored and set aside, not refused.
            let kind = documents::kind_of(&d)?;
            if known_kind.is_some_and(|k| k != kind) {
                return Err(Error::CorruptChanges("document changed kind"));
            }
            if documents::doc_id_of(&d)? != doc_id {
                return Err(Error::CorruptChanges("document id does not match"));
            }
            let new_changes = d.get_changes_meta(&old_heads).len();
            if new_changes > 0 {
                let clean = create || sync_state::is_clean(&tx, doc_id)?;
                let seq = documents::persist(&tx, doc_id, kind, &mut d, &old_heads, create)?;
                if from_server && clean {
                    sync_state::mark_synced(&tx, doc_id, &heads_to_text(&d.get_heads()), seq)?;
                }
                documents::project(&tx, doc_id, kind, &d)?;
                changed.push((kind, doc_id.to_owned()));
            }
            outcomes.push(ImportOutcome {
                kind: kind.code(),
                new_changes,
            });
            touched.insert(doc_id.to_owned(), (kind, d));
        }
        tx.commit()?;
        for (id, (kind, d)) in touched {
            self.cache.put(&id, kind, d);
        }
        drop(conn);
        // Sync reports its imports once per round instead.
        if !from_server {
            for (kind, id) in &changed {
                self.notify(&DataChange::of(*kind, id, false));
            }
        }
        Ok(outcomes)
    }

    /// Removes a document that left this device's scope, with its rows in every table;
    /// returns its kind. A document with local changes the server has not accepted is kept
    /// (returns `None`): nothing of the user's own is dropped.
    pub(crate) fn forget(&self, doc_id: &str) -> Result<Option<DocKind>> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kind: Option<String> = tx
            .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
            .query_row([doc_id], |r| r.get(0))
            .optional()?;
        let Some(kind) = kind.as_deref().and_then(DocKind::from_code) else {
            return Ok(None);
        };
        if !sync_state::is_clean(&tx, doc_id)? {
            return Ok(None);
        }
        documents::delete(&tx, doc_id)?;
        sync_state::forget(&tx, doc_id)?;
        tx.commit()?;
        self.cache.remove(doc_id);
        Ok(Some(kind))
    }

    /// Folds every document's appended changes into its snapshot.
    pub fn compact_all(&self) -> Result<usize> {
        let ids: Vec<String> = {
            let conn = lock(&self.writer);
            let mut stmt = conn.prepare("SELECT id FROM documents WHERE change_rows > 0")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for id in &ids {
            // One document per transaction: writes and reads go on in between.
            let mut conn = lock(&self.writer);
            let Some((kind, mut d)) = documents::load(&conn, id, &self.actor)? else {
                continue;
            };
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            documents::compact(&tx, id, &mut d)?;
            tx.commit()?;
            self.cache.put(id, kind, d);
        }
        Ok(ids.len())
    }
}

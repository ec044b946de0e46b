//! The document cache: recently used documents, shared by writes and whole-document reads.
//!
//! It has its own short lock and never waits for the writer. A read takes a document out
//! (an `Arc`) and reads it without holding the cache. A write takes the document for itself
//! (cloning it only if a read holds it at that moment) and puts the new version back after its
//! transaction commits, so a read sees the last committed version, never a half-applied
//! change, and a read that starts after a write returned sees that write.
//!
//! A read that missed loads the document from the reader connection and offers it back. The
//! offer is dropped if any write touched the cache since the read looked (`epoch`): what the
//! read loaded may be older than what that write committed, and must not replace it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::AutoCommit;

use crate::db::lock;
use crate::doc::DocKind;

/// Documents kept loaded in memory for repeated reads and writes.
const CACHE_DOCS: usize = 128;

/// One cached document. The inner lock is held only while a read looks at the document
/// (Automerge needs `&mut` even to save) or a write copies it; never across I/O.
pub(crate) type Entry = Arc<Mutex<(DocKind, AutoCommit)>>;

#[derive(Default)]
pub(crate) struct DocCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    docs: HashMap<String, Entry>,
    /// Moves on every change a write makes to the cache.
    epoch: u64,
}

impl Inner {
    fn insert(&mut self, id: &str, entry: Entry) {
        if self.docs.len() >= CACHE_DOCS
            && !self.docs.contains_key(id)
            && let Some(evict) = self.docs.keys().next().cloned()
        {
            self.docs.remove(&evict);
        }
        self.docs.insert(id.to_owned(), entry);
    }
}

impl DocCache {
    /// The cached document, or (on a miss) the epoch to offer a loaded one at.
    pub(crate) fn get(&self, id: &str) -> Result<Entry, u64> {
        let inner = lock(&self.inner);
        match inner.docs.get(id) {
            Some(entry) => Ok(entry.clone()),
            None => Err(inner.epoch),
        }
    }

    /// Offers a document a read loaded after [`DocCache::get`] missed at `epoch`; it is kept
    /// only if no write touched the cache since. Returns the entry to read either way.
    pub(crate) fn offer(&self, id: &str, epoch: u64, kind: DocKind, doc: AutoCommit) -> Entry {
        let entry = Arc::new(Mutex::new((kind, doc)));
        let mut inner = lock(&self.inner);
        if inner.epoch == epoch {
            inner.insert(id, entry.clone());
        }
        entry
    }

    /// Takes a document out for a write (under the writer lock). Reads meanwhile load the
    /// committed version from the database.
    pub(crate) fn take(&self, id: &str) -> Option<(DocKind, AutoCommit)> {
        let entry = {
            let mut inner = lock(&self.inner);
            inner.epoch += 1;
            inner.docs.remove(id)?
        };
        Some(match Arc::try_unwrap(entry) {
            Ok(only) => only.into_inner().unwrap_or_else(|e| e.into_inner()),
            // A read holds it right now: the write works on a copy.
            Err(shared) => {
                let held = lock(&shared);
                (held.0, held.1.clone())
            }
        })
    }

    /// Puts a document's committed version in (under the writer lock, after the commit).
    pub(crate) fn put(&self, id: &str, kind: DocKind, doc: AutoCommit) {
        let entry = Arc::new(Mutex::new((kind, doc)));
        let mut inner = lock(&self.inner);
        inner.epoch += 1;
        inner.insert(id, entry);
    }

    /// Drops every document (after the store was erased).
    pub(crate) fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.epoch += 1;
        inner.docs.clear();
    }

    /// Drops a document (after a commit that deleted it or left it unknown).
    pub(crate) fn remove(&self, id: &str) {
        let mut inner = lock(&self.inner);
        inner.epoch += 1;
        inner.docs.remove(id);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_offer_after_a_write_is_dropped() {
        let cache = DocCache::default();
        let Err(epoch) = cache.get("a") else {
            panic!("empty cache hit")
        };
        cache.put("a", DocKind::Household, AutoCommit::new());
        cache.remove("a");
        cache.offer("a", epoch, DocKind::Household, AutoCommit::new());
        assert!(cache.get("a").is_err(), "a stale offer was kept");

        let Err(epoch) = cache.get("a") else {
            panic!("removed entry hit")
        };
        cache.offer("a", epoch, DocKind::Household, AutoCommit::new());
        assert!(cache.get("a").is_ok());
    }

    #[test]
    fn a_write_takes_a_copy_while_a_read_holds_the_document() {
        let cache = DocCache::default();
        cache.put("a", DocKind::Incident, AutoCommit::new());
        let held = cache.get("a").unwrap();
        let (kind, _) = cache.take("a").unwrap();
        assert_eq!(kind, DocKind::Incident);
        assert_eq!(lock(&held).0, DocKind::Incident);
        assert!(cache.get("a").is_err());
        assert!(cache.take("a").is_none());
    }
}

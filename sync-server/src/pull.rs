//! The pull algorithm: which page of the log a device gets for its cursor. Pure: it reads
//! the log only through [`LogRead`], a handful of query primitives every storage
//! implementation provides over one consistent read (one transaction), so SQLite now and
//! PostgreSQL later page, snapshot and forget identically (as [`crate::merge`] does for
//! pushes).
//!
//! A page is: a snapshot pass when the device needs one (a fresh device, a cursor behind
//! the compaction horizon or behind the user's last grant, a cursor ahead of the log),
//! paged by document id; then the changes in the device's scope by other devices, in log
//! order; then the documents that left the scope within the range the page covered
//! (`gone`). A page is bounded by an item count and by bytes ([`Budget`]).

use std::ops::ControlFlow;

use linli_domain::protocol::{Cursor, DocChanges, SnapshotCursor};
use linli_domain::scope::Scope;

use crate::error::Result;
use crate::merge::StoredDoc;

/// Largest page a device may ask for, in changes or documents.
pub const MAX_PAGE_LIMIT: u32 = 1000;
/// A page stops growing past this many bytes of changes (one item is always sent, however
/// large, so a big document cannot stall a device).
pub const PAGE_BYTES: usize = 1024 * 1024;

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub docs: Vec<DocChanges>,
    /// Documents that left the device's scope within the page's range of the log.
    pub gone: Vec<String>,
    /// Documents erased in the device's scope within the page's range of the log (from the
    /// cursor it came with, through a snapshot pass if any): the device purges them.
    pub erased: Vec<String>,
    pub cursor: Cursor,
    pub more: bool,
}

/// One row of the change log, as a pull reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChange {
    pub seq: u64,
    pub doc_id: String,
    /// This change moved the document to another place (see `merge::Update::moved`).
    pub moved: bool,
    pub bytes: Vec<u8>,
}

/// Whether a visitor wants more rows.
pub type Flow = ControlFlow<()>;

/// What a pull reads, all within one read transaction, so every call sees the same state of
/// the log. Row visitors stream (a page stops early on its byte budget without reading the
/// rest); `limit` is an upper bound the implementation may use in its query.
pub trait LogRead {
    /// The highest change sequence ever handed out (rows may since have been compacted away,
    /// and grants use up numbers too).
    fn max_seq(&self) -> Result<u64>;
    /// Changes up to this sequence were deleted by compaction.
    fn compacted_upto(&self) -> Result<u64>;
    /// Documents whose place `scope` covers, with id > `after_doc`, in id order, at most
    /// `limit`: each as (id, full snapshot).
    fn docs_in_scope(
        &self,
        scope: &Scope,
        after_doc: &str,
        limit: usize,
        each: &mut dyn FnMut(String, Vec<u8>) -> Result<Flow>,
    ) -> Result<()>;
    /// Change rows in `(after, upto]` whose place `scope` covers, not pushed by the device
    /// `not_by`, in sequence order, at most `limit`.
    fn changes_in_scope(
        &self,
        scope: &Scope,
        after: u64,
        upto: u64,
        not_by: &str,
        limit: usize,
        each: &mut dyn FnMut(LogChange) -> Result<Flow>,
    ) -> Result<()>;
    /// Distinct ids of documents that moved away from a place `scope` covers within
    /// `(after, upto]`, in id order (whether they are in scope now is the pull's business).
    fn departures_in_scope(&self, scope: &Scope, after: u64, upto: u64) -> Result<Vec<String>>;
    /// Ids of documents erased within `(after, upto]` whose place was one `scope` covers,
    /// in id order.
    fn erased_in_scope(&self, scope: &Scope, after: u64, upto: u64) -> Result<Vec<String>>;
    /// Documents that left `user_id`'s scope within `(after, upto]` because a grant of
    /// theirs was withdrawn, by id.
    fn user_departures(&self, user_id: &str, after: u64, upto: u64) -> Result<Vec<String>>;
    /// A stored document.
    fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>>;
}

/// The pulling device, as far as a pull cares.
#[derive(Debug, Clone, Copy)]
pub struct Puller<'a> {
    pub device_id: &'a str,
    /// The device's user, whose withdrawn grants' documents leave it (`user_departures`).
    pub user_id: &'a str,
    pub scope: &'a Scope,
    /// See `storage::Device::scope_seq`.
    pub scope_seq: u64,
}

/// How much of a page is left.
#[derive(Debug)]
pub(crate) struct Budget {
    items: usize,
    bytes: usize,
    used_bytes: usize,
}

impl Budget {
    pub(crate) fn new(page_limit: u32) -> Budget {
        let items = page_limit.clamp(1, MAX_PAGE_LIMIT) as usize;
        Budget {
            items,
            bytes: PAGE_BYTES,
            used_bytes: 0,
        }
    }

    /// Takes an item of `len` bytes if it fits; the first item always fits.
    fn take(&mut self, len: usize) -> bool {
        if self.items == 0 || (self.used_bytes > 0 && self.used_bytes + len > self.bytes) {
            return false;
        }
        self.items -= 1;
        self.used_bytes += len;
        true
    }

    /// Rows worth asking for: one more than fits, so a full page knows it was cut.
    fn query_limit(&self) -> usize {
        self.items + 1
    }
}

/// Whether a pull from `after` would bring the device anything: a change in its scope by
/// another device (the server's own included) or a departure after `after`, or a snapshot
/// pass (`after` behind the user's last grant or the compaction horizon, or ahead of the
/// log). Returns that and the log's highest sequence. What `GET /v1/changes` answers.
pub fn changed_since(log: &dyn LogRead, who: Puller<'_>, after: u64) -> Result<(bool, u64)> {
    let max = log.max_seq()?;
    if after > max || after < who.scope_seq || after < log.compacted_upto()? {
        return Ok((true, max));
    }
    if after == max {
        return Ok((false, max));
    }
    let mut found = false;
    log.changes_in_scope(who.scope, after, max, who.device_id, 1, &mut |_| {
        found = true;
        Ok(Flow::Break(()))
    })?;
    if !found {
        found = !log.departures_in_scope(who.scope, after, max)?.is_empty()
            || !log.user_departures(who.user_id, after, max)?.is_empty()
            || !log.erased_in_scope(who.scope, after, max)?.is_empty();
    }
    Ok((found, max))
}

/// One page of what the device's scope holds after `cursor` (see `linli_domain::protocol`
/// for the cursor's meaning). `page_limit` is clamped to `1..=MAX_PAGE_LIMIT`.
pub fn pull(log: &dyn LogRead, who: Puller<'_>, cursor: &Cursor, page_limit: u32) -> Result<Page> {
    let mut budget = Budget::new(page_limit);
    let max = log.max_seq()?;
    let compacted = log.compacted_upto()?;
    let mut docs = Vec::new();

    let mut snapshot = cursor.snapshot.clone();
    // A pass (or a cursor) ahead of the log means the server was restored from a backup:
    // start a pass again.
    let restart = snapshot.as_ref().is_some_and(|s| s.upto > max);
    if restart {
        snapshot = None;
    }
    let needs_pass = restart
        || cursor.seq == 0
        || cursor.seq < compacted
        || cursor.seq < who.scope_seq
        || cursor.seq > max;
    let mut seq = cursor.seq.min(max);
    // Erasures are told over everything the device had not seen, a snapshot pass included
    // (a device behind the compaction horizon may still hold an erased document).
    let seen = seq;
    if snapshot.is_none() && needs_pass {
        snapshot = Some(SnapshotCursor {
            upto: max,
            after_doc: String::new(),
        });
    }
    if let Some(s) = snapshot {
        let (last, cut) = snapshot_page(log, who, &s.after_doc, &mut budget, &mut docs)?;
        if cut {
            return Ok(Page {
                docs,
                gone: Vec::new(),
                erased: Vec::new(),
                cursor: Cursor {
                    seq,
                    snapshot: Some(SnapshotCursor {
                        upto: s.upto,
                        after_doc: last.unwrap_or(s.after_doc),
                    }),
                },
                more: true,
            });
        }
        // The pass is done; carry on with changes after it in the same page, which also
        // keeps a device of an empty log from being told `more` forever.
        seq = s.upto;
    }
    let (last, cut) = changes_page(log, who, seq, max, &mut budget, &mut docs)?;
    // Uncut, every row up to `max` was seen, whether in scope or not.
    let upto = if cut { last.unwrap_or(seq) } else { max };
    let gone = departures(log, who, seq, upto)?;
    let erased = log.erased_in_scope(who.scope, seen, upto)?;
    Ok(Page {
        docs,
        gone,
        erased,
        cursor: Cursor {
            seq: upto,
            snapshot: None,
        },
        more: cut,
    })
}

/// The snapshot phase: documents in scope after `after_doc`, in id order.
/// Returns the id of the last document taken and whether the pass was cut short.
fn snapshot_page(
    log: &dyn LogRead,
    who: Puller<'_>,
    after_doc: &str,
    budget: &mut Budget,
    out: &mut Vec<DocChanges>,
) -> Result<(Option<String>, bool)> {
    let mut last = None;
    let mut cut = false;
    let limit = budget.query_limit();
    log.docs_in_scope(who.scope, after_doc, limit, &mut |doc_id, snapshot| {
        if !budget.take(snapshot.len()) {
            cut = true;
            return Ok(Flow::Break(()));
        }
        last = Some(doc_id.clone());
        out.push(DocChanges {
            doc_id,
            changes: snapshot,
        });
        Ok(Flow::Continue(()))
    })?;
    Ok((last, cut))
}

/// The changes phase: rows in scope in `(after, upto]` by other devices, in order.
/// Returns the last sequence taken and whether the page was cut short.
fn changes_page(
    log: &dyn LogRead,
    who: Puller<'_>,
    after: u64,
    upto: u64,
    budget: &mut Budget,
    out: &mut Vec<DocChanges>,
) -> Result<(Option<u64>, bool)> {
    let mut last_seq = None;
    let mut cut = false;
    // Whether the last entry of `out` is a whole document that subsumes later rows.
    let mut last_is_whole = false;
    let limit = budget.query_limit();
    log.changes_in_scope(who.scope, after, upto, who.device_id, limit, &mut |row| {
        let LogChange {
            seq,
            doc_id,
            moved,
            mut bytes,
        } = row;
        let mut whole = false;
        if moved
            && let Some(doc) = log.load_doc(&doc_id)?
            && who.scope.covers(&doc.place)
        {
            // Moved into this scope: the device may never have had the document.
            bytes = doc.snapshot;
            whole = true;
        }
        if !budget.take(bytes.len()) {
            cut = true;
            return Ok(Flow::Break(()));
        }
        last_seq = Some(seq);
        match out.last_mut() {
            // Consecutive changes of one document travel together: concatenated change
            // chunks are valid input for `load_incremental`.
            Some(prev) if prev.doc_id == doc_id => {
                if whole {
                    prev.changes = bytes;
                    last_is_whole = true;
                } else if !last_is_whole {
                    prev.changes.extend_from_slice(&bytes);
                }
            }
            _ => {
                out.push(DocChanges {
                    doc_id,
                    changes: bytes,
                });
                last_is_whole = whole;
            }
        }
        Ok(Flow::Continue(()))
    })?;
    Ok((last_seq, cut))
}

/// Documents that moved away from a place in scope within `(after, upto]` and are not in
/// scope now.
fn departures(log: &dyn LogRead, who: Puller<'_>, after: u64, upto: u64) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    let mut ids = log.departures_in_scope(who.scope, after, upto)?;
    ids.extend(log.user_departures(who.user_id, after, upto)?);
    ids.sort();
    ids.dedup();
    for id in ids {
        match log.load_doc(&id)? {
            Some(doc) if who.scope.covers(&doc.place) => {}
            _ => gone.push(id),
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_domain::PlaceKind;
    use linli_domain::doc::{DocKind, DocPlace};

    fn at(grid: &str) -> DocPlace {
        DocPlace {
            community_id: "c".into(),
            grid_id: grid.into(),
            micro_grid_id: None,
            building_id: None,
            unit_id: None,
        }
    }

    /// A log in memory: the algorithm needs no database.
    #[derive(Default)]
    struct MemLog {
        max: u64,
        docs: Vec<(String, DocPlace)>,
        /// (seq, doc, device, place, bytes)
        changes: Vec<(u64, String, String, DocPlace, Vec<u8>)>,
    }

    impl LogRead for MemLog {
        fn max_seq(&self) -> Result<u64> {
            Ok(self.max)
        }
        fn compacted_upto(&self) -> Result<u64> {
            Ok(0)
        }
        fn docs_in_scope(
            &self,
            scope: &Scope,
            after_doc: &str,
            limit: usize,
            each: &mut dyn FnMut(String, Vec<u8>) -> Result<Flow>,
        ) -> Result<()> {
            let mut docs: Vec<_> = self
                .docs
                .iter()
                .filter(|(id, place)| id.as_str() > after_doc && scope.covers(place))
                .collect();
            docs.sort_by(|x, y| x.0.cmp(&y.0));
            for (id, _) in docs.into_iter().take(limit) {
                if each(id.clone(), format!("whole {id}").into_bytes())?.is_break() {
                    break;
                }
            }
            Ok(())
        }
        fn changes_in_scope(
            &self,
            scope: &Scope,
            after: u64,
            upto: u64,
            not_by: &str,
            limit: usize,
            each: &mut dyn FnMut(LogChange) -> Result<Flow>,
        ) -> Result<()> {
            let rows = self.changes.iter().filter(|(seq, _, device, place, _)| {
                *seq > after && *seq <= upto && device != not_by && scope.covers(place)
            });
            for (seq, doc_id, _, _, bytes) in rows.take(limit) {
                let row = LogChange {
                    seq: *seq,
                    doc_id: doc_id.clone(),
                    moved: false,
                    bytes: bytes.clone(),
                };
                if each(row)?.is_break() {
                    break;
                }
            }
            Ok(())
        }
        fn departures_in_scope(&self, _: &Scope, _: u64, _: u64) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn erased_in_scope(&self, _: &Scope, _: u64, _: u64) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn user_departures(&self, _: &str, _: u64, _: u64) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
            Ok(self
                .docs
                .iter()
                .find(|(id, _)| id == doc_id)
                .map(|(_, place)| StoredDoc {
                    kind: DocKind::Household,
                    place: place.clone(),
                    snapshot: Vec::new(),
                }))
        }
    }

    #[test]
    fn a_snapshot_pass_pages_by_id_then_changes_follow_without_own_ones() {
        let mut log = MemLog {
            max: 6,
            ..MemLog::default()
        };
        for (id, grid) in [("a", "g1"), ("b", "g2"), ("c", "g1"), ("d", "g1")] {
            log.docs.push((id.into(), at(grid)));
        }
        let mut scope = Scope::default();
        scope.grant(PlaceKind::Grid, "g1");
        let me = Puller {
            device_id: "me",
            user_id: "u",
            scope: &scope,
            scope_seq: 0,
        };
        let first = pull(&log, me, &Cursor::default(), 2).unwrap();
        let ids: Vec<_> = first.docs.iter().map(|d| d.doc_id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
        assert!(first.more);
        let snapshot = first.cursor.snapshot.clone().unwrap();
        assert_eq!((snapshot.upto, snapshot.after_doc.as_str()), (6, "c"));

        // Changes arrive while the pass is under way; the pass still ends at its `upto`.
        log.max = 9;
        log.changes
            .push((7, "a".into(), "other".into(), at("g1"), b"1".to_vec()));
        log.changes
            .push((8, "a".into(), "other".into(), at("g1"), b"2".to_vec()));
        log.changes
            .push((9, "c".into(), "me".into(), at("g1"), b"3".to_vec()));
        let second = pull(&log, me, &first.cursor, 10).unwrap();
        let got: Vec<_> = second
            .docs
            .iter()
            .map(|d| (d.doc_id.as_str(), d.changes.clone()))
            .collect();
        assert_eq!(got, [("d", b"whole d".to_vec()), ("a", b"12".to_vec())]);
        assert!(!second.more);
        assert_eq!(
            second.cursor,
            Cursor {
                seq: 9,
                snapshot: None
            }
        );
    }

    #[test]
    fn budget_always_takes_one_item() {
        let mut b = Budget::new(0);
        assert!(b.take(PAGE_BYTES * 3));
        assert!(!b.take(1));
        let mut b = Budget::new(10);
        assert!(b.take(PAGE_BYTES - 10));
        assert!(!b.take(11));
        assert!(b.take(10));
    }
}

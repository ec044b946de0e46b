//! One sync round without the network: what to send ([`Session::prepare`]) and applying
//! what came back ([`Session::apply`]). The driver (`sync.rs`) moves the request and the
//! response over HTTP between the two; everything here is plain functions over the store,
//! tested with responses built by hand.
//!
//! Rounds are atomic from the device's view: its state (which documents the server holds at
//! which heads, the pull cursor) moves only after a complete response has been applied. A
//! round cut off anywhere is simply repeated: pushes the server already stored are stored
//! once (Automerge dedupes by change hash), pulled changes already here are skipped.

use crate::db::lock;
use crate::doc::DocKind;
use crate::error::{Error, Result};
use crate::model::{Millis, check_short};
use crate::protocol::{
    Cursor, DocPush, MAX_REQUEST_BYTES, PROTOCOL_VERSION, PushAck, PushOutcome, ReferenceData,
    SyncRequest, SyncResponse,
};
use crate::store::{DataChange, Store};
use crate::sync_state::{self, PendingDoc};
use crate::{people, places};

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

/// What one sync has learnt across its rounds.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub(crate) progress: SyncProgress,
    /// Refused in this sync: not offered again until the next one.
    refused: Vec<RefusedDoc>,
    /// Documents the server lacked history for, re-sent whole once in this sync.
    resent: Vec<String>,
    /// A snapshot pass was started for missing local history (once per sync).
    restarted: bool,
    clock_offset: Millis,
}

/// A prepared round: the request, and what its pushes will record when acknowledged.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) request: SyncRequest,
    pushed: Vec<PendingDoc>,
    /// More documents are pending than fit in this request.
    more_to_push: bool,
}

/// When the request went and the answer came (device clock), and their sizes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Exchange {
    pub(crate) sent_at: Millis,
    pub(crate) received_at: Millis,
    pub(crate) bytes_up: usize,
    pub(crate) bytes_down: usize,
}

/// What applying a response did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Pulled changes build on history this device lacks: the cursor went back to the start
    /// for a snapshot pass. Not a round to report.
    Restarted,
    /// A round completed: what changed, and whether the sync is done.
    Round { change: DataChange, done: bool },
}

impl Session {
    /// The next request: documents pending push (those refused in this sync left out), up
    /// to about half the request limit, with the cursor and the reference version held.
    pub(crate) fn prepare(&self, store: &Store, page_limit: u32) -> Result<Outgoing> {
        let (rows, cursor, reference_version) = {
            let r = lock(&store.reader);
            (
                sync_state::pending(&r)?,
                sync_state::cursor(&r)?,
                sync_state::reference_version(&r)?,
            )
        };
        let budget = MAX_REQUEST_BYTES / 2;
        let mut pushed = Vec::new();
        let mut push = Vec::new();
        let mut size = 0usize;
        let mut more_to_push = false;
        for row in rows {
            if self.refused.iter().any(|r| r.doc_id == row.doc_id) {
                continue;
            }
            if !push.is_empty() && size >= budget {
                more_to_push = true;
                break;
            }
            let since: Vec<String> = row
                .server_heads
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect();
            let changes = store.changes_since(&row.doc_id, &since)?;
            size += changes.len() + row.doc_id.len();
            push.push(DocPush {
                doc_id: row.doc_id.clone(),
                changes,
            });
            pushed.push(row);
        }
        Ok(Outgoing {
            request: SyncRequest {
                protocol: PROTOCOL_VERSION,
                cursor,
                reference_version,
                push,
                page_limit,
            },
            pushed,
            more_to_push,
        })
    }

    /// Applies the server's answer to `out`: acknowledgements, reference data, the pulled
    /// page (one transaction), departures; then, only after all of that, the cursor.
    pub(crate) fn apply(
        &mut self,
        store: &Store,
        out: &Outgoing,
        response: &SyncResponse,
        exchange: &Exchange,
    ) -> Result<Applied> {
        // The server answered somewhere between sending and receiving.
        self.clock_offset = response.server_time - (exchange.sent_at + exchange.received_at) / 2;

        // Records refused or accepted after a refusal change the refused list: screens refresh.
        let mut refusal_changes = Vec::new();
        let (refusals, accepted) =
            store.transaction(|tx| apply_acks(tx, &out.pushed, &response.acks))?;
        // And records refused before that the server took now (after a fix).
        for doc_id in accepted {
            if let Ok(kind) = store.kind_of(&doc_id) {
                refusal_changes.push((kind, doc_id));
            }
        }
        for refusal in refusals {
            if matches!(
                refusal.outcome,
                PushOutcome::OutOfScope | PushOutcome::Invalid
            ) && let Ok(kind) = store.kind_of(&refusal.doc_id)
            {
                refusal_changes.push((kind, refusal.doc_id.clone()));
            }
            if refusal.outcome == PushOutcome::MissingDependencies
                && !self.resent.contains(&refusal.doc_id)
            {
                self.resent.push(refusal.doc_id);
            } else {
                self.refused.push(refusal);
            }
        }
        let mut retry = out.pushed.iter().any(|p| self.resent.contains(&p.doc_id));
        if let Some(reference) = &response.reference {
            // Changed grants may take records refused earlier: they go again, once.
            let refused_now: Vec<&str> = self.refused.iter().map(|r| r.doc_id.as_str()).collect();
            retry |= apply_reference(store, reference, &refused_now)?;
        }
        let mut change = match apply_pulled(store, response) {
            Ok(change) => change,
            // This device lacks history the server's changes build on: its own changes,
            // lost (say, restored from an old backup) after the server acknowledged them.
            // The server never sends a device its own changes, but a snapshot pass carries
            // whole documents: start one, once.
            Err(Error::MissingDependencies(_)) if !self.restarted => {
                self.restarted = true;
                tracing::warn!("pulled changes lack local history; starting a snapshot pass");
                save_round(store, &Cursor::default(), self.clock_offset, None)?;
                return Ok(Applied::Restarted);
            }
            Err(e) => return Err(e),
        };
        for (kind, doc_id) in &refusal_changes {
            change.add(*kind, doc_id);
        }
        for doc_id in &response.gone {
            if let Some(kind) = store.forget(doc_id)? {
                change.add(kind, doc_id);
            }
        }
        // Erased on the server: purged, unpushed changes and all (see `purge.rs`), whether
        // the pull said so or a push of it was refused.
        let mut erased = response.erased.clone();
        for a in &response.acks {
            if a.outcome == PushOutcome::Erased && !erased.contains(&a.doc_id) {
                erased.push(a.doc_id.clone());
            }
        }
        for (kind, doc_id) in store.purge_erased(&erased)? {
            change.add(kind, &doc_id);
        }
        let done = !response.more && !out.more_to_push && !retry;
        let finished = done.then_some(exchange.received_at + self.clock_offset);
        save_round(store, &response.cursor, self.clock_offset, finished)?;

        let p = &mut self.progress;
        p.rounds += 1;
        p.docs_up += out.pushed.len() as u32;
        p.docs_down += response.docs.len() as u32;
        p.bytes_up += exchange.bytes_up as u64;
        p.bytes_down += exchange.bytes_down as u64;
        Ok(Applied::Round { change, done })
    }

    /// The report of the sync, at `now` by the device clock.
    pub(crate) fn report(self, now: Millis) -> SyncReport {
        SyncReport {
            progress: self.progress,
            refused: self.refused,
            clock_offset_ms: self.clock_offset,
            finished_at: now + self.clock_offset,
        }
    }
}

/// Records what the server stored; returns what it refused, and the documents refused in an
/// earlier sync that it stored now.
fn apply_acks(
    tx: &rusqlite::Transaction<'_>,
    pushed: &[PendingDoc],
    acks: &[PushAck],
) -> Result<(Vec<RefusedDoc>, Vec<String>)> {
    let mut refused = Vec::new();
    let mut accepted = Vec::new();
    for p in pushed {
        let Some(ack) = acks.iter().find(|a| a.doc_id == p.doc_id) else {
            return Err(Error::Server(
                "a pushed document was not acknowledged".into(),
            ));
        };
        match ack.outcome {
            // The server holds everything up to the heads we shipped. Writes made since
            // have a higher local_seq and stay pending.
            PushOutcome::Stored => {
                sync_state::mark_synced(tx, &p.doc_id, &p.heads, p.local_seq)?;
                if sync_state::clear_refused(tx, &p.doc_id)? {
                    accepted.push(p.doc_id.clone());
                }
            }
            // The server lost track of our history: ship the whole document next time.
            PushOutcome::MissingDependencies => sync_state::forget(tx, &p.doc_id)?,
            // Kept with its reason, and not pushed again until the user changes it (a fix)
            // or discards the local changes (`Store::discard_local_changes`).
            PushOutcome::OutOfScope | PushOutcome::Invalid => {
                sync_state::set_refused(tx, &p.doc_id, ack.outcome, p.local_seq)?
            }
            // Purged once the page is applied (`Round::apply`).
            PushOutcome::Erased => {}
        }
        if ack.outcome != PushOutcome::Stored {
            refused.push(RefusedDoc {
                doc_id: p.doc_id.clone(),
                outcome: ack.outcome,
            });
        }
    }
    Ok((refused, accepted))
}

/// Replaces the place tree, the people and the user's grants, and records their version, in
/// one transaction. When the grants changed (not the first ones), records refused as out of
/// scope before this sync (`refused_now` left out) may be in scope now: their refusals are
/// forgotten so they are pushed again; returns whether there were any.
fn apply_reference(store: &Store, reference: &ReferenceData, refused_now: &[&str]) -> Result<bool> {
    for p in &reference.places {
        check_short("place.id", &p.id, true)?;
        check_short("place.name", &p.name, true)?;
    }
    store.transaction(|tx| {
        let before = sync_state::grants(tx)?;
        places::put_places(tx, &reference.places)?;
        people::replace(tx, &reference.people)?;
        sync_state::set_grants(tx, &reference.grants)?;
        sync_state::set_reference_version(tx, reference.version)?;
        match before {
            Some(before) if before != reference.grants => {
                sync_state::clear_out_of_scope(tx, refused_now)
            }
            _ => Ok(false),
        }
    })
}

/// Imports the pulled page in one transaction.
fn apply_pulled(store: &Store, response: &SyncResponse) -> Result<DataChange> {
    let mut change = DataChange {
        reference: response.reference.is_some(),
        from_sync: true,
        ..DataChange::default()
    };
    let items: Vec<(&str, &[u8])> = response
        .docs
        .iter()
        .map(|d| (d.doc_id.as_str(), d.changes.as_slice()))
        .collect();
    let outcomes = store.import_batch(&items, true)?;
    for (d, outcome) in response.docs.iter().zip(outcomes) {
        if outcome.new_changes > 0
            && let Some(kind) = DocKind::from_code(outcome.kind)
        {
            change.add(kind, &d.doc_id);
        }
    }
    Ok(change)
}

/// Moves the cursor and the clock offset (and, when the sync is done, its time).
fn save_round(
    store: &Store,
    cursor: &Cursor,
    clock_offset: Millis,
    finished: Option<Millis>,
) -> Result<()> {
    store.transaction(|tx| {
        sync_state::set_cursor(tx, cursor)?;
        sync_state::set_clock_offset(tx, clock_offset)?;
        if let Some(at) = finished {
            sync_state::set_last_sync_at(tx, at)?;
        }
        Ok(())
    })?;
    store.set_clock_offset(clock_offset);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Rounds driven by hand-built responses: no server, no HTTP.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Identity;
    use crate::model::*;
    use crate::protocol::{DocChanges, Person, Role};

    struct Device {
        store: Store,
        _dir: tempfile::TempDir,
    }

    fn place(id: &str, kind: PlaceKind, parent: Option<&str>) -> Place {
        Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: format!("{id} name"),
        }
    }

    fn tree() -> Vec<Place> {
        vec![
            place("c", PlaceKind::Community, None),
            place("g", PlaceKind::Grid, Some("c")),
            place("b", PlaceKind::Building, Some("g")),
        ]
    }

    fn device(n: u8) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let identity = Identity {
            device_id: uuid::Uuid::from_bytes([n; 16]).to_string(),
            user_id: format!("user-{n}"),
        };
        let store = Store::open(dir.path().join("d.db"), identity, &linli_testkit::DB_KEY).unwrap();
        store.put_places(&tree()).unwrap();
        Device { store, _dir: dir }
    }

    fn household(store: &Store, room: &str) -> String {
        store
            .create_household(NewHousehold {
                place_id: "b".into(),
                room: room.into(),
                residency: Residency::Resident,
                housing: Housing::Owned,
                tags: vec![],
                notes: String::new(),
                members: vec![],
            })
            .unwrap()
    }

    fn response(acks: Vec<PushAck>, docs: Vec<DocChanges>, seq: u64) -> SyncResponse {
        SyncResponse {
            protocol: PROTOCOL_VERSION,
            server_time: 1_000,
            acks,
            docs,
            cursor: Cursor {
                seq,
                snapshot: None,
            },
            more: false,
            reference: None,
            gone: vec![],
            erased: vec![],
        }
    }

    fn ack(doc_id: &str, outcome: PushOutcome) -> PushAck {
        PushAck {
            doc_id: doc_id.into(),
            outcome,
        }
    }

    fn whole(store: &Store, id: &str) -> DocChanges {
        DocChanges {
            doc_id: id.into(),
            changes: store.changes_since(id, &[]).unwrap(),
        }
    }

    fn pushed_ids(out: &Outgoing) -> Vec<&str> {
        out.request.push.iter().map(|p| p.doc_id.as_str()).collect()
    }

    fn cursor(store: &Store) -> Cursor {
        sync_state::cursor(&lock(&store.reader)).unwrap()
    }

    fn round(session: &mut Session, store: &Store, out: &Outgoing, r: &SyncResponse) -> bool {
        match session.apply(store, out, r, &Exchange::default()).unwrap() {
            Applied::Round { done, .. } => done,
            Applied::Restarted => panic!("restarted"),
        }
    }

    #[test]
    fn acks_record_stored_keep_refused_and_resend_missing_history_whole() {
        let d = device(1);
        let s = &d.store;
        let [stored, out_of_scope, missing, invalid] =
            ["101", "102", "103", "104"].map(|room| household(s, room));
        let mut session = Session::default();

        let out = session.prepare(s, 50).unwrap();
        assert_eq!(pushed_ids(&out).len(), 4);
        assert_eq!(out.request.page_limit, 50);
        let r = response(
            vec![
                ack(&stored, PushOutcome::Stored),
                ack(&out_of_scope, PushOutcome::OutOfScope),
                ack(&missing, PushOutcome::MissingDependencies),
                ack(&invalid, PushOutcome::Invalid),
            ],
            vec![],
            1,
        );
        assert!(!round(&mut session, s, &out, &r), "a re-send is due");
        assert_eq!(s.sync_state().unwrap().pending_docs, 3);

        // Only the document the server lacked history for goes again, whole.
        s.record_visit(NewVisit {
            household_id: missing.clone(),
            at: None,
            purpose: VisitPurpose::Routine,
            needs: vec![],
            done_on_spot: String::new(),
            follow_up: false,
        })
        .unwrap();
        let out = session.prepare(s, 50).unwrap();
        assert_eq!(pushed_ids(&out), vec![missing.as_str()]);
        assert_eq!(
            out.request.push[0].changes,
            s.changes_since(&missing, &[]).unwrap()
        );
        let r = response(
            vec![ack(&missing, PushOutcome::MissingDependencies)],
            vec![],
            2,
        );
        assert!(!round(&mut session, s, &out, &r));

        // Refused twice: given up for this sync, which then finishes.
        let out = session.prepare(s, 50).unwrap();
        assert!(out.request.push.is_empty());
        assert!(round(&mut session, s, &out, &response(vec![], vec![], 3)));
        let report = session.report(0);
        assert_eq!(report.progress.rounds, 3);
        assert_eq!(report.progress.docs_up, 5);
        assert_eq!(
            report.refused,
            vec![
                RefusedDoc {
                    doc_id: out_of_scope,
                    outcome: PushOutcome::OutOfScope
                },
                RefusedDoc {
                    doc_id: invalid,
                    outcome: PushOutcome::Invalid
                },
                RefusedDoc {
                    doc_id: missing,
                    outcome: PushOutcome::MissingDependencies
                },
            ]
        );
        // Refused documents stay pending for the next sync.
        assert_eq!(s.sync_state().unwrap().pending_docs, 3);
        assert_eq!(cursor(s).seq, 3);
    }

    #[test]
    fn a_push_without_its_ack_is_a_server_error_and_moves_nothing() {
        let d = device(1);
        let id = household(&d.store, "101");
        let mut session = Session::default();
        let out = session.prepare(&d.store, 50).unwrap();
        let r = response(vec![], vec![], 9);
        let err = session.apply(&d.store, &out, &r, &Exchange::default());
        assert!(matches!(err, Err(Error::Server(_))));
        assert_eq!(d.store.sync_state().unwrap().pending_docs, 1);
        assert_eq!(cursor(&d.store), Cursor::default());
        assert!(d.store.household(&id).is_ok());
    }

    #[test]
    fn a_page_brings_documents_reference_data_and_departures() {
        let (src, dst) = (device(1), device(2));
        let [a, b] = ["101", "102"].map(|room| household(&src.store, room));
        // The destination holds `mine` with a change of its own the server lacks, and
        // `theirs` as pulled earlier: both leave its scope.
        let theirs = household(&src.store, "103");
        let mut session = Session::default();
        let out = session.prepare(&dst.store, 50).unwrap();
        let first = response(vec![], vec![whole(&src.store, &theirs)], 1);
        round(&mut session, &dst.store, &out, &first);
        let mine = household(&dst.store, "201");

        let mut r = response(
            vec![],
            vec![whole(&src.store, &a), whole(&src.store, &b)],
            7,
        );
        r.server_time = 5_000;
        r.gone = vec![theirs.clone(), mine.clone()];
        r.reference = Some(ReferenceData {
            version: 3,
            places: vec![place("b2", PlaceKind::Building, Some("g"))],
            people: vec![Person {
                id: "user-1".into(),
                name: "李梅".into(),
                role: Role::GridWorker,
            }],
            grants: vec![],
        });
        // What prepare offered is not what this test acknowledges: push nothing.
        let out = Outgoing {
            request: out.request,
            pushed: vec![],
            more_to_push: false,
        };
        let exchange = Exchange {
            sent_at: 1_000,
            received_at: 3_000,
            bytes_up: 10,
            bytes_down: 20,
        };
        let Applied::Round { change, done } =
            session.apply(&dst.store, &out, &r, &exchange).unwrap()
        else {
            panic!("restarted")
        };
        assert!(done);
        assert!(change.households && change.reference && change.from_sync);
        assert_eq!(change.doc_ids, vec![a.clone(), b.clone(), theirs.clone()]);

        let listed: Vec<String> = dst
            .store
            .households_in("b")
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        let mut expected = vec![a, b, mine];
        expected.sort();
        let mut listed = listed;
        listed.sort();
        assert_eq!(listed, expected, "gone, unless it holds our changes");
        assert!(dst.store.household(&theirs).is_err());
        assert_eq!(dst.store.people().unwrap()[0].name, "李梅");
        assert_eq!(dst.store.places_under(Some("g")).unwrap().len(), 2);
        let state = dst.store.sync_state().unwrap();
        assert_eq!(state.reference_version, 3);
        // Answered at 5 000 server time, at 2 000 device time.
        assert_eq!(state.last_sync_at, Some(6_000));
        assert_eq!(cursor(&dst.store).seq, 7);
        assert_eq!(
            sync_state::clock_offset(&lock(&dst.store.reader)).unwrap(),
            3_000
        );
        // Pulled documents are not pending push; the one of our own still is.
        assert_eq!(state.pending_docs, 1);
    }

    #[test]
    fn the_cursor_moves_only_after_the_whole_page_applied() {
        let (src, dst) = (device(1), device(2));
        let good = household(&src.store, "101");
        let mut session = Session::default();
        let out = session.prepare(&dst.store, 50).unwrap();
        let r = response(
            vec![],
            vec![
                whole(&src.store, &good),
                DocChanges {
                    doc_id: "broken".into(),
                    changes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
                },
            ],
            42,
        );
        let err = session.apply(&dst.store, &out, &r, &Exchange::default());
        assert!(matches!(err, Err(Error::CorruptChanges(_))), "{err:?}");
        assert_eq!(cursor(&dst.store), Cursor::default());
        assert!(
            dst.store.household(&good).is_err(),
            "a page is all or nothing"
        );
        assert_eq!(dst.store.sync_state().unwrap().last_sync_at, None);
        assert_eq!(session.progress, SyncProgress::default());

        // The same page without the broken document applies, and then the cursor moves.
        let r = response(vec![], vec![whole(&src.store, &good)], 42);
        assert!(round(&mut session, &dst.store, &out, &r));
        assert_eq!(cursor(&dst.store).seq, 42);
        assert!(dst.store.household(&good).is_ok());
    }

    #[test]
    fn missing_local_history_starts_one_snapshot_pass() {
        let (src, dst) = (device(1), device(2));
        let id = household(&src.store, "101");
        let base = src.store.heads(&id).unwrap();
        src.store.set_tag(&id, CareTag::Veteran, true).unwrap();
        let later = DocChanges {
            doc_id: id.clone(),
            changes: src.store.changes_since(&id, &base).unwrap(),
        };
        let mut session = Session::default();
        let out = session.prepare(&dst.store, 50).unwrap();
        round(&mut session, &dst.store, &out, &response(vec![], vec![], 5));
        assert_eq!(cursor(&dst.store).seq, 5);

        let r = response(vec![], vec![later], 6);
        let applied = session
            .apply(&dst.store, &out, &r, &Exchange::default())
            .unwrap();
        assert_eq!(applied, Applied::Restarted);
        assert_eq!(cursor(&dst.store), Cursor::default(), "from the start");
        // Once per sync: the second time it is an error.
        let err = session.apply(&dst.store, &out, &r, &Exchange::default());
        assert!(matches!(err, Err(Error::MissingDependencies(_))));
    }

    #[test]
    fn a_page_with_a_record_in_a_newer_layout_applies_the_rest() {
        use automerge::transaction::Transactable;

        let (src, dst) = (device(1), device(2));
        let [a, newer, b] = ["101", "102", "103"].map(|room| household(&src.store, room));
        // An app newer than this one rewrote `newer` in a layout this one does not know.
        let mut d =
            automerge::AutoCommit::load(&src.store.changes_since(&newer, &[]).unwrap()).unwrap();
        d.put(automerge::ROOT, "v", 99).unwrap();
        d.commit();
        let newer_bytes = d.save();
        let r = response(
            vec![],
            vec![
                whole(&src.store, &a),
                DocChanges {
                    doc_id: newer.clone(),
                    changes: newer_bytes,
                },
                whole(&src.store, &b),
            ],
            8,
        );
        let mut session = Session::default();
        let out = session.prepare(&dst.store, 50).unwrap();
        assert!(round(&mut session, &dst.store, &out, &r));

        let mut listed: Vec<String> = dst
            .store
            .households_in("b")
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        listed.sort();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(listed, expected, "the newer record is not listed");
        assert!(matches!(
            dst.store.household(&newer),
            Err(Error::UnsupportedVersion)
        ));
        // Its bytes are kept, whole, and it is not pending push.
        assert_eq!(
            dst.store.heads(&newer).unwrap(),
            d.get_heads()
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(cursor(&dst.store).seq, 8);
        assert_eq!(dst.store.sync_state().unwrap().pending_docs, 0);
        // Nor can this app write to it: that could break what the newer app wrote.
        assert!(matches!(
            dst.store.set_tag(&newer, CareTag::Veteran, true),
            Err(Error::UnsupportedVersion)
        ));
    }
}

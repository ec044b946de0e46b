//! Whole-document reads do not wait for the writer, and never see a write half done.
//!
//! No timing: threads meet on channels. A read that did wait for the writer would deadlock
//! here; the holder gives up after a minute so that such a bug fails instead of hanging.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use linli_core::*;

/// Long enough never to fire unless reads wait for the writer.
const GIVE_UP: Duration = Duration::from_secs(60);

fn incident_at(store: &Store, household: &str) -> String {
    store
        .report_incident(NewIncident {
            category: IncidentCategory::LeakRepair,
            description: "卫生间漏水".into(),
            place_id: None,
            household_id: Some(household.into()),
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap()
}

#[test]
fn whole_document_reads_complete_while_the_writer_is_held() {
    let mut t = open(1, "worker-li");
    let hh = t
        .store
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap();
    let inc = incident_at(&t.store, &hh);
    // Reopen: nothing cached, so the reads below load through the reader connection.
    let identity = t.store.identity().clone();
    t.store = Store::open(
        t.dir.path().join("linli.db"),
        identity,
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    let store = &t.store;

    let (held_tx, held_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let released_by_reads = std::thread::scope(|s| {
        let holder = s.spawn(move || {
            store.with_raw_connection(|c| {
                // A long write transaction, as a pulled page would hold it.
                c.execute_batch("BEGIN IMMEDIATE").unwrap();
                held_tx.send(()).unwrap();
                let released = done_rx.recv_timeout(GIVE_UP).is_ok();
                c.execute_batch("ROLLBACK").unwrap();
                released
            })
        });
        held_rx.recv().unwrap();
        assert_eq!(store.household(&hh).unwrap().members[0].name, "张三丰");
        assert_eq!(store.incident(&inc).unwrap().id, inc);
        assert!(!store.changes_since(&hh, &[]).unwrap().is_empty());
        // Again, now from the cache.
        assert_eq!(store.household(&hh).unwrap().id, hh);
        assert!(store.households_in(BUILDING_1).unwrap().len() == 1);
        // If any read above had waited for the writer, it would never get here in time.
        let _ = done_tx.send(());
        holder.join().unwrap()
    });
    assert!(released_by_reads, "a read waited for the writer");
}

#[test]
fn a_read_during_a_write_sees_the_last_commit_and_after_it_the_write() {
    let t = open(1, "worker-li");
    let store = &t.store;
    let hh = store
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap();
    let before = store.household(&hh).unwrap();

    let (paused_tx, paused_rx) = mpsc::channel::<()>();
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    let paused_tx = Mutex::new(paused_tx);
    let resume_rx = Mutex::new(resume_rx);
    store.set_before_commit_hook(Some(Box::new(move || {
        paused_tx.lock().unwrap().send(()).unwrap();
        resume_rx.lock().unwrap().recv_timeout(GIVE_UP).unwrap();
    })));
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            store
                .add_member(&hh, member("李四", Relation::Spouse, None))
                .unwrap()
        });
        // The write is inside its transaction, everything but the commit done.
        paused_rx.recv().unwrap();
        assert_eq!(store.household(&hh).unwrap(), before, "half a write seen");
        assert!(!store.changes_since(&hh, &[]).unwrap().is_empty());
        resume_tx.send(()).unwrap();
        writer.join().unwrap();
    });
    store.set_before_commit_hook(None);
    // The write returned: every read sees it.
    let after = store.household(&hh).unwrap();
    assert_eq!(after.members.len(), 2);
    assert_eq!(store.households_in(BUILDING_1).unwrap()[0].member_count, 2);
}

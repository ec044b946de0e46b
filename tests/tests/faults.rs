//! The network and the server failing under a real sync: responses cut mid-body by a proxy,
//! every attempt failing, the server process SIGKILLed mid-sync and restarted, a request
//! replayed. Each time: nothing lost, nothing stored or shown twice, and the devices converge.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use linli_core::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, PROTOCOL_VERSION, PushOutcome, Role, SYNC_PATH,
    SyncRequest, SyncResponse, VERSION_HEADER,
};
use linli_core::*;
use linli_sync_server::SqliteStorage;

/// Two workers of grid 1 on one server; both have synced once (they hold the place tree).
async fn two_workers(server: &Server) -> (Device, Device) {
    let a = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    let b = server.device(&server.person("worker-b", Role::GridWorker, &[GRID_1]));
    a.synced().await;
    b.synced().await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_cut_mid_body_are_retried_without_duplicates() {
    let server = Server::start().await;
    let (a, mut b) = two_workers(&server).await;
    let hh = a.create(UNIT_1_1, "301");
    a.visit(&hh);
    a.synced().await;
    b.synced().await;

    // Offline on both phones: visits to the same household, and a new household on B.
    a.visit(&hh);
    b.visit(&hh);
    b.visit(&hh);
    let mine = b.create(BUILDING_2, "205");
    b.visit(&mine);
    a.synced().await;
    let rows_before = server.count(DEVICE_CHANGES);

    // B syncs through a proxy that cuts the first two responses after the headers and a
    // few bytes of body: each attempt's push reached the server (and was stored by the
    // first), and B never read an answer until the third.
    let proxy = Proxy::start(server.addr, 2, 5).await;
    b.url = proxy.url.clone();
    let before = b.store.sync_state().unwrap();
    assert_eq!(before.pending_docs, 2);
    let report = b.synced().await;
    assert_eq!(proxy.cut.load(Ordering::SeqCst), 2, "both cuts happened");
    assert_eq!(report.progress.rounds, 1, "one round, retried inside it");
    assert_eq!(report.progress.docs_up, 2);
    assert_eq!(report.progress.docs_down, 1, "A's visit, once");
    assert_eq!(b.pending(), 0);

    // The two pushed documents were stored once: one row each, however often they came.
    assert_eq!(server.count(DEVICE_CHANGES), rows_before + 2);
    assert_each_change_stored_once(&server.db);

    a.synced().await;
    let ra = a.synced().await;
    assert_eq!(ra.progress.docs_down, 0, "A is up to date");
    assert_eq!(view(&a.store), view(&b.store));
    for d in [&a, &b] {
        assert_visits_once(&d.store, &hh, 4);
        assert_visits_once(&d.store, &mine, 1);
        assert_eq!(d.raw_count("visits"), 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_attempt_fails_nothing_is_lost_and_a_later_sync_delivers() {
    let server = Server::start().await;
    let (mut a, b) = two_workers(&server).await;
    let hh = a.create(UNIT_1_2, "402");
    let v1 = a.visit(&hh);
    let inc = a.report(&hh);
    a.store
        .move_incident(&inc, IncidentAction::Accept, "已受理")
        .unwrap();
    let before = a.store.sync_state().unwrap();
    assert_eq!(before.pending_docs, 2);
    let local = view(&a.store);
    let rows_before = server.count(DEVICE_CHANGES);

    // Every connection is cut after the response headers: each attempt reaches the server,
    // no answer reaches the phone.
    let proxy = Proxy::start(server.addr, usize::MAX, 3).await;
    a.url = proxy.url.clone();
    let config = SyncConfig {
        max_attempts: 3,
        ..a.config()
    };
    match a.sync_with(&config).await {
        Err(Error::Network(why)) => assert!(!why.is_empty()),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert_eq!(proxy.cut.load(Ordering::SeqCst), 3, "one cut per attempt");
    // Nothing changed on the phone: the records, and what is still to be pushed.
    assert_eq!(a.store.sync_state().unwrap(), before);
    assert_eq!(view(&a.store), local);

    // Nothing reachable at all: the same.
    a.url = format!("http://{}", dead_address().await);
    let config = SyncConfig {
        max_attempts: 2,
        ..a.config()
    };
    assert!(matches!(a.sync_with(&config).await, Err(Error::Network(_))));
    assert_eq!(a.store.sync_state().unwrap(), before);

    // A server that takes the request and never answers: the same, after the timeouts.
    let hole = BlackHole::start().await;
    a.url = hole.url.clone();
    let config = SyncConfig {
        max_attempts: 2,
        timeout: Duration::from_millis(300),
        ..a.config()
    };
    match a.sync_with(&config).await {
        Err(Error::Network(why)) => assert_eq!(why, "timed out"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(a.store.sync_state().unwrap(), before);

    // The server did store the pushes the first time; re-sent, they are not stored again.
    let rows = server.count(DEVICE_CHANGES);
    assert_eq!(
        rows,
        rows_before + 2,
        "the cut attempts did reach the server"
    );
    a.url = server.url.clone();
    let report = a.synced().await;
    assert_eq!(report.progress.docs_up, 2);
    assert_eq!(a.pending(), 0);
    assert_eq!(server.count(DEVICE_CHANGES), rows);
    assert_each_change_stored_once(&server.db);

    b.synced().await;
    assert_eq!(view(&b.store), view(&a.store));
    assert_visits_once(&b.store, &hh, 1);
    assert_eq!(b.store.household(&hh).unwrap().visits[0].id, v1);
    assert_eq!(
        b.store.incident(&inc).unwrap().status,
        IncidentStatus::Accepted
    );
}

/// The server binary is SIGKILLed while two phones sync hundreds of households in many small
/// rounds, and restarted on the same port and database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_sync_and_restarted_loses_and_duplicates_nothing() {
    const EACH: usize = 150;
    let dir = temp_dir();
    let db = dir.path().join("server.db");
    let (pa, pb) = {
        let storage = SqliteStorage::open(&db).unwrap();
        linli_testkit::seed_demo(&storage).unwrap();
        (
            add_person(&storage, "worker-a", Role::GridWorker, &[GRID_1]),
            add_person(&storage, "worker-b", Role::GridWorker, &[GRID_1]),
        )
    };
    let first = ServerProcess::spawn(&db, "127.0.0.1:0").expect("the server starts");
    let addr = first.addr;
    let url = format!("http://{addr}");
    let mut a = Device::new(&url, &pa);
    let mut b = Device::new(&url, &pb);
    a.synced().await;
    b.synced().await;

    // Both phones fill up offline at the same time.
    let places = [UNIT_1_1, UNIT_1_2, UNIT_2_1, UNIT_2_2];
    let created: BTreeSet<String> = std::thread::scope(|s| {
        let work = |d: &'static str, phone: &Device| {
            (0..EACH)
                .map(|i| phone.create(places[i % 4], &format!("{d}{i}")))
                .collect::<Vec<_>>()
        };
        let (a, b) = (&a, &b);
        let ta = s.spawn(move || work("A", a));
        let tb = s.spawn(move || work("B", b));
        [ta, tb]
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    a.page_limit = 7;
    b.page_limit = 7;

    // A pushes its households first, so B has many pages to pull.
    a.synced().await;
    assert_eq!(a.pending(), 0);

    // B pushes its own and pulls A's in small pages; once B's push is in, A starts pulling
    // them the same way. The server dies after B's third round and comes back a little
    // later. Back-off long enough to straddle the restart.
    let rounds = Arc::new(AtomicU32::new(0));
    let counter = rounds.clone();
    let db_again = db.clone();
    let killer = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while counter.load(Ordering::SeqCst) < 3 && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let killed_after = counter.load(Ordering::SeqCst);
        first.kill();
        std::thread::sleep(Duration::from_millis(300));
        (killed_after, ServerProcess::respawn(&db_again, addr))
    });
    let patient = |d: &Device| SyncConfig {
        max_attempts: 8,
        initial_backoff: Duration::from_millis(100),
        ..d.config()
    };
    let b_rounds = rounds.clone();
    let on_b = move |p: &SyncProgress| b_rounds.store(p.rounds, Ordering::SeqCst);
    let (config_a, config_b) = (patient(&a), patient(&b));
    let (rb, ra) = tokio::join!(b.store.sync(&config_b, &on_b), async {
        let start = std::time::Instant::now();
        while rounds.load(Ordering::SeqCst) < 1 && start.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        a.store.sync(&config_a, &|_: &SyncProgress| {}).await
    });
    let (killed_after, second) = killer.join().unwrap();
    let t = |r: &linli_core::Result<SyncReport>| {
        r.as_ref()
            .map(|r| r.progress.rounds)
            .map_err(|e| e.to_string())
    };
    eprintln!(
        "killed after B's round {killed_after}; rounds B {:?}, A {:?}",
        t(&rb),
        t(&ra)
    );
    assert!(killed_after >= 3, "the server died before B's third round");
    // The kill came mid-sync: B had rounds left (or gave up during the outage).
    if let Ok(report) = &rb {
        assert!(report.progress.rounds > killed_after);
    }
    // A sync may have given up during the outage; nothing is lost either way, and the next
    // sync completes.
    for (name, r) in [("B", &rb), ("A", &ra)] {
        if let Err(e) = r {
            assert!(matches!(e, Error::Network(_)), "{name}: {e}");
        }
    }
    for _ in 0..3 {
        b.synced().await;
        a.synced().await;
    }

    for d in [&a, &b] {
        assert_eq!(d.pending(), 0);
        assert_eq!(d.raw_count("documents"), 2 * EACH as i64);
    }
    for d in [&a, &b] {
        let held: BTreeSet<String> = d
            .store
            .households_in(COMMUNITY)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(held, created);
    }
    assert_eq!(view(&a.store), view(&b.store));
    drop(second);
    assert_eq!(count(&db, "documents"), 2 * EACH as i64);
    assert_eq!(
        assert_each_change_stored_once(&db),
        2 * EACH,
        "one row per household, however often it was pushed"
    );
}

/// The same request body POSTed again (a replay, or a retry the client never knew
/// succeeded) stores nothing twice; a third phone receives the data once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_is_stored_once() {
    let server = Server::start().await;
    let (a, b) = two_workers(&server).await;
    let hh = a.create(UNIT_2_1, "101");
    a.visit(&hh);
    a.visit(&hh);
    let inc = a.report(&hh);

    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: Cursor::default(),
        reference_version: 0,
        push: [&hh, &inc]
            .iter()
            .map(|d| DocPush {
                doc_id: (*d).clone(),
                changes: a.store.changes_since(d, &[]).unwrap(),
            })
            .collect(),
        page_limit: 100,
    };
    let body = protocol::encode(&request).unwrap();
    let client = http_client();
    let post = |body: Vec<u8>| {
        client
            .post(format!("{}{SYNC_PATH}", server.url))
            .bearer_auth(&a.token)
            .header("content-type", CONTENT_TYPE)
            .header(VERSION_HEADER, PROTOCOL_VERSION.to_string())
            .body(body)
            .send()
    };
    let mut answers = Vec::new();
    for _ in 0..2 {
        let resp = post(body.clone()).await.unwrap();
        assert_eq!(resp.status(), 200);
        let answer: SyncResponse = protocol::decode(&resp.bytes().await.unwrap()).unwrap();
        let outcomes: Vec<PushOutcome> = answer.acks.iter().map(|a| a.outcome).collect();
        assert_eq!(outcomes, vec![PushOutcome::Stored; 2]);
        answers.push(answer);
    }
    assert_eq!(
        server.count(DEVICE_CHANGES),
        2,
        "one row per document, not per POST"
    );
    assert_eq!(answers[0].cursor, answers[1].cursor);

    // Another phone edits the household; the old request replayed again changes nothing.
    b.synced().await;
    b.visit(&hh);
    b.synced().await;
    let resp = post(body.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count(DEVICE_CHANGES), 3);
    assert_each_change_stored_once(&server.db);

    // A third phone pulls the household once, with each visit once.
    let c = server.device(&server.person("worker-c", Role::GridWorker, &[GRID_1]));
    c.synced().await;
    assert_eq!(c.raw_count("documents"), 2);
    assert_eq!(c.store.households_in(GRID_1).unwrap().len(), 1);
    assert_visits_once(&c.store, &hh, 3);
    assert_eq!(
        c.store.incidents(&IncidentFilter::default()).unwrap().len(),
        1
    );
    assert_eq!(c.store.history(&hh).unwrap(), b.store.history(&hh).unwrap());

    // A, whose pushes went by hand, syncs for real: nothing is stored again.
    a.synced().await;
    assert_eq!(server.count(DEVICE_CHANGES), 3);
    assert_eq!(view(&a.store), view(&c.store));
}

/// A phone restored from a backup taken before its last sync (a restored phone, a copied app
/// folder) has lost changes the server already acknowledged. The server does not send a
/// device its own changes, so when others' later changes build on the lost ones the phone
/// cannot apply them; it should catch up all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_restored_from_an_older_backup_catches_up() {
    let server = Server::start().await;
    let (mut a, b) = two_workers(&server).await;
    let hh = a.create(UNIT_1_1, "301");
    a.synced().await;
    b.synced().await;
    let backup = temp_dir();
    let saved = backup.path().join("phone.db");
    a.reopen(|db| copy_database(db, &saved));

    let lost = a.visit(&hh);
    a.synced().await;
    b.synced().await;
    let built_on_it = b.visit(&hh);
    b.synced().await;

    a.reopen(|db| copy_database(&saved, db));
    assert!(
        a.store.household(&hh).unwrap().visits.is_empty(),
        "restored"
    );
    // It may take a failed round to notice; not more than a few.
    let mut result = a.sync().await;
    for _ in 0..2 {
        if result.is_ok() {
            break;
        }
        result = a.sync().await;
    }
    assert!(result.is_ok(), "the restored phone's sync: {result:?}");
    let visits: BTreeSet<String> = a
        .store
        .household(&hh)
        .unwrap()
        .visits
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(visits, BTreeSet::from([lost, built_on_it]));
    assert_eq!(view(&a.store), view(&b.store));
}

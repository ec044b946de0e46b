//! Pushes that pass the strict parse and yet contradict the document (the crashers kept
//! under `domain/tests/fixtures/crashers/`, and mutations of a phone's real household made
//! by `domain/tests/support/mutations.rs`) are refused as invalid documents: never an HTTP
//! 500, never a dead request thread, nothing stored, and the server goes on serving.
//! `PROPTEST_CASES` sets the number of fuzz cases; `LINLI_HEAVY=1` runs many more.
#![allow(clippy::unwrap_used)]

#[path = "../../domain/tests/support/mutations.rs"]
mod mutations;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_core::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, PROTOCOL_VERSION, PushOutcome, SYNC_PATH, SyncRequest,
    SyncResponse, VERSION_HEADER,
};
use linli_core::*;
use linli_sync_server::{AppState, SqliteStorage, app};
use linli_testkit::{DemoDevice, demo};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tower::ServiceExt;

fn cases() -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        n
    } else if std::env::var_os("LINLI_HEAVY").is_some() {
        20_000
    } else {
        300
    }
}

fn crashers() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/crashers");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 2,
        "expected the crashers under {}",
        dir.display()
    );
    out
}

/// A seeded server's storage on tmpfs, and the demo devices.
fn seeded() -> (
    Arc<SqliteStorage>,
    PathBuf,
    Vec<DemoDevice>,
    tempfile::TempDir,
) {
    let dir = linli_testkit::temp_dir().unwrap();
    let path = dir.path().join("server.db");
    let storage = Arc::new(SqliteStorage::open(&path).unwrap());
    let devices = linli_testkit::seed_demo(storage.as_ref()).unwrap();
    (storage, path, devices, dir)
}

fn device(devices: &[DemoDevice], user: &str) -> DemoDevice {
    devices.iter().find(|d| d.user_id == user).unwrap().clone()
}

/// A phone of `device` holding one household of building 1 (grid 1, 李梅's).
fn phone(device: &DemoDevice) -> (Store, String, tempfile::TempDir) {
    let dir = linli_testkit::temp_dir().unwrap();
    let store = Store::open(
        dir.path().join("phone.db"),
        Identity {
            device_id: device.device_id.clone(),
            user_id: device.user_id.clone(),
        },
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    store.put_places(&demo::places()).unwrap();
    let id = store
        .create_household(linli_testkit::records::household(
            demo::BUILDING_1,
            "101",
            vec![linli_testkit::records::member(
                "张秀英",
                Relation::Head,
                Some("13812345678"),
            )],
        ))
        .unwrap();
    (store, id, dir)
}

fn request(push: Vec<DocPush>) -> Vec<u8> {
    protocol::encode(&SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: Cursor::default(),
        reference_version: 0,
        push,
        page_limit: 100,
    })
    .unwrap()
}

fn push(doc_id: &str, changes: Vec<u8>) -> DocPush {
    DocPush {
        doc_id: doc_id.into(),
        changes,
    }
}

fn count(path: &Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// What a refused push must leave as it was.
fn stored(path: &Path) -> (i64, i64, String) {
    let c = rusqlite::Connection::open(path).unwrap();
    let heads: String = c
        .query_row(
            "SELECT coalesce(group_concat(heads, ';'), '') FROM (SELECT heads FROM documents ORDER BY doc_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (count(path, "documents"), count(path, "changes"), heads)
}

/// One HTTP/1.1 request over a real socket; the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\ncontent-type: {CONTENT_TYPE}\r\n\
         {VERSION_HEADER}: {PROTOCOL_VERSION}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&reply[..end]).into_owned();
    let status = head[9..12].parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, reply[end + 4..].to_vec())
}

fn sync_over(addr: SocketAddr, token: &str, body: Vec<u8>) -> SyncResponse {
    let (status, body) = http(addr, "POST", SYNC_PATH, token, &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    protocol::decode(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashers_pushed_to_a_real_server_are_refused_and_it_serves_on() {
    let (storage, path, devices, _dir) = seeded();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(linli_sync_server::serve(
        listener,
        AppState::new(storage),
        async {
            let _ = stopped.await;
        },
    ));
    let li = device(&devices, demo::USER_LI_MEI);
    let path2 = path.clone();
    tokio::task::spawn_blocking(move || {
        let path = path2;
        let (store, id, _phone_dir) = phone(&li);
        let resp = sync_over(
            addr,
            &li.token,
            request(vec![push(&id, store.changes_since(&id, &[]).unwrap())]),
        );
        assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
        let acked = store.heads(&id).unwrap();
        let before = stored(&path);
        for (name, bytes) in crashers() {
            // As a new record, and onto the one the server holds, with a good push beside.
            let new_id = "0190aaaa-0000-7000-8000-00000000c0de";
            let resp = sync_over(
                addr,
                &li.token,
                request(vec![push(new_id, bytes.clone()), push(&id, bytes)]),
            );
            let outcomes: Vec<_> = resp.acks.iter().map(|a| a.outcome).collect();
            assert_eq!(
                outcomes,
                vec![PushOutcome::Invalid, PushOutcome::Invalid],
                "{name}"
            );
            assert_eq!(stored(&path), before, "{name} stored something");
        }
        // Still serving, and still storing good pushes onto the same household.
        let (status, body) = http(addr, "GET", "/health", &li.token, b"");
        assert_eq!((status, body.as_slice()), (200, b"ok".as_slice()));
        store
            .add_member(
                &id,
                linli_testkit::records::member("王建国", Relation::Spouse, None),
            )
            .unwrap();
        let resp = sync_over(
            addr,
            &li.token,
            request(vec![push(&id, store.changes_since(&id, &acked).unwrap())]),
        );
        assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
        assert_eq!(count(&path, "changes"), before.1 + 1);
    })
    .await
    .unwrap();
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

async fn post(router: &axum::Router, token: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method("POST")
        .uri(SYNC_PATH)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header(VERSION_HEADER, PROTOCOL_VERSION.to_string())
        .body(Body::from(body))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

#[test]
fn mutated_pushes_are_judged_never_a_500_and_refusals_store_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (storage, path, devices, _dir) = seeded();
    let router = app(AppState::new(storage));
    let li = device(&devices, demo::USER_LI_MEI);
    let (store, id, _phone_dir) = phone(&li);
    store.set_tag(&id, CareTag::ElderlyAlone, true).unwrap();
    store
        .record_visit(linli_testkit::records::visit(&id))
        .unwrap();
    let all = automerge::AutoCommit::load(&store.changes_since(&id, &[]).unwrap())
        .unwrap()
        .get_changes(&[]);
    // The server holds the household's first change.
    let first = all[0].raw_bytes().to_vec();
    let (status, _) = rt.block_on(post(&router, &li.token, request(vec![push(&id, first)])));
    assert_eq!(status, StatusCode::OK);

    let strategy = (
        any::<usize>(),
        any::<bool>(),
        any::<bool>(),
        mutations::edits(),
    );
    let (refused, accepted) = (Cell::new(0), Cell::new(0));
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(which, bytewise, onto_held, edits)| {
            let Some(bytes) = mutations::push_from(&all, which, &edits, bytewise) else {
                return Ok(());
            };
            let target = if onto_held {
                id.clone()
            } else {
                "0190aaaa-0000-7000-8000-00000000f022".to_owned()
            };
            let before = stored(&path);
            let (status, body) = rt.block_on(post(
                &router,
                &li.token,
                request(vec![push(&target, bytes)]),
            ));
            prop_assert_eq!(status, StatusCode::OK);
            let resp: SyncResponse = protocol::decode(&body).unwrap();
            if resp.acks[0].outcome == PushOutcome::Stored {
                accepted.set(accepted.get() + 1);
            } else {
                refused.set(refused.get() + 1);
                prop_assert_eq!(stored(&path), before);
            }
            Ok(())
        })
        .unwrap();
    eprintln!("refused {}, accepted {}", refused.get(), accepted.get());
    assert!(refused.get() > 0, "nothing was refused");
    // What the server stored still goes out, and a phone takes it in.
    let (other, _other_id, _other_dir) = phone(&li);
    let (status, body) = rt.block_on(post(&router, &li.token, request(vec![])));
    assert_eq!(status, StatusCode::OK);
    let resp: SyncResponse = protocol::decode(&body).unwrap();
    assert!(resp.docs.iter().any(|d| d.doc_id == id));
    for d in &resp.docs {
        other.import_changes(&d.doc_id, &d.changes).unwrap();
    }
    other.household(&id).unwrap();
}

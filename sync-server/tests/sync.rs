//! The sync server driven through its real router: devices with real `linli_core::Store`s
//! push and pull households over `POST /v1/sync`, against the seeded demo community.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_core::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, MAX_REQUEST_BYTES, PROTOCOL_VERSION, PushOutcome,
    SYNC_PATH, SyncRequest, SyncResponse, VERSION_HEADER,
};
use linli_core::*;
use linli_sync_server::admin;
use linli_sync_server::{AdminStorage, AppState, SqliteStorage, app};
use linli_testkit::DemoDevice;
use linli_testkit::demo;
use tempfile::TempDir;
use tower::ServiceExt;

struct Server {
    router: axum::Router,
    storage: Arc<SqliteStorage>,
    devices: Vec<DemoDevice>,
    path: PathBuf,
    _dir: TempDir,
}

impl Server {
    fn new() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let storage = Arc::new(SqliteStorage::open(&path).unwrap());
        let devices = linli_testkit::seed_demo(storage.as_ref()).unwrap();
        let router = app(AppState::new(storage.clone()));
        Server {
            router,
            storage,
            devices,
            path,
            _dir: dir,
        }
    }

    fn device(&self, user_id: &str) -> DemoDevice {
        self.devices
            .iter()
            .find(|d| d.user_id == user_id)
            .unwrap()
            .clone()
    }

    async fn post(
        &self,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder().method("POST").uri(SYNC_PATH);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    async fn sync(&self, token: &str, req: &SyncRequest) -> SyncResponse {
        let (status, body) = self
            .post(
                Some(token),
                protocol::encode(req).unwrap(),
                &[
                    ("content-type", CONTENT_TYPE),
                    (VERSION_HEADER, &PROTOCOL_VERSION.to_string()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        protocol::decode(&body).unwrap()
    }

    fn count(&self, table: &str) -> i64 {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }
}

fn request(cursor: Cursor, push: Vec<DocPush>) -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor,
        reference_version: 0,
        push,
        page_limit: 100,
    }
}

/// A phone: a real device store plus the sync state a client keeps.
struct Phone {
    store: Store,
    device: DemoDevice,
    cursor: Cursor,
    reference_version: u64,
    page_limit: u32,
    /// The heads the server acknowledged, per document.
    acked: HashMap<String, Vec<String>>,
    _dir: TempDir,
}

impl Phone {
    fn new(device: DemoDevice) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("phone.db"),
            Identity {
                device_id: device.device_id.clone(),
                user_id: device.user_id.clone(),
            },
            &linli_testkit::DB_KEY,
        )
        .unwrap();
        store.put_places(&linli_testkit::demo::places()).unwrap();
        Phone {
            store,
            device,
            cursor: Cursor::default(),
            reference_version: 0,
            page_limit: 100,
            acked: HashMap::new(),
            _dir: dir,
        }
    }

    fn push_of(&self, doc_id: &str) -> DocPush {
        let since = self.acked.get(doc_id).cloned().unwrap_or_default();
        DocPush {
            doc_id: doc_id.into(),
            changes: self.store.changes_since(doc_id, &since).unwrap(),
        }
    }

    /// One round: pushes `docs`, applies what comes back. Returns the response.
    async fn sync(&mut self, server: &Server, docs: &[&str]) -> SyncResponse {
        let heads: Vec<Vec<String>> = docs.iter().map(|d| self.store.heads(d).unwrap()).collect();
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: self.cursor.clone(),
            reference_version: self.reference_version,
            push: docs.iter().map(|d| self.push_of(d)).collect(),
            page_limit: self.page_limit,
        };
        let resp = server.sync(&self.device.token, &req).await;
        assert_eq!(resp.acks.len(), docs.len());
        for (ack, heads) in resp.acks.iter().zip(heads) {
            if ack.outcome == PushOutcome::Stored {
                self.acked.insert(ack.doc_id.clone(), heads);
            }
        }
        for d in &resp.docs {
            self.store.import_changes(&d.doc_id, &d.changes).unwrap();
        }
        if let Some(r) = &resp.reference {
            self.reference_version = r.version;
        }
        self.cursor = resp.cursor.clone();
        resp
    }

    /// Pulls until the server has nothing more; returns the documents received.
    async fn sync_all(&mut self, server: &Server) -> Vec<String> {
        let mut got = Vec::new();
        for _ in 0..100 {
            let resp = self.sync(server, &[]).await;
            got.extend(resp.docs.iter().map(|d| d.doc_id.clone()));
            if !resp.more {
                return got;
            }
        }
        panic!("the server never stopped saying `more`");
    }

    fn create(&self, place: &str, room: &str) -> String {
        self.store
            .create_household(NewHousehold {
                place_id: place.into(),
                room: room.into(),
                residency: Residency::Resident,
                housing: Housing::Resettlement,
                tags: vec![CareTag::ElderlyAlone],
                notes: String::new(),
                members: vec![NewMember {
                    name: "张秀英".into(),
                    relation: Relation::Head,
                    birth_year: Some(1948),
                    phone: None,
                    id_number: None,
                }],
            })
            .unwrap()
    }

    fn visit(&self, household_id: &str) {
        self.store
            .record_visit(linli_testkit::records::visit(household_id))
            .unwrap();
    }
}

#[tokio::test]
async fn a_household_pushed_by_one_device_reaches_another() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut admin = Phone::new(server.device(demo::USER_ADMIN));
    let mut wang = Phone::new(server.device(demo::USER_WANG_QIANG));

    let hh = li.create(demo::UNIT_1_1, "301");
    let resp = li.sync(&server, &[&hh]).await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
    let reference = resp.reference.unwrap();
    assert_eq!(reference.places.len(), linli_testkit::demo::places().len());
    assert_eq!(reference.people.len(), 4);
    assert_eq!(
        reference.places[0].id,
        demo::COMMUNITY,
        "parents come first"
    );

    assert_eq!(admin.sync_all(&server).await, vec![hh.clone()]);
    assert_eq!(
        admin.store.household(&hh).unwrap(),
        li.store.household(&hh).unwrap()
    );

    // A later edit travels as a change, not the whole document.
    li.visit(&hh);
    let resp = li.sync(&server, &[&hh]).await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
    assert!(resp.docs.is_empty(), "own changes never come back");
    assert!(resp.reference.is_none(), "reference data is current");
    assert_eq!(admin.sync_all(&server).await, vec![hh.clone()]);
    assert!(admin.cursor.snapshot.is_none());
    assert_eq!(admin.store.household(&hh).unwrap().visits.len(), 1);
    assert_eq!(
        admin.store.household(&hh).unwrap(),
        li.store.household(&hh).unwrap()
    );

    // Grid 2's worker sees nothing of grid 1.
    assert!(wang.sync_all(&server).await.is_empty());
    assert!(wang.store.household(&hh).is_err());
}

#[tokio::test]
async fn a_replayed_request_stores_nothing_twice() {
    let server = Server::new();
    let li = Phone::new(server.device(demo::USER_LI_MEI));
    let hh = li.create(demo::BUILDING_1, "302");
    let req = request(Cursor::default(), vec![li.push_of(&hh)]);
    for _ in 0..3 {
        let resp = server.sync(&li.device.token, &req).await;
        assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
    }
    assert_eq!(server.count("changes"), 1);
    assert_eq!(server.count("documents"), 1);
}

#[tokio::test]
async fn pushes_outside_the_scope_are_refused_and_store_nothing() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let wang = Phone::new(server.device(demo::USER_WANG_QIANG));

    // Wang's phone holds a household of grid 1 (his store does not police scopes).
    let foreign = wang.create(demo::BUILDING_1, "101");
    let resp = server
        .sync(
            &wang.device.token,
            &request(Cursor::default(), vec![wang.push_of(&foreign)]),
        )
        .await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::OutOfScope);
    assert_eq!(server.count("changes"), 0);
    assert_eq!(server.count("documents"), 0);

    // Nor may he write to a grid 1 household the server holds.
    let hh = li.create(demo::BUILDING_1, "102");
    li.sync(&server, &[&hh]).await;
    let resp = server
        .sync(
            &wang.device.token,
            &request(Cursor::default(), vec![li.push_of(&hh)]),
        )
        .await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::OutOfScope);
    assert_eq!(server.count("changes"), 1);

    // A household of his own grid that claims a building of grid 1 is refused too: the
    // building leader of that building would otherwise receive it.
    let own = wang.create(demo::BUILDING_9, "901");
    // Forged as a change of Wang's device and user: the server judges the place, not the author.
    let actor = uuid::Uuid::parse_str(&wang.device.device_id).unwrap();
    let mut d = automerge::AutoCommit::load(&wang.store.changes_since(&own, &[]).unwrap())
        .unwrap()
        .with_actor(automerge::ActorId::from(actor.as_bytes().as_slice()));
    let address = match automerge::ReadDoc::get(&d, automerge::ROOT, "address").unwrap() {
        Some((_, id)) => id,
        None => panic!("no address"),
    };
    automerge::transaction::Transactable::put(&mut d, &address, "building_id", demo::BUILDING_1)
        .unwrap();
    d.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(format!(r#"{{"u":"{}","op":"x"}}"#, demo::USER_WANG_QIANG)),
    );
    let forged = DocPush {
        doc_id: own.clone(),
        changes: d.save(),
    };
    let invalid = DocPush {
        doc_id: "not-a-doc".into(),
        changes: b"garbage".to_vec(),
    };
    let resp = server
        .sync(
            &wang.device.token,
            &request(Cursor::default(), vec![forged, invalid, wang.push_of(&own)]),
        )
        .await;
    let outcomes: Vec<_> = resp.acks.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            PushOutcome::OutOfScope,
            PushOutcome::Invalid,
            PushOutcome::Stored
        ],
        "a refused document does not stop the others"
    );
    assert_eq!(server.count("changes"), 2);
}

#[tokio::test]
async fn a_building_leader_receives_only_their_building() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut zhao = Phone::new(server.device(demo::USER_ZHAO));

    let mine = li.create(demo::UNIT_1_2, "201");
    let other = li.create(demo::BUILDING_2, "202");
    li.sync(&server, &[&mine, &other]).await;
    assert_eq!(zhao.sync_all(&server).await, vec![mine.clone()]);

    li.visit(&other);
    li.sync(&server, &[&other]).await;
    assert!(zhao.sync_all(&server).await.is_empty());
    assert!(zhao.store.household(&other).is_err());

    // The household moves into 安置小区1栋: the leader, who never had it, receives all of
    // it, not a change he could not apply.
    li.store
        .update_household(
            &other,
            HouseholdPatch {
                place_id: Some(demo::BUILDING_1.into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    li.sync(&server, &[&other]).await;
    assert_eq!(zhao.sync_all(&server).await, vec![other.clone()]);
    assert_eq!(
        zhao.store.household(&other).unwrap(),
        li.store.household(&other).unwrap()
    );
}

#[tokio::test]
async fn whole_requests_are_refused_with_a_code() {
    let server = Server::new();
    let li = server.device(demo::USER_LI_MEI);
    let wang = server.device(demo::USER_WANG_QIANG);
    let ok = protocol::encode(&request(Cursor::default(), vec![])).unwrap();
    let ct = [("content-type", CONTENT_TYPE)];
    let refused = |(status, body): (StatusCode, Vec<u8>)| {
        (
            status,
            protocol::Refusal::from_code(std::str::from_utf8(&body).unwrap()).unwrap(),
        )
    };
    use protocol::Refusal::*;

    assert_eq!(
        refused(server.post(None, ok.clone(), &ct).await),
        (StatusCode::UNAUTHORIZED, Unauthorized)
    );
    assert_eq!(
        refused(server.post(Some("0123"), ok.clone(), &ct).await),
        (StatusCode::UNAUTHORIZED, Unauthorized)
    );
    admin::revoke(server.storage.as_ref(), &wang.device_id).unwrap();
    assert_eq!(
        refused(server.post(Some(&wang.token), ok.clone(), &ct).await),
        (StatusCode::FORBIDDEN, Revoked)
    );
    let t = Some(li.token.as_str());
    assert_eq!(
        refused(server.post(t, b"garbage".to_vec(), &ct).await),
        (StatusCode::BAD_REQUEST, Malformed)
    );
    assert_eq!(
        refused(
            server
                .post(t, ok.clone(), &[("content-type", "application/json")])
                .await
        ),
        (StatusCode::BAD_REQUEST, Malformed)
    );
    assert_eq!(
        refused(server.post(t, vec![0; MAX_REQUEST_BYTES + 1], &ct).await),
        (StatusCode::PAYLOAD_TOO_LARGE, TooLarge)
    );
    let mut future = request(Cursor::default(), vec![]);
    future.protocol = PROTOCOL_VERSION + 1;
    assert_eq!(
        refused(
            server
                .post(t, protocol::encode(&future).unwrap(), &ct)
                .await
        ),
        (StatusCode::UPGRADE_REQUIRED, UnsupportedVersion)
    );
    assert_eq!(
        refused(
            server
                .post(
                    t,
                    ok.clone(),
                    &[(VERSION_HEADER, &(PROTOCOL_VERSION + 1).to_string())]
                )
                .await
        ),
        (StatusCode::UPGRADE_REQUIRED, UnsupportedVersion)
    );
    // Without the optional headers, a valid request is served.
    assert_eq!(server.post(t, ok, &[]).await.0, StatusCode::OK);
    assert_eq!(server.count("changes"), 0);

    let resp = server
        .router
        .clone()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_fresh_device_pages_through_snapshots_then_changes() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut admin = Phone::new(server.device(demo::USER_ADMIN));
    admin.page_limit = 2;

    let ids: Vec<String> = (0..5)
        .map(|i| li.create(demo::BUILDING_2, &(100 + i).to_string()))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    li.sync(&server, &refs).await;

    let first = admin.sync(&server, &[]).await;
    assert_eq!(first.docs.len(), 2);
    assert!(first.more);
    let pass = first.cursor.snapshot.clone().unwrap();
    let mut got: Vec<String> = first.docs.iter().map(|d| d.doc_id.clone()).collect();
    got.extend(admin.sync_all(&server).await);
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(got, expected, "snapshots come in id order, each once");
    assert_eq!(admin.cursor.seq, pass.upto);
    assert!(admin.cursor.snapshot.is_none());

    li.visit(&ids[3]);
    li.sync(&server, &[&ids[3]]).await;
    assert_eq!(admin.sync_all(&server).await, vec![ids[3].clone()]);
    assert!(admin.cursor.seq > pass.upto);
    assert_eq!(admin.store.household(&ids[3]).unwrap().visits.len(), 1);
}

#[tokio::test]
async fn a_device_behind_the_compaction_horizon_still_converges() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut admin = Phone::new(server.device(demo::USER_ADMIN));
    let hh = li.create(demo::BUILDING_1, "501");
    li.sync(&server, &[&hh]).await;
    admin.sync_all(&server).await;
    let behind = admin.cursor.seq;

    for _ in 0..3 {
        li.visit(&hh);
        li.sync(&server, &[&hh]).await;
    }
    let c = admin::compact(server.storage.as_ref(), 0).unwrap();
    assert_eq!(c.deleted, 4);
    assert!(c.compacted_upto > behind);
    assert_eq!(server.count("changes"), 0);

    assert_eq!(admin.sync_all(&server).await, vec![hh.clone()]);
    assert_eq!(admin.store.household(&hh).unwrap().visits.len(), 3);
    assert_eq!(
        admin.store.household(&hh).unwrap(),
        li.store.household(&hh).unwrap()
    );
    // Once past the horizon, the device is back to changes only.
    assert!(admin.sync_all(&server).await.is_empty());
}

#[tokio::test]
async fn a_new_grant_brings_the_places_documents() {
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut wang = Phone::new(server.device(demo::USER_WANG_QIANG));
    let hh = li.create(demo::BUILDING_2, "601");
    li.sync(&server, &[&hh]).await;
    assert!(wang.sync_all(&server).await.is_empty());
    let version = wang.reference_version;

    admin::grant(server.storage.as_ref(), demo::USER_WANG_QIANG, demo::GRID_1).unwrap();
    let resp = wang.sync(&server, &[]).await;
    assert!(resp.reference.unwrap().version > version);
    assert_eq!(
        resp.docs
            .iter()
            .map(|d| d.doc_id.clone())
            .collect::<Vec<_>>(),
        vec![hh.clone()]
    );
    assert!(wang.store.household(&hh).is_ok());
}

#[tokio::test]
async fn seeding_the_demo_again_changes_only_tokens() {
    let server = Server::new();
    let version = server.storage.reference_version().unwrap();
    let again = linli_testkit::seed_demo(server.storage.as_ref()).unwrap();
    assert_eq!(server.storage.reference_version().unwrap(), version);
    assert_eq!(server.storage.devices().unwrap().len(), 4);
    let old = server.device(demo::USER_LI_MEI);
    let new = again
        .iter()
        .find(|d| d.user_id == demo::USER_LI_MEI)
        .unwrap();
    assert_eq!(old.device_id, new.device_id);
    let ok = protocol::encode(&request(Cursor::default(), vec![])).unwrap();
    assert_eq!(
        server.post(Some(&old.token), ok.clone(), &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.post(Some(&new.token), ok, &[]).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn serves_on_a_real_port_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path().join("s.db")).unwrap());
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
    let reply = tokio::task::spawn_blocking(move || http_get(addr, "/health"))
        .await
        .unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("ok"), "{reply}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

/// The binary: admin commands, then `serve` on port 0 announcing its address.
#[test]
fn the_command_line_administers_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_linli-sync-server");
    let admin = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("admin")
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    admin(&[
        "create-place",
        "--id",
        "c",
        "--kind",
        "community",
        "--name",
        "幸福社区",
    ]);
    admin(&[
        "create-place",
        "--id",
        "g",
        "--kind",
        "grid",
        "--parent",
        "c",
        "--name",
        "一",
    ]);
    // The levels of protocol 2: a street above the community, a micro-grid with a building.
    for args in [
        ["--id", "s", "--kind", "street", "--name", "文宫街道"].as_slice(),
        &[
            "--id",
            "c",
            "--kind",
            "community",
            "--parent",
            "s",
            "--name",
            "幸福社区",
        ],
        &[
            "--id",
            "m",
            "--kind",
            "micro_grid",
            "--parent",
            "g",
            "--name",
            "一微",
        ],
        &[
            "--id", "b", "--kind", "building", "--parent", "m", "--name", "1栋",
        ],
    ] {
        admin(&[&["create-place"], args].concat());
    }
    admin(&[
        "create-user",
        "--id",
        "w",
        "--name",
        "李梅",
        "--role",
        "grid_worker",
        "--community",
        "c",
    ]);
    admin(&["grant", "--user", "w", "--place", "g"]);
    let enrolled = admin(&["enroll", "--user", "w"]);
    let device = enrolled
        .lines()
        .find_map(|l| l.strip_prefix("device_id "))
        .unwrap()
        .to_owned();
    assert!(
        enrolled
            .lines()
            .any(|l| l.strip_prefix("token ").is_some_and(|t| t.len() == 64))
    );
    let token = enrolled
        .lines()
        .find_map(|l| l.strip_prefix("token "))
        .unwrap()
        .to_owned();
    let listed = admin(&["list-devices"]);
    assert!(listed.contains(&device));
    assert!(!listed.contains("李梅"), "no names in the device list");
    let revoked_column = |listing: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(&device))
            .and_then(|l| l.split('\t').nth(4))
            .unwrap()
            .to_owned()
    };
    assert_eq!(revoked_column(&listed), "-");

    // Served: the enrolled phone pushes a household (one change row in the log).
    let serve = || {
        let mut child = std::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: std::net::SocketAddr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap()
            .parse()
            .unwrap();
        (child, addr)
    };
    let phone_dir = tempfile::tempdir().unwrap();
    let phone = Store::open(
        phone_dir.path().join("phone.db"),
        Identity {
            device_id: device.clone(),
            user_id: "w".into(),
        },
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (mut child, addr) = serve();
    assert!(http_get(addr, "/health").starts_with("HTTP/1.1 200"));
    let config = SyncConfig::new(format!("http://{addr}"), token.clone());
    rt.block_on(phone.sync(&config, &|_| {})).unwrap();
    phone
        .report_incident(NewIncident {
            category: IncidentCategory::Parking,
            description: "消防通道停车".into(),
            place_id: Some("g".into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    let report = rt.block_on(phone.sync(&config, &|_| {})).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    child.kill().unwrap();
    child.wait().unwrap();

    // Compaction deletes what the log holds (the phone's change and the server's receipt),
    // and says so.
    let compacted = admin(&["compact", "--keep", "0"]);
    let deleted: u64 = compacted
        .strip_prefix("deleted ")
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{compacted}"));
    assert!(deleted >= 1, "{compacted}");
    assert!(admin(&["compact", "--keep", "0"]).contains("deleted 0"));

    // A revoke takes effect: listed with its time, and the phone's next sync is refused.
    admin(&["revoke", "--device", &device]);
    assert_ne!(revoked_column(&admin(&["list-devices"])), "-");
    let (mut child, addr) = serve();
    let config = SyncConfig::new(format!("http://{addr}"), token);
    let refused = rt.block_on(phone.sync(&config, &|_| {}));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(matches!(refused, Err(Error::Revoked)), "{refused:?}");
}

/// The core's own sync client (`Store::sync`, reqwest) against a served server: two
/// phones converge on one household edited on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_sync_client_converges_through_the_server() {
    let server = Server::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(linli_sync_server::serve(
        listener,
        AppState::new(server.storage.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    let li = Phone::new(server.device(demo::USER_LI_MEI));
    let zhao = Phone::new(server.device(demo::USER_ZHAO));
    let config = |p: &Phone| SyncConfig::new(url.clone(), p.device.token.clone());

    let hh = li.create(demo::UNIT_1_1, "301");
    li.store.sync(&config(&li), &|_| {}).await.unwrap();
    zhao.store.sync(&config(&zhao), &|_| {}).await.unwrap();
    zhao.visit(&hh);
    li.visit(&hh);
    li.store.sync(&config(&li), &|_| {}).await.unwrap();
    zhao.store.sync(&config(&zhao), &|_| {}).await.unwrap();
    li.store.sync(&config(&li), &|_| {}).await.unwrap();

    let a = li.store.household(&hh).unwrap();
    assert_eq!(a.visits.len(), 2, "both offline visits survive");
    assert_eq!(a, zhao.store.household(&hh).unwrap());
    assert_eq!(li.store.sync_state().unwrap().pending_docs, 0);
    assert_eq!(li.store.people().unwrap().len(), 4);
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}

/// A micro-grid (微网格) worker's phone, through the real router: it receives exactly its
/// micro-grid's households (addressed through the micro-grid), and may push there but not to
/// the sibling micro-grid of the same grid.
#[tokio::test]
async fn a_micro_grid_worker_syncs_exactly_their_micro_grid() {
    let server = Server::new();
    let tree = [
        ("m-1", PlaceKind::MicroGrid, demo::GRID_1),
        ("m-2", PlaceKind::MicroGrid, demo::GRID_1),
        ("b-m1", PlaceKind::Building, "m-1"),
        ("b-m2", PlaceKind::Building, "m-2"),
    ]
    .map(|(id, kind, parent)| Place {
        id: id.into(),
        kind,
        parent_id: Some(parent.into()),
        name: format!("{id}名"),
    });
    for p in &tree {
        admin::create_place(server.storage.as_ref(), p).unwrap();
    }
    let user = linli_sync_server::User {
        id: "user-micro".into(),
        name: "微网格员小周".into(),
        role: Role::MicroGridWorker,
        community_id: demo::COMMUNITY.into(),
    };
    admin::create_user(server.storage.as_ref(), &user).unwrap();
    admin::grant(server.storage.as_ref(), "user-micro", "m-1").unwrap();
    let enrolled = admin::enroll(server.storage.as_ref(), "user-micro", None).unwrap();
    let mut micro = Phone::new(DemoDevice {
        user_id: user.id.clone(),
        name: user.name.clone(),
        role: user.role,
        device_id: enrolled.device_id,
        token: enrolled.token,
    });
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    // The phones hold the tree as reference data would bring it.
    li.store.put_places(&tree).unwrap();
    micro.store.put_places(&tree).unwrap();

    let in_m1 = li.create("b-m1", "101");
    let in_m2 = li.create("b-m2", "102");
    let plain = li.create(demo::UNIT_1_1, "301");
    let resp = li.sync(&server, &[&in_m1, &in_m2, &plain]).await;
    assert!(resp.acks.iter().all(|a| a.outcome == PushOutcome::Stored));

    // The micro-grid worker's phone receives its micro-grid's household only.
    assert_eq!(micro.sync_all(&server).await, vec![in_m1.clone()]);
    let address = micro.store.household(&in_m1).unwrap().address;
    assert_eq!(address.micro_grid_id.as_deref(), Some("m-1"));
    assert_eq!(address.grid_id, demo::GRID_1);
    assert!(micro.store.household(&in_m2).is_err());
    let listed: Vec<String> = micro
        .store
        .households_in("m-1")
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(listed, vec![in_m1.clone()]);

    // It writes in its micro-grid; the sibling's is refused and stored nowhere.
    let mine = micro.create("b-m1", "201");
    assert_eq!(
        micro.sync(&server, &[&mine]).await.acks[0].outcome,
        PushOutcome::Stored
    );
    let sibling = micro.create("b-m2", "202");
    assert_eq!(
        micro.sync(&server, &[&sibling]).await.acks[0].outcome,
        PushOutcome::OutOfScope
    );
    assert_eq!(li.sync_all(&server).await, vec![mine]);
}

/// Needs raised on a visit travel with their household; moves on them made elsewhere come
/// back; a need event claiming another author is refused (as an incident event would be).
#[tokio::test]
async fn needs_and_their_moves_travel_and_are_attributed() {
    use automerge::transaction::CommitOptions;
    let server = Server::new();
    let mut li = Phone::new(server.device(demo::USER_LI_MEI));
    let mut admin = Phone::new(server.device(demo::USER_ADMIN));

    let hh = li.create(demo::UNIT_1_1, "301");
    li.visit(&hh);
    let need = li.store.needs_of(&hh).unwrap()[0].id.clone();
    let resp = li.sync(&server, &[&hh]).await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);

    admin.sync_all(&server).await;
    let far = admin.store.now() + 30 * 24 * 3600 * 1000;
    let due = admin.store.needs_due(far).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, need);
    assert_eq!(due[0].owner, demo::USER_LI_MEI);
    admin
        .store
        .move_need(&need, NeedAction::Take, NeedMoveDetail::default())
        .unwrap();
    let resp = admin.sync(&server, &[&hh]).await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
    li.sync_all(&server).await;
    let n = li.store.need(&need).unwrap();
    assert_eq!(n.status, NeedStatus::InHand);
    assert_eq!(n.owner, demo::USER_ADMIN);

    // 转事件 on Li's phone: the incident (naming the need) and the referral both stored.
    let incident = li
        .store
        .need_to_incident(
            &need,
            NewNeedIncident {
                category: IncidentCategory::LeakRepair,
                priority: Priority::High,
                description: String::new(),
            },
        )
        .unwrap();
    let resp = li.sync(&server, &[&hh, &incident]).await;
    assert!(resp.acks.iter().all(|a| a.outcome == PushOutcome::Stored));
    admin.sync_all(&server).await;
    assert_eq!(
        admin.store.need(&need).unwrap().status,
        NeedStatus::Referred
    );
    assert_eq!(
        admin.store.incident_need(&incident).unwrap().as_deref(),
        Some(need.as_str())
    );

    // Li's device writes a need event in the admin's name: refused.
    let bytes = li.store.changes_since(&hh, &[]).unwrap();
    let device = uuid::Uuid::parse_str(&li.device.device_id).unwrap();
    let mut d = automerge::AutoCommit::load(&bytes)
        .unwrap()
        .with_actor(automerge::ActorId::from(device.as_bytes().as_slice()));
    let heads = d.get_heads();
    let forged = NeedEvent {
        id: "forged-event".into(),
        action: NeedAction::Done,
        by: demo::USER_ADMIN.into(),
        at: li.store.now(),
        note: String::new(),
        owner: None,
        due_at: None,
        incident_id: None,
    };
    linli_core::doc::put_need_event(&mut d, &need, &forged).unwrap();
    d.commit_with(CommitOptions::default().with_message(format!(
        r#"{{"u":"{}","op":"need.done","f":[]}}"#,
        demo::USER_LI_MEI
    )));
    let push = DocPush {
        doc_id: hh.clone(),
        changes: d.save_after(&heads),
    };
    let resp = server
        .sync(&li.device.token, &request(li.cursor.clone(), vec![push]))
        .await;
    assert_eq!(resp.acks[0].outcome, PushOutcome::Invalid);
}

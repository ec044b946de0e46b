//! `POST /v1/enrol` through the router on a real SQLite file with an injected clock: a code
//! is exchanged once for a working token, expires after 10 minutes, bad input is 400 and
//! writes nothing, too many failures from an address are 429; and a user deactivated after
//! a final sync syncs once more, then gets 403.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_domain::protocol::{
    self, CONTENT_TYPE, Cursor, PROTOCOL_VERSION, SYNC_PATH, SyncRequest,
};
use linli_sync_server::directory::{Action, Audit, Deactivation, ENROL_CODE_MS};
use linli_sync_server::storage::token_hash;
use linli_sync_server::{AppState, Auth, DirectoryStorage, SqliteStorage, SyncStorage, app};
use linli_testkit::demo;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

const T0: i64 = 1_764_547_200_000;
const CODE: &str = "00112233445566778899aabbccddeeff";

struct World {
    dir: TempDir,
    clock: Arc<AtomicI64>,
    storage: Arc<SqliteStorage>,
    router: axum::Router,
    phones: Vec<(String, String)>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let storage = SqliteStorage::open(dir.path().join("server.db"))
        .unwrap()
        .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
    let phones = linli_testkit::seed_demo(&storage)
        .unwrap()
        .into_iter()
        .map(|d| (d.user_id, d.token))
        .collect();
    let storage = Arc::new(storage);
    let router = app(AppState::new(storage.clone()));
    World {
        dir,
        clock,
        storage,
        router,
        phones,
    }
}

impl World {
    fn code_for(&self, user: &str, code: &str) {
        let audit = Audit::new(T0, demo::USER_ADMIN, Action::EnrolCode).user(user);
        self.storage
            .add_enrol_code(&token_hash(code), T0 + ENROL_CODE_MS, &audit)
            .unwrap();
    }

    fn count(&self, table: &str) -> i64 {
        let c = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    async fn enrol(&self, body: Value) -> (StatusCode, Value) {
        let (status, bytes) = self
            .post(
                "/v1/enrol",
                "application/json",
                body.to_string().into_bytes(),
                None,
            )
            .await;
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn sync(&self, token: &str) -> StatusCode {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: Cursor::default(),
            reference_version: 0,
            push: Vec::new(),
            page_limit: 10,
        };
        let body = protocol::encode(&req).unwrap();
        self.post(SYNC_PATH, CONTENT_TYPE, body, Some(token))
            .await
            .0
    }
}

#[tokio::test]
async fn a_code_is_exchanged_once_for_a_working_token() {
    let w = world();
    w.code_for(demo::USER_WANG_QIANG, CODE);
    let (status, body) = w
        .enrol(json!({"code": CODE, "device_name": "王强的手机"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], demo::USER_WANG_QIANG);
    assert_eq!(body["user"]["role"], "grid_worker");
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    match w.storage.authenticate(token).unwrap() {
        Auth::Device(d) => {
            assert_eq!(d.device_id, body["device_id"].as_str().unwrap());
            assert_eq!(d.user_id, demo::USER_WANG_QIANG);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.sync(token).await, StatusCode::OK);
    // The server keeps neither the code nor the token.
    let c = rusqlite::Connection::open(w.dir.path().join("server.db")).unwrap();
    let stored: Vec<u8> = c
        .query_row("SELECT code_hash FROM enrol_codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, token_hash(CODE));

    let (again, body) = w
        .enrol(json!({"code": CODE, "device_name": "另一部手机"}))
        .await;
    assert_eq!(again, StatusCode::GONE, "{body}");
    assert_eq!(body["error"], "gone");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let w = world();
    w.code_for(demo::USER_WANG_QIANG, CODE);
    w.clock.store(T0 + ENROL_CODE_MS, Ordering::SeqCst);
    let devices = w.count("devices");
    let (status, _) = w.enrol(json!({"code": CODE, "device_name": "手机"})).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(w.count("devices"), devices);
}

#[tokio::test]
async fn bad_input_is_400_and_writes_nothing() {
    let w = world();
    w.code_for(demo::USER_WANG_QIANG, CODE);
    let devices = w.count("devices");
    let long = "长".repeat(65);
    for (body, field) in [
        (json!({"code": CODE}), "body"),
        (json!({"code": 7, "device_name": "手机"}), "body"),
        (json!({"code": "ZZ", "device_name": "手机"}), "code"),
        (
            json!({"code": CODE.to_uppercase(), "device_name": "手机"}),
            "code",
        ),
        (json!({"code": CODE, "device_name": "  "}), "device_name"),
        (json!({"code": CODE, "device_name": long}), "device_name"),
        (
            json!({"code": CODE, "device_name": "a\u{0}b"}),
            "device_name",
        ),
    ] {
        let (status, answer) = w.enrol(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["field"], field, "{body}");
    }
    let (status, _) = w
        .post("/v1/enrol", "application/json", b"not json".to_vec(), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(w.count("devices"), devices);
    assert_eq!(w.count("enrol_failures"), 0);
    // The code is still good.
    let (status, _) = w.enrol(json!({"code": CODE, "device_name": "手机"})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn too_many_failures_from_an_address_are_429() {
    let w = world();
    w.code_for(demo::USER_WANG_QIANG, CODE);
    for i in 0..10 {
        let guess = format!("{i:032x}");
        let (status, _) = w.enrol(json!({"code": guess, "device_name": "手机"})).await;
        assert_eq!(status, StatusCode::GONE);
    }
    let devices = w.count("devices");
    let (status, body) = w.enrol(json!({"code": CODE, "device_name": "手机"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "throttled");
    assert_eq!(
        w.count("devices"),
        devices,
        "not even a right code gets through"
    );
    // The window passes (15 minutes; the code itself lives 10, so a new one).
    w.clock.store(T0 + 15 * 60_000 + 1, Ordering::SeqCst);
    let audit = Audit::new(T0 + 15 * 60_000, demo::USER_ADMIN, Action::EnrolCode)
        .user(demo::USER_WANG_QIANG);
    let fresh = "ffeeddccbbaa99887766554433221100";
    w.storage
        .add_enrol_code(&token_hash(fresh), T0 + 25 * 60_000, &audit)
        .unwrap();
    let (status, _) = w.enrol(json!({"code": fresh, "device_name": "手机"})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn deactivated_after_a_final_sync_a_device_syncs_once_more() {
    let w = world();
    let token = |user: &str| w.phones.iter().find(|p| p.0 == user).unwrap().1.clone();
    let li = token(demo::USER_LI_MEI);
    let zhao = token(demo::USER_ZHAO);
    let by = |action, user: &str| Audit::new(T0, demo::USER_ADMIN, action).user(user);
    w.storage
        .deactivate_user(
            demo::USER_LI_MEI,
            Deactivation::AfterFinalSync,
            &by(Action::DeactivateAfterSync, demo::USER_LI_MEI),
        )
        .unwrap();
    w.storage
        .deactivate_user(
            demo::USER_ZHAO,
            Deactivation::Now,
            &by(Action::DeactivateNow, demo::USER_ZHAO),
        )
        .unwrap();
    assert_eq!(w.sync(&zhao).await, StatusCode::FORBIDDEN, "now: at once");
    assert_eq!(w.sync(&li).await, StatusCode::OK, "the final sync");
    assert_eq!(w.sync(&li).await, StatusCode::FORBIDDEN, "then refused");
    // A deactivated user's new code is spent.
    w.code_for(demo::USER_ZHAO, CODE);
    let (status, _) = w.enrol(json!({"code": CODE, "device_name": "手机"})).await;
    assert_eq!(status, StatusCode::GONE);
}

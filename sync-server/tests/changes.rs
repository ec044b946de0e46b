//! `GET /v1/changes` through the real router: authentication as the sync endpoint's, a bad
//! query is a 400, the waiter pool's refusal is a 503 in JSON, an answer is immediate when
//! the device is owed something and `changed: false` at the (clamped) timeout otherwise,
//! and at once when the server shuts down.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_sync_server::{AppState, Changes, SqliteStorage, admin, app};
use linli_testkit::{DemoDevice, demo};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

struct Fixture {
    state: AppState,
    devices: Vec<DemoDevice>,
    storage: Arc<SqliteStorage>,
    _dir: TempDir,
}

fn fixture(changes: Changes) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path().join("server.db")).unwrap());
    let devices = linli_testkit::seed_demo(storage.as_ref()).unwrap();
    Fixture {
        state: AppState::new(storage.clone()).with_changes(changes),
        devices,
        storage,
        _dir: dir,
    }
}

impl Fixture {
    fn token(&self, user: &str) -> String {
        self.devices
            .iter()
            .find(|d| d.user_id == user)
            .unwrap()
            .token
            .clone()
    }

    async fn get(&self, token: Option<&str>, query: &str) -> (StatusCode, String) {
        let mut req = Request::builder().uri(format!("/v1/changes{query}"));
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = app(self.state.clone())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }
}

#[tokio::test]
async fn refusals_are_the_sync_endpoints_and_never_a_500() {
    let f = fixture(Changes::default());
    assert_eq!(
        f.get(None, "").await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    assert_eq!(
        f.get(Some("nope"), "").await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let li = f.token(demo::USER_LI_MEI);
    let (status, body) = f.get(Some(&li), "?after=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "malformed"
    );
    let device = f
        .devices
        .iter()
        .find(|d| d.user_id == demo::USER_LI_MEI)
        .unwrap();
    admin::revoke(f.storage.as_ref(), &device.device_id).unwrap();
    assert_eq!(
        f.get(Some(&li), "").await,
        (StatusCode::FORBIDDEN, "revoked".into())
    );
}

#[tokio::test]
async fn beyond_the_waiter_pool_is_a_503() {
    let f = fixture(Changes::with_max_waiters(0));
    let (status, body) = f
        .get(Some(&f.token(demo::USER_LI_MEI)), "?after=0&wait=1")
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "busy"
    );
}

#[tokio::test]
async fn owed_answers_at_once_and_quiet_waits_out_the_clamped_timeout() {
    let f = fixture(Changes::default());
    let li = f.token(demo::USER_LI_MEI);
    // A fresh device is owed a snapshot pass: at once, whatever the wait.
    let started = Instant::now();
    let (status, body) = f.get(Some(&li), "?after=0&wait=55").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["changed"], true);
    assert!(started.elapsed() < Duration::from_secs(55));
    // Up to date: `wait=0` is clamped to a second, then `changed: false`.
    let seq = v["seq"].as_u64().unwrap();
    let started = Instant::now();
    let (status, body) = f.get(Some(&li), &format!("?after={seq}&wait=0")).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["changed"].as_bool(), v["seq"].as_u64()),
        (Some(false), Some(seq))
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn closing_answers_every_waiter_at_once() {
    let f = Arc::new(fixture(Changes::default()));
    let li = f.token(demo::USER_LI_MEI);
    let (_, body) = f.get(Some(&li), "?after=0&wait=1").await;
    let seq = serde_json::from_str::<Value>(&body).unwrap()["seq"]
        .as_u64()
        .unwrap();
    let started = Instant::now();
    let waiting = {
        let f = f.clone();
        tokio::spawn(async move { f.get(Some(&li), &format!("?after={seq}&wait=55")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    f.state.changes().close();
    let (status, body) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["changed"],
        false
    );
    assert!(started.elapsed() < Duration::from_secs(55));
}

//! Phones hear of changes quickly (issue 9, item 2), through a real server on loopback: a
//! grid worker's phone holds the long poll (`Store::wait_for_changes`); an admin dispatches
//! an incident to them through the JSON API; the wait returns at once, before its timeout,
//! and the phone's sync brings the dispatch. A wait with nothing new returns `false` at its
//! timeout; the device's own push and a change outside its scope do not wake it; dropping
//! the future cancels it; an unknown token is refused.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use linli_core::protocol::Role;
use linli_core::{IncidentAction, IncidentStatus, SyncConfig};
use serde_json::{Value, json};

async fn post(server: &Server, token: &str, path: &str, body: Value) -> Value {
    let resp = http_client()
        .post(format!("{}{path}", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert!(status == 200 || status == 201, "{status} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_wakes_the_assignees_wait_and_the_sync_brings_it() {
    let server = Server::start().await;
    let li = server.device(&server.person("hear-li", Role::GridWorker, &[GRID_1]));
    let chen = server.device(&server.person("hear-chen", Role::Admin, &[COMMUNITY]));
    chen.synced().await;
    let t = &chen.token;
    // A resident phoned in: the admin reports and accepts it; the phone has it.
    let id = post(
        &server,
        t,
        "/api/v1/incidents",
        json!({"category": "noise", "description": "楼道噪音", "place_id": BUILDING_1}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &server,
        t,
        &format!("/api/v1/incidents/{id}/moves"),
        json!({"action": "accept"}),
    )
    .await;
    li.synced().await;
    assert_eq!(
        li.store.incident(&id).unwrap().status,
        IncidentStatus::Accepted
    );

    // The phone holds the wait; the console dispatches to its user.
    let wait = Duration::from_secs(30);
    let config = li.config();
    let started = Instant::now();
    let (changed, _) = tokio::join!(li.store.wait_for_changes(&config, wait), async {
        // Let the wait reach the server first (if it did not, it answers at once anyway).
        tokio::time::sleep(Duration::from_millis(300)).await;
        post(
            &server,
            t,
            &format!("/api/v1/incidents/{id}/moves"),
            json!({"action": "dispatch", "to": li.user_id}),
        )
        .await
    });
    let took = started.elapsed();
    assert!(changed.unwrap(), "the dispatch wakes the wait");
    assert!(took < wait, "returned before its timeout ({took:?})");

    // Told, the phone syncs and holds the dispatch to its user.
    li.synced().await;
    let i = li.store.incident(&id).unwrap();
    assert_eq!(i.status, IncidentStatus::Dispatched);
    let derived = linli_core::lifecycle::derive(&i.events);
    assert_eq!(derived.handler.as_deref(), Some(li.user_id.as_str()));
    // The handler's menu: they may act on it now.
    let menu = li.store.incident_moves(&id).unwrap();
    assert!(menu.contains(&IncidentAction::Return), "{menu:?}");
    // Up to date now: nothing more to hear.
    let quiet = li
        .store
        .wait_for_changes(&config, Duration::from_secs(1))
        .await;
    assert!(!quiet.unwrap());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_own_and_foreign_changes_do_not_wake_a_wait() {
    let server = Server::start().await;
    let li = server.device(&server.person("quiet-li", Role::GridWorker, &[GRID_1]));
    let wang = server.device(&server.person("quiet-wang", Role::GridWorker, &[GRID_2]));
    li.synced().await;
    wang.synced().await;
    let second = Duration::from_secs(1);
    let config = li.config();

    // Nothing happens: false at the timeout.
    let started = Instant::now();
    assert!(!li.store.wait_for_changes(&config, second).await.unwrap());
    assert!(started.elapsed() >= second);

    // The phone's own push during its wait does not wake it.
    let (own, _) = tokio::join!(li.store.wait_for_changes(&config, second), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        li.create(UNIT_1_1, "101");
        li.synced().await
    });
    assert!(!own.unwrap(), "own push");

    // A change in another grid does not wake it either.
    let (foreign, _) = tokio::join!(li.store.wait_for_changes(&config, second), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        wang.create(UNIT_9_1, "901");
        wang.synced().await
    });
    assert!(!foreign.unwrap(), "outside the scope");

    // Wang's change in Li's grid does.
    let wide = server.device(&server.person("quiet-admin", Role::Admin, &[COMMUNITY]));
    wide.synced().await;
    let (inside, _) = tokio::join!(
        li.store.wait_for_changes(&config, Duration::from_secs(30)),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            wide.create(UNIT_1_2, "102");
            wide.synced().await
        }
    );
    assert!(inside.unwrap(), "another device's change in scope");

    // Dropping the future cancels the wait; a token the server does not know is refused.
    li.synced().await;
    let dropped = tokio::time::timeout(
        Duration::from_millis(200),
        li.store.wait_for_changes(&config, second * 30),
    )
    .await;
    assert!(dropped.is_err(), "still waiting when dropped");
    let stranger = SyncConfig {
        token: "0".repeat(64),
        ..li.config()
    };
    assert!(matches!(
        li.store.wait_for_changes(&stranger, second).await,
        Err(linli_core::Error::Unauthorized)
    ));
    server.shutdown().await;
}

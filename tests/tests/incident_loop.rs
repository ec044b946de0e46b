//! The whole incident loop through a real server on loopback, phones (real device stores)
//! and the JSON API: a grid worker's phone reports; the community admin accepts and
//! dispatches; the handler returns it (退单); it is dispatched again and resolved on the
//! phone; the building leader's 不满意 reopens it; it is resolved again; the leader's 满意
//! closes it. Every device ends with the same status and the same timeline as the server.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::protocol::Role;
use linli_core::{IncidentAction, IncidentStatus};
use serde_json::{Value, json};

async fn api(server: &Server, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = http_client();
    let url = format!("{}{path}", server.url);
    let req = match body {
        Some(b) => client
            .post(url)
            .header("content-type", "application/json")
            .body(b.to_string()),
        None => client.get(url),
    };
    let resp = req.bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn mv(server: &Server, token: &str, id: &str, body: Value) -> Value {
    let (status, v) = api(
        server,
        token,
        &format!("/api/v1/incidents/{id}/moves"),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_closes_and_every_device_agrees() {
    let server = Server::start().await;
    let li = server.device(&server.person("loop-li", Role::GridWorker, &[GRID_1]));
    let zhao = server.device(&server.person("loop-zhao", Role::BuildingLeader, &[BUILDING_1]));
    let chen = server.person("loop-chen", Role::Admin, &[COMMUNITY]);
    let admin = server.device(&chen);
    for d in [&li, &zhao, &admin] {
        d.synced().await;
    }

    // 网格发现: the grid worker's phone reports; the server's receipt comes back to it.
    let hh = li.create(UNIT_1_1, "301");
    let id = li.report(&hh);
    assert_eq!(
        li.store.incident(&id).unwrap().received_at,
        None,
        "not yet received"
    );
    li.synced().await;
    li.synced().await;
    assert!(li.store.incident(&id).unwrap().received_at.is_some());

    // 响应: the admin accepts and dispatches to the grid worker, who returns it (退单).
    let token = &admin.token;
    assert_eq!(
        mv(&server, token, &id, json!({"action": "accept"})).await["status"],
        "accepted"
    );
    let to_li = json!({"action": "dispatch", "to": li.user_id});
    assert_eq!(
        mv(&server, token, &id, to_li.clone()).await["status"],
        "dispatched"
    );
    let back = json!({"action": "return", "reason": "ownership", "note": "属物业管理"});
    assert_eq!(
        mv(&server, &li.token, &id, back).await["status"],
        "accepted"
    );
    assert_eq!(mv(&server, token, &id, to_li).await["status"], "dispatched");

    // 办理: resolved on the phone, synced.
    li.synced().await;
    li.store
        .move_incident(&id, IncidentAction::Resolve, "已拆除飞线")
        .unwrap();
    li.synced().await;

    // 回访: the leader's 不满意 reopens it; resolved again on the phone; 满意 closes it.
    let unhappy = json!({"action": "feedback", "rating": "unsatisfied", "note": "仍有飞线"});
    assert_eq!(
        mv(&server, &zhao.token, &id, unhappy).await["status"],
        "in_progress"
    );
    li.synced().await;
    li.store
        .move_incident(&id, IncidentAction::Resolve, "已安装充电桩")
        .unwrap();
    li.synced().await;
    let happy = json!({"action": "feedback", "rating": "satisfied"});
    assert_eq!(
        mv(&server, &zhao.token, &id, happy).await["status"],
        "closed"
    );

    // Everyone agrees.
    for d in [&li, &zhao, &admin] {
        d.synced().await;
    }
    let (status, view) = api(&server, token, &format!("/api/v1/incidents/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "closed");
    assert_eq!(view["returns"], 1);
    assert_eq!(view["reopens"], 1);
    let timeline: Vec<(String, String)> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let actions: Vec<&str> = timeline.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "accept", "dispatch", "return", "dispatch", "resolve", "feedback", "resolve",
            "feedback"
        ]
    );
    for d in [&li, &zhao, &admin] {
        let i = d.store.incident(&id).unwrap();
        assert_eq!(i.status, IncidentStatus::Closed, "{}", d.user_id);
        let theirs: Vec<(String, String)> = i
            .events
            .iter()
            .map(|e| (e.id.clone(), e.action.code().to_owned()))
            .collect();
        assert_eq!(theirs, timeline, "{} has the server's timeline", d.user_id);
        assert_eq!(i.received_at, view["received_at"].as_i64());
    }
    server.shutdown().await;
}

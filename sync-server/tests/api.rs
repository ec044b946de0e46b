//! The JSON API (`/api/v1`) through the router (`oneshot`) on a real SQLite file: the role
//! table and scope on every move (every role × every move × inside / outside scope), reports,
//! reads, open disputes per grid, notifications, targets, and 4xx JSON for bad requests.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_domain::protocol::Role;
use linli_domain::roles::{self, DispatchTarget, MoveContext};
use linli_domain::{IncidentAction as A, PlaceKind};
use linli_sync_server::{AppState, SqliteStorage, User, WorkflowStorage, admin, app};
use linli_testkit::demo;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

const T0: i64 = 1_764_547_200_000;
const OTHER: &str = "c-other";
const OTHER_GRID: &str = "g-other";

struct Api {
    dir: TempDir,
    clock: Arc<AtomicI64>,
    storage: Arc<SqliteStorage>,
    router: axum::Router,
    /// (user id, role, token)
    people: Vec<(String, Role, String)>,
}

fn api() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let storage = SqliteStorage::open(dir.path().join("server.db"))
        .unwrap()
        .with_clock(Arc::new(move || c.load(Ordering::SeqCst)));
    let mut people: Vec<(String, Role, String)> = linli_testkit::seed_demo(&storage)
        .unwrap()
        .into_iter()
        .map(|d| (d.user_id, d.role, d.token))
        .collect();
    let place = |id: &str, kind, parent: Option<&str>| linli_domain::Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: id.into(),
    };
    admin::create_place(&storage, &place(OTHER, PlaceKind::Community, None)).unwrap();
    admin::create_place(&storage, &place(OTHER_GRID, PlaceKind::Grid, Some(OTHER))).unwrap();
    for (id, role, grant) in [
        ("user-street", Role::StreetAdmin, demo::COMMUNITY),
        ("user-dept", Role::DepartmentHandler, demo::COMMUNITY),
        ("user-micro", Role::MicroGridWorker, demo::GRID_1),
        ("user-unit", Role::UnitLeader, demo::UNIT_1_1),
        ("user-other-admin", Role::Admin, OTHER),
    ] {
        let community = if grant == OTHER {
            OTHER
        } else {
            demo::COMMUNITY
        };
        admin::create_user(
            &storage,
            &User {
                id: id.into(),
                name: id.into(),
                role,
                community_id: community.into(),
            },
        )
        .unwrap();
        admin::grant(&storage, id, grant).unwrap();
        people.push((
            id.into(),
            role,
            admin::enroll(&storage, id, None).unwrap().token,
        ));
    }
    let storage = Arc::new(storage);
    let router = app(AppState::new(storage.clone()));
    Api {
        dir,
        clock,
        storage,
        router,
        people,
    }
}

impl Api {
    fn token(&self, user: &str) -> String {
        self.people.iter().find(|p| p.0 == user).unwrap().2.clone()
    }

    async fn call(
        &self,
        user: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header(
            header::AUTHORIZATION,
            format!("Bearer {}", self.token(user)),
        );
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn report(&self, user: &str, place: &str, category: &str) -> String {
        let (status, v) = self
            .call(
                user,
                "POST",
                "/api/v1/incidents",
                Some(json!({"category": category, "description": "楼道堆物", "place_id": place, "priority": "high"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    async fn mv(&self, user: &str, id: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            user,
            "POST",
            &format!("/api/v1/incidents/{id}/moves"),
            Some(body),
        )
        .await
    }

    fn rows(&self) -> i64 {
        let c = rusqlite::Connection::open(self.dir.path().join("server.db")).unwrap();
        c.query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap()
    }
}

fn body(action: A, to: &str) -> Value {
    match action {
        A::Dispatch => json!({"action": "dispatch", "to": to}),
        A::Return => json!({"action": "return", "reason": "jurisdiction", "note": "不在本网格"}),
        A::Feedback => json!({"action": "feedback", "rating": "unsatisfied"}),
        A::Escalate => json!({"action": "escalate", "level": "community"}),
        A::Close | A::Reopen => json!({"action": action.code(), "note": "居民联系不上"}),
        _ => json!({"action": action.code()}),
    }
}

/// Every role × every move × inside / outside scope through the API: made exactly when the
/// role table allows it inside the scope; refused with a 403 (role) or 404 (scope) and
/// nothing stored otherwise.
#[tokio::test]
async fn the_permission_matrix_holds_through_the_api() {
    let a = api();
    let actors: Vec<(String, Role)> = a
        .people
        .iter()
        .filter(|p| p.0 != "user-other-admin" && p.0 != demo::USER_WANG_QIANG)
        .map(|p| (p.0.clone(), p.1))
        .collect();
    assert_eq!(actors.len(), 7);
    let mut made = 0;
    for (user, role) in &actors {
        for inside in [true, false] {
            let (boss, place) = if inside {
                (demo::USER_ADMIN, demo::UNIT_1_1)
            } else {
                ("user-other-admin", OTHER_GRID)
            };
            // Reporting.
            let (status, _) = a
                .call(
                    user,
                    "POST",
                    "/api/v1/incidents",
                    Some(json!({"category": "noise", "description": "噪音", "place_id": place})),
                )
                .await;
            assert_eq!(
                status == StatusCode::CREATED,
                inside && roles::may_report(*role),
                "{role} report inside={inside}"
            );
            for action in A::MENU.iter().copied() {
                let id = a.report(boss, place, "noise").await;
                let mut setup = vec![A::Accept];
                match action {
                    A::Accept | A::Escalate => setup.clear(),
                    A::Dispatch => {}
                    A::Start | A::Resolve | A::Return => setup.push(A::Dispatch),
                    _ => setup.extend([A::Dispatch, A::Resolve]),
                }
                let to = if inside { user.as_str() } else { boss };
                for step in setup {
                    let (s, v) = a.mv(boss, &id, body(step, to)).await;
                    assert_eq!(s, StatusCode::OK, "setup {step}: {v}");
                }
                let (_, got) = a
                    .call(boss, "GET", &format!("/api/v1/incidents/{id}"), None)
                    .await;
                let handler = got["handler"].as_str().map(str::to_owned);
                let ctx = MoveContext {
                    handler: handler.as_deref(),
                    target: (action == A::Dispatch).then_some(DispatchTarget::Person {
                        user_id: user,
                        role: *role,
                        same_community: true,
                    }),
                };
                let allowed = inside && roles::check_move(*role, user, action, &ctx).is_ok();
                let before = a.rows();
                let (status, v) = a.mv(user, &id, body(action, user)).await;
                if allowed {
                    assert_eq!(status, StatusCode::OK, "{role} {action}: {v}");
                    assert_eq!(a.rows(), before + 1);
                    made += 1;
                } else {
                    let expected = if inside {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    assert_eq!(status, expected, "{role} {action} inside={inside}: {v}");
                    assert!(v["error"].is_string());
                    assert_eq!(a.rows(), before, "nothing stored");
                }
            }
        }
    }
    assert_eq!(made, 33);
}

/// Open disputes per grid (矛盾纠纷清零) follow the outcomes recorded.
#[tokio::test]
async fn open_disputes_per_grid_follow_outcomes() {
    let a = api();
    let admin = demo::USER_ADMIN;
    let d1 = a.report(admin, demo::UNIT_1_1, "dispute").await;
    let d2 = a.report(admin, demo::GRID_2, "dispute").await;
    let _noise = a.report(admin, demo::GRID_2, "noise").await;
    let open = |v: &Value| -> Vec<(String, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["grid_id"].as_str().unwrap().to_owned(),
                    g["open"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (s, v) = a.call(admin, "GET", "/api/v1/disputes/open", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        open(&v),
        [(demo::GRID_1.into(), 1), (demo::GRID_2.into(), 1)]
    );
    // Grid 1's dispute is mediated and the resident confirms: closed with an outcome.
    assert_eq!(
        a.mv(admin, &d1, json!({"action": "accept"})).await.0,
        StatusCode::OK
    );
    let (s, v) = a.mv(admin, &d1, json!({"action": "resolve"})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("outcome"))
    );
    let resolve = json!({"action": "resolve", "outcome": "mediated", "note": "双方和解"});
    assert_eq!(a.mv(admin, &d1, resolve).await.0, StatusCode::OK);
    let (_, v) = a.call(admin, "GET", "/api/v1/disputes/open", None).await;
    assert_eq!(
        open(&v)[0],
        (demo::GRID_1.into(), 1),
        "resolved is not closed"
    );
    let (s, v) = a
        .mv(
            demo::USER_ZHAO,
            &d1,
            json!({"action": "feedback", "rating": "satisfied"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "closed");
    let (_, v) = a.call(admin, "GET", "/api/v1/disputes/open", None).await;
    assert_eq!(
        open(&v),
        [(demo::GRID_1.into(), 0), (demo::GRID_2.into(), 1)]
    );
    // A grid worker sees only their grid.
    let (_, v) = a
        .call(demo::USER_WANG_QIANG, "GET", "/api/v1/disputes/open", None)
        .await;
    assert_eq!(open(&v), [(demo::GRID_2.into(), 1)]);
    // Grid 2's dispute is closed without an outcome (resident unreachable): still open.
    a.mv(admin, &d2, json!({"action": "accept"})).await;
    a.mv(
        admin,
        &d2,
        json!({"action": "resolve", "outcome": "failed"}),
    )
    .await;
    let (s, _) = a
        .mv(
            admin,
            &d2,
            json!({"action": "close", "note": "当事人联系不上"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = a.call(admin, "GET", "/api/v1/disputes/open", None).await;
    assert_eq!(
        open(&v)[1],
        (demo::GRID_2.into(), 0),
        "closed after a failed mediation"
    );
}

/// Reads are scoped; deadlines are on the server's clock; the sweep's escalations are
/// notifications; targets are read by anyone of the community, set by its admins.
#[tokio::test]
async fn reads_deadlines_notifications_and_targets() {
    let a = api();
    let id = a.report(demo::USER_LI_MEI, demo::UNIT_1_1, "noise").await;
    let (s, v) = a
        .call(
            demo::USER_ADMIN,
            "GET",
            &format!("/api/v1/incidents/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["received_at"], T0);
    assert_eq!(v["respond_by"], T0 + 15 * 60_000);
    assert_eq!(v["status"], "reported");
    let (s, _) = a
        .call(
            demo::USER_WANG_QIANG,
            "GET",
            &format!("/api/v1/incidents/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "outside Wang's grid");
    let (_, list) = a
        .call(demo::USER_WANG_QIANG, "GET", "/api/v1/incidents", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    a.clock.store(T0 + 20 * 60_000, Ordering::SeqCst);
    assert_eq!(a.storage.sweep().unwrap().len(), 1);
    let (_, n) = a
        .call(demo::USER_ADMIN, "GET", "/api/v1/notifications", None)
        .await;
    assert_eq!(n[0]["incident_id"], id.as_str());
    assert_eq!(n[0]["level"], "community");
    let after = n[0]["id"].as_u64().unwrap();
    let (_, n) = a
        .call(
            demo::USER_ADMIN,
            "GET",
            &format!("/api/v1/notifications?after={after}"),
            None,
        )
        .await;
    assert_eq!(n.as_array().unwrap().len(), 0);
    let (_, v) = a
        .call(
            demo::USER_LI_MEI,
            "GET",
            &format!("/api/v1/incidents/{id}"),
            None,
        )
        .await;
    assert_eq!(v["level"], "community");
    assert_eq!(v["timeline"][0]["by"], "system");

    let uri = format!("/api/v1/communities/{}/targets", demo::COMMUNITY);
    let (s, t) = a.call(demo::USER_LI_MEI, "GET", &uri, None).await;
    assert_eq!(s, StatusCode::OK);
    let mut t = t;
    t["response_ms"] = json!(30 * 60_000);
    let (s, _) = a
        .call(demo::USER_LI_MEI, "PUT", &uri, Some(t.clone()))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a grid worker holds no community");
    let (s, v) = a.call(demo::USER_ADMIN, "PUT", &uri, Some(t.clone())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        a.storage.targets(demo::COMMUNITY).unwrap().base.response_ms,
        30 * 60_000
    );
    t["response_ms"] = json!(1);
    let (s, v) = a.call(demo::USER_ADMIN, "PUT", &uri, Some(t)).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
}

/// Bad requests are 4xx with a JSON code, never 500.
#[tokio::test]
async fn bad_requests_get_4xx_json() {
    let a = api();
    let admin = demo::USER_ADMIN;
    let id = a.report(admin, demo::UNIT_1_1, "noise").await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (json!({"action": "fly"}), StatusCode::BAD_REQUEST, "invalid"),
        (
            json!({"action": "other"}),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (json!({"nothing": 1}), StatusCode::BAD_REQUEST, "malformed"),
        (
            json!({"action": "dispatch"}),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            json!({"action": "resolve", "rating": "meh"}),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            json!({"action": "close", "note": "x"}),
            StatusCode::CONFLICT,
            "illegal_move",
        ),
        (
            json!({"action": "accept", "to": "someone"}),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
    ];
    for (b, status, code) in cases {
        let (s, v) = a.mv(admin, &id, b.clone()).await;
        assert_eq!((s, v["error"].as_str()), (status, Some(code)), "{b}");
    }
    let (s, v) = a
        .mv(admin, "no-such-incident", json!({"action": "accept"}))
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = a
        .call(
            admin,
            "POST",
            "/api/v1/incidents",
            Some(json!({"category": "noise", "description": "x", "place_id": "nowhere"})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("place_id"))
    );
    let (s, v) = a
        .call(
            demo::USER_ZHAO,
            "POST",
            &format!("/api/v1/incidents/{id}/moves"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed"))
    );
    // A query string that does not parse is the same JSON refusal as a bad body.
    for after in ["abc", "-5"] {
        let (s, v) = a
            .call(
                demo::USER_ADMIN,
                "GET",
                &format!("/api/v1/notifications?after={after}"),
                None,
            )
            .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("malformed"))
        );
    }
    let req = Request::builder()
        .uri("/api/v1/incidents")
        .body(Body::empty())
        .unwrap();
    let resp = a.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["error"], "unauthorized");
}

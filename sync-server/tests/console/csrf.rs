//! Every form of a session carries its CSRF token: without it, or with a forged one, the
//! request is refused (403) and nothing is written.

use axum::http::StatusCode;
use linli_domain::protocol::Role;
use linli_sync_server::AccountStorage;
use linli_testkit::demo;

use super::*;

const FORGED: &str = "表单校验失败，请返回刷新页面后重试。";

/// The tokens a forger might send: none, a made-up one, the login form's, another
/// session's; and a form with no fields at all.
async fn forgeries(w: &World) -> Vec<Option<String>> {
    let other = w.sign_in(WUYE, PASSWORD).await;
    vec![
        None,
        Some(String::new()),
        Some("0".repeat(64)),
        Some(w.login_page().await.1),
        Some(other.csrf),
    ]
}

/// Posts `fields` to `path` with each forged token and checks each is refused with
/// nothing written; then posts them with the real token and returns that answer.
async fn refused_then_made(w: &World, s: &Session, path: &str, fields: &[(&str, &str)]) -> Resp {
    let forged = forgeries(w).await;
    let before = w.written();
    for csrf in &forged {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(c) = csrf {
            all.push(("csrf", c));
        }
        let res = w.post(path, Some(s), &all).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{path} with {csrf:?}: {}",
            res.body
        );
        assert!(res.body.contains(FORGED), "{}", res.body);
        assert_eq!(w.written(), before, "{path} with {csrf:?}");
    }
    // Only a form body carries the token: not the query string, not a header.
    let mut req = axum::http::Request::post(format!("{path}?csrf={}", s.csrf))
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(axum::http::header::COOKIE, s.cookie())
        .header("X-CSRF-Token", &s.csrf);
    req = req.header("HX-Request", "true");
    let res = w
        .send(req.body(axum::body::Body::from(form(fields))).unwrap())
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "{path} with the token elsewhere"
    );
    assert_eq!(w.written(), before);
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &s.csrf));
    w.post(path, Some(s), &all).await
}

#[tokio::test]
async fn a_move_needs_the_token() {
    let w = world();
    let id = w.phone_report(demo::UNIT_1_1, "noise", "楼道噪音").await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let path = format!("/admin/incidents/{id}/moves");
    let res = refused_then_made(&w, &s, &path, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let v = w.incident(&id).await;
    assert_eq!(v["status"], "accepted");
    let actions: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["accept"], "the refused ones left no event");
}

#[tokio::test]
async fn a_hotline_report_needs_the_token() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let docs = w.documents();
    let res = refused_then_made(
        &w,
        &s,
        "/admin/report",
        &[
            ("place_id", demo::UNIT_1_1),
            ("category", "leak_repair"),
            ("priority", "high"),
            ("description", "楼上漏水"),
            ("contact", "王先生 13800000000"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(w.documents(), docs + 1);
    let id = res.location().unwrap().rsplit('/').next().unwrap();
    let v = w.incident(id).await;
    assert_eq!(v["reporter"], ADMIN);
    assert_eq!(
        v["description"],
        "楼上漏水\n（热线来电，联系人：王先生 13800000000）"
    );
}

#[tokio::test]
async fn a_password_change_needs_the_token() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = refused_then_made(
        &w,
        &s,
        "/admin/account",
        &[
            ("current", PASSWORD),
            ("new", "a forged password"),
            ("confirm", "a forged password"),
        ],
    )
    .await;
    assert!(res.to_login());
    w.sign_in(ADMIN, "a forged password").await;
}

#[tokio::test]
async fn an_invitation_needs_the_token() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = refused_then_made(&w, &s, &format!("/admin/people/{WUYE}/invite"), &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    accounts::link_of(&res.body);
}

#[tokio::test]
async fn an_unlock_needs_the_token() {
    let w = world();
    w.user(
        "user-water",
        "水务小王",
        Role::DepartmentHandler,
        demo::COMMUNITY,
        demo::COMMUNITY,
    );
    w.storage.lock("user-water", Some(T0 + HOUR)).unwrap();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = refused_then_made(&w, &s, "/admin/people/user-water/unlock", &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        w.storage
            .account("user-water")
            .unwrap()
            .unwrap()
            .locked_until,
        None
    );
}

#[tokio::test]
async fn a_logout_needs_the_token() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = refused_then_made(&w, &s, "/admin/logout", &[]).await;
    assert!(res.to_login());
    assert!(!w.opens_board(&s).await);
}

//! The admin console (`/admin`) through the router (`oneshot`) on a real SQLite file with an
//! injected clock: sign-in and sign-out, sessions, CSRF on every form, scope, escaping,
//! lockout and the address throttle, invitations and passwords, a department handler's
//! orders, bad input; and the cookies over a real TLS server.
//!
//! Each test builds its own world (the demo community and its console accounts); helpers
//! sign in and keep the cookie, read a page's CSRF token from its HTML and post forms.

#![allow(clippy::unwrap_used)]

mod accounts;
mod csrf;
mod directory;
mod erasure;
mod handler;
mod import;
mod input;
mod ledgers;
mod register;
mod scope;
mod signin;
mod stats;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use linli_domain::protocol::Role;
use linli_sync_server::{AppState, SqliteStorage, User, admin, app};
use linli_testkit::{DEMO_PASSWORD, demo};
use serde_json::Value;
use tempfile::TempDir;
use tower::ServiceExt;

pub const T0: i64 = 1_764_547_200_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;

pub const ADMIN: &str = demo::USER_ADMIN;
pub const WUYE: &str = demo::USER_HANDLER;
pub const PASSWORD: &str = DEMO_PASSWORD;

/// One console's world: the demo community with its console accounts, on a file.
pub struct World {
    pub dir: TempDir,
    pub clock: Arc<AtomicI64>,
    pub storage: Arc<SqliteStorage>,
    pub router: axum::Router,
    /// (user id, device token) of every demo person's phone.
    pub phones: Vec<(String, String)>,
}

/// An answer, with its body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `Set-Cookie` line of cookie `name`, if one was sent.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value cookie `name` is set to, if it was sent.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let first = line.split(';').next().unwrap();
        Some(first.split_once('=').unwrap().1.to_owned())
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
    }

    /// Whether this is the redirect to the sign-in page.
    pub fn to_login(&self) -> bool {
        self.status == StatusCode::SEE_OTHER && self.location() == Some("/admin/login")
    }

    /// The page's CSRF token (the first hidden `csrf` field).
    pub fn csrf(&self) -> String {
        csrf_of(&self.body)
    }
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// A signed-in user: the `Cookie` header value and the session's CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub csrf: String,
}

impl Session {
    pub fn cookie(&self) -> String {
        format!("linli_session={}", self.token)
    }
}

pub fn world() -> World {
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
    linli_testkit::seed_console(&storage).unwrap();
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
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("server.db")
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).unwrap()
    }

    pub fn set_clock(&self, at: i64) {
        self.clock.store(at, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// What a refused request must not change: documents, changes, accounts (passwords,
    /// failures, locks), sessions and invitations.
    pub fn written(&self) -> String {
        let c = self.db();
        let n = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        let accounts: String = c
            .query_row(
                "SELECT coalesce(group_concat(user_id || ':' || coalesce(password_hash, '-') \
                 || ':' || coalesce(department, '-'), ' '), '') \
                 FROM (SELECT * FROM accounts ORDER BY user_id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        format!(
            "documents {} changes {} sessions {} invitations {} failures {} accounts {}",
            n("SELECT count(*) FROM documents"),
            n("SELECT count(*) FROM changes"),
            n("SELECT count(*) FROM sessions"),
            n("SELECT count(*) FROM invitations"),
            n("SELECT count(*) FROM sign_in_failures"),
            accounts
        )
    }

    pub fn documents(&self) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
            .unwrap()
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Resp {
        let mut req = Request::get(path);
        if let Some(s) = session {
            req = req.header(header::COOKIE, s.cookie());
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Posts raw bytes with a content type and an optional `Cookie` header.
    pub async fn post_raw(
        &self,
        path: &str,
        cookie: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = Request::post(path).header(header::CONTENT_TYPE, content_type);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Posts a form as `session` (or with no cookie).
    pub async fn post(
        &self,
        path: &str,
        session: Option<&Session>,
        fields: &[(&str, &str)],
    ) -> Resp {
        let cookie = session.map(Session::cookie);
        self.post_raw(
            path,
            cookie.as_deref(),
            "application/x-www-form-urlencoded",
            form(fields).into_bytes(),
        )
        .await
    }

    /// The sign-in page: its `linli_login` cookie value and its form's token.
    pub async fn login_page(&self) -> (String, String) {
        let page = self.get("/admin/login", None).await;
        assert_eq!(page.status, StatusCode::OK);
        let cookie = page.cookie_value("linli_login").unwrap();
        (cookie, page.csrf())
    }

    /// A sign-in attempt with a fresh login page's cookie and token.
    pub async fn try_sign_in(&self, user: &str, password: &str) -> Resp {
        let (cookie, csrf) = self.login_page().await;
        self.post_raw(
            "/admin/login",
            Some(&format!("linli_login={cookie}")),
            "application/x-www-form-urlencoded",
            form(&[("user", user), ("password", password), ("csrf", &csrf)]).into_bytes(),
        )
        .await
    }

    /// Signs in (it must work) and reads the session's CSRF token off the board.
    pub async fn sign_in(&self, user: &str, password: &str) -> Session {
        let res = self.try_sign_in(user, password).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(res.location(), Some("/admin/board"));
        let token = res.cookie_value("linli_session").unwrap();
        let mut s = Session {
            token,
            csrf: String::new(),
        };
        let board = self.get("/admin/board", Some(&s)).await;
        assert_eq!(board.status, StatusCode::OK, "{}", board.body);
        s.csrf = board.csrf();
        s
    }

    /// Whether `session` still opens the board.
    pub async fn opens_board(&self, session: &Session) -> bool {
        let res = self.get("/admin/board", Some(session)).await;
        match res.status {
            StatusCode::OK => true,
            _ => {
                assert!(res.to_login(), "{} {}", res.status, res.body);
                false
            }
        }
    }

    pub fn phone(&self, user: &str) -> String {
        self.phones.iter().find(|p| p.0 == user).unwrap().1.clone()
    }

    /// A JSON API call with a device token.
    pub async fn api(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let res = self.send(req.body(body).unwrap()).await;
        (
            res.status,
            serde_json::from_str(&res.body).unwrap_or(Value::Null),
        )
    }

    /// 李梅 reports an incident from her phone through the JSON API; its id.
    pub async fn phone_report(&self, place: &str, category: &str, description: &str) -> String {
        let (status, v) = self
            .api(
                &self.phone(demo::USER_LI_MEI),
                "POST",
                "/api/v1/incidents",
                Some(serde_json::json!({
                    "category": category,
                    "description": description,
                    "place_id": place,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// The incident (with its timeline) as the JSON API shows it to user-admin's phone.
    pub async fn incident(&self, id: &str) -> Value {
        let (status, v) = self
            .api(
                &self.phone(ADMIN),
                "GET",
                &format!("/api/v1/incidents/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    /// A move on an incident through the console as `session`.
    pub async fn console_move(&self, session: &Session, id: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all = vec![("csrf", session.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(&format!("/admin/incidents/{id}/moves"), Some(session), &all)
            .await
    }

    /// Creates a user with a grant (and a console password if given).
    pub fn user(&self, id: &str, name: &str, role: Role, community: &str, grant: &str) {
        admin::create_user(
            self.storage.as_ref(),
            &User {
                id: id.into(),
                name: name.into(),
                role,
                community_id: community.into(),
            },
        )
        .unwrap();
        admin::grant(self.storage.as_ref(), id, grant).unwrap();
    }
}

/// The page's error paragraph (`<p class="error">…</p>`), if any.
pub fn error_of(html: &str) -> Option<String> {
    let at = html.find("<p class=\"error\">")?;
    let rest = &html[at + "<p class=\"error\">".len()..];
    Some(rest[..rest.find("</p>").unwrap()].to_owned())
}

/// The actions of the timeline, as the incident page lists them (`data-action` of each).
pub fn timeline_of(html: &str) -> Vec<String> {
    let Some(at) = html.find("<ol id=\"timeline\">") else {
        return Vec::new();
    };
    html[at..]
        .split("<li class=\"event")
        .skip(1)
        .map(|li| {
            let m = "data-action=\"";
            let a = &li[li.find(m).unwrap() + m.len()..];
            a[..a.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The incident page's status (`data-status` of the facts).
pub fn status_of(html: &str) -> String {
    let m = "<dl id=\"incident\" data-status=\"";
    let at = html
        .find(m)
        .unwrap_or_else(|| panic!("no incident in {html}"));
    let rest = &html[at + m.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The moves the incident page offers (`data-action` of each move form).
pub fn moves_of(html: &str) -> Vec<String> {
    html.split("<form class=\"move\" data-action=\"")
        .skip(1)
        .map(|f| f[..f.find('"').unwrap()].to_owned())
        .collect()
}

/// Whether the board (or any page) links to the incident.
pub fn lists(html: &str, id: &str) -> bool {
    html.contains(&format!("/admin/incidents/{id}"))
}

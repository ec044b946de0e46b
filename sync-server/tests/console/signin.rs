//! Signing in and out, sessions and their expiry, the lockout and the address throttle.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_domain::protocol::Role;
use linli_sync_server::AccountStorage;
use linli_sync_server::console::set_password;
use linli_testkit::demo;
use sha2::{Digest, Sha256};

use super::*;

const WRONG: &str = "账号或密码错误。";
const LOCKED: &str = "连续登录失败次数过多，账号已暂时锁定，请稍后再试或联系上级管理员解锁。";

#[tokio::test]
async fn the_login_page_sets_a_double_submit_cookie() {
    let w = world();
    let page = w.get("/admin/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let line = page.set_cookie("linli_login").unwrap();
    let value = page.cookie_value("linli_login").unwrap();
    assert_eq!(value.len(), 64, "{line}");
    assert_eq!(page.csrf(), value, "the form carries the cookie's value");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(line.contains(part), "{line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    assert!(page.set_cookie("linli_session").is_none());
    // Each page load has its own token.
    assert_ne!(w.login_page().await.0, value);
}

#[tokio::test]
async fn a_login_without_the_matching_cookie_and_token_is_refused() {
    let w = world();
    let before = w.written();
    let (cookie, csrf) = w.login_page().await;
    let fields = |csrf: &str| form(&[("user", ADMIN), ("password", PASSWORD), ("csrf", csrf)]);
    let ct = "application/x-www-form-urlencoded";
    let tries = [
        // No cookie at all.
        (None, fields(&csrf)),
        // The cookie, no token.
        (Some(format!("linli_login={cookie}")), fields("")),
        // The cookie and another page's token.
        (
            Some(format!("linli_login={cookie}")),
            fields(&w.login_page().await.1),
        ),
        // A forged pair that does not match.
        (Some("linli_login=aaaa".to_owned()), fields("bbbb")),
        // Only the token, with a forged cookie of another name.
        (Some(format!("linli_other={csrf}")), fields(&csrf)),
    ];
    for (cookie, body) in tries {
        let res = w
            .post_raw("/admin/login", cookie.as_deref(), ct, body.into_bytes())
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{cookie:?}");
        assert!(res.set_cookie("linli_session").is_none());
        assert_eq!(
            error_of(&res.body).as_deref(),
            Some("页面已过期，请重新登录。")
        );
    }
    assert_eq!(w.written(), before, "no session, no failure counted");
}

#[tokio::test]
async fn sign_in_sets_a_strict_session_cookie_and_stores_only_hashes() {
    let w = world();
    let wrong = w.try_sign_in(ADMIN, "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie("linli_session").is_none());
    assert_eq!(error_of(&wrong.body).as_deref(), Some(WRONG));

    let res = w.try_sign_in(ADMIN, PASSWORD).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/admin/board"));
    let line = res.set_cookie("linli_session").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(line.contains(part), "{line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    // The login cookie is done with.
    assert!(res.set_cookie("linli_login").unwrap().contains("Max-Age=0"));
    let token = res.cookie_value("linli_session").unwrap();
    assert_eq!(token.len(), 64);

    let c = w.db();
    let (user, hash, csrf): (String, Vec<u8>, String) = c
        .query_row("SELECT user_id, token_hash, csrf FROM sessions", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(user, ADMIN);
    assert_ne!(hash, token.as_bytes());
    assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
    assert_ne!(csrf, token);
    // The session's CSRF token is what its pages carry.
    let s = Session {
        token: token.clone(),
        csrf: String::new(),
    };
    assert_eq!(w.get("/admin/board", Some(&s)).await.csrf(), csrf);

    let stored: Vec<(String, String)> = c
        .prepare("SELECT user_id, password_hash FROM accounts WHERE password_hash IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
    for (user, phc) in stored {
        assert!(phc.starts_with("$argon2id$"), "{user}: {phc}");
        assert!(!phc.contains(PASSWORD), "{user}");
    }
}

#[tokio::test]
async fn a_grid_worker_cannot_sign_in_and_gets_no_password() {
    let w = world();
    let refused = set_password(
        w.storage.as_ref(),
        demo::USER_LI_MEI,
        "long enough password",
    );
    assert!(refused.is_err(), "{refused:?}");
    assert!(
        w.storage
            .account(demo::USER_LI_MEI)
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    // Even with a hash put there behind the console's back, she does not get in.
    let phc = linli_sync_server::console::password::hash("long enough password").unwrap();
    w.storage.set_password(demo::USER_LI_MEI, &phc, T0).unwrap();
    let res = w
        .try_sign_in(demo::USER_LI_MEI, "long enough password")
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.set_cookie("linli_session").is_none());
    assert_eq!(error_of(&res.body).as_deref(), Some(WRONG));
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_look_the_same() {
    let w = world();
    let unknown = w.try_sign_in("user-nobody", "whatever password").await;
    let wrong = w.try_sign_in(ADMIN, "whatever password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(error_of(&unknown.body), error_of(&wrong.body));
    assert_eq!(error_of(&unknown.body).as_deref(), Some(WRONG));
    // The pages differ only in the fresh token and the kept user name.
    let strip = |r: &Resp, user: &str| {
        r.body
            .replace(&r.csrf(), "TOKEN")
            .replace(&format!("value=\"{user}\""), "value=\"USER\"")
    };
    assert_eq!(strip(&unknown, "user-nobody"), strip(&wrong, ADMIN));
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let other = w.sign_in(ADMIN, PASSWORD).await;

    // Without the token, or with another session's: refused, and the session lives on.
    for csrf in ["", "forged", other.csrf.as_str()] {
        let before = w.written();
        let res = w.post("/admin/logout", Some(&s), &[("csrf", csrf)]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{csrf}");
        assert!(res.set_cookie("linli_session").is_none());
        assert_eq!(w.written(), before);
        assert!(w.opens_board(&s).await);
    }
    let res = w.post("/admin/logout", Some(&s), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no form at all");
    assert!(w.opens_board(&s).await);

    let res = w
        .post("/admin/logout", Some(&s), &[("csrf", &s.csrf)])
        .await;
    assert!(res.to_login());
    assert!(
        res.set_cookie("linli_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    // The old cookie (a browser that kept it) opens nothing: the row is gone.
    assert!(!w.opens_board(&s).await);
    let rows: i64 = w
        .db()
        .query_row(
            "SELECT count(*) FROM sessions WHERE token_hash = ?1",
            [Sha256::digest(s.token.as_bytes()).to_vec()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
    // The other session of the same user is untouched.
    assert!(w.opens_board(&other).await);
}

#[tokio::test]
async fn an_idle_session_ends_after_two_hours() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    w.set_clock(T0 + 2 * HOUR - MIN);
    assert!(w.opens_board(&s).await, "not yet idle for 2 h");
    // That request counts as activity: idle again from now.
    w.set_clock(T0 + 4 * HOUR - 2 * MIN);
    assert!(w.opens_board(&s).await);
    w.set_clock(T0 + 6 * HOUR - 2 * MIN);
    let res = w.get("/admin/board", Some(&s)).await;
    assert!(res.to_login(), "{} {}", res.status, res.body);
    // htmx requests are told where to go instead.
    let s2 = w.sign_in(ADMIN, PASSWORD).await;
    w.set_clock(w.now() + 2 * HOUR);
    for (session, path) in [
        (&s, "/admin/board/rows"),
        (&s2, "/admin/board/rows"),
        (&s2, "/admin/board"),
    ] {
        let res = w
            .send(
                Request::get(path)
                    .header(header::COOKIE, session.cookie())
                    .header("HX-Request", "true")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            res.headers.get("HX-Redirect").unwrap().to_str().unwrap(),
            "/admin/login"
        );
    }
    // An expired row is gone, not merely refused.
    let rows: i64 = w
        .db()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn an_active_session_still_ends_twelve_hours_after_sign_in() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let mut at = T0;
    while at + 90 * MIN < T0 + 12 * HOUR {
        at += 90 * MIN;
        w.set_clock(at);
        assert!(w.opens_board(&s).await, "active at {}", (at - T0) / MIN);
    }
    w.set_clock(T0 + 12 * HOUR - MIN);
    assert!(w.opens_board(&s).await);
    w.set_clock(T0 + 12 * HOUR);
    assert!(!w.opens_board(&s).await, "12 h after sign-in");
    // The cookie was sent for no longer than that either.
    let res = w.try_sign_in(ADMIN, PASSWORD).await;
    assert!(
        res.set_cookie("linli_session")
            .unwrap()
            .contains("Max-Age=43200")
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_the_lock_ends() {
    let w = world();
    for _ in 0..5 {
        let res = w.try_sign_in(ADMIN, "wrong password").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_of(&res.body).as_deref(), Some(WRONG));
    }
    let res = w.try_sign_in(ADMIN, PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.set_cookie("linli_session").is_none());
    assert_eq!(error_of(&res.body).as_deref(), Some(LOCKED));
    // Another account is not affected.
    w.sign_in(WUYE, PASSWORD).await;
    // The lock ends by itself (five minutes for a first lock).
    w.set_clock(T0 + 5 * MIN - 1);
    assert_eq!(
        error_of(&w.try_sign_in(ADMIN, PASSWORD).await.body).as_deref(),
        Some(LOCKED)
    );
    w.set_clock(T0 + 5 * MIN + 1);
    w.sign_in(ADMIN, PASSWORD).await;
    let a = w.storage.account(ADMIN).unwrap().unwrap();
    assert_eq!((a.failures, a.locked_until), (0, None));
}

#[tokio::test]
async fn twenty_failures_from_one_address_refuse_every_account() {
    let w = world();
    // Router requests have no connection info: they all come from "unknown".
    for i in 0..20 {
        let user = if i % 2 == 0 {
            "user-nobody"
        } else {
            demo::USER_ZHAO
        };
        let res = w.try_sign_in(user, "wrong password").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for (user, password) in [(WUYE, PASSWORD), (ADMIN, PASSWORD), ("user-nobody", "x")] {
        let res = w.try_sign_in(user, password).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{user}");
        assert!(res.set_cookie("linli_session").is_none());
        assert_eq!(
            error_of(&res.body).as_deref(),
            Some("登录尝试过于频繁，请15分钟后再试。")
        );
    }
    // Being refused does not lock anyone: once the window moves on, the right password works.
    w.set_clock(T0 + 15 * MIN + 1);
    w.sign_in(WUYE, PASSWORD).await;
}

#[tokio::test]
async fn the_address_throttle_holds_on_a_real_server() {
    let w = world();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(linli_sync_server::serve(
        listener,
        AppState::new(w.storage.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("http://{addr}/admin/login");
    let attempt = |user: &'static str, password: &'static str| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let page = client.get(&url).send().await.unwrap();
            let cookie = page
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .find(|c| c.starts_with("linli_login="))
                .unwrap();
            let cookie = cookie.split(';').next().unwrap().to_owned();
            let csrf = csrf_of(&page.text().await.unwrap());
            client
                .post(&url)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form(&[
                    ("user", user),
                    ("password", password),
                    ("csrf", &csrf),
                ]))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..20 {
        assert_eq!(
            attempt("user-nobody", "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(ADMIN, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let addresses: Vec<String> = w
        .db()
        .prepare("SELECT DISTINCT address FROM sign_in_failures")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(addresses, ["127.0.0.1"]);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_street_admin_unlocks_a_community_admin_and_a_community_admin_cannot() {
    let w = world();
    scope::street(&w);
    w.user(
        "user-admin2",
        "副主任",
        Role::Admin,
        demo::COMMUNITY,
        demo::COMMUNITY,
    );
    set_password(w.storage.as_ref(), "user-admin2", "admin2 password").unwrap();
    for _ in 0..5 {
        w.try_sign_in(ADMIN, "wrong password").await;
    }
    assert_eq!(
        error_of(&w.try_sign_in(ADMIN, PASSWORD).await.body).as_deref(),
        Some(LOCKED)
    );
    // A peer admin of the same community does not manage user-admin: as if absent.
    let peer = w.sign_in("user-admin2", "admin2 password").await;
    let wuye = w.sign_in(WUYE, PASSWORD).await;
    let people = w.get("/admin/people", Some(&peer)).await;
    assert!(
        !people
            .body
            .contains(&format!("/admin/people/{ADMIN}/unlock"))
    );
    let before = w.written();
    let res = w
        .post(
            &format!("/admin/people/{ADMIN}/unlock"),
            Some(&peer),
            &[("csrf", &peer.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(w.written(), before);
    // A department handler manages nobody.
    let res = w
        .post(
            &format!("/admin/people/{ADMIN}/unlock"),
            Some(&wuye),
            &[("csrf", &wuye.csrf)],
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "a handler unlocks nobody"
    );
    assert_eq!(w.written(), before);

    let street = w.sign_in(scope::STREET_ADMIN, scope::STREET_PASSWORD).await;
    let people = w.get("/admin/people", Some(&street)).await;
    assert!(
        people
            .body
            .contains(&format!("/admin/people/{ADMIN}/unlock"))
    );
    let res = w
        .post(
            &format!("/admin/people/{ADMIN}/unlock"),
            Some(&street),
            &[("csrf", &street.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("已解锁。"));
    w.sign_in(ADMIN, PASSWORD).await;
}

#[tokio::test]
async fn console_pages_are_not_cached_framed_or_sniffed() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let pages = [
        w.get("/admin/login", None).await,
        w.get("/admin/board", Some(&s)).await,
        w.get("/admin/incidents/nope", Some(&s)).await,
        w.get("/admin/people", Some(&s)).await,
        w.try_sign_in(ADMIN, "wrong password").await,
    ];
    for res in &pages {
        let h = |name: &str| {
            res.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(h("cache-control"), "no-store", "{}", res.status);
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        let csp = h("content-security-policy");
        for part in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
    // What a failed sign-in echoes is escaped too.
    let res = w
        .try_sign_in("\"><script>alert(1)</script>", "wrong password")
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(!res.body.contains("<script>alert"));
    assert!(
        res.body.contains("&#34;&#62;&#60;script&#62;"),
        "{}",
        res.body
    );
}

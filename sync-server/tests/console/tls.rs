//! The console over a real TLS server: every cookie it sets is `Secure`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use linli_sync_server::tls::{serve_tls, server_config};

use super::*;

fn cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn named(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
        .clone()
}

#[tokio::test]
async fn over_tls_every_console_cookie_is_secure() {
    let w = world();
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = w.dir.path().join("cert.pem");
    let key = w.dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let tls = server_config(&cert, &key).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(w.storage.clone()).with_secure_cookies(true);
    let server = tokio::spawn(serve_tls(listener, tls, state, async {
        let _ = stopped.await;
    }));

    let ring = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(ring)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("https://{addr}");

    let page = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let login = named(&cookies(&page), "linli_login");
    assert!(login.contains("; Secure"), "{login}");
    let login_value = login.split(';').next().unwrap().to_owned();
    let csrf = csrf_of(&page.text().await.unwrap());

    let res = client
        .post(format!("{base}/admin/login"))
        .header(header::COOKIE, &login_value)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("user", ADMIN),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let set = cookies(&res);
    let session = named(&set, "linli_session");
    for part in ["; Secure", "HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(session.contains(part), "{session}");
    }
    let cleared = named(&set, "linli_login");
    assert!(cleared.contains("; Secure"), "{cleared}");

    // The session works over TLS, and signing out clears it with a Secure cookie too.
    let session_value = session.split(';').next().unwrap().to_owned();
    let board = client
        .get(format!("{base}/admin/board"))
        .header(header::COOKIE, &session_value)
        .send()
        .await
        .unwrap();
    assert_eq!(board.status(), reqwest::StatusCode::OK);
    let csrf = csrf_of(&board.text().await.unwrap());
    // A failed sign-in's fresh form cookie is Secure as well.
    let wrong = client
        .post(format!("{base}/admin/login"))
        .header(header::COOKIE, &login_value)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("user", ADMIN),
            ("password", "wrong"),
            ("csrf", "x"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(named(&cookies(&wrong), "linli_login").contains("; Secure"));
    let out = client
        .post(format!("{base}/admin/logout"))
        .header(header::COOKIE, &session_value)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), reqwest::StatusCode::SEE_OTHER);
    let gone = named(&cookies(&out), "linli_session");
    assert!(
        gone.contains("Max-Age=0") && gone.contains("; Secure"),
        "{gone}"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

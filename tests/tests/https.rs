//! HTTPS from the phone's side: a street office serves with its own CA's certificate
//! (`serve_tls`, rcgen self-signed here), and a device store syncs with it when given that
//! certificate (`SyncConfig::trusted_certificates`), on the bundled public roots otherwise:
//! no platform verifier, so nothing to initialise with an Android context.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use linli_core::protocol::Role;
use linli_core::{Error, SyncConfig};
use linli_sync_server::AppState;
use linli_sync_server::tls::{serve_tls, server_config};

struct TlsServer {
    url: String,
    cert_pem: String,
    storage: Arc<linli_sync_server::SqliteStorage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

async fn start_tls() -> TlsServer {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let dir = temp_dir();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let storage =
        Arc::new(linli_sync_server::SqliteStorage::open(dir.path().join("server.db")).unwrap());
    linli_testkit::seed_demo(storage.as_ref()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(storage.clone()).with_secure_cookies(true);
    tokio::spawn(serve_tls(
        listener,
        server_config(&cert, &key).unwrap(),
        state,
        async {
            let _ = stopped.await;
        },
    ));
    TlsServer {
        url: format!("https://{addr}"),
        cert_pem: made.cert.pem(),
        storage,
        stop: Some(stop),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_syncs_over_https_with_the_offices_certificate() {
    let server = start_tls().await;
    let li = add_person(
        server.storage.as_ref(),
        "https-li",
        Role::GridWorker,
        &[GRID_1],
    );
    let phone = Device::new(&server.url, &li);
    let quick = SyncConfig {
        max_attempts: 1,
        ..phone.config()
    };

    // Not trusted: the bundled public roots do not know the office's CA. Nothing changes.
    let refused = phone.sync_with(&quick).await;
    assert!(
        matches!(refused, Err(Error::Network(_))),
        "an unknown CA is a network error: {refused:?}"
    );
    assert!(phone.store.places_under(None).unwrap().is_empty());

    // A text that holds no certificate is refused as input, before any connection.
    let garbage = SyncConfig {
        trusted_certificates: Some("-----BEGIN CERTIFICATE-----\nnot base64\n".into()),
        ..quick.clone()
    };
    assert!(matches!(
        phone.sync_with(&garbage).await,
        Err(Error::InvalidInput {
            field: "trusted_certificates",
            ..
        })
    ));
    let empty = SyncConfig {
        trusted_certificates: Some("no pem here".into()),
        ..quick.clone()
    };
    assert!(matches!(
        phone.sync_with(&empty).await,
        Err(Error::InvalidInput { .. })
    ));

    // Given the office's certificate, it syncs: the place tree arrives.
    let trusted = SyncConfig {
        trusted_certificates: Some(server.cert_pem.clone()),
        ..quick.clone()
    };
    phone.sync_with(&trusted).await.unwrap();
    let top = phone.store.places_under(None).unwrap();
    assert_eq!(top.len(), 1, "{top:?}");
    assert_eq!(top[0].id, COMMUNITY);

    // The long poll goes over the same TLS settings.
    let changed = phone
        .store
        .wait_for_changes(&trusted, std::time::Duration::from_millis(300))
        .await
        .unwrap();
    assert!(!changed, "nothing new after a full sync");
    drop(server.stop);
}

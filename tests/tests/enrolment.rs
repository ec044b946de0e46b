//! Enrolment by QR code from a real phone: the link the console (or `admin enrol-code`)
//! shows is read by the core, its code exchanged over HTTP for a token, and the new device
//! syncs with it; the code works once.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;
use linli_sync_server::DirectoryStorage;
use linli_sync_server::directory::{Action, Audit, ENROL_CODE_MS, new_enrol_code};
use linli_sync_server::storage::{now_ms, token_hash};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_enrols_with_a_qr_link_and_syncs() {
    let server = Server::start().await;
    let code = new_enrol_code();
    let audit = Audit::new(now_ms(), USER_ADMIN, Action::EnrolCode).user(USER_WANG_QIANG);
    server
        .storage
        .add_enrol_code(&token_hash(&code), now_ms() + ENROL_CODE_MS, &audit)
        .unwrap();
    let text = linli_sync_server::console::enrol_link(&server.url, &code);

    let link = parse_enrol_link(&text).unwrap();
    assert_eq!(link.server_url, server.url);
    let enrolled = enrol(&link, "王强的手机", None).await.unwrap();
    assert_eq!(enrolled.user_id, USER_WANG_QIANG);
    assert_eq!(enrolled.role, protocol::Role::GridWorker);
    assert_eq!(enrolled.user_name, "王强");

    let dir = temp_dir();
    let store = Store::open(
        dir.path().join("phone.db"),
        Identity {
            device_id: enrolled.device_id.clone(),
            user_id: enrolled.user_id.clone(),
        },
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    let config = SyncConfig::new(enrolled.server_url.clone(), enrolled.token.clone());
    store.sync(&config, &|_: &SyncProgress| {}).await.unwrap();
    assert!(
        !store.my_places().unwrap().is_empty(),
        "the place tree arrived"
    );

    // Once only; a bad name is refused before anything is sent.
    match enrol(&link, "另一部手机", None).await {
        Err(Error::EnrolCodeSpent) => {}
        other => panic!("expected a spent code, got {other:?}"),
    }
    match enrol(&link, " ", None).await {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "device_name"),
        other => panic!("expected bad input, got {other:?}"),
    }
}

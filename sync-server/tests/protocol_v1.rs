//! Apps already installed keep syncing: a request recorded from a real device store
//! speaking protocol version 1 is replayed, byte for byte, against today's server.
//!
//! `fixtures/protocol_v1/request_push.bin` is an encoded `SyncRequest` from a real
//! `linli_core::Store` of the demo grid worker 李梅 (device `…0001`, the fixed id
//! `seed_demo` enrolls), pushing one household it created in unit 1 of building 1 (see
//! `fixtures/protocol_v1/README.md`). Regenerate it only for a new protocol version, into a
//! new folder: `LINLI_RECORD=1 cargo test -p linli-sync-server --test protocol_v1 --
//! --ignored record`.

#![allow(clippy::unwrap_used)]

use automerge::AutoCommit;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_core::{
    CareTag, Housing, Identity, NewHousehold, NewMember, Relation, Residency, Store, SyncConfig,
};
use linli_domain::doc;
use linli_domain::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, PushOutcome, SYNC_PATH, SyncRequest, SyncResponse,
    VERSION_HEADER,
};
use linli_sync_server::{AppState, SqliteStorage, app};
use linli_testkit::{DemoDevice, demo};
use tower::ServiceExt;

const REQUEST_PUSH: &[u8] = include_bytes!("fixtures/protocol_v1/request_push.bin");
/// The version the recorded request speaks, sent in its header as the app sends it.
const RECORDED_VERSION: &str = "1";
/// The device that recorded it (the fixed id `seed_demo` gives 李梅's device).
const RECORDED_DEVICE: &str = "00000000-0000-4000-8000-000000000001";

async fn post(router: &axum::Router, token: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method("POST")
        .uri(SYNC_PATH)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header(VERSION_HEADER, RECORDED_VERSION)
        .body(Body::from(body))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

fn token_of(devices: &[DemoDevice], user: &str) -> String {
    devices
        .iter()
        .find(|d| d.user_id == user)
        .unwrap()
        .token
        .clone()
}

#[tokio::test]
async fn a_recorded_v1_push_is_stored_and_reaches_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let storage = std::sync::Arc::new(SqliteStorage::open(dir.path().join("s.db")).unwrap());
    let devices = linli_testkit::seed_demo(storage.as_ref()).unwrap();
    let li = devices
        .iter()
        .find(|d| d.user_id == demo::USER_LI_MEI)
        .unwrap();
    assert_eq!(li.device_id, RECORDED_DEVICE);
    let router = app(AppState::new(storage));

    // What the recording holds, read only to know what to expect.
    let recorded: SyncRequest = protocol::decode(REQUEST_PUSH).unwrap();
    assert_eq!(recorded.protocol, 1);
    assert_eq!(recorded.push.len(), 1);
    let doc_id = recorded.push[0].doc_id.clone();

    let (status, body) = post(&router, &li.token, REQUEST_PUSH.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    // Decoded as the first release decodes it (today's message has grants it lacks).
    let resp: v1::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(resp.protocol, 1);
    assert_eq!(resp.acks.len(), 1);
    assert_eq!(resp.acks[0].doc_id, doc_id);
    assert_eq!(resp.acks[0].outcome, PushOutcome::Stored);
    assert!(
        resp.reference.is_some(),
        "a device holding none gets the places"
    );

    // Replayed as the app would after a lost response: stored once, acknowledged again.
    let (status, body) = post(&router, &li.token, REQUEST_PUSH.to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let again: v1::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(again.acks[0].outcome, PushOutcome::Stored);

    // Another device of the grid's community pulls the household.
    let pull = SyncRequest {
        protocol: 1,
        cursor: Cursor::default(),
        reference_version: 0,
        push: Vec::new(),
        page_limit: 100,
    };
    let admin_token = token_of(&devices, demo::USER_ADMIN);
    let (status, body) = post(&router, &admin_token, protocol::encode(&pull).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let pulled: v1::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(pulled.docs.len(), 1);
    assert_eq!(pulled.docs[0].doc_id, doc_id);
    let copy = AutoCommit::load(&pulled.docs[0].changes).unwrap();
    let household = doc::read_household(&copy).unwrap();
    assert_eq!(household.id, doc_id);
    assert_eq!(household.address.unit_id.as_deref(), Some(demo::UNIT_1_1));
    assert_eq!(household.members[0].name, "张秀英");
}

/// Records `fixtures/protocol_v1/request_push.bin` with a real device store.
#[test]
#[ignore]
fn record() {
    if std::env::var_os("LINLI_RECORD").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("phone.db"),
        Identity {
            device_id: RECORDED_DEVICE.into(),
            user_id: demo::USER_LI_MEI.into(),
        },
        &linli_testkit::DB_KEY,
    )
    .unwrap();
    store.put_places(&linli_testkit::demo::places()).unwrap();
    let id = store
        .create_household(NewHousehold {
            place_id: demo::UNIT_1_1.into(),
            room: "301".into(),
            residency: Residency::Resident,
            housing: Housing::Resettlement,
            tags: vec![CareTag::ElderlyAlone],
            notes: "独居，女儿每周来一次".into(),
            members: vec![NewMember {
                name: "张秀英".into(),
                relation: Relation::Head,
                birth_year: Some(1948),
                phone: None,
                id_number: None,
            }],
        })
        .unwrap();
    // What the app's first sync round sends (`linli_core::sync`): everything since no
    // heads, a fresh cursor, no reference data yet, the default page size.
    let request = SyncRequest {
        protocol: 1,
        cursor: Cursor::default(),
        reference_version: store.sync_state().unwrap().reference_version,
        push: vec![DocPush {
            changes: store.changes_since(&id, &[]).unwrap(),
            doc_id: id,
        }],
        page_limit: SyncConfig::new("https://unused", "unused").page_limit,
    };
    let path = format!(
        "{}/tests/fixtures/protocol_v1/request_push.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(path, protocol::encode(&request).unwrap()).unwrap();
}

/// The messages as a version 1 app declares them, where they differ from today's: its `Role`
/// and its `PlaceKind` have four variants each (postcard encodes an enum by index, so a fifth
/// would fail the whole response). Everything else is today's type, unchanged since
/// version 1.
#[allow(dead_code)] // the fields mirror the layout; only some are asserted
mod v1 {
    use linli_domain::protocol::{Cursor, DocChanges, PushAck};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    pub enum PlaceKind {
        Community,
        Grid,
        Building,
        Unit,
    }

    #[derive(Debug, Deserialize)]
    pub struct Place {
        pub id: String,
        pub kind: PlaceKind,
        pub parent_id: Option<String>,
        pub name: String,
    }

    #[derive(Debug, Deserialize, PartialEq, Eq)]
    pub enum Role {
        GridWorker,
        BuildingLeader,
        UnitLeader,
        Admin,
    }

    #[derive(Debug, Deserialize)]
    pub struct Person {
        pub id: String,
        pub name: String,
        pub role: Role,
    }

    #[derive(Debug, Deserialize)]
    pub struct ReferenceData {
        pub version: u64,
        pub places: Vec<Place>,
        pub people: Vec<Person>,
    }

    #[derive(Debug, Deserialize)]
    pub struct SyncResponse {
        pub protocol: u16,
        pub server_time: i64,
        pub acks: Vec<PushAck>,
        pub docs: Vec<DocChanges>,
        pub cursor: Cursor,
        pub more: bool,
        pub reference: Option<ReferenceData>,
        pub gone: Vec<String>,
    }
}

/// A community with a street admin (a role added in version 2) under a street, with a
/// micro-grid (place kinds added in version 2): a version 1 app still decodes its reference
/// data, which leaves that person and those places out (re-parenting the micro-grid's
/// building to its grid); a version 2 app gets everything.
#[tokio::test]
async fn an_old_app_decodes_reference_data_with_new_roles() {
    use linli_sync_server::{AdminStorage, User};
    let dir = tempfile::tempdir().unwrap();
    let storage = std::sync::Arc::new(SqliteStorage::open(dir.path().join("s.db")).unwrap());
    let devices = linli_testkit::seed_demo(storage.as_ref()).unwrap();
    storage
        .put_user(&User {
            id: "user-street".into(),
            name: "街道王主任".into(),
            role: linli_domain::Role::StreetAdmin,
            community_id: demo::COMMUNITY.into(),
        })
        .unwrap();
    // And a street above the community, a micro-grid of grid 1 with a building and a unit
    // (place kinds added in version 2).
    let put = |id: &str, kind, parent: Option<&str>| {
        let place = linli_domain::Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: format!("{id}名"),
        };
        linli_sync_server::admin::create_place(storage.as_ref(), &place).unwrap();
    };
    use linli_domain::PlaceKind as K;
    put("street-1", K::Street, None);
    put(demo::COMMUNITY, K::Community, Some("street-1"));
    put("micro-1", K::MicroGrid, Some(demo::GRID_1));
    put("b-micro", K::Building, Some("micro-1"));
    put("u-micro", K::Unit, Some("b-micro"));
    let router = app(AppState::new(storage));
    let token = token_of(&devices, demo::USER_LI_MEI);
    let pull = |protocol| SyncRequest {
        protocol,
        cursor: Cursor::default(),
        reference_version: 0,
        push: Vec::new(),
        page_limit: 100,
    };

    let (status, body) = post(&router, &token, protocol::encode(&pull(1)).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    // Decoded exactly as the first release decodes it.
    let old: v1::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(old.protocol, 1);
    let reference = old.reference.unwrap();
    let people = reference.people;
    assert_eq!(people.len(), linli_testkit::demo::PEOPLE.len());
    assert!(people.iter().all(|p| p.id != "user-street"));
    assert!(people.iter().any(|p| p.role == v1::Role::Admin));
    // No street nor micro-grid; the tree stays whole: the community is its root and the
    // micro-grid's building hangs under the micro-grid's grid.
    let places = reference.places;
    assert_eq!(places.len(), linli_testkit::demo::places().len() + 2);
    assert!(
        places
            .iter()
            .all(|p| p.id != "street-1" && p.id != "micro-1")
    );
    let place = |id: &str| places.iter().find(|p| p.id == id).unwrap();
    assert_eq!(place(demo::COMMUNITY).parent_id, None);
    assert_eq!(place(demo::COMMUNITY).kind, v1::PlaceKind::Community);
    assert_eq!(place("b-micro").parent_id.as_deref(), Some(demo::GRID_1));
    assert_eq!(place("b-micro").kind, v1::PlaceKind::Building);
    assert_eq!(place("u-micro").parent_id.as_deref(), Some("b-micro"));
    for p in &places {
        if let Some(parent) = &p.parent_id {
            assert!(
                places.iter().any(|q| &q.id == parent),
                "{} has its parent",
                p.id
            );
        }
    }

    let (status, body) = post(
        &router,
        &token,
        protocol::encode(&pull(protocol::PROTOCOL_VERSION)).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let new: SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(new.protocol, protocol::PROTOCOL_VERSION);
    let reference = new.reference.unwrap();
    let kind = |id: &str| reference.places.iter().find(|p| p.id == id).map(|p| p.kind);
    assert_eq!(kind("street-1"), Some(K::Street));
    assert_eq!(kind("micro-1"), Some(K::MicroGrid));
    let people = reference.people;
    assert!(
        people
            .iter()
            .any(|p| p.id == "user-street" && p.role == linli_domain::Role::StreetAdmin)
    );
    // Version 3 carries the user's grants: 李梅 holds grid 1.
    assert_eq!(
        reference.grants,
        vec![protocol::Grant {
            place_id: demo::GRID_1.into(),
            kind: K::Grid
        }]
    );

    // A version 2 app decodes its answer with its own types (no grants), the whole of it.
    let (status, body) = post(&router, &token, protocol::encode(&pull(2)).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let v2: v2::SyncResponse = protocol::decode(&body).unwrap();
    assert_eq!(v2.protocol, 2);
    let reference = v2.reference.unwrap();
    assert!(reference.places.iter().any(|p| p.kind == K::MicroGrid));
    assert!(
        reference
            .people
            .iter()
            .any(|p| p.role == linli_domain::Role::StreetAdmin)
    );
}

/// The messages as a version 2 app declares them: today's, but reference data without
/// grants (added in version 3).
#[allow(dead_code)] // the fields mirror the layout; only some are asserted
mod v2 {
    use linli_domain::Place;
    use linli_domain::protocol::{Cursor, DocChanges, Person, PushAck};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct ReferenceData {
        pub version: u64,
        pub places: Vec<Place>,
        pub people: Vec<Person>,
    }

    #[derive(Debug, Deserialize)]
    pub struct SyncResponse {
        pub protocol: u16,
        pub server_time: i64,
        pub acks: Vec<PushAck>,
        pub docs: Vec<DocChanges>,
        pub cursor: Cursor,
        pub more: bool,
        pub reference: Option<ReferenceData>,
        pub gone: Vec<String>,
    }
}

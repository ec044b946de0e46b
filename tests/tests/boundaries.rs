//! What the server lets through and what it keeps out, seen from real phones: a building
//! leader's scope, unknown credentials (revoked ones: `revocation.rs`), malformed and oversized requests; and
//! what a sync leaves on the phone: the clock offset, the place tree and the people.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use linli_core::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, MAX_DECODED_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION,
    Role, SYNC_PATH, SyncRequest, VERSION_HEADER,
};
use linli_core::*;
use linli_sync_server::{AdminStorage, admin};

fn now_ms() -> Millis {
    linli_sync_server::storage::now_ms()
}

fn ids(rows: &[HouseholdSummary]) -> BTreeSet<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_building_leader_never_receives_another_buildings_records() {
    let server = Server::start().await;
    let worker = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    let other_grid = server.device(&server.person("worker-9", Role::GridWorker, &[GRID_2]));
    let mut leader = server.device(&server.person("leader-1", Role::BuildingLeader, &[BUILDING_1]));
    for d in [&worker, &other_grid, &leader] {
        d.synced().await;
    }

    let b1: Vec<String> = [(UNIT_1_1, "101"), (UNIT_1_2, "102"), (BUILDING_1, "103")]
        .iter()
        .map(|(p, r)| worker.create(p, r))
        .collect();
    let b2: Vec<String> = [(BUILDING_2, "201"), (UNIT_2_1, "202")]
        .iter()
        .map(|(p, r)| worker.create(p, r))
        .collect();
    let b9: Vec<String> = [(BUILDING_9, "901"), (UNIT_9_2, "902")]
        .iter()
        .map(|(p, r)| other_grid.create(p, r))
        .collect();
    let inc_b1 = worker.report(&b1[0]);
    let inc_b2 = worker.report(&b2[0]);
    let inc_grid = worker
        .store
        .report_incident(NewIncident {
            category: IncidentCategory::Parking,
            description: "消防通道违停".into(),
            place_id: Some(GRID_1.into()),
            household_id: None,
            priority: Priority::Normal,
            assignee: None,
            dispute: None,
        })
        .unwrap();
    let inc_b9 = other_grid.report(&b9[0]);
    for id in &b2 {
        worker.visit(id);
    }
    for id in &b9 {
        other_grid.visit(id);
    }
    worker.synced().await;
    other_grid.synced().await;

    leader.page_limit = 3;
    let report = leader.synced().await;
    assert!(report.progress.rounds >= 2, "small pages: {report:?}");

    let b1_set: BTreeSet<String> = b1.iter().cloned().collect();
    assert_eq!(ids(&leader.store.households_in(GRID_1).unwrap()), b1_set);
    assert_eq!(ids(&leader.store.households_in(COMMUNITY).unwrap()), b1_set);
    assert!(leader.store.households_in(BUILDING_2).unwrap().is_empty());
    assert!(leader.store.households_in(GRID_2).unwrap().is_empty());
    for room in ["住户201", "住户202", "住户901", "安置小区2栋", "桂花苑"] {
        assert!(
            leader.store.search_households(room, 50).unwrap().is_empty(),
            "{room} found on the leader's phone"
        );
    }
    assert_eq!(
        ids(&leader.store.search_households("住户", 50).unwrap()),
        b1_set
    );
    for id in b2.iter().chain(&b9) {
        assert!(leader.store.household(id).is_err());
    }
    let incidents: Vec<String> = leader
        .store
        .incidents(&IncidentFilter::default())
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(incidents, vec![inc_b1.clone()]);
    for id in [&inc_b2, &inc_grid, &inc_b9] {
        assert!(leader.store.incident(id).is_err());
    }
    assert_eq!(leader.raw_count("documents"), 4);
    assert_eq!(leader.raw_count("visits"), 0);
    // The same records as the worker's, where both hold them.
    for id in &b1 {
        assert_eq!(
            leader.store.household(id).unwrap(),
            worker.store.household(id).unwrap()
        );
    }

    // Later edits elsewhere stay elsewhere; the leader's own edits reach the worker.
    worker.visit(&b2[1]);
    worker
        .store
        .move_incident(&inc_b2, IncidentAction::Accept, "")
        .unwrap();
    other_grid.visit(&b9[1]);
    worker.synced().await;
    other_grid.synced().await;
    leader.visit(&b1[2]);
    let report = leader.synced().await;
    assert_eq!(report.progress.docs_down, 0);
    assert_eq!(leader.raw_count("documents"), 4);
    worker.synced().await;
    assert_eq!(worker.store.household(&b1[2]).unwrap().visits.len(), 1);
    // And the other grid's worker never saw grid 1.
    assert_eq!(other_grid.raw_count("documents"), 3);
    assert!(other_grid.store.households_in(GRID_1).unwrap().is_empty());
}

/// What a phone holds, to show a refused sync changed nothing.
fn snapshot(d: &Device) -> (View, SyncState, i64, i64) {
    (
        view(&d.store),
        d.store.sync_state().unwrap(),
        d.raw_count("doc_changes"),
        d.raw_count("sync_docs"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tokens_are_refused_and_the_phone_keeps_everything() {
    let server = Server::start().await;
    let person = server.person("worker-a", Role::GridWorker, &[GRID_1]);
    let mut phone = server.device(&person);
    phone.synced().await;
    let hh = phone.create(UNIT_1_1, "301");
    phone.synced().await;
    phone.visit(&hh);
    let new = phone.create(BUILDING_2, "208");
    assert_eq!(phone.pending(), 2);
    let before = snapshot(&phone);
    let rows = server.count("changes");

    // A refusal is final: no retries, so no waiting out a long back-off.
    let slow = SyncConfig {
        initial_backoff: Duration::from_secs(5),
        ..phone.config()
    };
    for token in [
        "0".repeat(64),
        "not-a-token".into(),
        "x".repeat(300),
        person.enrollment.token.to_uppercase(),
    ] {
        let config = SyncConfig {
            token,
            ..slow.clone()
        };
        let started = Instant::now();
        match phone.sync_with(&config).await {
            Err(Error::Unauthorized) => {}
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "retried a refusal"
        );
    }
    assert_eq!(snapshot(&phone), before);
    assert_eq!(
        server.count("changes"),
        rows,
        "an unknown token stored nothing"
    );

    // Enrolled again (same device, new token): everything kept goes through.
    let again = admin::enroll(
        server.storage.as_ref(),
        &person.user_id,
        Some(phone.device_id.parse().unwrap()),
    )
    .unwrap();
    phone.token = again.token;
    phone.synced().await;
    assert_eq!(phone.pending(), 0);
    let other = server.device(&server.person("worker-b", Role::GridWorker, &[GRID_1]));
    other.synced().await;
    assert_eq!(other.store.household(&new).unwrap().address.room, "208");
    assert_visits_once(&other.store, &hh, 1);
    assert_eq!(view(&other.store), view(&phone.store));
}

/// A raw DEFLATE stream (one fixed-Huffman block) that inflates to at least `len` zero
/// bytes: a literal 0, then copies of 258 bytes at distance 1, 13 bits each.
fn deflate_bomb(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u64, 0u32);
    let mut bits = |value: u64, count: u32, out: &mut Vec<u8>| {
        acc |= value << n;
        n += count;
        while n >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            n -= 8;
        }
    };
    // Huffman codes go most significant bit first.
    let code =
        |c: u64, count: u32| (0..count).fold(0, |r, i| r | ((c >> i) & 1) << (count - 1 - i));
    bits(1, 1, &mut out); // last block
    bits(1, 2, &mut out); // fixed Huffman
    bits(code(0x30, 8), 8, &mut out); // literal 0
    for _ in 0..len.div_ceil(258) {
        bits(code(0xC5, 8), 8, &mut out); // length 258
        bits(0, 5, &mut out); // distance 1
    }
    bits(0, 7, &mut out); // end of block
    bits(0, 7, &mut out); // pad out the last byte
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_get_4xx_and_the_server_carries_on() {
    let server = Server::start().await;
    let phone = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    phone.synced().await;
    let hh = phone.create(UNIT_1_1, "301");
    phone.visit(&hh);

    let valid = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: Cursor::default(),
        reference_version: 0,
        push: vec![DocPush {
            doc_id: hh.clone(),
            changes: phone.store.changes_since(&hh, &[]).unwrap(),
        }],
        page_limit: 100,
    };
    let encoded = protocol::encode(&valid).unwrap();
    let mut wrong_version = valid.clone();
    wrong_version.protocol = PROTOCOL_VERSION + 1;

    let client = http_client();
    let url = format!("{}{SYNC_PATH}", server.url);
    let ct = ("content-type", CONTENT_TYPE);
    let v = PROTOCOL_VERSION.to_string();
    let version = (VERSION_HEADER, v.as_str());
    let token = Some(phone.token.as_str());
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "garbage",
            token,
            vec![ct, version],
            b"garbage \x00\xff".to_vec(),
            400,
            "malformed",
        ),
        (
            "empty body",
            token,
            vec![ct, version],
            vec![],
            400,
            "malformed",
        ),
        (
            "truncated deflate",
            token,
            vec![ct, version],
            encoded[..encoded.len() / 2].to_vec(),
            400,
            "malformed",
        ),
        (
            "deflate of nothing we speak",
            token,
            vec![ct, version],
            protocol::encode(&"幸福社区".repeat(50)).unwrap(),
            400,
            "malformed",
        ),
        (
            "a valid encoding of another type",
            token,
            vec![ct, version],
            protocol::encode(&Cursor::default()).unwrap(),
            400,
            "malformed",
        ),
        (
            "over MAX_REQUEST_BYTES",
            token,
            vec![ct, version],
            vec![7; MAX_REQUEST_BYTES + 1],
            413,
            "too_large",
        ),
        (
            "inflates past MAX_DECODED_BYTES",
            token,
            vec![ct, version],
            deflate_bomb(MAX_DECODED_BYTES + 1024),
            413,
            "too_large",
        ),
        (
            "wrong content type",
            token,
            vec![("content-type", "application/json"), version],
            encoded.clone(),
            400,
            "malformed",
        ),
        (
            "garbage version header",
            token,
            vec![ct, (VERSION_HEADER, "one")],
            encoded.clone(),
            400,
            "malformed",
        ),
        (
            "another protocol version",
            token,
            vec![ct, version],
            protocol::encode(&wrong_version).unwrap(),
            426,
            "unsupported_version",
        ),
        (
            "no token",
            None,
            vec![ct, version],
            encoded.clone(),
            401,
            "unauthorized",
        ),
    ];
    for (name, token, headers, body, status, code) in cases {
        let mut req = client.post(&url).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}");
        assert_eq!(resp.text().await.unwrap(), code, "{name}");
    }
    let resp = client
        .get(&url)
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405, "GET on the sync path");
    assert_eq!(server.count("changes"), 0, "nothing refused was stored");

    // Still up, still serving.
    let health = client
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let report = phone.synced().await;
    assert_eq!(report.progress.docs_up, 1);
    assert_eq!(server.count("changes"), 1);
    let other = server.device(&server.person("worker-b", Role::GridWorker, &[GRID_1]));
    other.synced().await;
    assert_visits_once(&other.store, &hh, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_records_when_it_finished_and_the_clock_offset() {
    let server = Server::start().await;
    let person = server.person("worker-a", Role::GridWorker, &[GRID_1]);
    let mut phone = server.device(&person);
    assert_eq!(phone.store.sync_state().unwrap().last_sync_at, None);

    let started = now_ms();
    let report = phone.synced().await;
    let ended = now_ms();
    assert!(
        report.clock_offset_ms.abs() < 5_000,
        "offset {} ms on loopback",
        report.clock_offset_ms
    );
    let at = phone.store.sync_state().unwrap().last_sync_at.unwrap();
    assert!(
        started - 5_000 <= at && at <= ended + 5_000,
        "last sync at {at}, sync ran {started}..{ended}"
    );
    assert!((report.finished_at - at).abs() < 5_000);
    assert!((phone.store.now() - now_ms()).abs() < 5_000);

    // Records written now carry the corrected clock.
    let hh = phone.create(UNIT_1_1, "301");
    let created = phone.store.household(&hh).unwrap().created_at;
    assert!((created - now_ms()).abs() < 5_000);

    // A refused sync moves neither.
    std::thread::sleep(Duration::from_millis(20));
    phone.token = "0".repeat(64);
    assert!(matches!(phone.sync().await, Err(Error::Unauthorized)));
    assert_eq!(phone.store.sync_state().unwrap().last_sync_at, Some(at));

    // A later sync moves it on.
    phone.token = person.enrollment.token.clone();
    phone.synced().await;
    let later = phone.store.sync_state().unwrap().last_sync_at.unwrap();
    assert!(later > at, "{later} after {at}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_brings_the_place_tree_and_the_people() {
    let server = Server::start().await;
    let worker = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    let leader = server.device(&server.person("leader-1", Role::BuildingLeader, &[BUILDING_1]));
    assert!(worker.store.places_under(None).unwrap().is_empty());
    assert!(worker.store.people().unwrap().is_empty());
    // Without the tree, nothing can be placed.
    assert!(
        worker
            .store
            .create_household(NewHousehold {
                place_id: UNIT_1_1.into(),
                room: "301".into(),
                residency: Residency::Resident,
                housing: Housing::Owned,
                tags: vec![],
                notes: String::new(),
                members: vec![],
            })
            .is_err()
    );

    let names = |places: Vec<Place>| -> Vec<(String, String)> {
        let mut v: Vec<_> = places.into_iter().map(|p| (p.id, p.name)).collect();
        v.sort();
        v
    };
    let expected_people: BTreeSet<(String, &str)> = [
        (USER_LI_MEI, Role::GridWorker),
        (USER_WANG_QIANG, Role::GridWorker),
        (USER_ZHAO, Role::BuildingLeader),
        (USER_ADMIN, Role::Admin),
        ("worker-a", Role::GridWorker),
        ("leader-1", Role::BuildingLeader),
    ]
    .into_iter()
    .map(|(id, role)| (id.to_owned(), role.code()))
    .collect();
    for d in [&worker, &leader] {
        d.synced().await;
        let s = &d.store;
        assert_eq!(
            names(s.places_under(None).unwrap()),
            vec![(COMMUNITY.to_owned(), "幸福社区".to_owned())]
        );
        assert_eq!(
            names(s.places_under(Some(COMMUNITY)).unwrap()),
            vec![
                (GRID_1.to_owned(), "第一网格".to_owned()),
                (GRID_2.to_owned(), "第二网格".to_owned())
            ]
        );
        assert_eq!(
            names(s.places_under(Some(GRID_1)).unwrap()),
            vec![
                (BUILDING_1.to_owned(), "安置小区1栋".to_owned()),
                (BUILDING_2.to_owned(), "安置小区2栋".to_owned())
            ]
        );
        assert_eq!(
            names(s.places_under(Some(BUILDING_1)).unwrap()),
            vec![
                (UNIT_1_1.to_owned(), "1单元".to_owned()),
                (UNIT_1_2.to_owned(), "2单元".to_owned())
            ]
        );
        assert_eq!(
            d.raw_count("places"),
            linli_testkit::demo::places().len() as i64
        );
        let people: BTreeSet<(String, &str)> = s
            .people()
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.role.code()))
            .collect();
        assert_eq!(people, expected_people);
        assert!(s.people().unwrap().iter().any(|p| p.name == "李梅"));
        assert_eq!(
            s.sync_state().unwrap().reference_version,
            server.storage.reference_version().unwrap()
        );
    }

    // A place and a person added on the server arrive with the next sync, and the new
    // place can be used at once.
    admin::create_place(
        server.storage.as_ref(),
        &Place {
            id: "b-3".into(),
            kind: PlaceKind::Building,
            parent_id: Some(GRID_1.into()),
            name: "安置小区3栋".into(),
        },
    )
    .unwrap();
    server.person("worker-new", Role::GridWorker, &[GRID_2]);
    worker.synced().await;
    assert_eq!(worker.store.places_under(Some(GRID_1)).unwrap().len(), 3);
    assert_eq!(
        worker.store.people().unwrap().len(),
        expected_people.len() + 1
    );
    let hh = worker.create("b-3", "101");
    worker.synced().await;
    assert_eq!(worker.pending(), 0);
    assert_eq!(
        worker.store.households_in("b-3").unwrap()[0].id,
        hh,
        "a household in the new building"
    );
}

/// The household a building leader holds moves to another building (a grid worker corrects
/// its address) while the leader, offline, records a visit to it.
async fn a_household_moves_out_of_the_leaders_building() -> (Server, Device, Device, String, String)
{
    let server = Server::start().await;
    let worker = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    let leader = server.device(&server.person("leader-1", Role::BuildingLeader, &[BUILDING_1]));
    worker.synced().await;
    leader.synced().await;
    let hh = worker.create(UNIT_1_1, "301");
    worker.synced().await;
    leader.synced().await;
    assert_eq!(leader.store.households_in(BUILDING_1).unwrap().len(), 1);

    let visit = leader.visit(&hh);
    worker
        .store
        .update_household(
            &hh,
            HouseholdPatch {
                place_id: Some(UNIT_2_1.into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    worker.synced().await;
    (server, worker, leader, hh, visit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaders_offline_visit_survives_the_household_moving_away() {
    let (_server, worker, leader, hh, visit) =
        a_household_moves_out_of_the_leaders_building().await;
    let result = leader.sync().await;
    assert!(result.is_ok(), "the leader's sync: {result:?}");
    worker.synced().await;
    let visits = worker.store.household(&hh).unwrap().visits;
    assert!(
        visits.iter().any(|v| v.id == visit),
        "the leader's visit never reached the worker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_that_moved_away_leaves_the_leaders_building_list() {
    let (_server, _worker, leader, hh, _visit) =
        a_household_moves_out_of_the_leaders_building().await;
    let _ = leader.sync().await;
    let listed = leader.store.households_in(BUILDING_1).unwrap();
    assert!(
        listed.iter().all(|h| h.id != hh),
        "the leader still lists the household in building 1: {listed:?}"
    );
}

/// A body that is a valid encoding of another message (the server's own answer echoed
/// back), or a valid request followed by junk, is not a request and should be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_message_or_trailing_junk_is_refused() {
    let server = Server::start().await;
    let phone = server.device(&server.person("worker-a", Role::GridWorker, &[GRID_1]));
    let answer = protocol::SyncResponse {
        gone: vec![],
        erased: vec![],
        protocol: PROTOCOL_VERSION,
        server_time: now_ms(),
        acks: vec![],
        docs: vec![],
        cursor: Cursor::default(),
        more: false,
        reference: None,
    };
    let request = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: Cursor::default(),
        reference_version: 0,
        push: vec![],
        page_limit: 100,
    };
    // postcard of the request, then junk, deflated as the protocol does.
    let mut plain = Vec::new();
    {
        use std::io::Read;
        flate2::read::DeflateDecoder::new(&protocol::encode(&request).unwrap()[..])
            .read_to_end(&mut plain)
            .unwrap();
    }
    plain.extend_from_slice(b"junk");
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &plain).unwrap();
    let with_junk = z.finish().unwrap();

    let client = http_client();
    for (name, body) in [
        ("a SyncResponse", protocol::encode(&answer).unwrap()),
        ("a request with junk after it", with_junk),
    ] {
        let resp = client
            .post(format!("{}{SYNC_PATH}", server.url))
            .bearer_auth(&phone.token)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{name}");
    }
}

//! The user's places and refused documents (issue 10): grants arrive with the reference
//! data; a write outside them is refused on the phone; a document the server refused is
//! kept with its reason, not pushed again unchanged, and leaves by a fix or a discard that
//! never drops what the server acknowledged.
//!
//! The server here is a small fake on loopback speaking the real protocol: it keeps every
//! pushed document, refuses one outside its grants (the rule the real server applies, over
//! `Scope::covers`), records what each request pushed, and sends reference data with the
//! grants. The real server is driven by the Python and Kotlin binding tests.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use automerge::AutoCommit;
use common::*;
use linli_core::protocol::{
    self, Grant, PushAck, PushOutcome, ReferenceData, SyncRequest, SyncResponse,
};
use linli_core::*;

#[derive(Default)]
struct FakeState {
    grants: Vec<Grant>,
    reference_version: u64,
    docs: BTreeMap<String, AutoCommit>,
    /// The document ids each request pushed, in order.
    pushes: Vec<Vec<String>>,
}

struct FakeServer {
    state: Arc<Mutex<FakeState>>,
    url: String,
}

impl FakeServer {
    fn start(grants: &[(&str, PlaceKind)]) -> FakeServer {
        let state = Arc::new(Mutex::new(FakeState {
            reference_version: 1,
            ..FakeState::default()
        }));
        let fake = FakeServer {
            state: state.clone(),
            url: String::new(),
        };
        fake.set_grants(grants);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let body = read_request(&mut stream);
                let answer = answer(&state, &body);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n",
                    protocol::CONTENT_TYPE,
                    answer.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&answer);
            }
        });
        FakeServer { url, ..fake }
    }

    /// Changes the user's grants, as an admin would (a new reference version).
    fn set_grants(&self, grants: &[(&str, PlaceKind)]) {
        let mut s = self.state.lock().unwrap();
        s.grants = grants
            .iter()
            .map(|(id, kind)| Grant {
                place_id: (*id).into(),
                kind: *kind,
            })
            .collect();
        s.reference_version += 1;
    }

    fn config(&self) -> SyncConfig {
        SyncConfig::new(self.url.clone(), "token")
    }

    fn last_push(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .pushes
            .last()
            .cloned()
            .unwrap_or_default()
    }

    /// The server's copy of a document.
    fn doc(&self, id: &str) -> Option<AutoCommit> {
        self.state.lock().unwrap().docs.get(id).cloned()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            let mut body = buf[end + 4..].to_vec();
            while body.len() < length {
                let n = stream.read(&mut chunk).unwrap();
                body.extend_from_slice(&chunk[..n]);
            }
            return body;
        }
    }
}

/// The server's side of one round: store what is in scope, refuse the rest, send the
/// reference data when the device's is stale.
fn answer(state: &Mutex<FakeState>, body: &[u8]) -> Vec<u8> {
    let req: SyncRequest = protocol::decode(body).unwrap();
    let mut s = state.lock().unwrap();
    let scope = protocol::scope_of(&s.grants);
    let mut acks = Vec::new();
    s.pushes
        .push(req.push.iter().map(|p| p.doc_id.clone()).collect());
    for p in &req.push {
        let mut d = s.docs.get(&p.doc_id).cloned().unwrap_or_default();
        let outcome = if d.load_incremental(&p.changes).is_err() {
            PushOutcome::Invalid
        } else if !d.get_missing_deps(&[]).is_empty() {
            PushOutcome::MissingDependencies
        } else {
            match doc::describe(&d) {
                Ok((_, _, place)) if scope.covers(&place) => {
                    s.docs.insert(p.doc_id.clone(), d);
                    PushOutcome::Stored
                }
                Ok(_) => PushOutcome::OutOfScope,
                Err(_) => PushOutcome::Invalid,
            }
        };
        acks.push(PushAck {
            doc_id: p.doc_id.clone(),
            outcome,
        });
    }
    let reference = (req.reference_version != s.reference_version).then(|| ReferenceData {
        version: s.reference_version,
        places: places(),
        people: vec![],
        grants: s.grants.clone(),
    });
    let response = SyncResponse {
        protocol: req.protocol,
        server_time: 0,
        acks,
        docs: vec![],
        cursor: req.cursor,
        more: false,
        reference,
        gone: vec![],
        erased: vec![],
    };
    protocol::encode_response(&response).unwrap()
}

async fn sync(store: &Store, server: &FakeServer) -> SyncReport {
    store.sync(&server.config(), &|_| {}).await.unwrap()
}

fn grid_1() -> [(&'static str, PlaceKind); 1] {
    [(GRID_1, PlaceKind::Grid)]
}

fn refused_outside(e: Result<impl std::fmt::Debug>) {
    assert!(
        matches!(e, Err(Error::OutsideMyPlaces { field: "place" })),
        "{e:?}"
    );
}

fn incident_at(place: &str) -> NewIncident {
    NewIncident {
        category: IncidentCategory::Noise,
        description: "楼上装修噪音".into(),
        place_id: Some(place.into()),
        household_id: None,
        priority: Priority::Normal,
        assignee: None,
        dispute: None,
    }
}

fn ids(places: &[Place]) -> Vec<&str> {
    places.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test]
async fn grants_arrive_with_the_reference_data() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    // Before the first sync: no grants known, every place offered, nothing refused here.
    assert_eq!(s.my_grants().unwrap(), None);
    assert_eq!(s.my_scope().unwrap(), None);
    assert_eq!(s.my_places().unwrap().len(), places().len());
    s.create_household(household(BUILDING_9, "101", vec![]))
        .unwrap();

    let server = FakeServer::start(&grid_1());
    sync(s, &server).await;
    let grants = s.my_grants().unwrap().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].place_id, GRID_1);
    assert!(s.my_scope().unwrap().unwrap().grids.contains(GRID_1));
    let mine = s.my_places().unwrap();
    let mut got = ids(&mine);
    got.sort();
    let mut expected = vec![
        GRID_1, BUILDING_1, BUILDING_2, UNIT_1_1, UNIT_1_2, UNIT_2_1, UNIT_2_2,
    ];
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(mine[0].id, GRID_1, "parents first");

    // A new grant arrives with the next reference data.
    server.set_grants(&[(GRID_1, PlaceKind::Grid), (BUILDING_9, PlaceKind::Building)]);
    sync(s, &server).await;
    assert_eq!(s.my_places().unwrap().len(), expected.len() + 3);
}

#[tokio::test]
async fn a_write_outside_my_places_is_refused_and_writes_nothing() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    // Made before grants were known: allowed then.
    let outside = s
        .create_household(household(BUILDING_9, "101", vec![]))
        .unwrap();
    let server = FakeServer::start(&grid_1());
    sync(s, &server).await;
    let inside = s
        .create_household(household(UNIT_1_1, "301", vec![]))
        .unwrap();
    let before = fingerprint(s);

    refused_outside(s.create_household(household(BUILDING_9, "102", vec![])));
    refused_outside(s.create_household(household(UNIT_9_1, "102", vec![])));
    refused_outside(s.update_household(
        &inside,
        HouseholdPatch {
            place_id: Some(BUILDING_9.into()),
            ..HouseholdPatch::default()
        },
    ));
    refused_outside(s.record_visit(visit(&outside)));
    refused_outside(s.set_tag(&outside, CareTag::Veteran, true));
    refused_outside(s.report_incident(incident_at(GRID_2)));
    refused_outside(s.report_incident(incident_at(UNIT_9_2)));
    assert_eq!(fingerprint(s), before, "nothing written");
    // The household moved home still reads as it was.
    assert_eq!(
        s.household(&inside).unwrap().address.unit_id.as_deref(),
        Some(UNIT_1_1)
    );

    // Inside: written.
    s.record_visit(visit(&inside)).unwrap();
    s.report_incident(incident_at(UNIT_1_2)).unwrap();
    assert_eq!(
        Error::OutsideMyPlaces { field: "place" }.to_string(),
        "place is outside the user's places"
    );
}

#[tokio::test]
async fn a_refused_record_waits_for_its_fix_and_is_then_accepted() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    let id = s
        .create_household(household(
            BUILDING_9,
            "101",
            vec![member("张秀英", Relation::Head, None)],
        ))
        .unwrap();
    let server = FakeServer::start(&grid_1());
    // Screens listing refused records hear of each refusal and acceptance.
    let heard = Arc::new(Mutex::new(Vec::<DataChange>::new()));
    let sink = heard.clone();
    s.subscribe(move |c| sink.lock().unwrap().push(c.clone()));
    let heard_of = |id: &str| {
        let mut seen = heard.lock().unwrap();
        let found = seen
            .iter()
            .any(|c| c.from_sync && c.households && c.doc_ids.iter().any(|d| d == id));
        seen.clear();
        found
    };

    let report = sync(s, &server).await;
    assert!(heard_of(&id));
    assert_eq!(
        report.refused,
        vec![RefusedDoc {
            doc_id: id.clone(),
            outcome: PushOutcome::OutOfScope
        }]
    );
    let refused = s.refused_documents().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].doc_id, id);
    assert_eq!(refused[0].kind, doc::DocKind::Household);
    assert_eq!(refused[0].outcome, PushOutcome::OutOfScope);
    assert!(refused[0].label.contains("101"), "{}", refused[0].label);
    assert!(!refused[0].changed_since);

    // Not pushed again unchanged: the next syncs send nothing and report nothing.
    for _ in 0..2 {
        let report = sync(s, &server).await;
        assert!(server.last_push().is_empty());
        assert!(report.refused.is_empty());
        assert_eq!(s.refused_documents().unwrap().len(), 1);
        assert_eq!(
            s.sync_state().unwrap().pending_docs,
            1,
            "still not on the server"
        );
    }

    // The fix: into the user's places. The next sync pushes it and it is accepted.
    s.update_household(
        &id,
        HouseholdPatch {
            place_id: Some(UNIT_1_1.into()),
            ..HouseholdPatch::default()
        },
    )
    .unwrap();
    assert!(s.refused_documents().unwrap()[0].changed_since);
    heard.lock().unwrap().clear();
    let report = sync(s, &server).await;
    assert!(heard_of(&id), "accepted: no longer refused");
    assert_eq!(server.last_push(), vec![id.clone()]);
    assert!(report.refused.is_empty());
    assert!(s.refused_documents().unwrap().is_empty());
    assert_eq!(s.sync_state().unwrap().pending_docs, 0);
    let held = server.doc(&id).unwrap();
    assert_eq!(
        doc::read_household(&held)
            .unwrap()
            .address
            .unit_id
            .as_deref(),
        Some(UNIT_1_1)
    );
}

#[tokio::test]
async fn discarding_a_record_the_server_never_had_deletes_it() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    let id = s
        .create_household(household(BUILDING_9, "101", vec![]))
        .unwrap();
    let incident = s.report_incident(incident_at(GRID_2)).unwrap();
    let server = FakeServer::start(&grid_1());
    sync(s, &server).await;
    assert_eq!(s.refused_documents().unwrap().len(), 2);

    assert_eq!(s.discard_local_changes(&id).unwrap(), Discarded::Deleted);
    assert!(matches!(s.household(&id), Err(Error::NotFound { .. })));
    assert_eq!(
        s.discard_local_changes(&incident).unwrap(),
        Discarded::Deleted
    );
    assert!(s.refused_documents().unwrap().is_empty());
    assert_eq!(s.sync_state().unwrap().pending_docs, 0);
    assert!(s.households_in(BUILDING_9).unwrap().is_empty());
    sync(s, &server).await;
    assert!(server.last_push().is_empty());
    assert!(matches!(
        s.discard_local_changes(&id),
        Err(Error::NotFound { .. })
    ));
}

/// Property-ish: whatever mix of acknowledged and refused writes a household went through,
/// discarding leaves exactly the server's version, and never drops an acknowledged change.
#[tokio::test]
async fn discard_goes_back_to_the_server_version_and_never_drops_acknowledged_changes() {
    for (n, (acked_writes, refused_writes)) in [(0, 1), (1, 1), (3, 2), (5, 4), (70, 3)]
        .into_iter()
        .enumerate()
    {
        let t = open(n as u8 + 1, USER_LI_MEI);
        let s = &t.store;
        let server = FakeServer::start(&grid_1());
        sync(s, &server).await;
        let id = s
            .create_household(household(UNIT_1_1, "301", vec![]))
            .unwrap();
        for i in 0..acked_writes {
            write(s, &id, i);
            if i.is_multiple_of(2) {
                sync(s, &server).await;
            }
        }
        sync(s, &server).await;
        let acked = s.household(&id).unwrap();
        let acked_heads = sorted(s.heads(&id).unwrap());
        assert_eq!(acked_heads, server_heads(&server, &id));

        // The grant is withdrawn on the server before the next writes reach it.
        for i in 0..refused_writes {
            write(s, &id, 1000 + i);
        }
        server.set_grants(&[(GRID_2, PlaceKind::Grid)]);
        let report = sync(s, &server).await;
        assert_eq!(report.refused.len(), 1, "case {n}");
        assert_eq!(s.refused_documents().unwrap().len(), 1);

        assert_eq!(s.discard_local_changes(&id).unwrap(), Discarded::Reverted);
        assert_eq!(sorted(s.heads(&id).unwrap()), server_heads(&server, &id));
        assert_eq!(s.household(&id).unwrap(), acked, "case {n}");
        let held = server.doc(&id).unwrap();
        assert_eq!(doc::read_household(&held).unwrap(), acked);
        assert!(s.refused_documents().unwrap().is_empty());
        assert_eq!(s.sync_state().unwrap().pending_docs, 0);
        // Nothing left to push; a second discard has nothing to drop.
        sync(s, &server).await;
        assert!(server.last_push().is_empty());
        assert_eq!(s.discard_local_changes(&id).unwrap(), Discarded::Nothing);
        // History lists no dropped change.
        assert_eq!(
            s.history(&id).unwrap().len(),
            1 + acked_writes as usize,
            "case {n}"
        );
    }
}

fn write(s: &Store, id: &str, i: u32) {
    match i % 3 {
        0 => {
            s.record_visit(visit(id)).unwrap();
        }
        1 => s
            .update_household(
                id,
                HouseholdPatch {
                    notes: Some(format!("第{i}次备注")),
                    ..HouseholdPatch::default()
                },
            )
            .unwrap(),
        _ => s
            .set_tag(id, CareTag::Veteran, i.is_multiple_of(2))
            .unwrap(),
    }
}

fn sorted(mut heads: Vec<String>) -> Vec<String> {
    heads.sort();
    heads
}

fn server_heads(server: &FakeServer, id: &str) -> Vec<String> {
    let mut d = server.doc(id).unwrap();
    sorted(d.get_heads().iter().map(|h| h.to_string()).collect())
}

#[tokio::test]
async fn a_grant_that_takes_a_refused_record_sends_it_again_once() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    let id = s
        .create_household(household(BUILDING_9, "101", vec![]))
        .unwrap();
    let server = FakeServer::start(&grid_1());
    assert_eq!(sync(s, &server).await.refused.len(), 1);
    // Grants changed, but not to take it: pushed again once, refused once more, then waits.
    server.set_grants(&[(GRID_1, PlaceKind::Grid), (UNIT_1_1, PlaceKind::Unit)]);
    assert_eq!(sync(s, &server).await.refused.len(), 1);
    assert_eq!(server.last_push(), vec![id.clone()]);
    sync(s, &server).await;
    assert!(server.last_push().is_empty());
    // An admin grants its building: the same sync sends it again and the server takes it.
    server.set_grants(&[(GRID_1, PlaceKind::Grid), (BUILDING_9, PlaceKind::Building)]);
    let report = sync(s, &server).await;
    assert!(report.refused.is_empty());
    assert!(server.doc(&id).is_some());
    assert!(s.refused_documents().unwrap().is_empty());
    assert_eq!(s.sync_state().unwrap().pending_docs, 0);
}

#[tokio::test]
async fn a_refused_incident_is_fixed_by_its_place() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    let id = s.report_incident(incident_at(GRID_2)).unwrap();
    let server = FakeServer::start(&grid_1());
    sync(s, &server).await;
    let refused = s.refused_documents().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].kind, doc::DocKind::Incident);

    let before = fingerprint(s);
    refused_outside(s.set_incident_place(&id, BUILDING_9));
    assert_eq!(fingerprint(s), before);
    s.set_incident_place(&id, UNIT_1_2).unwrap();
    let moved = s.incident(&id).unwrap();
    assert_eq!(moved.grid_id, GRID_1);
    assert_eq!(moved.building_id.as_deref(), Some(BUILDING_1));
    assert_eq!(moved.unit_id.as_deref(), Some(UNIT_1_2));
    let report = sync(s, &server).await;
    assert!(report.refused.is_empty());
    assert_eq!(server.last_push(), vec![id.clone()]);
    assert!(s.refused_documents().unwrap().is_empty());
}

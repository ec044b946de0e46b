//! Short fuzz runs of everything in the domain that reads bytes from outside: the protocol
//! decoder and the document readers. Inputs are mutations of valid messages and documents
//! (flipped, inserted, deleted and truncated bytes) and documents whose fields hold values of
//! the wrong type. Each must give an error or a value, never a panic, and a decoded message
//! must encode back to an equal message.
//!
//! Inputs that once broke something are kept under `tests/fuzz-inputs/` (`request-*`,
//! `response-*`, `doc-*`) and replayed by `kept_inputs_stay_harmless`. `LINLI_HEAVY=1` runs
//! many more cases.
#![allow(clippy::unwrap_used)]

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use linli_domain::doc;
use linli_domain::protocol::{
    self, Cursor, DocChanges, DocPush, PROTOCOL_VERSION, PushAck, PushOutcome, SnapshotCursor,
    SyncRequest, SyncResponse,
};
use proptest::prelude::*;

fn cases() -> u32 {
    if std::env::var_os("LINLI_HEAVY").is_some() {
        20_000
    } else {
        256
    }
}

fn request() -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: Cursor {
            seq: 42,
            snapshot: Some(SnapshotCursor {
                upto: 40,
                after_doc: "0190aaaa-0000-7000-8000-000000000001".into(),
            }),
        },
        reference_version: 3,
        push: vec![DocPush {
            doc_id: "0190aaaa-0000-7000-8000-000000000002".into(),
            changes: household().save(),
        }],
        page_limit: 500,
    }
}

fn response() -> SyncResponse {
    SyncResponse {
        protocol: PROTOCOL_VERSION,
        server_time: 1_795_305_600_000,
        acks: vec![PushAck {
            doc_id: "d1".into(),
            outcome: PushOutcome::Stored,
        }],
        docs: vec![DocChanges {
            doc_id: "d2".into(),
            changes: household().save(),
        }],
        cursor: Cursor::default(),
        more: true,
        reference: None,
        gone: vec!["d3".into()],
        erased: vec!["d4".into()],
    }
}

/// A household document as the writers make it.
fn household() -> AutoCommit {
    use linli_domain::*;
    let mut d = AutoCommit::new();
    let address = Address {
        community_id: "c".into(),
        grid_id: "g".into(),
        micro_grid_id: None,
        building_id: Some("b".into()),
        unit_id: None,
        room: "101".into(),
    };
    let new = NewHousehold {
        place_id: "b".into(),
        room: "101".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: vec![CareTag::ElderlyAlone],
        notes: "独居".into(),
        members: vec![],
    };
    doc::init_household(&mut d, "h1", 1, &address, &new).unwrap();
    doc::put_member(
        &mut d,
        "m1",
        &NewMember {
            name: "张秀英".into(),
            relation: Relation::Head,
            birth_year: Some(1946),
            phone: Some("13812345678".into()),
            id_number: None,
        },
    )
    .unwrap();
    d.commit();
    d
}

/// Reads a document every way a device or the server does; must not panic.
fn read_all(bytes: &[u8]) {
    if let Ok(d) = AutoCommit::load(bytes) {
        let _ = doc::describe(&d);
        let _ = doc::read_household(&d);
        let _ = doc::read_incident(&d);
        let _ = doc::read_events(&d);
    }
}

/// Flips, inserts and deletes bytes at the given positions, then truncates.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)], keep: usize) -> Vec<u8> {
    for &(at, op, value) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let i = at % bytes.len();
        match op % 3 {
            0 => bytes[i] ^= value.max(1),
            1 => bytes.insert(i, value),
            _ => {
                bytes.remove(i);
            }
        }
    }
    let keep = keep % (bytes.len() + 1);
    bytes.truncate(keep.max(bytes.len().saturating_sub(keep / 8)));
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_decoder_never_panics_and_round_trips(edits in edits(), keep in any::<usize>()) {
        for (plain, is_request) in [
            (postcard::to_allocvec(&request()).unwrap(), true),
            (postcard::to_allocvec(&response()).unwrap(), false),
        ] {
            let mangled = mutate(plain, &edits, keep);
            // Compressed as a client would send it, so the postcard layer sees the damage.
            let wire = deflate(&mangled);
            if is_request {
                if let Ok(r) = protocol::decode::<SyncRequest>(&wire) {
                    let again: SyncRequest = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
                    prop_assert_eq!(again, r);
                }
            } else if let Ok(r) = protocol::decode::<SyncResponse>(&wire) {
                let again: SyncResponse = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
                prop_assert_eq!(again, r);
            }
            // And the raw bytes as they might arrive, not deflated at all.
            let _ = protocol::decode::<SyncRequest>(&mangled);
        }
    }

    #[test]
    fn damaged_documents_never_panic_a_reader(edits in edits(), keep in any::<usize>()) {
        read_all(&mutate(household().save(), &edits, keep));
        read_all(&mutate(household().save_nocompress(), &edits, keep));
    }

    #[test]
    fn fields_of_the_wrong_type_are_errors_not_panics(
        field in prop::sample::select(vec![
            "type", "v", "id", "created_at", "residency", "housing", "notes", "address",
            "members", "tags", "visits", "events", "category", "priority", "reported_at",
        ]),
        value in 0u8..5,
    ) {
        let mut d = household();
        match value {
            0 => { d.put(ROOT, field, 7_i64).unwrap(); }
            1 => { d.put(ROOT, field, "文字").unwrap(); }
            2 => { d.put_object(ROOT, field, ObjType::Map).unwrap(); }
            3 => { d.put_object(ROOT, field, ObjType::List).unwrap(); }
            _ => { d.delete(ROOT, field).unwrap(); }
        }
        d.commit();
        read_all(&d.save());
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// Every kept input still gives an error or a value, never a panic.
#[test]
fn kept_inputs_stay_harmless() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-inputs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        if name.starts_with("request-") {
            let _ = protocol::decode::<SyncRequest>(&bytes);
        } else if name.starts_with("response-") {
            let _ = protocol::decode::<SyncResponse>(&bytes);
        } else if name.starts_with("doc-") {
            read_all(&bytes);
        } else {
            continue;
        }
        n += 1;
    }
    assert!(n >= 3, "expected the kept inputs under {}", dir.display());
}

/// Writes the seed inputs kept under `tests/fuzz-inputs/` (a response sent as a request, a truncated
/// request, a request with trailing junk, a document whose members are a list, garbage).
/// Run with `cargo test -p linli-domain --test fuzz -- --ignored write_seed_inputs`.
#[test]
#[ignore]
fn write_seed_inputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    // A response where a request is expected.
    write(
        "request-is-a-response.bin",
        &protocol::encode(&response()).unwrap(),
    );
    let plain = postcard::to_allocvec(&request()).unwrap();
    write("request-truncated.bin", &deflate(&plain[..plain.len() / 2]));
    let mut junk = plain.clone();
    junk.extend_from_slice(b"junk");
    write("request-trailing-junk.bin", &deflate(&junk));
    let mut d = household();
    d.put_object(ROOT, "members", ObjType::List).unwrap();
    d.commit();
    write("doc-members-as-list.bin", &d.save());
    write(
        "doc-garbage.bin",
        b"\x85\x6f\x4a\x83garbage after the magic bytes",
    );
}

//! Short fuzz runs of every domain reader of outside bytes, on arbitrary bytes and on
//! mutations that get past the first check: the protocol decoder (`protocol::decode` of a
//! request and a response: raw bytes, and bytes DEFLATEd so that postcard sees them), the
//! strict change parser (`changes::parse`), and document loading with the document readers
//! (`AutoCommit::load`, then `doc::describe`, `read_household`, `read_incident`,
//! `read_events`), on whole documents whose body is mutated and whose checksum is then made
//! right again, so that Automerge's own reading of the columns is what is exercised.
//! Mutations of valid messages are in `fuzz.rs`, of changes applied to a document in
//! `fuzz_changes.rs`. Each must give an error or a value, never a panic.
//! `PROPTEST_CASES` sets the number of cases; `LINLI_HEAVY=1` runs many more.
#![allow(clippy::unwrap_used)]

#[path = "support/mutations.rs"]
mod mutations;
#[path = "support/sealed.rs"]
mod sealed;

use automerge::AutoCommit;
use linli_domain::changes;
use linli_domain::doc;
use linli_domain::protocol::{self, SyncRequest, SyncResponse};
use proptest::prelude::*;
use sealed::{household_body, seal_document};

fn cases() -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        n
    } else if std::env::var_os("LINLI_HEAVY").is_some() {
        100_000
    } else {
        500
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// Decodes `bytes` as both messages; a decoded message must encode back to itself.
fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(r) = protocol::decode::<SyncRequest>(bytes) {
        let again: SyncRequest = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
        prop_assert_eq!(again, r);
    }
    if let Ok(r) = protocol::decode::<SyncResponse>(bytes) {
        let again: SyncResponse = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
        prop_assert_eq!(again, r);
    }
    Ok(())
}

/// Loads a document as a phone or the server loads bytes from elsewhere (the strict parse,
/// then applied to an empty document) and reads it every way they do. Automerge's own
/// `AutoCommit::load` panics on some of these inputs (`doc-*` under
/// `tests/fixtures/crashers/`, found by the `hunt_crashers` example); neither the phone nor the server calls it on bytes from
/// elsewhere.
fn read_all(bytes: &[u8]) {
    let Ok(parsed) = changes::parse(bytes) else {
        return;
    };
    let mut d = AutoCommit::new();
    if changes::apply(&mut d, parsed).is_ok() {
        let _ = doc::describe(&d);
        let _ = doc::read_household(&d);
        let _ = doc::read_incident(&d);
        let _ = doc::read_events(&d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        decode_all(&bytes)?;
        // DEFLATEd, so that postcard reads them.
        decode_all(&deflate(&bytes))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_reader(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        read_all(&bytes);
        // Past the magic bytes: the chunk reader itself.
        let mut magic = vec![0x85, 0x6f, 0x4a, 0x83];
        magic.extend_from_slice(&bytes);
        read_all(&magic);
        // A whole chunk of arbitrary content with a valid checksum.
        read_all(&seal_document(&bytes));
    }

    #[test]
    fn sealed_mutated_documents_never_panic_a_reader(edits in mutations::edits()) {
        read_all(&sealed::mutated_document(&edits));
    }
}

/// The sealing is right: an unmutated body sealed again loads as the household.
#[test]
fn a_sealed_document_loads() {
    let mut d = AutoCommit::new();
    changes::apply(
        &mut d,
        changes::parse(&seal_document(&household_body())).unwrap(),
    )
    .unwrap();
    assert_eq!(doc::read_household(&d).unwrap().members.len(), 1);
}

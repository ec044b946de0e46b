//! Reading Automerge bytes received from elsewhere (a device's push, a server's page):
//! strictly, and once.
//!
//! Automerge's own loaders are lenient where a sync peer must not be: `load_incremental`
//! keeps the chunks before a damaged one and drops the rest with only a warning, and the
//! strict `Automerge::load_with_options(OnPartialLoad::Error)` builds a whole throwaway
//! document (and logs at ERROR, through its tracing span, whenever the changes build on ones
//! the new document lacks, the normal case for an incremental push). [`parse`] instead splits
//! the bytes into chunks and checks each: the header, its length against what is left (a
//! truncated chunk is refused, not silently dropped), the chunk itself and its checksum. The
//! result is a list of [`Change`]s to hand to `apply_changes`, which applies them in
//! dependency order and queues those whose dependencies are missing (see
//! `get_missing_deps`): whether they are missing is for the caller to judge against its copy
//! of the document, not for the parser.
//!
//! [`apply`] is the one way parsed changes reach a document. Automerge can panic on changes
//! that parse cleanly but contradict the document they are applied to (an operation naming
//! an actor or an object the document does not have, a sequence number that skips ahead),
//! and accepts changes after which the document can no longer be saved and loaded (an
//! encoding it never writes, an operation on an object the change does not depend on):
//! found by `tests/fuzz_changes.rs`, the inputs kept under
//! `tests/fixtures/crashers/`. Both are errors of [`apply`]; the document it left half
//! changed must then be thrown away by the caller (reloaded from what it stored). Loading a
//! crafted document chunk can panic too (`tests/fuzz_bytes.rs`): [`parse`] catches that.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{AutoCommit, Automerge, Change, LoadOptions, OnPartialLoad};

/// Every Automerge chunk starts with these bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Why bytes are not Automerge changes. The text names the defect, never the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an Automerge chunk")]
    NotAutomerge,
    #[error("truncated Automerge chunk")]
    Truncated,
    #[error("unknown Automerge chunk type")]
    UnknownChunkType,
    #[error("Automerge chunk fails its checksum")]
    BadChecksum,
    #[error("unreadable Automerge chunk")]
    Corrupt,
}

/// Why parsed changes could not be applied to a document. The text names the defect, never
/// the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Automerge refused them (a sequence number or author used twice, …).
    #[error("Automerge changes refused")]
    Refused,
    /// Automerge accepted them, but the document they make cannot be saved and loaded again:
    /// an encoding Automerge never writes (the root object named as an operation id), or an
    /// operation on an object its change does not depend on.
    #[error("Automerge changes make a document that does not load again")]
    DoesNotReload,
    /// Automerge panicked applying them: the changes contradict the document.
    #[error("Automerge changes contradict the document")]
    Panicked,
}

/// Applies parsed changes (see [`parse`]) to `doc`, as `apply_changes` does: changes already
/// held are skipped, those whose dependencies are missing are queued (see
/// `get_missing_deps`). Then the document is saved and loaded again, as storing it and
/// sending it on will, and must come back with the same heads. A panic inside Automerge is
/// caught and returned as [`ApplyError::Panicked`]. After any error `doc` may be half
/// changed: the caller discards it and stores nothing. Automerge's panic messages name
/// positions, counts and hashes, never a document's content, so the default panic hook
/// printing them leaks no personal data.
pub fn apply(doc: &mut AutoCommit, changes: Vec<Change>) -> Result<(), ApplyError> {
    let applied = catch_unwind(AssertUnwindSafe(|| {
        doc.apply_changes(changes)
            .map_err(|_| ApplyError::Refused)?;
        let saved = doc.save_nocompress();
        let again = Automerge::load_with_options(
            &saved,
            LoadOptions::new().on_partial_load(OnPartialLoad::Error),
        )
        .map_err(|_| ApplyError::DoesNotReload)?;
        if again.get_heads() == doc.get_heads() {
            Ok(())
        } else {
            Err(ApplyError::DoesNotReload)
        }
    }));
    applied.unwrap_or(Err(ApplyError::Panicked))
}

/// The kinds of chunk (Automerge's binary format).
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;

/// Parses concatenated Automerge chunks (the output of `save`, `save_after`, or several of
/// them joined) into their changes, refusing the whole input if any part of it is damaged.
/// Empty input is no changes.
pub fn parse(bytes: &[u8]) -> Result<Vec<Change>, ParseError> {
    let mut changes = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk_type, len) = chunk_header(rest)?;
        let (chunk, tail) = rest.split_at(len);
        read_chunk(chunk_type, chunk, &mut changes)?;
        rest = tail;
    }
    Ok(changes)
}

/// The type and the whole length (header included) of the chunk at the start of `bytes`.
fn chunk_header(bytes: &[u8]) -> Result<(u8, usize), ParseError> {
    // magic (4), checksum (4), type (1), then the data length as unsigned LEB128.
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(ParseError::NotAutomerge);
    }
    let chunk_type = *bytes.get(8).ok_or(ParseError::Truncated)?;
    let mut data_len: u64 = 0;
    // At most ten LEB128 bytes for a u64, starting after the type byte.
    for (at, shift) in (9..).zip((0..64).step_by(7)) {
        let byte = *bytes.get(at).ok_or(ParseError::Truncated)?;
        data_len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let total = usize::try_from(data_len)
                .ok()
                .and_then(|len| len.checked_add(at + 1))
                .ok_or(ParseError::Truncated)?;
            if total > bytes.len() {
                return Err(ParseError::Truncated);
            }
            return Ok((chunk_type, total));
        }
    }
    Err(ParseError::Corrupt)
}

/// Reads one whole chunk, appending its changes. Automerge's readers panic on some crafted
/// chunks whose checksum is right (a document whose columns contradict each other): such a
/// panic is caught and the chunk is `Corrupt`.
fn read_chunk(chunk_type: u8, chunk: &[u8], out: &mut Vec<Change>) -> Result<(), ParseError> {
    catch_unwind(AssertUnwindSafe(|| {
        read_chunk_unguarded(chunk_type, chunk, out)
    }))
    .unwrap_or(Err(ParseError::Corrupt))
}

fn read_chunk_unguarded(
    chunk_type: u8,
    chunk: &[u8],
    out: &mut Vec<Change>,
) -> Result<(), ParseError> {
    match chunk_type {
        CHANGE | COMPRESSED_CHANGE => {
            let change = Change::try_from(chunk).map_err(|_| ParseError::Corrupt)?;
            // The checksum is the first four bytes of the change's hash (of the uncompressed
            // change, for a compressed one); Automerge's single-change parser does not check
            // it.
            if chunk[4..8] != change.hash().0[..4] {
                return Err(ParseError::BadChecksum);
            }
            out.push(change);
        }
        DOCUMENT => {
            // A document chunk on its own: Automerge checks its checksum and heads, and a
            // lone document chunk never fails for missing dependencies.
            let doc = Automerge::load_with_options(
                chunk,
                LoadOptions::new().on_partial_load(OnPartialLoad::Error),
            )
            .map_err(|_| ParseError::Corrupt)?;
            out.extend(doc.get_changes(&[]));
        }
        // Bundles (an experimental Automerge format no device sends) are refused: a crafted
        // bundle of 171 bytes made Automerge's reader allocate over 2 GB (found by
        // `fuzz/` `parse_apply`, kept as `chunk-automerge-bundle-oom`).
        BUNDLE => return Err(ParseError::UnknownChunkType),
        _ => return Err(ParseError::UnknownChunkType),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use automerge::AutoCommit;
    use automerge::transaction::Transactable;

    /// A document with two changes, and the bytes of the second alone.
    fn two_changes() -> (AutoCommit, Vec<u8>) {
        let mut d = AutoCommit::new();
        d.put(automerge::ROOT, "a", 1).unwrap();
        let heads = d.get_heads();
        d.put(automerge::ROOT, "a", 2).unwrap();
        let second = d.save_after(&heads);
        (d, second)
    }

    #[test]
    fn reads_changes_documents_and_concatenations() {
        let (mut d, second) = two_changes();
        assert_eq!(parse(&second).unwrap().len(), 1);
        assert_eq!(parse(&d.save_after(&[])).unwrap().len(), 2);
        assert_eq!(parse(&d.save()).unwrap().len(), 2);
        assert_eq!(parse(&d.save_nocompress()).unwrap().len(), 2);
        let mut joined = d.save_after(&[]);
        joined.extend_from_slice(&second);
        assert_eq!(parse(&joined).unwrap().len(), 3);
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn parsed_changes_apply_like_load_incremental() {
        let (mut d, second) = two_changes();
        let mut first = AutoCommit::new();
        first.load_incremental(&d.save_after(&[])[..]).unwrap();
        let mut a = AutoCommit::new();
        a.apply_changes(parse(&d.save_after(&[])).unwrap()).unwrap();
        assert_eq!(a.get_heads(), d.get_heads());
        // The second change alone: queued, its dependency reported missing.
        let mut b = AutoCommit::new();
        b.apply_changes(parse(&second).unwrap()).unwrap();
        assert_eq!(b.get_missing_deps(&[]).len(), 1);
        assert!(first.get_missing_deps(&[]).is_empty());
    }

    #[test]
    fn refuses_damage_anywhere() {
        let (mut d, second) = two_changes();
        assert_eq!(parse(b"garbage"), Err(ParseError::NotAutomerge));
        let all = d.save_after(&[]);
        assert_eq!(parse(&all[..all.len() - 1]), Err(ParseError::Truncated));
        assert_eq!(parse(&all[..6]), Err(ParseError::Truncated));
        // A good chunk followed by the start of another.
        let mut cut = second.clone();
        cut.extend_from_slice(&second[..second.len() / 2]);
        assert_eq!(parse(&cut), Err(ParseError::Truncated));
        let mut bad_sum = second.clone();
        bad_sum[5] ^= 0xff;
        assert_eq!(parse(&bad_sum), Err(ParseError::BadChecksum));
        let mut bad_body = second.clone();
        let last = bad_body.len() - 1;
        bad_body[last] ^= 0x01;
        assert!(parse(&bad_body).is_err());
        let mut bad_type = second.clone();
        bad_type[8] = 9;
        assert_eq!(parse(&bad_type), Err(ParseError::UnknownChunkType));
        let mut bad_doc = d.save();
        let mid = bad_doc.len() / 2;
        bad_doc[mid] ^= 0xff;
        assert!(parse(&bad_doc).is_err());
    }
}

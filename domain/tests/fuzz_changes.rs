//! Short fuzz run of applying changes from elsewhere, the way the phone and the server do:
//! pushes made from a real household's changes, mutated field by field or byte by byte and
//! sealed again so that the strict parse accepts them (`support/mutations.rs`), applied with
//! `linli_domain::changes::apply` to an empty document or to the household as the change
//! found it, then read back every way a peer does. Nothing may panic.
//!
//! Pushes that once panicked inside Automerge are kept under `tests/fixtures/crashers/`
//! (applied to an empty document) and replayed by `kept_crashers_are_refused`; the
//! `hunt_crashers` example finds more. `PROPTEST_CASES` sets the number of cases;
//! `LINLI_HEAVY=1` runs many more.
#![allow(clippy::unwrap_used)]

#[path = "support/mutations.rs"]
mod mutations;

use automerge::AutoCommit;
use linli_domain::changes::{self, ApplyError};
use linli_domain::doc;
use proptest::prelude::*;

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

/// Applies `bytes` to `base` as a peer does and reads the result back every way the phone
/// and the server do.
fn apply_like_a_peer(base: &AutoCommit, bytes: &[u8]) -> Result<(), ApplyError> {
    let Ok(parsed) = changes::parse(bytes) else {
        return Ok(());
    };
    let mut d = base.clone();
    let old = d.get_heads();
    changes::apply(&mut d, parsed)?;
    if !d.get_missing_deps(&[]).is_empty() {
        return Ok(());
    }
    let _ = d.get_changes_meta(&old);
    let _ = doc::describe(&d);
    let _ = doc::read_household(&d);
    let _ = doc::read_incident(&d);
    let _ = d.save_after(&old);
    // What the server stores, loaded back as the next push will load it.
    let mut again = AutoCommit::load(&d.save_nocompress()).unwrap();
    assert_eq!(again.get_heads(), d.get_heads());
    let heads = d.get_heads();
    let _ = d.fork_at(&heads).unwrap();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_pushes_never_panic_a_peer(
        which in any::<usize>(),
        base in 0u8..3,
        bytewise in any::<bool>(),
        edits in mutations::edits(),
    ) {
        let Some(push) = mutations::push(which, &edits, bytewise) else {
            return Ok(());
        };
        let mut full = mutations::household();
        let all = full.get_changes(&[]);
        let base = match base {
            0 => AutoCommit::new(),
            // The household as the original change found it.
            1 => full.fork_at(all[which % all.len()].deps()).unwrap(),
            _ => full,
        };
        let _ = apply_like_a_peer(&base, &push);
    }
}

/// Every kept crasher is an error, not a panic: a crafted document (`doc-*`) or another
/// chunk (`chunk-*`) of the strict parse, a change (the others) of applying it to an empty document, after passing the
/// parse.
#[test]
fn kept_crashers_are_refused() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashers");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        if name.starts_with("doc-") {
            assert_eq!(
                changes::parse(&bytes).err(),
                Some(changes::ParseError::Corrupt)
            );
        } else if name.starts_with("chunk-") {
            assert!(changes::parse(&bytes).is_err(), "{name} parsed");
        } else {
            let parsed = changes::parse(&bytes).unwrap();
            let got = changes::apply(&mut AutoCommit::new(), parsed);
            assert!(got.is_err(), "{name} applied");
        }
        n += 1;
    }
    assert!(n >= 7, "expected the crashers under {}", dir.display());
}

/// The guard changes nothing for good changes: a whole household, then a duplicate.
#[test]
fn good_changes_apply_through_the_guard() {
    let mut full = mutations::household();
    let mut d = AutoCommit::new();
    changes::apply(&mut d, changes::parse(&full.save()).unwrap()).unwrap();
    assert_eq!(d.get_heads(), full.get_heads());
    changes::apply(&mut d, changes::parse(&full.save()).unwrap()).unwrap();
    assert_eq!(d.get_heads(), full.get_heads());
    assert_eq!(doc::read_household(&d).unwrap().members.len(), 1);
}

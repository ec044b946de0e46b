//! Hunts pushes that pass the strict parse and yet make Automerge panic when applied to an
//! empty document (a new record on the server, or one a phone does not hold yet), or leave
//! a document that cannot be saved and loaded again, and keeps the first of each kind (by
//! where Automerge panicked) under `tests/fixtures/crashers/`. Then whole documents with a
//! mutated body and a valid checksum that make `AutoCommit::load` panic (`doc-*`: the
//! strict parse must catch these).
//! The kept files are replayed by `tests/fuzz_changes.rs` (and by the core's and the
//! server's fuzz tests).
//!
//! `cargo run -p linli-domain --example hunt_crashers -- [cases]` (default 20,000).
#![allow(clippy::unwrap_used)]

#[path = "../tests/support/mutations.rs"]
mod mutations;
#[path = "../tests/support/sealed.rs"]
mod sealed;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use automerge::AutoCommit;
use linli_domain::changes;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

static WHERE: Mutex<Option<String>> = Mutex::new(None);

fn main() {
    let cases: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashers");
    std::fs::create_dir_all(&dir).unwrap();
    std::panic::set_hook(Box::new(|info| {
        // `automerge-batch-1121`: the crate (its version dropped), the file, the line.
        let at = info.location().map(|l| {
            let parts: Vec<&str> = l.file().split('/').collect();
            let file = parts.last().unwrap_or(&"?").trim_end_matches(".rs");
            let krate = parts
                .iter()
                .rposition(|p| *p == "src")
                .and_then(|i| i.checked_sub(1))
                .map(|i| parts[i].split('-').next().unwrap_or("?"))
                .unwrap_or("?");
            format!("{krate}-{file}-{}", l.line())
        });
        *WHERE.lock().unwrap() = at;
    }));
    let strategy = (
        proptest::prelude::any::<usize>(),
        proptest::prelude::any::<bool>(),
        mutations::edits(),
    );
    let mut runner = TestRunner::deterministic();
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..cases {
        let (which, bytewise, edits) = strategy.new_tree(&mut runner).unwrap().current();
        let Some(push) = mutations::push(which, &edits, bytewise) else {
            continue;
        };
        let Ok(parsed) = changes::parse(&push) else {
            continue;
        };
        // Applied, its changes derived again, saved and loaded: what a peer does next.
        let mut d = AutoCommit::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if d.apply_changes(parsed).is_err() {
                return true;
            }
            let _ = d.get_changes(&[]);
            AutoCommit::load(&d.save()).is_ok()
        }));
        let at = match outcome {
            Ok(true) => None,
            Ok(false) => Some("unloadable".to_owned()),
            Err(_) => Some(
                WHERE
                    .lock()
                    .unwrap()
                    .take()
                    .unwrap_or_else(|| "unknown".into()),
            ),
        };
        if let Some(at) = at {
            let n = found.entry(at.clone()).or_default();
            keep(&dir.join(format!("{at}.bin")), &push, *n);
            *n += 1;
        }
    }
    let mut runner = TestRunner::deterministic();
    for _ in 0..cases {
        let edits = mutations::edits().new_tree(&mut runner).unwrap().current();
        let document = sealed::mutated_document(&edits);
        if catch_unwind(|| AutoCommit::load(&document)).is_err() {
            let at = WHERE
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| "unknown".into());
            let at = format!("doc-{at}");
            let n = found.entry(at.clone()).or_default();
            keep(&dir.join(format!("{at}.bin")), &document, *n);
            *n += 1;
        }
    }
    for (at, n) in &found {
        println!("{at}: {n} of {cases} cases");
    }
}

/// Keeps the first crasher of a kind, never replacing one already kept.
fn keep(path: &std::path::Path, bytes: &[u8], n: usize) {
    if n == 0 && !path.exists() {
        std::fs::write(path, bytes).unwrap();
    }
}

//! Hunts pushes that pass the strict parse and yet make Automerge panic when applied to an
//! empty document (a new record on the server, or one a phone does not hold yet), or leave
//! a document that cannot be saved and loaded again, and keeps the first of each kind (by
//! where Automerge panicked) under `tests/fixtures/crashers/`.
//! The kept files are replayed by `tests/fuzz_changes.rs` (and by the core's and the
//! server's fuzz tests).
//!
//! `cargo run -p linli-domain --example hunt_crashers -- [cases]` (default 20,000).
#![allow(clippy::unwrap_used)]

#[path = "../tests/support/mutations.rs"]
mod mutations;

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
        let at = info.location().map(|l| {
            let file = l
                .file()
                .rsplit('/')
                .next()
                .unwrap_or("?")
                .trim_end_matches(".rs");
            format!("{file}-{}", l.line())
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
            if *n == 0 {
                std::fs::write(dir.join(format!("{at}.bin")), &push).unwrap();
            }
            *n += 1;
        }
    }
    for (at, n) in &found {
        println!("{at}: {n} of {cases} cases");
    }
}

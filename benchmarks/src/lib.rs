//! The harness shared by Linli's benchmarks (`benches/<scenario>.rs`, one file per scenario):
//!
//! - `lib.rs`: the error type, command-line options, byte baselines (gzip, DEFLATE) and
//!   `on_every_core` (setup work shared out among the cores)
//! - `board.rs`: the console's response board through the server's storage: a street of
//!   server-written incidents, the board's first page from the index, and the old way
//! - `changes.rs`: which Automerge changes a pull delivered (the morning's loss check)
//! - `console.rs`: the server's JSON API as the console calls it (report, list, notifications)
//! - `fake.rs`: deterministic fake data (households, visits, incidents, a county's places)
//! - `stats.rs`: timing statistics (median, nearest-rank p99, min, max) and table rows
//! - `machine.rs`: what the machine is and how busy it was, and a commit probe
//! - `grid.rs`: the seeded 10,000-household grid that `idle` and `first_sync` start from
//! - `server.rs`: the real sync server on loopback, its admin calls, a byte-counting relay and
//!   raw protocol rounds; every call into the server crate and the protocol is made here
//!   and in `board.rs` (the board's storage reads, which no HTTP route serves yet)
//!
//! Each scenario runs at full size under `cargo bench -p linli-benchmarks --bench <scenario>`
//! (cargo passes `--bench`) and as a smoke run with tiny sizes otherwise (e.g. built and run
//! by `cargo test --benches`). Options are `--name value` pairs, listed in each file's doc.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

pub mod board;
pub mod changes;
pub mod console;
pub mod fake;
pub mod grid;
pub mod machine;
pub mod roster;
pub mod server;
pub mod session;
pub mod stats;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub fn fail<T>(msg: impl Into<String>) -> Res<T> {
    Err(msg.into().into())
}

/// `--name value` options and whether this is a full run (`--bench`) or a smoke run.
pub struct Options {
    pub bench: bool,
    values: BTreeMap<String, String>,
    flags: BTreeSet<String>,
    read: RefCell<BTreeSet<String>>,
}

impl Options {
    /// Reads the process arguments. `flags` names the options that take no value.
    pub fn parse(flags: &[&str]) -> Res<Options> {
        let mut o = Options {
            bench: false,
            values: BTreeMap::new(),
            flags: BTreeSet::new(),
            read: RefCell::new(BTreeSet::new()),
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            if arg == "--bench" {
                o.bench = true;
            } else if let Some(name) = arg.strip_prefix("--") {
                if flags.contains(&name) {
                    o.flags.insert(name.to_owned());
                } else {
                    let v = it.next().ok_or(format!("{arg} needs a value"))?;
                    o.values.insert(name.to_owned(), v);
                }
            } else {
                return fail(format!("unexpected argument {arg}"));
            }
        }
        if !o.bench {
            eprintln!("smoke run with tiny sizes (`cargo bench` runs the full sizes)");
        }
        Ok(o)
    }

    /// A number: the option if given, else `full` in a full run and `smoke` otherwise.
    pub fn size(&self, name: &str, full: usize, smoke: usize) -> Res<usize> {
        self.read.borrow_mut().insert(name.to_owned());
        match self.values.get(name) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}").into()),
            None => Ok(if self.bench { full } else { smoke }),
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        self.read.borrow_mut().insert(name.to_owned());
        self.flags.contains(name)
    }

    /// Fails on options no scenario asked for (typos).
    pub fn check(&self) -> Res<()> {
        let read = self.read.borrow();
        match self
            .values
            .keys()
            .chain(&self.flags)
            .find(|k| !read.contains(*k))
        {
            Some(k) => fail(format!("unknown option --{k}")),
            None => Ok(()),
        }
    }
}

/// `f` over every item, the items shared out among one thread per core; results in order.
pub fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(usize, &T) -> Res<R> + Sync,
) -> Res<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                s.spawn(move || {
                    let mine = items.iter().enumerate().skip(t).step_by(threads);
                    mine.map(|(i, x)| f(i, x).map(|r| (i, r)))
                        .collect::<Res<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| "a worker thread panicked")??);
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(all)
    })?;
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// Size of `bytes` gzip'd at the default level (the JSON baselines).
pub fn gzip(bytes: &[u8]) -> Res<usize> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes)?;
    Ok(z.finish()?.len())
}

/// Size of `bytes` as raw DEFLATE at the default level, as the protocol compresses messages.
pub fn deflate(bytes: &[u8]) -> Res<usize> {
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes)?;
    Ok(z.finish()?.len())
}

pub fn met(ok: bool) -> &'static str {
    if ok { "MET" } else { "MISSED" }
}

pub fn kb(n: u64) -> String {
    format!("{:.1} KB", n as f64 / 1000.0)
}

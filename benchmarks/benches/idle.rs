//! Sync scenario `idle`: a device holding a 10,000-household grid, already synced, runs
//! `Store::sync` with nothing changed on either side. Measured: round trips, protocol body
//! bytes, HTTP bytes on the wire (headers included, counted by a loopback relay) and time.
//! Target: at most 2 KB on the wire.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench idle
//! cargo bench -p linli-benchmarks --bench idle -- --households 20000 --repeat 9
//! ```
//!
//! Options: `--households N` (10000), `--repeat N` (5; medians reported), `--seed N`. The
//! device does its first sync on tmpfs (setup) and is then copied to a disk directory. A
//! diagnostic sends the same idle round raw (server and loopback only, no device) and times
//! `Store::sync_state`. Without `--bench`: tiny sizes.

use std::time::Instant;

use linli_benchmarks::server::{self, SyncRun};
use linli_benchmarks::stats::median;
use linli_benchmarks::{Options, Res, fail, grid, machine, met};
use linli_domain::protocol::Cursor;

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let households = o.size("households", 10_000, 300)?.max(1);
    let repeat = o.size("repeat", 5, 2)?.max(1);
    let seed = o.size("seed", 1, 1)? as u64;
    o.check()?;
    machine::header("idle: Store::sync with nothing changed", o.bench);
    let rt = server::runtime()?;
    let mut grid = grid::seed(&rt, households, 1, seed)?;

    // A device that did its first sync, on tmpfs, copied onto disk.
    let t = Instant::now();
    let (device_id, token) = grid.spare()?;
    let shm = server::shm_dir()?;
    {
        let store = server::open_device(shm.path(), &device_id, &grid.reader)?;
        server::sync(&rt, &store, &grid.server, &token)?;
    }
    let dir = server::disk_dir("linli-bench-idle")?;
    server::copy_db(&shm.path().join("device.db"), &dir.path().join("device.db"))?;
    drop(shm);
    let store = server::open_device(dir.path(), &device_id, &grid.reader)?;
    let held = store.households_in(&grid.community)?.len();
    if held != households {
        return fail(format!(
            "the device holds {held} households, not {households}"
        ));
    }
    println!(
        "The device's first sync on tmpfs, copied to disk: {:.1} s.\n",
        t.elapsed().as_secs_f64()
    );

    println!("| run | rounds | body up B | body down B | HTTP up B | HTTP down B | ms |");
    println!("|---|---|---|---|---|---|---|");
    let mut runs: Vec<SyncRun> = Vec::new();
    for i in 0..repeat {
        let run = server::sync_through(&rt, &store, &grid.relay, &token)?;
        let p = &run.report.progress;
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} |",
            i + 1,
            p.rounds,
            p.bytes_up,
            p.bytes_down,
            run.http_up,
            run.http_down,
            run.secs * 1000.0
        );
        runs.push(run);
    }
    let m = |f: &dyn Fn(&SyncRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let rounds = m(&|r| r.report.progress.rounds as f64);
    let body = m(&|r| (r.report.progress.bytes_up + r.report.progress.bytes_down) as f64);
    let http = m(&|r| (r.http_up + r.http_down) as f64);
    let secs = m(&|r| r.secs);

    // Diagnostic: the same idle round sent raw, from where a full pull leaves the cursor.
    let client = server::http_client(2)?;
    let url = grid.server.sync_url();
    let reference = store.sync_state()?.reference_version;
    let full = server::pull_all(&rt, &client, &url, &token, Cursor::default(), reference)?;
    let mut raw_ms = Vec::new();
    for _ in 0..repeat.max(5) {
        let idle = server::pull_all(&rt, &client, &url, &token, full.cursor.clone(), reference)?;
        if !idle.docs.is_empty() || idle.rounds != 1 {
            return fail("an idle round carried documents");
        }
        raw_ms.extend(idle.round_ms);
    }
    let mut state_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(store.sync_state()?);
        state_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "\nMedians of {repeat}: {rounds:.0} round(s), body {body:.0} B, HTTP {http:.0} B, \
         Store::sync {:.1} ms. Target <= 2 KB on the wire: {}.",
        secs * 1000.0,
        met(http <= 2000.0)
    );
    println!(
        "Diagnostic: the same round sent raw (server + loopback, no device): median {:.1} ms; \
         Store::sync_state(): median {:.1} ms.",
        median(&raw_ms),
        median(&state_ms)
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

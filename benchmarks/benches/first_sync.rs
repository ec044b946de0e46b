//! Sync scenario `first_sync`: a fresh device (on disk, nothing held) of a grid worker runs
//! `Store::sync` against a real server holding a 10,000-household grid, end to end on
//! loopback, until the device holds and has applied every household. Measured: seconds,
//! round trips, body and HTTP bytes down. Targets: at most 1 s and 300 KB.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench first_sync
//! cargo bench -p linli-benchmarks --bench first_sync -- --households 5000
//! ```
//!
//! Options: `--households N` (10000), `--seed N`. Comparisons measured in the same run:
//! the same pull sent raw with nothing applied (server, wire and decode only); the same
//! `Store::sync` with the device on tmpfs (commits cost nothing); one durable commit on this
//! disk; and sizes: the snapshots as sent and as Automerge-compressed `save()`, DEFLATEd;
//! gzip of the households' JSON and of just their UUID ids. Without `--bench`: tiny sizes.

use std::time::Instant;

use automerge::AutoCommit;
use linli_benchmarks::machine::{self, CpuWindow};
use linli_benchmarks::stats::median;
use linli_benchmarks::{Options, Res, deflate, fail, grid, gzip, kb, met, server};
use linli_core::Household;
use linli_domain::protocol::Cursor;

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let households = o.size("households", 10_000, 300)?.max(1);
    let seed = o.size("seed", 1, 1)? as u64;
    o.check()?;
    machine::header("first_sync: a fresh device's first Store::sync", o.bench);
    let rt = server::runtime()?;
    let mut grid = grid::seed(&rt, households, 2, seed)?;

    // The measured sync: device on disk.
    let (device_id, token) = grid.spare()?;
    let dir = server::disk_dir("linli-bench-first")?;
    let store = server::open_device(dir.path(), &device_id, &grid.reader)?;
    let cpu = CpuWindow::start();
    let run = server::sync_through(&rt, &store, &grid.relay, &token)?;
    let cpu_line = cpu.report(run.secs);
    let held = store.households_in(&grid.community)?.len();
    if held != households {
        return fail(format!(
            "the device holds {held} households, not {households}"
        ));
    }
    let p = &run.report.progress;
    let per_round: Vec<String> = run
        .round_ends
        .iter()
        .scan(0.0, |prev, t| {
            let d = t - *prev;
            *prev = *t;
            Some(format!("{d:.2}"))
        })
        .collect();
    println!(
        "Store::sync, device on disk: {:.2} s, {} rounds, {} documents down; body down {} B, \
         up {} B; HTTP down {} B, up {} B.",
        run.secs, p.rounds, p.docs_down, p.bytes_down, p.bytes_up, run.http_down, run.http_up
    );
    println!("Seconds per round: {}", per_round.join(" "));
    println!("During it {cpu_line}.\n");

    // Comparison 1: the same pull, nothing applied.
    let client = server::http_client(2)?;
    let t = Instant::now();
    let pulled = server::pull_all(
        &rt,
        &client,
        &grid.server.sync_url(),
        &token,
        Cursor::default(),
        0,
    )?;
    let raw_secs = t.elapsed().as_secs_f64();
    println!(
        "Pull only (server + loopback + decode, nothing applied): {raw_secs:.2} s, {} rounds, \
         {} documents, {} B down; median round {:.1} ms.",
        pulled.rounds,
        pulled.docs.len(),
        pulled.body_down,
        median(&pulled.round_ms)
    );

    // Comparison 2: the same sync with the device on tmpfs.
    let (device2, token2) = grid.spare()?;
    let shm = server::shm_dir()?;
    let store2 = server::open_device(shm.path(), &device2, &grid.reader)?;
    let cpu = CpuWindow::start();
    let run2 = server::sync_through(&rt, &store2, &grid.relay, &token2)?;
    println!(
        "Same Store::sync, device on tmpfs: {:.2} s; {}.",
        run2.secs,
        cpu.report(run2.secs)
    );
    drop(store2);
    let probe = server::disk_dir("linli-bench-probe")?;
    let commit = machine::commit_ms(probe.path(), 100)?;
    println!(
        "One commit (WAL, synchronous=FULL) on this disk: median {commit:.2} ms; {} documents \
         committed one by one would take {:.1} s.\n",
        p.docs_down,
        commit * p.docs_down as f64 / 1000.0
    );

    // Sizes: the snapshots as the server sends them, and what else could carry the grid.
    let (mut sent, mut compressed, mut heads) = (Vec::new(), Vec::new(), 0usize);
    let (mut t_load, mut t_save) = (0.0, 0.0);
    for (_, bytes) in &pulled.docs {
        let t = Instant::now();
        let mut d = AutoCommit::load(bytes)?;
        t_load += t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(d.save_nocompress());
        t_save += t.elapsed().as_secs_f64();
        heads += d.get_heads().len();
        compressed.extend(d.save());
        sent.extend_from_slice(bytes);
    }
    let n = pulled.docs.len().max(1) as f64;
    let records: Vec<Household> = grid
        .household_ids
        .iter()
        .map(|id| grid.seed_store.household(id))
        .collect::<Result<_, _>>()?;
    let json = serde_json::to_vec(&records)?;
    let mut ids: Vec<&str> = Vec::new();
    for h in &records {
        ids.push(&h.id);
        ids.extend(h.members.iter().map(|m| m.id.as_str()));
        ids.extend(h.visits.iter().map(|v| v.id.as_str()));
    }
    let (gz_json, gz_ids) = (gzip(&json)?, gzip(&serde_json::to_vec(&ids)?)?);
    println!("| what | bytes |");
    println!("|---|---|");
    println!("| snapshots as sent, raw | {} |", sent.len());
    println!("| … DEFLATEd | {} |", deflate(&sent)?);
    println!(
        "| the same documents as save() (Automerge-compressed), DEFLATEd | {} |",
        deflate(&compressed)?
    );
    println!(
        "| {heads} head hashes (32 B each, incompressible) | {} |",
        32 * heads
    );
    println!(
        "| JSON of the {} households, raw | {} |",
        records.len(),
        json.len()
    );
    println!("| … gzip | {gz_json} |");
    println!("| gzip of just their {} UUID ids | {gz_ids} |", ids.len());
    println!(
        "\nAutomerge per document: load {:.3} ms, save_nocompress() {:.3} ms.",
        1000.0 * t_load / n,
        1000.0 * t_save / n
    );
    println!(
        "\n{households} households: {:.2} s, {} rounds, body down {} ({} B), HTTP down {} B. \
         Targets <= 1 s: {}; <= 300 KB: {}. Pull only {raw_secs:.2} s; device on tmpfs {:.2} s; \
         gzip(JSON) {gz_json} B; gzip(ids) {gz_ids} B.",
        run.secs,
        p.rounds,
        kb(p.bytes_down),
        p.bytes_down,
        run.http_down,
        met(run.secs <= 1.0),
        met(p.bytes_down <= 300_000),
        run2.secs
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

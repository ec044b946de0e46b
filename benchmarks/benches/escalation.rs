//! Server scenario `escalation`: how soon after an incident misses its response target (15
//! minutes from the server's receipt, nobody accepted) the server's sweep escalates it. The
//! server runs with its sweep at the configured interval (default 5 s); incidents are
//! reported through the JSON API, then the server's clock is moved forward (an injected
//! clock: real time plus an offset) so that their deadlines pass one second later, and the
//! console's notification feed is polled every 20 ms. Measured per incident: the time from
//! its deadline to the escalation event (both on the server's clock), and to the console
//! seeing it. Target: within 10 s.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench escalation
//! cargo bench -p linli-benchmarks --bench escalation -- --rounds 10 --sweep-every 2
//! ```
//!
//! Options: `--rounds N` (6; each round's deadlines fall at a different phase of the sweep),
//! `--incidents N` (20 per round), `--sweep-every S` (5). Without `--bench`: 1 round of 3.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use linli_benchmarks::server::{self, ServerDb};
use linli_benchmarks::stats::median;
use linli_benchmarks::{Options, Res, console, fail, machine, met};
use linli_testkit::demo::{BUILDING_1, COMMUNITY, places};

fn now() -> i64 {
    linli_sync_server::workflow::system_now()
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let rounds = o.size("rounds", 6, 1)?.max(1);
    let per_round = o.size("incidents", 20, 3)?.max(1);
    let sweep_secs = o.size("sweep-every", 5, 1)?.max(1) as u64;
    o.check()?;
    machine::header(
        "escalation: from a missed deadline to the escalation",
        o.bench,
    );

    // The server's clock: real time plus an offset the scenario moves forward.
    let offset = Arc::new(AtomicI64::new(0));
    let clock = {
        let offset = offset.clone();
        Arc::new(move || now() + offset.load(Ordering::SeqCst))
    };
    let dir = server::disk_dir("linli-bench-escalation")?;
    let db = ServerDb::open_with_clock(&dir.path().join("server.db"), clock)?;
    db.places(&places())?;
    db.user(
        "zhao",
        "赵楼长",
        linli_domain::Role::BuildingLeader,
        COMMUNITY,
        BUILDING_1,
    )?;
    let (_, leader) = db.enroll("zhao")?;
    let (_, admin) = db.community_admin("chen", COMMUNITY)?;
    let server = db.serve_with_sweep(Duration::from_secs(sweep_secs))?;
    let rt = server::runtime()?;
    let client = server::http_client(4)?;

    let (mut to_event, mut to_seen) = (Vec::new(), Vec::new());
    let mut after = 0;
    for round in 0..rounds {
        let mut wanted = BTreeMap::new();
        for i in 0..per_round {
            let text = format!("消防通道停车（第{round}轮第{i}件）");
            let id = console::report(&rt, &client, &server, &leader, BUILDING_1, &text)?;
            wanted.insert(id, 0i64);
        }
        for (id, respond_by) in console::response_deadlines(&rt, &client, &server, &admin)? {
            if let Some(d) = wanted.get_mut(&id) {
                *d = respond_by;
            }
        }
        let Some(&latest) = wanted.values().max() else {
            return fail("no deadlines");
        };
        // Every deadline of the round passes a little later, each round at another phase of
        // the sweep's period (rounds would otherwise all start just after a pass).
        let phase = (round as u64 * sweep_secs * 1_000 / rounds as u64) as i64;
        offset.store(latest - (now() + 1_000 + phase), Ordering::SeqCst);
        let moved = offset.load(Ordering::SeqCst);
        let started = Instant::now();
        while !wanted.is_empty() {
            if started.elapsed() > Duration::from_secs(60 + 3 * sweep_secs) {
                return fail(format!("{} incident(s) never escalated", wanted.len()));
            }
            for (n, incident, at) in console::notifications(&rt, &client, &server, &admin, after)? {
                after = after.max(n);
                if let Some(deadline) = wanted.remove(&incident) {
                    to_event.push((at - deadline) as f64 / 1000.0);
                    // The wall time the deadline passed is the deadline less the offset.
                    to_seen.push((now() - (deadline - moved)) as f64 / 1000.0);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    let stats = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        (
            median(xs),
            xs.first().copied().unwrap_or(0.0),
            xs.last().copied().unwrap_or(0.0),
        )
    };
    let (event_med, event_min, event_max) = stats(&mut to_event);
    let (seen_med, _, seen_max) = stats(&mut to_seen);
    println!("{rounds} round(s) × {per_round} incidents; sweep every {sweep_secs} s\n");
    println!("| measure | n | median s | min s | max s |");
    println!("|---|---|---|---|---|");
    println!(
        "| deadline → escalation event (server clock) | {} | {event_med:.2} | {event_min:.2} | {event_max:.2} |",
        to_event.len()
    );
    println!(
        "| deadline → seen by the console (polling every 20 ms) | {} | {seen_med:.2} | – | {seen_max:.2} |",
        to_seen.len()
    );
    println!(
        "\nTarget: every escalation within 10 s of its deadline: {} (worst {event_max:.2} s; the sweep's period bounds it at {sweep_secs} s plus the pass).",
        met(event_max <= 10.0)
    );
    Ok(())
}

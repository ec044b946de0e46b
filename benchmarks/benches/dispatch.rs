//! Console scenario `dispatch`: how soon an order dispatched on the admin console reaches the
//! assignee's phone. A grid worker's phone (a real device store) is online and holds the long
//! poll (`Store::wait_for_changes`), syncing whenever it returns, as the app does. Each round,
//! a community admin signed in to the console reports an incident at a building of the
//! worker's grid (热线登记) and accepts it, the phone syncs it, and then the admin dispatches
//! it to the worker through the incident page's form. Measured: from sending the dispatch
//! form until the phone's store holds the incident as dispatched with its user as handler.
//! Target: ≤ 5 s.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench dispatch
//! cargo bench -p linli-benchmarks --bench dispatch -- --rounds 50
//! ```
//!
//! Options: `--rounds N` (20). Without `--bench`: 3 rounds.

use std::time::{Duration, Instant};

use linli_benchmarks::server::{self, ServerDb};
use linli_benchmarks::session::Session;
use linli_benchmarks::stats::{self, stats};
use linli_benchmarks::{Options, Res, fail, machine, met};
use linli_core::{IncidentStatus, Store, SyncConfig};
use linli_testkit::demo::{BUILDING_1, COMMUNITY, GRID_1, places};

const PASSWORD: &str = "dispatch-bench-password";
/// How long the phone's long poll waits before it asks again.
const WAIT: Duration = Duration::from_secs(25);

/// Whether the phone holds `id` dispatched to `user`.
fn holds(store: &Store, id: &str, user: &str) -> Res<bool> {
    let Ok(i) = store.incident(id) else {
        return Ok(false);
    };
    let derived = linli_core::lifecycle::derive(&i.events);
    Ok(i.status == IncidentStatus::Dispatched && derived.handler.as_deref() == Some(user))
}

/// The phone's loop until it holds the dispatch: wait for changes, sync, look.
async fn phone(store: &Store, config: &SyncConfig, id: &str, user: &str) -> Res<Instant> {
    loop {
        if store.wait_for_changes(config, WAIT).await? {
            store.sync(config, &|_| {}).await?;
            if holds(store, id, user)? {
                return Ok(Instant::now());
            }
        }
    }
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let rounds = o.size("rounds", 20, 3)?.max(1);
    o.check()?;
    machine::header(
        "dispatch: from the console's dispatch to the assignee's phone",
        o.bench,
    );

    let dir = server::disk_dir("linli-bench-dispatch")?;
    let db = ServerDb::open(&dir.path().join("server.db"))?;
    db.places(&places())?;
    let (device_id, token) = db.worker("li", COMMUNITY, GRID_1)?;
    db.community_admin("chen", COMMUNITY)?;
    linli_sync_server::console::set_password(db.storage(), "chen", PASSWORD)?;
    let server = db.serve()?;
    let rt = server::runtime()?;
    let phone_dir = server::shm_dir()?;
    let store = server::open_device(phone_dir.path(), &device_id, "li")?;
    server::sync(&rt, &store, &server, &token)?;
    let config = SyncConfig::new(server.url(), &token);
    let console = Session::sign_in(&rt, &server.url(), "chen", PASSWORD)?;

    let mut samples = Vec::with_capacity(rounds);
    let window = machine::CpuWindow::start();
    let started = Instant::now();
    for round in 0..rounds {
        let text = format!("居民来电：楼道堆物（第{round}件）");
        let (status, to) = rt.block_on(console.post(
            "/admin/report",
            &[
                ("place_id", BUILDING_1),
                ("category", "safety_hazard"),
                ("priority", "normal"),
                ("description", &text),
                ("contact", "来电居民"),
            ],
        ))?;
        let Some(id) = to
            .filter(|_| status == 303)
            .and_then(|l| l.strip_prefix("/admin/incidents/").map(str::to_owned))
        else {
            return fail(format!("the report was answered {status}"));
        };
        let moves = format!("/admin/incidents/{id}/moves");
        let (status, _) =
            rt.block_on(console.post(&moves, &[("action", "accept"), ("note", "")]))?;
        if status != 303 {
            return fail(format!("the accept was answered {status}"));
        }
        server::sync(&rt, &store, &server, &token)?;
        if holds(&store, &id, "li")? {
            return fail("dispatched before the dispatch");
        }
        let sent = rt.block_on(async {
            let listening = phone(&store, &config, &id, "li");
            let dispatching = async {
                // Let the phone's wait reach the server (it would answer at once otherwise).
                tokio::time::sleep(Duration::from_millis(200)).await;
                let sent = Instant::now();
                let (status, _) = console
                    .post(
                        &moves,
                        &[
                            ("action", "dispatch"),
                            ("target", "user:li"),
                            ("note", "请核实"),
                        ],
                    )
                    .await?;
                if status != 303 {
                    return fail(format!("the dispatch was answered {status}"));
                }
                Ok(sent)
            };
            let within = tokio::time::timeout(Duration::from_secs(60), async {
                tokio::join!(listening, dispatching)
            });
            match within.await {
                Ok((Ok(held), Ok(sent))) => Ok(held.saturating_duration_since(sent)),
                Ok((Err(e), _)) | Ok((_, Err(e))) => Err(e),
                Err(_) => fail("the phone never held the dispatch"),
            }
        })?;
        samples.push(sent);
    }
    let cpu = window.report(started.elapsed().as_secs_f64());

    println!("{rounds} dispatch(es), one phone holding the long poll\n");
    stats::table_header();
    let s = stats(&samples);
    stats::row("console dispatch → the phone's store holds it", &s);
    println!("\nWindow: {cpu}.");
    println!(
        "\nTarget: ≤ 5 s: {} (max {} ms, median {} ms).",
        met(s.max.as_secs_f64() <= 5.0),
        stats::ms(s.max),
        stats::ms(s.median)
    );
    Ok(())
}

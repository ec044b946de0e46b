//! Sync scenario `morning`: a county's devices sync at once. 330 grids (33 communities of 10)
//! with 10 grid workers each = 3,300 enrolled devices, each with its own token; each grid
//! holds 40 households from yesterday. Every device pushes its morning's 20 changes (made
//! through a real `Store`: 1 new household and a member, a visit and a phone change on 5
//! households it shares with its neighbours, 4 care-tag toggles, an incident reported,
//! accepted, started and resolved) and pulls its grid, 128 requests in flight, against the
//! real server on loopback. Measured: wall time, requests/s, latency percentiles, errors and
//! changes lost. Targets: all done within 30 s, p99 within 1 s, no errors, nothing lost.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench morning
//! cargo bench -p linli-benchmarks --bench morning -- --concurrency 32
//! cargo bench -p linli-benchmarks --bench morning -- --server-on-shm   # diagnostic
//! ```
//!
//! Options: `--grids N` (330), `--devices-per-grid N` (10), `--grid-households N` (40),
//! `--concurrency N` (128), `--seed N`, `--server-on-shm` (server database on tmpfs).
//! Setup (not timed): yesterday's households are written by each community's admin device and
//! pushed with `Store::sync`; each device's morning is prepared with its own `Store` on tmpfs
//! and its request encoded. Timed: the requests in shuffled order from one HTTP client
//! (`POST /v1/sync` as the device sends it), following `more`. Verified afterwards through
//! the protocol only: a full pull per grid holds every pushed change, and a catch-up pull per
//! grid from yesterday's cursor holds every change the grid's other devices pushed. Without
//! `--bench`: tiny sizes.

use std::collections::HashMap;
use std::time::Instant;

use automerge::ChangeHash;
use linli_benchmarks::fake::{self, Rng};
use linli_benchmarks::machine::{self, CpuWindow};
use linli_benchmarks::server::{self, FirstRequest, ServerDb, pull_all, request};
use linli_benchmarks::{Options, Res, changes, fail, met};
use linli_core::IncidentAction::{Accept, Resolve, Start};
use linli_core::{CareTag, MemberPatch, Relation};
use linli_domain::protocol::{Cursor, DocPush};

const CHANGES_PER_DEVICE: usize = 20;

struct Device {
    grid: usize,
    k: usize,
    id: String,
    user: String,
    token: String,
}

/// A device's morning, prepared before anything is timed.
struct Plan {
    grid: usize,
    k: usize,
    first: FirstRequest,
    /// Per pushed document, the hashes of its new changes.
    expected: Vec<(String, Vec<ChangeHash>)>,
}

fn plan(
    dev: &Device,
    grid: &fake::Grid,
    base: &[(String, Vec<u8>)],
    places: &[linli_core::Place],
    cursor: &Cursor,
    reference: u64,
    seed: u64,
) -> Res<Plan> {
    let dir = server::shm_dir()?;
    let store = server::open_device(dir.path(), &dev.id, &dev.user)?;
    store.put_places(places)?;
    let mut rng = Rng(seed);
    // Device k edits households 4k..4k+4 of its grid: neighbours share one.
    let picks: Vec<&(String, Vec<u8>)> = (0..5)
        .map(|j| &base[(dev.k * 4 + j) % base.len()])
        .collect();
    let mut heads = Vec::new();
    for (id, bytes) in &picks {
        store.import_changes(id, bytes)?;
        heads.push(store.heads(id)?);
    }
    let unit = &grid.units[dev.k % grid.units.len()];
    let new_hh =
        store.create_household(fake::household(&mut rng, unit, (2600 + dev.k).to_string()))?;
    let now = store.now();
    for (id, _) in &picks {
        store.record_visit(fake::visit(&mut rng, id, Some(now)))?;
        let m = store.household(id)?.members[0].id.clone();
        let patch = MemberPatch {
            phone: Some(Some(fake::phone(&mut rng))),
            ..MemberPatch::default()
        };
        store.update_member(id, &m, patch)?;
    }
    for (id, _) in &picks[..4] {
        let tag = *rng.pick(CareTag::ALL);
        store.set_tag(id, tag, !store.household(id)?.tags.contains(&tag))?;
    }
    let building = &grid.buildings[dev.k % grid.buildings.len()];
    let incident = store.report_incident(fake::incident(&mut rng, Some(building), None))?;
    let category = store.incident(&incident)?.category;
    for action in [Accept, Start, Resolve] {
        store.move_incident_with(&incident, action, fake::move_detail(category, action, ""))?;
    }
    let child = fake::member(&mut rng, Relation::Child, 2012, false);
    store.add_member(&new_hh, child)?;

    let (mut push, mut expected) = (Vec::new(), Vec::new());
    let edited = picks
        .iter()
        .zip(&heads)
        .map(|((id, bytes), h)| (id.clone(), bytes.as_slice(), h.clone()));
    let created = [new_hh, incident]
        .into_iter()
        .map(|id| (id, &[][..], Vec::new()));
    for (id, base, since) in edited.chain(created) {
        let changes = store.changes_since(&id, &since)?;
        expected.push((id.clone(), changes::added(base, &changes)?));
        let doc_id = id;
        push.push(DocPush { doc_id, changes });
    }
    let total: usize = expected.iter().map(|(_, h)| h.len()).sum();
    if total != CHANGES_PER_DEVICE {
        return fail(format!(
            "a device made {total} changes, not {CHANGES_PER_DEVICE}"
        ));
    }
    let (token, pushes) = (dev.token.clone(), push.len());
    let body = server::encode(&request(cursor.clone(), reference, push))?;
    let first = FirstRequest {
        token,
        body,
        pushes,
    };
    let (grid, k) = (dev.grid, dev.k);
    Ok(Plan {
        grid,
        k,
        first,
        expected,
    })
}

fn main() -> Res<()> {
    let o = Options::parse(&["server-on-shm"])?;
    let grids = o.size("grids", 330, 4)?.max(1);
    let per_grid = o.size("devices-per-grid", 10, 3)?.max(1);
    let grid_households = o.size("grid-households", 40, 12)?.max(5);
    let concurrency = o.size("concurrency", 128, 8)?.max(1);
    let seed = o.size("seed", 1, 1)? as u64;
    let on_shm = o.flag("server-on-shm");
    o.check()?;
    machine::header("morning: a county's devices sync at once", o.bench);
    let rt = server::runtime()?;
    let t_setup = Instant::now();

    // Places, people and devices first: the devices' cursors must come after every grant.
    let shm = server::shm_dir()?;
    let shm_db = shm.path().join("server.db");
    let db = ServerDb::open(&shm_db)?;
    let county = fake::county(grids, 10, 2);
    let (mut admins, mut devices, mut grid_list) = (Vec::new(), Vec::new(), Vec::new());
    for (c, community) in county.iter().enumerate() {
        db.places(&community.places)?;
        admins.push(db.community_admin(&format!("{}-admin", community.id), &community.id)?);
        for grid in &community.grids {
            for k in 0..per_grid {
                let user = format!("{}-w{k}", grid.id);
                let (id, token) = db.worker(&user, &community.id, &grid.id)?;
                devices.push(Device {
                    grid: grid_list.len(),
                    k,
                    id,
                    user,
                    token,
                });
            }
            grid_list.push((c, grid));
        }
    }
    // Yesterday: each community's admin device writes its grids' households and syncs.
    let setup_server = db.serve()?;
    let mut rng = Rng(seed.wrapping_add(20));
    let mut bases: Vec<Vec<(String, Vec<u8>)>> = vec![Vec::new(); grid_list.len()];
    let mut reference = 0;
    for (c, community) in county.iter().enumerate() {
        let dir = server::shm_dir()?;
        let (device, token) = &admins[c];
        let store = server::open_device(dir.path(), device, &format!("{}-admin", community.id))?;
        store.put_places(&community.places)?;
        let now = store.now();
        for (g, (_, grid)) in grid_list.iter().enumerate().filter(|(_, (gc, _))| *gc == c) {
            for i in 0..grid_households {
                let unit = &grid.units[i % grid.units.len()];
                let id = store.create_household(fake::household(
                    &mut rng,
                    unit,
                    fake::room(i / grid.units.len(), 4),
                ))?;
                if rng.chance(33) {
                    store.record_visit(fake::visit_this_week(&mut rng, &id, now))?;
                }
                let bytes = store.changes_since(&id, &[])?;
                bases[g].push((id, bytes));
            }
        }
        if !server::sync(&rt, &store, &setup_server, token)?
            .refused
            .is_empty()
        {
            return fail("yesterday's push was refused");
        }
        reference = store.sync_state()?.reference_version;
    }
    // Where yesterday left every device's pull: the end of a full pull.
    let client = server::http_client(4)?;
    let setup_url = setup_server.sync_url();
    let yesterday = pull_all(
        &rt,
        &client,
        &setup_url,
        &devices[0].token,
        Cursor::default(),
        reference,
    )?
    .cursor;
    drop(setup_server);
    drop(db);
    let t_seed = t_setup.elapsed().as_secs_f64();

    // Every device's morning, with real stores on tmpfs, on every core.
    let t_plan = Instant::now();
    let plans = linli_benchmarks::on_every_core(&devices, |i, d| {
        let (c, grid) = grid_list[d.grid];
        let seed = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
        plan(
            d,
            grid,
            &bases[d.grid],
            &county[c].places,
            &yesterday,
            reference,
            seed,
        )
    })?;
    let t_plans = t_plan.elapsed().as_secs_f64();

    // The server the devices meet.
    let server_dir = if on_shm {
        server::shm_dir()?
    } else {
        server::disk_dir("linli-bench-morning")?
    };
    let path = server_dir.path().join("server.db");
    server::copy_db(&shm_db, &path)?;
    drop(shm);
    let server = ServerDb::open(&path)?.serve()?;
    let mean_body =
        plans.iter().map(|p| p.first.body.len()).sum::<usize>() as f64 / plans.len() as f64;
    println!(
        "Setup: {} communities, {} devices, {} households seeded in {t_seed:.1} s; mornings \
         planned in {t_plans:.1} s on every core (mean request {mean_body:.0} B); server \
         database on {}.\n",
        county.len(),
        plans.len(),
        grids * grid_households,
        if on_shm { "tmpfs (diagnostic)" } else { "disk" }
    );

    // The timed part.
    let url = server.sync_url();
    let mut order: Vec<usize> = (0..plans.len()).collect();
    Rng(seed.wrapping_add(30)).shuffle(&mut order);
    let requests: Vec<FirstRequest> = order.iter().map(|&i| plans[i].first.clone()).collect();
    println!("Load average before the timed part: {}", machine::load());
    let cpu = CpuWindow::start();
    let t0 = Instant::now();
    let outcomes = server::load(&rt, &url, requests, concurrency, reference)?;
    let wall = t0.elapsed().as_secs_f64();
    println!("During the timed part {}.", cpu.report(wall));

    let sum = server::Summary::of(&outcomes);
    for e in &sum.first_errors {
        println!("error: {e}");
    }

    // Nothing lost, seen through the protocol: per grid, a full pull holds every change
    // pushed, and a catch-up pull from yesterday holds every change of the other devices.
    let t_check = Instant::now();
    let check = server::http_client(4)?;
    let (mut pushed, mut lost, mut others, mut others_lost) = (0, 0, 0, 0);
    for (g, base) in bases.iter().enumerate() {
        let grid_plans: Vec<&Plan> = plans.iter().filter(|p| p.grid == g).collect();
        let Some(p0) = grid_plans.iter().find(|p| p.k == 0) else {
            continue;
        };
        let base: HashMap<&str, &[u8]> = base
            .iter()
            .map(|(id, b)| (id.as_str(), b.as_slice()))
            .collect();
        let full = changes::by_doc(
            pull_all(
                &rt,
                &check,
                &url,
                &p0.first.token,
                Cursor::default(),
                reference,
            )?
            .docs,
        );
        let all: Vec<_> = grid_plans.iter().flat_map(|p| &p.expected).collect();
        pushed += all.iter().map(|(_, h)| h.len()).sum::<usize>();
        lost += changes::missing(&all, &full, &HashMap::new())?;
        let caught = changes::by_doc(
            pull_all(
                &rt,
                &check,
                &url,
                &p0.first.token,
                yesterday.clone(),
                reference,
            )?
            .docs,
        );
        let theirs: Vec<_> = grid_plans
            .iter()
            .filter(|p| p.k != 0)
            .flat_map(|p| &p.expected)
            .collect();
        others += theirs.iter().map(|(_, h)| h.len()).sum::<usize>();
        others_lost += changes::missing(&theirs, &caught, &base)?;
    }
    drop(server);

    println!(
        "{} of {} devices finished; {} requests; {} B up, {} B down.",
        sum.finished,
        plans.len(),
        sum.requests,
        sum.up,
        sum.down
    );
    println!(
        "Checked in {:.1} s: {pushed} pushed changes in the full pulls, {lost} missing; \
         {others} changes of other devices in the catch-up pulls, {others_lost} missing.\n",
        t_check.elapsed().as_secs_f64()
    );
    println!(
        "{} devices, {concurrency} in flight: wall {wall:.1} s, {:.0} req/s; p50 {:.0} ms, \
         p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms; errors {}; lost {}. Targets <= 30 s: {}; \
         p99 <= 1 s: {}; 0 errors: {}; 0 lost: {}.",
        plans.len(),
        sum.requests as f64 / wall,
        sum.p50,
        sum.p90,
        sum.p99,
        sum.max,
        sum.errors,
        lost + others_lost,
        met(wall <= 30.0),
        met(sum.p99 <= 1000.0),
        met(sum.errors == 0),
        met(lost + others_lost == 0)
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

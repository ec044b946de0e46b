//! Store scenario `open_list`: opening a store that holds 10,000 households and 100,000
//! visits and listing one building (`Store::open` then `Store::households_in`), the first
//! screen a grid worker sees. Target: open + first list within 50 ms.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench open_list
//! cargo bench -p linli-benchmarks --bench open_list -- --households 20000 --reps 50
//! ```
//!
//! Options: `--households N` (10000), `--visits-per-household N` (10), `--reps N` (20),
//! `--seed N`. The database is built through the public API (`create_household`,
//! `record_visit`) on tmpfs, where fsync is free, then copied to a disk directory; each rep
//! opens a new `Store` on the copy (same process, so the page cache is warm), lists a random
//! building of 100 households and drops the store. Without `--bench`: tiny sizes.

use std::time::{Duration, Instant};

use linli_benchmarks::fake::{self, DAY_MS, Rng};
use linli_benchmarks::stats::{build_line, row, stats, table_header};
use linli_benchmarks::{Options, Res, fail, machine, met, server};

const PER_BUILDING: usize = 100;
const DEVICE: &str = "0190f5a0-0000-7000-8000-00000000be0c";

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let households = o.size("households", 10_000, 200)?.max(1);
    let visits = o.size("visits-per-household", 10, 2)?;
    let reps = o.size("reps", 20, 3)?;
    let mut rng = Rng(o.size("seed", 1, 1)? as u64);
    o.check()?;
    machine::header("open_list: Store::open + households_in", o.bench);

    // Build on tmpfs through the public API.
    let started = Instant::now();
    let shm = server::shm_dir()?;
    let store = server::open_device(shm.path(), DEVICE, "w1")?;
    let used = households.div_ceil(PER_BUILDING);
    let community = fake::community("c01", "幸福社区", used.div_ceil(10), 10);
    store.put_places(&community.places)?;
    let buildings: Vec<(&String, &[String])> = community
        .grids
        .iter()
        .flat_map(|g| g.buildings.iter().zip(g.units.chunks(2)))
        .take(used)
        .collect();
    let now = store.now();
    let (mut creates, mut records) = (Vec::new(), Vec::new());
    for n in 0..households {
        let (_, units) = buildings[n / PER_BUILDING];
        let k = n % PER_BUILDING;
        let new = fake::household(&mut rng, &units[k / 50], fake::room(k % 50, 2));
        let t = Instant::now();
        let id = store.create_household(new)?;
        creates.push(t.elapsed());
        for v in 0..visits {
            let at = now - (v as i64 * 9 + 1) * DAY_MS - rng.below(600) as i64 * 60_000;
            let new = fake::visit(&mut rng, &id, Some(at));
            let t = Instant::now();
            store.record_visit(new)?;
            records.push(t.elapsed());
        }
        if (n + 1) % 2_000 == 0 {
            eprintln!("  built {} of {households} households", n + 1);
        }
    }
    drop(store);
    let dir = server::disk_dir("linli-bench-list")?;
    let path = dir.path().join("device.db");
    server::copy_db(&shm.path().join("device.db"), &path)?;
    drop(shm);
    println!(
        "Built {households} households with {visits} visits each in {} buildings through the API \
         on tmpfs in {:.1} s, copied to disk ({:.1} MB):\n",
        buildings.len(),
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&path)?.len() as f64 / 1e6
    );
    build_line("create_household", &creates);
    build_line("record_visit", &records);
    println!();

    let (mut open_t, mut list_t, mut both_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        let (building, _) = buildings[rng.below(buildings.len())];
        let t = Instant::now();
        let store = server::open_device(dir.path(), DEVICE, "w1")?;
        let opened = t.elapsed();
        let listed = store.households_in(building)?;
        let total = t.elapsed();
        if listed.is_empty() {
            return fail(format!("no households in {building}"));
        }
        drop(store);
        open_t.push(opened);
        list_t.push(total - opened);
        both_t.push(total);
    }
    println!(
        "Each rep: `Store::open` on the file, then `households_in` of a random building \
         ({PER_BUILDING} households); {reps} reps.\n"
    );
    table_header();
    let both = stats(&both_t);
    row("open + households_in", &both);
    row("Store::open alone", &stats(&open_t));
    row("households_in alone", &stats(&list_t));
    let limit = Duration::from_millis(50);
    println!(
        "\ntarget open + first list <= 50 ms: median {}, p99 {}",
        met(both.median <= limit),
        met(both.p99 <= limit)
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

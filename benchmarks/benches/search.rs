//! Store scenario `search`: `Store::search_households(q, 50)` over 100,000 households, with
//! a fixed mix of seven kinds of query in equal shares, in random order: Chinese of 3+
//! characters, 2 characters and 1 character, a phone substring and no match (the mix before
//! pinyin), then pinyin initials of 2–4 letters (`zxy`) and full pinyin (`zhangxiuying`, a
//! quarter with spaces, `zhang xiu ying`, a quarter mixed, `zhang xy`). Target: p99 within
//! 5 ms over all of them.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench search
//! cargo bench -p linli-benchmarks --bench search -- --households 200000
//! ```
//!
//! Options: `--households N` (100000), `--searches N` (1400), `--seed N`. The database is
//! built through `create_household` on tmpfs (fsync free), copied to a disk directory and
//! searched by a new `Store` on the copy after 10 warm-up queries. Queries are drawn from the
//! names and phones generated. Without `--bench`: tiny sizes.

use std::time::{Duration, Instant};

use linli_benchmarks::fake::{self, GIVEN, NO_MATCH, Rng, SURNAMES};
use linli_benchmarks::stats::{build_line, row, stats, table_header};
use linli_benchmarks::{Options, Res, fail, machine, met, server};
use linli_core::pinyin;

const KINDS: [&str; 7] = [
    "name, 3 chars",
    "name, 2 chars",
    "1 char",
    "phone substring",
    "no match",
    "pinyin initials, 2–4 letters",
    "full pinyin",
];
/// The kinds of the mix before pinyin (Chinese, phones, no match).
const CHINESE_KINDS: usize = 5;
const DEVICE: &str = "0190f5a0-0000-7000-8000-00000000be0c";

fn given(rng: &mut Rng) -> &'static str {
    GIVEN[rng.below(GIVEN.len())]
}

fn query(kind: usize, rng: &mut Rng, names: &[String], phones: &[String]) -> String {
    let prefix = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    match kind {
        0 => {
            // A generated name of three characters, or a surname and two given ones.
            let three: Vec<&String> = (0..8)
                .map(|_| &names[rng.below(names.len())])
                .filter(|n| n.chars().count() >= 3)
                .collect();
            match three.first() {
                Some(n) => prefix(n, 3),
                None => format!("{}{}", rng.pick(SURNAMES), prefix(given(rng), 2)),
            }
        }
        1 => prefix(&names[rng.below(names.len())], 2),
        2 => {
            if rng.chance(50) {
                (*rng.pick(SURNAMES)).to_owned()
            } else {
                prefix(given(rng), 1)
            }
        }
        3 => {
            let p = &phones[rng.below(phones.len())];
            match rng.below(3) {
                0 => p[7..].to_owned(),
                1 => p[3..9].to_owned(),
                _ => p.clone(),
            }
        }
        4 => NO_MATCH.to_owned(),
        5 => {
            // The initials of a name, or their first letters (2 at least): zxy, zx.
            let initials = pinyin::initials(&names[rng.below(names.len())]);
            let n = initials.len();
            initials[..rng.range(2.min(n as i32), n as i32) as usize].to_owned()
        }
        _ => {
            let syllables = pinyin::syllables(&names[rng.below(names.len())]);
            match rng.below(4) {
                0 => syllables.join(" "),
                1 => {
                    // The surname in full, the rest by initials: zhang xy.
                    let rest: String = syllables[1..].iter().filter_map(|s| s.get(..1)).collect();
                    format!("{} {rest}", syllables[0])
                }
                _ => syllables.concat(),
            }
        }
    }
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let households = o.size("households", 100_000, 400)?.max(1);
    let searches = o.size("searches", 1_400, 70)?;
    let mut rng = Rng(o.size("seed", 1, 1)? as u64);
    o.check()?;
    machine::header("search: Store::search_households", o.bench);

    let started = Instant::now();
    let shm = server::shm_dir()?;
    let store = server::open_device(shm.path(), DEVICE, "w1")?;
    let buildings = households.div_ceil(100);
    let community = fake::community("c01", "幸福社区", buildings.div_ceil(10), 10);
    store.put_places(&community.places)?;
    let units: Vec<&String> = community.grids.iter().flat_map(|g| &g.units).collect();
    let (mut names, mut phones, mut creates) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..households {
        let new = fake::household(&mut rng, units[n / 50], fake::room(n % 50, 2));
        if names.len() < 5_000 {
            names.extend(new.members.iter().map(|m| m.name.clone()));
            phones.extend(new.members.iter().filter_map(|m| m.phone.clone()));
        }
        let t = Instant::now();
        store.create_household(new)?;
        creates.push(t.elapsed());
        if (n + 1) % 10_000 == 0 {
            eprintln!("  built {} of {households} households", n + 1);
        }
    }
    drop(store);
    let dir = server::disk_dir("linli-bench-search")?;
    let path = dir.path().join("device.db");
    server::copy_db(&shm.path().join("device.db"), &path)?;
    drop(shm);
    println!(
        "Built {households} households through the API on tmpfs in {:.1} s, copied to disk \
         ({:.1} MB):\n",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&path)?.len() as f64 / 1e6
    );
    build_line("create_household", &creates);
    println!();
    if names.is_empty() || phones.is_empty() {
        return fail("no names or phones generated");
    }

    let mut kinds: Vec<usize> = (0..searches).map(|i| i % KINDS.len()).collect();
    rng.shuffle(&mut kinds);
    let queries: Vec<(usize, String)> = kinds
        .into_iter()
        .map(|k| (k, query(k, &mut rng, &names, &phones)))
        .collect();
    let store = server::open_device(dir.path(), DEVICE, "w1")?;
    for (_, q) in queries.iter().take(10) {
        store.search_households(q, 50)?;
    }
    let mut all = Vec::with_capacity(queries.len());
    let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    let mut hits = [(0usize, 0usize, 0usize); KINDS.len()];
    for (k, q) in &queries {
        let t = Instant::now();
        let found = store.search_households(q, 50)?;
        let d = t.elapsed();
        all.push(d);
        by_kind[*k].push(d);
        hits[*k].0 += found.len();
        hits[*k].1 += usize::from(found.is_empty());
        hits[*k].2 += usize::from(found.len() == 50);
    }
    println!(
        "{} queries of seven kinds in random order after 10 warm-up queries, on a new store.\n",
        queries.len()
    );
    table_header();
    let overall = stats(&all);
    row("all queries", &overall);
    let old_mix: Vec<Duration> = by_kind[..CHINESE_KINDS].concat();
    row("the mix before pinyin (first five kinds)", &stats(&old_mix));
    let pinyin_mix: Vec<Duration> = by_kind[CHINESE_KINDS..].concat();
    row("pinyin (initials and full)", &stats(&pinyin_mix));
    for (k, label) in KINDS.iter().enumerate() {
        row(label, &stats(&by_kind[k]));
    }
    println!("\n| kind | mean results | queries with none | queries at the limit (50) |");
    println!("|---|---|---|---|");
    for (k, label) in KINDS.iter().enumerate() {
        let (sum, none, full) = hits[k];
        let mean = sum as f64 / by_kind[k].len().max(1) as f64;
        println!("| {label} | {mean:.1} | {none} | {full} |");
    }
    println!(
        "\ntarget search p99 <= 5 ms: {}",
        met(overall.p99 <= Duration::from_millis(5))
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

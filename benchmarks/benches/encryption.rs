//! Store scenario `encryption`: what SQLCipher costs a write. `Store::record_visit` on an
//! encrypted store (as shipped: raw 32-byte key) against the same call on the same store
//! unencrypted (`Store::open_unencrypted`), at the same durability (WAL, `synchronous=FULL`),
//! interleaved in the same run on real files in the same disk directory. Target: the
//! encrypted median within 1.1x the unencrypted one.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench encryption
//! cargo bench -p linli-benchmarks --bench encryption -- --writes 1000
//! ```
//!
//! Options: `--households N` (100), `--writes N` per side (300), `--seed N`. Blocks of 10
//! writes alternate encrypted/plain, the order flipping each round, after 20 warm-up writes a
//! side. A diagnostic repeats it with `synchronous=OFF` on both stores, to show the cipher's
//! own cost without the fsync. Without `--bench`: tiny sizes.

use std::time::{Duration, Instant};

use linli_benchmarks::fake::{self, Rng};
use linli_benchmarks::stats::{row, stats, table_header};
use linli_benchmarks::{Options, Res, machine, met, server};
use linli_core::Store;

const DEVICE: &str = "0190f5a0-0000-7000-8000-00000000be0c";

/// `households` households in a fresh store; their ids.
fn fill(store: &Store, households: usize, rng: &mut Rng) -> Res<Vec<String>> {
    let community = fake::community("c01", "幸福社区", 1, households.div_ceil(100));
    store.put_places(&community.places)?;
    let units = &community.grids[0].units;
    let mut ids = Vec::with_capacity(households);
    for i in 0..households {
        let new = fake::household(rng, &units[(i / 50) % units.len()], fake::room(i % 50, 2));
        ids.push(store.create_household(new)?);
    }
    Ok(ids)
}

/// Alternating blocks of visits on the two stores; (encrypted, plain) times.
fn interleaved(
    sides: [(&Store, &[String]); 2],
    rng: &mut Rng,
    writes: usize,
) -> Res<[Vec<Duration>; 2]> {
    let block = 10;
    let mut times = [Vec::with_capacity(writes), Vec::with_capacity(writes)];
    let mut round = 0;
    while times[0].len() < writes {
        let n = block.min(writes - times[0].len());
        for k in 0..2 {
            let side = (k + round) % 2;
            let (store, ids) = sides[side];
            for _ in 0..n {
                let hh = &ids[rng.below(ids.len())];
                let new = fake::visit(rng, hh, None);
                let t = Instant::now();
                store.record_visit(new)?;
                times[side].push(t.elapsed());
            }
        }
        round += 1;
    }
    Ok(times)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let households = o.size("households", 100, 5)?.max(1);
    let writes = o.size("writes", 300, 20)?;
    let mut rng = Rng(o.size("seed", 1, 1)? as u64);
    o.check()?;
    machine::header("encryption: record_visit encrypted vs unencrypted", o.bench);

    let enc_dir = server::disk_dir("linli-bench-enc")?;
    let plain_dir = server::disk_dir("linli-bench-plain")?;
    let encrypted = server::open_device(enc_dir.path(), DEVICE, "w1")?;
    let plain = server::open_device_unencrypted(plain_dir.path(), DEVICE, "w1")?;
    let enc_ids = fill(&encrypted, households, &mut Rng(7))?;
    let plain_ids = fill(&plain, households, &mut Rng(7))?;
    let sides = [(&encrypted, &enc_ids[..]), (&plain, &plain_ids[..])];

    interleaved(sides, &mut rng, 20)?;
    let [e, p] = interleaved(sides, &mut rng, writes)?;
    let (e, p) = (stats(&e), stats(&p));
    println!(
        "{households} households in each store; both WAL, synchronous=FULL; blocks of 10 \
         alternating, order flipped each round; 20 warm-up writes a side.\n"
    );
    table_header();
    row("record_visit, encrypted (SQLCipher)", &e);
    row("record_visit, unencrypted", &p);
    let target = ratio(e.median, p.median);
    println!(
        "\nratio of medians {target:.2}x (p99 ratio {:.2}x); target <= 1.1x: {}\n",
        ratio(e.p99, p.p99),
        met(target <= 1.1)
    );

    // Diagnostic, not the target: the cipher's cost without the fsync that dominates above.
    for store in [&encrypted, &plain] {
        store.with_raw_connection(|c| c.pragma_update(None, "synchronous", "OFF"))?;
    }
    let [e, p] = interleaved(sides, &mut rng, writes)?;
    let (e, p) = (stats(&e), stats(&p));
    println!("Diagnostic: the same with synchronous=OFF on both stores.\n");
    table_header();
    row("record_visit, encrypted, synchronous=OFF", &e);
    row("record_visit, unencrypted, synchronous=OFF", &p);
    println!("\nratio of medians {:.2}x", ratio(e.median, p.median));
    println!("load average at the end {}", machine::load());
    Ok(())
}

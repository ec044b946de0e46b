//! Store scenario `visit_write`: recording a visit through `Store::record_visit` against a
//! raw rusqlite insert of the same row at the same durability (WAL, `synchronous=FULL`, one
//! row per `BEGIN IMMEDIATE … COMMIT`), both encrypted the same way (SQLCipher, raw key),
//! interleaved in the same run on real files in the
//! same disk directory. Target: the store's median within 1.5x the raw insert's.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench visit_write
//! cargo bench -p linli-benchmarks --bench visit_write -- --writes 1000
//! ```
//!
//! Options: `--households N` (100), `--writes N` per side (300), `--seed N`. Blocks of 10
//! writes alternate store/raw, the order flipping each round, after 20 warm-up writes a side.
//! A diagnostic repeats the same with `synchronous=OFF` on both connections, to separate a
//! write's work from the cost of making it durable. Without `--bench`: tiny sizes.

use std::time::{Duration, Instant};

use linli_benchmarks::fake::{self, Rng};
use linli_benchmarks::stats::{row, stats, table_header};
use linli_benchmarks::{Options, Res, machine, met, server};
use linli_core::Store;
use rusqlite::{Connection, TransactionBehavior, params};

/// The store's `visits` columns and indexes, written directly.
const RAW_SCHEMA: &str = "
CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visitor      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    purpose      TEXT NOT NULL,
    needs        TEXT NOT NULL,
    follow_up    INTEGER NOT NULL
) STRICT;
CREATE INDEX visits_by_household ON visits (household_id, at);
CREATE INDEX visits_by_visitor ON visits (visitor, at);
";

fn raw_visit(conn: &mut Connection, household_id: &str, at: i64) -> Res<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "INSERT INTO visits (id, household_id, visitor, at, purpose, needs, follow_up) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        uuid::Uuid::now_v7().to_string(),
        household_id,
        "worker-1",
        at,
        "ask_needs",
        "repair",
        true
    ])?;
    tx.commit()?;
    Ok(())
}

/// Alternating blocks of store writes and raw inserts on random households; (store, raw).
fn interleaved(
    store: &Store,
    raw: &mut Connection,
    ids: &[String],
    rng: &mut Rng,
    writes: usize,
) -> Res<(Vec<Duration>, Vec<Duration>)> {
    let block = 10;
    let (mut store_t, mut raw_t) = (Vec::with_capacity(writes), Vec::with_capacity(writes));
    let mut round = 0;
    while store_t.len() < writes {
        let n = block.min(writes - store_t.len());
        for side in 0..2 {
            for _ in 0..n {
                let hh = &ids[rng.below(ids.len())];
                if (side + round) % 2 == 0 {
                    let new = fake::visit(rng, hh, None);
                    let t = Instant::now();
                    store.record_visit(new)?;
                    store_t.push(t.elapsed());
                } else {
                    let at = store.now();
                    let t = Instant::now();
                    raw_visit(raw, hh, at)?;
                    raw_t.push(t.elapsed());
                }
            }
        }
        round += 1;
    }
    Ok((store_t, raw_t))
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
    machine::header("visit_write: Store::record_visit vs a raw insert", o.bench);

    let dir = server::disk_dir("linli-bench-visit")?;
    let store = server::open_device(dir.path(), "0190f5a0-0000-7000-8000-00000000be0c", "w1")?;
    let buildings = households.div_ceil(100);
    let community = fake::community("c01", "幸福社区", 1, buildings);
    store.put_places(&community.places)?;
    let units = &community.grids[0].units;
    let mut ids = Vec::with_capacity(households);
    for i in 0..households {
        let new = fake::household(
            &mut rng,
            &units[(i / 50) % units.len()],
            fake::room(i % 50, 2),
        );
        ids.push(store.create_household(new)?);
    }
    let mut raw = Connection::open(dir.path().join("raw.db"))?;
    // Encrypted the same way as the store (SQLCipher, the same raw key).
    let hex: String = linli_testkit::DB_KEY
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    raw.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))?;
    let mode: String = raw.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    raw.pragma_update(None, "synchronous", "FULL")?;
    let sync: i64 = raw.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    raw.execute_batch(RAW_SCHEMA)?;

    interleaved(&store, &mut raw, &ids, &mut rng, 20)?;
    let (store_t, raw_t) = interleaved(&store, &mut raw, &ids, &mut rng, writes)?;
    let (s, r) = (stats(&store_t), stats(&raw_t));
    println!(
        "{households} households; raw baseline encrypted, journal_mode={mode}, synchronous={sync} (2 = FULL); \
         blocks of 10 alternating, order flipped each round; 20 warm-up writes a side.\n"
    );
    table_header();
    row("store.record_visit", &s);
    row("raw INSERT, one per transaction", &r);
    let target = ratio(s.median, r.median);
    println!(
        "\nratio of medians {target:.2}x (p99 ratio {:.2}x); target <= 1.5x: {}\n",
        ratio(s.p99, r.p99),
        met(target <= 1.5)
    );

    // Diagnostic, not the target: the same writes without fsync on either side.
    store.with_raw_connection(|c| c.pragma_update(None, "synchronous", "OFF"))?;
    raw.pragma_update(None, "synchronous", "OFF")?;
    let (store_t, raw_t) = interleaved(&store, &mut raw, &ids, &mut rng, writes)?;
    let (s, r) = (stats(&store_t), stats(&raw_t));
    println!("Diagnostic: the same with synchronous=OFF on both connections.\n");
    table_header();
    row("store.record_visit, synchronous=OFF", &s);
    row("raw INSERT, synchronous=OFF", &r);
    println!("\nratio of medians {:.2}x", ratio(s.median, r.median));
    println!("load average at the end {}", machine::load());
    Ok(())
}

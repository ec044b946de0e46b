//! Console scenario `import`: a roster of 10,000 member rows (about 4,000 households of 1
//! to 4 members over 10 grids of 10 buildings of 2 units; every second member with an ID
//! number, every third with a phone) imported by a community admin, through the code the
//! console runs (`import::jobs::dry_run` for the report, `import::jobs::run` after the
//! confirmation: read, check, plan against the register, write server-authored household
//! documents in batches of 100). Measured: the dry run, the import, and the same file again
//! (nothing to write). Target: the import of 10,000 rows ≤ 30 s.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench import
//! cargo bench -p linli-benchmarks --bench import -- --rows 50000
//! ```
//!
//! Options: `--rows N` (10,000; the cap is 50,000), `--grids N` (10). Without `--bench`:
//! 300 rows, 2 grids.

use std::time::Instant;

use linli_benchmarks::roster::{self, COMMUNITY};
use linli_benchmarks::server::{self, ServerDb};
use linli_benchmarks::{Options, Res, fail, machine, met};
use linli_sync_server::AccountStorage;
use linli_sync_server::import::jobs;

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let rows = o.size("rows", 10_000, 300)?.max(1);
    let grids = o.size("grids", 10, 2)?.max(1);
    o.check()?;
    machine::header("import: a roster into a community", o.bench);

    let dir = server::disk_dir("linli-bench-import")?;
    let db = ServerDb::open(&dir.path().join("server.db"))?;
    let (places, _) = roster::community(grids);
    db.places(&places)?;
    db.community_admin("roster-admin", COMMUNITY)?;
    let s = db.storage();
    let Some(admin) = s.principal("roster-admin", "console")? else {
        return fail("no principal for the admin");
    };
    let (csv, households) = roster::csv(grids, rows);
    println!(
        "Setup: {rows} rows, {households} households, {:.1} MB of CSV, {} places.\n",
        csv.len() as f64 / 1e6,
        places.len()
    );

    let t = Instant::now();
    let plan = jobs::dry_run(s, &admin, csv.as_bytes()).map_err(|e| e.message())?;
    let dry = t.elapsed();
    if !plan.problems.is_empty() {
        return fail(format!(
            "{} problems, the first: {:?}",
            plan.problems.len(),
            plan.problems[0]
        ));
    }
    if plan.counts.households_created != households || plan.counts.members_created != rows {
        return fail(format!("the plan: {:?}", plan.counts));
    }

    let window = machine::CpuWindow::start();
    let t = Instant::now();
    let mut batches = 0usize;
    let counts = jobs::run(
        s,
        &admin,
        csv.as_bytes(),
        &mut |_, _| batches += 1,
        &mut || {},
    )?;
    let import = t.elapsed();
    let cpu = window.report(import.as_secs_f64());
    if counts.households_created != households {
        return fail(format!("imported {counts:?}"));
    }
    let docs: i64 = rusqlite::Connection::open(dir.path().join("server.db"))?.query_row(
        "SELECT count(*) FROM documents WHERE kind = 'household'",
        [],
        |r| r.get(0),
    )?;
    if docs != households as i64 {
        return fail(format!(
            "{docs} household documents stored, {households} expected"
        ));
    }

    let t = Instant::now();
    let again = jobs::run(s, &admin, csv.as_bytes(), &mut |_, _| {}, &mut || {})?;
    let second = t.elapsed();
    if again.households_created != 0 || again.households_updated != 0 {
        return fail(format!("the second import changed things: {again:?}"));
    }

    println!("| step | time |\n|---|---|");
    println!(
        "| dry run (read, check, plan; nothing written) | {:.2} s |",
        dry.as_secs_f64()
    );
    println!(
        "| import (plans again, then writes {households} households in {} batches) | {:.2} s |",
        batches.saturating_sub(1),
        import.as_secs_f64()
    );
    println!(
        "| the same file again (nothing to write) | {:.2} s |",
        second.as_secs_f64()
    );
    println!("\nThe import's window: {cpu}.");
    println!(
        "\nTarget: importing {rows} rows ≤ 30 s: {} ({:.2} s).",
        met(import.as_secs_f64() <= 30.0),
        import.as_secs_f64()
    );
    Ok(())
}

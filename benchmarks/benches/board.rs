//! Server scenario `board`: the console's response board. A street of 10 communities (10 grids
//! each) holds 10,000 open incidents, written by the server as the JSON API's report writes
//! them (60 % accepted, 20 % waiting, 10 % overdue, 10 % overdue and escalated); a street
//! admin's board asks for its first page (50 open incidents in the board order: overdue
//! first, then the higher level, then the earliest deadline). Measured: that page from the
//! incident index (`WorkflowStorage::board`, through `board_first_page`), and as the
//! comparison the same page the old way (every incident document in scope loaded and parsed,
//! as the API's reads did before the index, then sorted). Both must give the same rows.
//! Also measured: the whole page over HTTP as the console serves it (`GET /admin/board` with a
//! street admin's session cookie, names and filters rendered). Target: that page's p99 ≤
//! 100 ms.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench board
//! cargo bench -p linli-benchmarks --bench board -- --incidents 50000 --runs 500
//! ```
//!
//! Options: `--incidents N` (10,000), `--communities N` (10), `--runs N` (200 reads of the
//! index), `--old-runs N` (5 reads the old way). Without `--bench`: 300 incidents, 2
//! communities, 20 and 2 runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use linli_benchmarks::board::{self, PAGE, board_first_page, board_first_page_from_documents};
use linli_benchmarks::server::{self, ServerDb};
use linli_benchmarks::session::Session;
use linli_benchmarks::stats::{self, stats};
use linli_benchmarks::{Options, Res, fail, machine, met};

/// The street admin's console password in this scenario.
const BENCH_PASSWORD: &str = "board-bench-password";

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let n = o.size("incidents", 10_000, 300)?.max(1);
    let communities = o.size("communities", 10, 2)?.max(1);
    let runs = o.size("runs", 200, 20)?.max(1);
    let old_runs = o.size("old-runs", 5, 2)?.max(1);
    o.check()?;
    machine::header("board: the response board's first page", o.bench);

    let now = linli_sync_server::workflow::system_now();
    let clock = Arc::new(AtomicI64::new(now));
    let dir = server::disk_dir("linli-bench-board")?;
    let db = {
        let clock = clock.clone();
        ServerDb::open_with_clock(
            &dir.path().join("server.db"),
            Arc::new(move || clock.load(Ordering::SeqCst)),
        )?
    };
    let (places, grids) = board::street(communities, 10);
    db.places(&places)?;
    let scope = board::street_admin(&db)?;
    let started = Instant::now();
    let filled = board::fill(&db, &clock, &grids, n)?;
    println!(
        "Setup: {} incidents in {} grids of {communities} communities ({} overdue, {} of them escalated), written in {:.1} s; the street admin's scope: {} communities.\n",
        filled.incidents,
        grids.len(),
        filled.overdue,
        filled.escalated,
        started.elapsed().as_secs_f64(),
        scope.communities.len()
    );
    let s = db.storage();

    // The index, warmed once (as a serving process is), then timed.
    let first = board_first_page(s, &scope, now)?;
    let mut samples = Vec::with_capacity(runs);
    let window = machine::CpuWindow::start();
    let started = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        let page = board_first_page(s, &scope, now)?;
        samples.push(t.elapsed());
        if page.rows.len() != first.rows.len() {
            return fail("the board's page changed between reads");
        }
    }
    let index_cpu = window.report(started.elapsed().as_secs_f64());
    // The total alone (the count query; a page of no rows), to show what the page costs.
    let mut count_samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        board::board_total(s, &scope, now)?;
        count_samples.push(t.elapsed());
    }
    let window = machine::CpuWindow::start();
    let started = Instant::now();
    let mut old_samples = Vec::with_capacity(old_runs);
    let mut old = None;
    for _ in 0..old_runs {
        let t = Instant::now();
        let page = board_first_page_from_documents(s, &scope, now)?;
        old_samples.push(t.elapsed());
        old = Some(page);
    }
    let cpu = window.report(started.elapsed().as_secs_f64());
    let Some(old) = old else {
        return fail("the old way never ran");
    };

    // Both ways give the same page.
    let ids = |p: &linli_sync_server::board::BoardPage| -> Vec<String> {
        p.rows.iter().map(|r| r.doc_id.clone()).collect()
    };
    if ids(&first) != ids(&old) || first.total != old.total {
        return fail("the index's page differs from the documents' page");
    }
    if first.rows.len() != (PAGE as usize).min(n) || first.total != n as u64 {
        return fail(format!(
            "expected {} rows of {n}, got {} of {}",
            (PAGE as usize).min(n),
            first.rows.len(),
            first.total
        ));
    }
    let overdue_first = first.rows.iter().take_while(|r| r.overdue(now)).count();
    let escalated_first = first.rows.iter().take_while(|r| r.level_rank > 0).count();
    println!(
        "First page: {} rows of {} open; the first {overdue_first} overdue, the first {escalated_first} escalated (top: level {}).\n",
        first.rows.len(),
        first.total,
        first.rows.first().map(|r| r.level.code()).unwrap_or("-")
    );

    // Over HTTP, as the console serves it: a street admin signed in (a real session cookie),
    // the whole page rendered (names, filters, the 50 rows), warmed once.
    linli_sync_server::console::set_password(s, "street-admin", BENCH_PASSWORD)?;
    let server = db.serve()?;
    let rt = server::runtime()?;
    let session = Session::sign_in(&rt, &server.url(), "street-admin", BENCH_PASSWORD)?;
    let html = rt.block_on(session.get("/admin/board"))?;
    let shown = html.matches("<tr class=\"incident").count();
    if shown != first.rows.len() {
        return fail(format!(
            "the board page shows {shown} rows, the index gave {}",
            first.rows.len()
        ));
    }
    let mut http_samples = Vec::with_capacity(runs);
    let window = machine::CpuWindow::start();
    let started = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        let page = rt.block_on(session.get("/admin/board"))?;
        http_samples.push(t.elapsed());
        if page.len() < 1000 {
            return fail("a board page without its rows");
        }
    }
    let http_cpu = window.report(started.elapsed().as_secs_f64());
    drop(server);

    stats::table_header();
    let http = stats(&http_samples);
    stats::row(
        "first page over HTTP, signed in (`GET /admin/board`, rendered)",
        &http,
    );
    let new = stats(&samples);
    stats::row("first page from the index (`board`)", &new);
    stats::row(
        "of which the total alone (`board` with limit 0)",
        &stats(&count_samples),
    );
    stats::row(
        "the same page from the documents (load + parse all in scope)",
        &stats(&old_samples),
    );
    println!("\nThe index's window: {index_cpu}. Over HTTP: {http_cpu}. The old way's: {cpu}.");
    println!(
        "\nTarget: first page over HTTP with a signed-in session, p99 ≤ 100 ms: {} (p99 {} ms, median {} ms, {runs} requests).",
        met(http.p99.as_secs_f64() <= 0.100),
        stats::ms(http.p99),
        stats::ms(http.median)
    );
    Ok(())
}

//! Server scenario `ledger`: exporting the household ledger (台账) of a community of 100,000
//! households with members (1–4, about 2.5 each, with phones and ID numbers) and care tags,
//! as the console serves it: a community admin signed in posts the export form
//! (`POST /admin/ledgers/export`) and reads the streamed download to its last byte, as XLSX
//! and as CSV. Measured: the time to the last byte, and how much the process's resident
//! memory grew during the export (peak `VmHWM` after, reset before, minus `VmRSS` before:
//! server and client share the process; the client keeps only the byte count). Targets:
//! ≤ 10 s and ≤ 100 MB growth.
//!
//! The register's rows (`register_households`, `register_members`) are written straight into
//! the server's database in one transaction, as the projection of household documents leaves
//! them: the scenario times the export, not the 100,000 documents' projection.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench ledger
//! cargo bench -p linli-benchmarks --bench ledger -- --households 20000 --runs 3
//! ```
//!
//! Options: `--households N` (100,000), `--runs N` (2 per format). Without `--bench`: 300
//! households, 1 run.

use std::time::Instant;

use linli_benchmarks::fake::{self, Rng};
use linli_benchmarks::server::{self, ServerDb};
use linli_benchmarks::session::Session;
use linli_benchmarks::{Options, Res, fail, machine, met};
use linli_domain::{Place, PlaceKind, Role};

const PASSWORD: &str = "ledger-bench-password";
const COMMUNITY: &str = "c-ledger";

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak resident size (`VmHWM`) to the current one (Linux: clear_refs 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// An ID number with its check character (GB 11643-1999).
fn id_number(rng: &mut Rng) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let base = format!(
        "510107{}{:02}{:02}{:03}",
        rng.range(1930, 2019),
        rng.range(1, 12),
        rng.range(1, 28),
        rng.range(0, 999)
    );
    let sum: u32 = base
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{base}{check}")
}

/// The community's places (10 grids of 10 buildings) and the register's rows, written in one
/// transaction; how many members.
fn fill(db_path: &std::path::Path, buildings: &[(String, String)], n: usize) -> Res<u64> {
    let mut c = rusqlite::Connection::open(db_path)?;
    let tx = c.transaction()?;
    let mut rng = Rng(11);
    let tags = [
        "elderly_alone",
        "disabled",
        "low_income",
        "veteran",
        "party_member",
    ];
    let relations = ["head", "spouse", "child", "parent"];
    let mut members = 0u64;
    {
        let mut h = tx.prepare(
            "INSERT INTO register_households (doc_id, community_id, grid_id, micro_grid_id, \
             building_id, unit_id, room, residency, housing, tags, notes, created_at, \
             updated_at, moved_out) VALUES (?1, ?2, ?3, NULL, ?4, NULL, ?5, 'resident', \
             'owned', ?6, ?7, 1764547200000, 1764547200000, 0)",
        )?;
        let mut m = tx.prepare(
            "INSERT INTO register_members (doc_id, member_id, position, name, relation, \
             birth_year, gender, residence, phone, id_number, tags, moved_out_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'female', 'registered', ?7, ?8, ?9, NULL)",
        )?;
        for i in 0..n {
            let (grid, building) = &buildings[i % buildings.len()];
            let id = format!("hh-{i:06}");
            let tag = if rng.chance(30) {
                (*rng.pick(&tags)).to_owned()
            } else {
                String::new()
            };
            h.execute(rusqlite::params![
                id,
                COMMUNITY,
                grid,
                building,
                fake::room(i / buildings.len(), 4),
                tag,
                if rng.chance(10) {
                    "独居，需常走访"
                } else {
                    ""
                },
            ])?;
            let count = 1 + rng.below(4);
            for k in 0..count {
                m.execute(rusqlite::params![
                    id,
                    format!("{id}-m{k}"),
                    k as i64,
                    fake::person_name(&mut rng),
                    relations[k.min(3)],
                    rng.range(1930, 2019),
                    fake::phone(&mut rng),
                    id_number(&mut rng),
                    if rng.chance(5) { "disabled" } else { "" },
                ])?;
                members += 1;
            }
        }
    }
    tx.commit()?;
    Ok(members)
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let n = o.size("households", 100_000, 300)?.max(1);
    let runs = o.size("runs", 2, 1)?.max(1);
    o.check()?;
    machine::header("ledger: exporting the household ledger", o.bench);

    let dir = server::disk_dir("linli-bench-ledger")?;
    let path = dir.path().join("server.db");
    let db = ServerDb::open(&path)?;
    let place = |id: String, kind, parent: Option<&str>| Place {
        name: format!("{id}名"),
        id,
        kind,
        parent_id: parent.map(Into::into),
    };
    let mut places = vec![place(COMMUNITY.into(), PlaceKind::Community, None)];
    let mut buildings = Vec::new();
    for g in 0..10 {
        let grid = format!("{COMMUNITY}-g{g}");
        places.push(place(grid.clone(), PlaceKind::Grid, Some(COMMUNITY)));
        for b in 0..10 {
            let building = format!("{grid}-b{b}");
            places.push(place(building.clone(), PlaceKind::Building, Some(&grid)));
            buildings.push((grid.clone(), building));
        }
    }
    db.places(&places)?;
    db.user(
        "ledger-admin",
        "社区管理员",
        Role::Admin,
        COMMUNITY,
        COMMUNITY,
    )?;
    linli_sync_server::console::set_password(db.storage(), "ledger-admin", PASSWORD)?;
    let started = Instant::now();
    let members = fill(&path, &buildings, n)?;
    println!(
        "Setup: {n} households with {members} members in 100 buildings, written in {:.1} s.\n",
        started.elapsed().as_secs_f64()
    );

    let server = db.serve()?;
    let rt = server::runtime()?;
    let session = Session::sign_in(&rt, &server.url(), "ledger-admin", PASSWORD)?;
    println!("| format | rows | bytes | time to last byte | RSS growth | target |");
    println!("|---|---|---|---|---|---|");
    let mut all_met = true;
    for format in ["csv", "xlsx"] {
        for _ in 0..runs {
            reset_peak();
            let before = status_kib("VmRSS:");
            let window = machine::CpuWindow::start();
            let t = Instant::now();
            let (status, bytes, head) = rt.block_on(session.download(
                "/admin/ledgers/export",
                &[("kind", "households"), ("format", format)],
            ))?;
            let secs = t.elapsed().as_secs_f64();
            let cpu = window.report(secs);
            let growth_mb = status_kib("VmHWM:").saturating_sub(before) as f64 / 1024.0;
            if status != 200 {
                return fail(format!("the export answered {status}"));
            }
            let magic: &[u8] = if format == "csv" {
                b"\xEF\xBB\xBF"
            } else {
                b"PK"
            };
            if !head.starts_with(magic) {
                return fail(format!("the {format} download does not start as one"));
            }
            let logged = linli_sync_server::RegisterStorage::exports(
                db.storage(),
                &[COMMUNITY.to_owned()],
                1,
            )?;
            let rows = logged.first().map(|e| e.rows).unwrap_or(0);
            if rows != members {
                return fail(format!("the export logged {rows} rows, expected {members}"));
            }
            let ok = secs <= 10.0 && growth_mb <= 100.0;
            all_met &= ok;
            println!(
                "| {format} | {rows} | {bytes} | {secs:.2} s | {growth_mb:.1} MB | ≤ 10 s, ≤ 100 MB: {} |",
                met(ok)
            );
            println!("  ({cpu})");
        }
    }
    println!(
        "\nTargets (≤ 10 s, ≤ 100 MB RSS growth for {n} households): {}",
        met(all_met)
    );
    Ok(())
}

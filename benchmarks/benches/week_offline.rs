//! Sync scenario `week_offline`: a device with 50 synced documents (households and
//! incidents) makes 200 edits offline (visits, phone and birth-year changes, care tags,
//! incident moves) and then runs one `Store::sync` against a real server on loopback.
//! Measured: rounds, protocol body and HTTP bytes, against two baselines computed in the same
//! run: gzip of the JSON of the final records, and gzip of the JSON of the edits themselves.
//!
//! ```sh
//! cargo bench -p linli-benchmarks --bench week_offline
//! cargo bench -p linli-benchmarks --bench week_offline -- --docs 100 --edits 400
//! ```
//!
//! Options: `--docs N` (50), `--edits N` (200), `--repeat N` (5; medians reported), `--seed N`.
//! A diagnostic gives the pushed Automerge changes' size before and after DEFLATE. Without
//! `--bench`: tiny sizes.

use linli_benchmarks::fake::{self, Rng};
use linli_benchmarks::server::{self, Relay, ServerDb};
use linli_benchmarks::stats::median;
use linli_benchmarks::{Options, Res, deflate, fail, gzip, machine};
use linli_core::{CareTag, Household, Incident, IncidentAction, MemberPatch};
use serde_json::json;
use tokio::runtime::Runtime;

struct Figures {
    rounds: f64,
    body: f64,
    http: f64,
    secs: f64,
    gzip_records: f64,
    gzip_edits: f64,
    changes: f64,
    deflated_changes: f64,
}

fn once(rt: &Runtime, docs: usize, edits: usize, rng: &mut Rng) -> Res<Figures> {
    let dir = server::disk_dir("linli-bench-week")?;
    let db = ServerDb::open(&dir.path().join("server.db"))?;
    let c = fake::community("c-week", "幸福社区", 1, 4);
    db.places(&c.places)?;
    let (device_id, token) = db.worker("user-week", &c.id, &c.grids[0].id)?;
    let server = db.serve()?;
    let relay = Relay::start(rt, server.addr)?;
    let device = server::open_device(dir.path(), &device_id, "user-week")?;

    // Setup: places, the documents, a sync.
    server::sync_through(rt, &device, &relay, &token)?;
    let units = &c.grids[0].units;
    let n_incidents = (docs / 5).max(1);
    let now = device.now();
    let mut households = Vec::new();
    for i in 0..docs - n_incidents {
        let unit = &units[i % units.len()];
        let id = device.create_household(fake::household(rng, unit, fake::room(i, 4)))?;
        if rng.chance(50) {
            device.record_visit(fake::visit_this_week(rng, &id, now))?;
        }
        households.push(id);
    }
    let mut incidents = Vec::new();
    for (i, hh) in households.iter().enumerate().take(n_incidents) {
        let new = if i % 2 == 0 {
            fake::incident(rng, None, Some(hh))
        } else {
            fake::incident(rng, Some(&c.grids[0].buildings[0]), None)
        };
        incidents.push(device.report_incident(new)?);
    }
    if !server::sync_through(rt, &device, &relay, &token)?
        .report
        .refused
        .is_empty()
    {
        return fail("the setup push was refused");
    }
    let all: Vec<&String> = households.iter().chain(&incidents).collect();
    let synced: Vec<Vec<String>> = all
        .iter()
        .map(|id| device.heads(id))
        .collect::<Result<_, _>>()?;

    // A week offline; each edit also written down as the JSON a record-level protocol sends.
    // The grid worker's own moves (closing is an admin's, or the resident's feedback).
    let moves = [
        IncidentAction::Accept,
        IncidentAction::Start,
        IncidentAction::Resolve,
    ];
    let move_edits = (incidents.len() * moves.len()).min(edits / 5);
    let (mut log, mut done_moves, mut hh_i) = (Vec::new(), 0usize, 0usize);
    for e in 0..edits {
        if done_moves < move_edits && e * move_edits / edits >= done_moves {
            let i = done_moves % incidents.len();
            let action = moves[(done_moves / incidents.len()) % moves.len()];
            done_moves += 1;
            let category = device.incident(&incidents[i])?.category;
            let detail = fake::move_detail(category, action, "已处理，现场拍照");
            device.move_incident_with(&incidents[i], action, detail)?;
            let event = device
                .incident(&incidents[i])?
                .events
                .into_iter()
                .max_by_key(|e| e.at);
            log.push(json!({"op": action.code(), "doc": incidents[i], "event": event}));
            continue;
        }
        let hh = &households[hh_i % households.len()];
        let kind = hh_i / households.len() + hh_i;
        hh_i += 1;
        let h = device.household(hh)?;
        let at = device.now();
        match kind % 8 {
            0 | 3 | 6 => {
                let v = device.record_visit(fake::visit(rng, hh, Some(at)))?;
                let visit = device.household(hh)?.visits.into_iter().find(|x| x.id == v);
                log.push(json!({"op": "visit.record", "doc": hh, "visit": visit}));
            }
            1 | 4 => {
                let m = &h.members[rng.below(h.members.len())];
                let phone = fake::phone(rng);
                let patch = MemberPatch {
                    phone: Some(Some(phone.clone())),
                    ..MemberPatch::default()
                };
                device.update_member(hh, &m.id, patch)?;
                log.push(json!({"op": "member.update", "doc": hh, "member": m.id,
                    "fields": {"phone": phone}, "by": "user-week", "at": at}));
            }
            2 | 7 => {
                let tag = *rng.pick(CareTag::ALL);
                let on = !h.tags.contains(&tag);
                device.set_tag(hh, tag, on)?;
                log.push(
                    json!({"op": if on {"tag.add"} else {"tag.remove"}, "doc": hh,
                    "tag": tag.code(), "by": "user-week", "at": at}),
                );
            }
            _ => {
                let m = &h.members[0];
                let born = m.birth_year.unwrap_or(1960) + 1;
                let patch = MemberPatch {
                    birth_year: Some(Some(born)),
                    ..MemberPatch::default()
                };
                device.update_member(hh, &m.id, patch)?;
                log.push(json!({"op": "member.update", "doc": hh, "member": m.id,
                    "fields": {"birth_year": born}, "by": "user-week", "at": at}));
            }
        }
    }
    let records_h: Vec<Household> = households
        .iter()
        .map(|id| device.household(id))
        .collect::<Result<_, _>>()?;
    let records_i: Vec<Incident> = incidents
        .iter()
        .map(|id| device.incident(id))
        .collect::<Result<_, _>>()?;
    let records = serde_json::to_vec(&json!({"households": records_h, "incidents": records_i}))?;
    let mut changes = Vec::new();
    for (id, heads) in all.iter().zip(&synced) {
        changes.extend(device.changes_since(id, heads)?);
    }

    let run = server::sync_through(rt, &device, &relay, &token)?;
    if !run.report.refused.is_empty() || device.sync_state()?.pending_docs != 0 {
        return fail("the week's push was not all stored");
    }
    let p = &run.report.progress;
    Ok(Figures {
        rounds: p.rounds as f64,
        body: (p.bytes_up + p.bytes_down) as f64,
        http: (run.http_up + run.http_down) as f64,
        secs: run.secs,
        gzip_records: gzip(&records)? as f64,
        gzip_edits: gzip(&serde_json::to_vec(&log)?)? as f64,
        changes: changes.len() as f64,
        deflated_changes: deflate(&changes)? as f64,
    })
}

fn main() -> Res<()> {
    let o = Options::parse(&[])?;
    let docs = o.size("docs", 50, 10)?.max(2);
    let edits = o.size("edits", 200, 40)?.max(1);
    let repeat = o.size("repeat", 5, 1)?.max(1);
    let mut rng = Rng(o.size("seed", 1, 1)? as u64);
    o.check()?;
    machine::header(
        "week_offline: one Store::sync after a week offline",
        o.bench,
    );
    let rt = server::runtime()?;
    println!("{docs} documents synced, {edits} offline edits, one sync; {repeat} runs.\n");
    println!("| run | rounds | body B | HTTP B | s | gzip(JSON records) B | gzip(JSON edits) B |");
    println!("|---|---|---|---|---|---|---|");
    let mut runs = Vec::new();
    for i in 0..repeat {
        let f = once(&rt, docs, edits, &mut rng)?;
        println!(
            "| {} | {} | {} | {} | {:.3} | {} | {} |",
            i + 1,
            f.rounds,
            f.body,
            f.http,
            f.secs,
            f.gzip_records,
            f.gzip_edits
        );
        runs.push(f);
    }
    let m = |f: &dyn Fn(&Figures) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let (body, http) = (m(&|f| f.body), m(&|f| f.http));
    let (records, edits_gz) = (m(&|f| f.gzip_records), m(&|f| f.gzip_edits));
    println!(
        "\nMedians of {repeat}: {:.0} round(s); body {body:.0} B, HTTP {http:.0} B, {:.3} s. \
         gzip(JSON of the final {docs} records) {records:.0} B: body is {:.2}x of it; \
         gzip(JSON of the {edits} edits) {edits_gz:.0} B: body is {:.2}x of it.",
        m(&|f| f.rounds),
        m(&|f| f.secs),
        body / records,
        body / edits_gz
    );
    println!(
        "Diagnostic: the pushed Automerge changes are {:.0} B raw, {:.0} B after DEFLATE \
         ({:.0} B per edit).",
        m(&|f| f.changes),
        m(&|f| f.deflated_changes),
        m(&|f| f.deflated_changes) / edits as f64
    );
    println!("load average at the end {}", machine::load());
    Ok(())
}

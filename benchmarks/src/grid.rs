//! The setup `idle` and `first_sync` share: one grid of `households` households on a real
//! server. A seeding grid-worker device writes them through the `Store` API (on tmpfs) and
//! pushes them with `Store::sync`; the server's database is then copied onto a disk directory
//! and served from there, behind a byte-counting relay. A second grid worker of the same grid
//! has spare enrolled devices for the measured stores.

use std::time::Instant;

use linli_core::Store;
use tempfile::TempDir;
use tokio::runtime::Runtime;

use crate::fake::{self, Rng};
use crate::server::{self, Relay, Server, ServerDb};
use crate::{Res, fail};

pub struct SeededGrid {
    pub community: String,
    /// The second worker, whose devices are measured.
    pub reader: String,
    /// Its enrolled, unused devices: (device id, token).
    pub spare: Vec<(String, String)>,
    pub household_ids: Vec<String>,
    /// The device that wrote every household (its records are the JSON baselines).
    pub seed_store: Store,
    // Dropped in this order: the relay and the server before their directory.
    pub relay: Relay,
    pub server: Server,
    _server_dir: TempDir,
    _seed_dir: TempDir,
}

impl SeededGrid {
    pub fn spare(&mut self) -> Res<(String, String)> {
        self.spare.pop().ok_or_else(|| "no spare device".into())
    }
}

/// 100 households a unit (25 floors × 4 doors), two units a building; a third of the
/// households have a visit.
pub fn seed(rt: &Runtime, households: usize, spare: usize, seed: u64) -> Res<SeededGrid> {
    let t = Instant::now();
    let shm = server::shm_dir()?;
    let shm_db = shm.path().join("server.db");
    let db = ServerDb::open(&shm_db)?;
    let community = fake::community("c-big", "和平社区", 1, households.div_ceil(200).max(1));
    db.places(&community.places)?;
    let grid = &community.grids[0];
    let (seed_device, seed_token) = db.worker("user-seed", &community.id, &grid.id)?;
    db.user(
        "user-reader",
        "王强",
        linli_domain::protocol::Role::GridWorker,
        &community.id,
        &grid.id,
    )?;
    let spare = (0..spare)
        .map(|_| db.enroll("user-reader"))
        .collect::<Res<Vec<_>>>()?;

    let seed_dir = server::shm_dir()?;
    let seed_store = server::open_device(seed_dir.path(), &seed_device, "user-seed")?;
    seed_store.put_places(&community.places)?;
    let mut rng = Rng(seed);
    let now = seed_store.now();
    let mut household_ids = Vec::with_capacity(households);
    let mut visits = 0;
    for i in 0..households {
        let unit = &grid.units[(i / 100) % grid.units.len()];
        let id =
            seed_store.create_household(fake::household(&mut rng, unit, fake::room(i % 100, 4)))?;
        if rng.chance(33) {
            seed_store.record_visit(fake::visit_this_week(&mut rng, &id, now))?;
            visits += 1;
        }
        household_ids.push(id);
    }
    let written = t.elapsed().as_secs_f64();
    let pushed = {
        let setup_server = db.serve()?;
        server::sync(rt, &seed_store, &setup_server, &seed_token)?
    };
    drop(db);
    if !pushed.refused.is_empty() {
        return fail("the seed push was refused");
    }

    let server_dir = server::disk_dir("linli-bench-grid")?;
    let path = server_dir.path().join("server.db");
    server::copy_db(&shm_db, &path)?;
    drop(shm);
    let server = ServerDb::open(&path)?.serve()?;
    let relay = Relay::start(rt, server.addr)?;
    println!(
        "Setup: {households} households ({visits} with a visit) written on a tmpfs device in \
         {written:.1} s, pushed with Store::sync in {} rounds; server database copied to disk; \
         setup {:.1} s in all.\n",
        pushed.progress.rounds,
        t.elapsed().as_secs_f64()
    );
    Ok(SeededGrid {
        community: community.id,
        reader: "user-reader".into(),
        spare,
        household_ids,
        seed_store,
        relay,
        server,
        _server_dir: server_dir,
        _seed_dir: seed_dir,
    })
}

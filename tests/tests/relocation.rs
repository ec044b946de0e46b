//! A building moved to another grid, seen from real phones through a real server: its
//! households and incidents follow (server-authored changes rewrite their grid), the new
//! grid's worker receives them and may edit them (accepted), and the old grid's worker's
//! phone no longer holds them.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use linli_core::protocol::Role;
use linli_core::*;
use linli_sync_server::directory::{Action, Audit, Reason};
use linli_sync_server::{AdminStorage, DirectoryStorage};

fn ids(rows: &[HouseholdSummary]) -> BTreeSet<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_buildings_records_follow_it_to_the_new_grids_worker() {
    let server = Server::start().await;
    let old = server.device(&server.person("worker-old", Role::GridWorker, &[GRID_1]));
    let new = server.device(&server.person("worker-new", Role::GridWorker, &[GRID_2]));
    old.synced().await;
    new.synced().await;

    let moving: BTreeSet<String> = [(UNIT_1_1, "101"), (BUILDING_1, "102")]
        .iter()
        .map(|(p, r)| old.create(p, r))
        .collect();
    let staying = old.create(BUILDING_2, "201");
    let first = moving.iter().next().unwrap().clone();
    let incident = old.report(&first);
    old.visit(&first);
    old.synced().await;
    new.synced().await;
    assert!(new.store.households_in(COMMUNITY).unwrap().is_empty());

    let audit = Audit::new(
        linli_sync_server::storage::now_ms(),
        USER_ADMIN,
        Action::MoveBuilding,
    )
    .community(Some(COMMUNITY))
    .place(BUILDING_1)
    .reason(Some(Reason::Restructure));
    let moved = server
        .storage
        .move_building(BUILDING_1, GRID_2, &audit)
        .unwrap();
    assert_eq!(moved, 3, "two households and an incident");
    assert_eq!(
        server
            .storage
            .place(BUILDING_1)
            .unwrap()
            .unwrap()
            .parent_id
            .as_deref(),
        Some(GRID_2)
    );

    // The new grid's worker receives them whole, listed under their grid.
    new.synced().await;
    assert_eq!(ids(&new.store.households_in(GRID_2).unwrap()), moving);
    let got = new.store.incident(&incident).unwrap();
    assert_eq!(got.grid_id, GRID_2);
    let household = new.store.household(&first).unwrap();
    assert_eq!(household.address.grid_id, GRID_2);
    assert_eq!(household.address.building_id.as_deref(), Some(BUILDING_1));
    // The move is in the record's history, by the admin who made it.
    let history = new.store.history(&first).unwrap();
    assert!(
        history.iter().any(|h| h.user_id == USER_ADMIN),
        "{history:?}"
    );
    // …and may edit them: the server accepts the edit (`synced` asserts nothing refused).
    new.visit(&first);
    let report = new.synced().await;
    assert!(report.refused.is_empty());
    assert_eq!(new.store.visits_of(&first).unwrap().len(), 2);

    // The old grid's worker's phone forgets them, and keeps what stayed.
    old.synced().await;
    let held: BTreeSet<String> = documents(&old.store).into_iter().map(|d| d.0).collect();
    assert!(held.is_disjoint(&moving), "{held:?}");
    assert!(!held.contains(&incident));
    assert!(held.contains(&staying));
    assert_eq!(
        ids(&old.store.households_in(GRID_1).unwrap()),
        BTreeSet::from([staying])
    );
}

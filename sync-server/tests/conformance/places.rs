//! Conformance checks of the place tree's street (街道) and micro-grid (微网格) levels: a
//! micro-grid worker's scope, a street admin's scope and reference data.

use linli_domain::protocol::{Cursor, PushOutcome, Role};
use linli_domain::{Address, Place, PlaceKind};
use linli_sync_server::{Storage, User, admin};
use linli_testkit::demo;

use super::{demo as seeded, device, household, pull_all, push_one};

const MICRO_1: &str = "m-1";
const MICRO_2: &str = "m-2";
const BUILDING_M1: &str = "b-m1";
const BUILDING_M2: &str = "b-m2";

fn put(s: &dyn Storage, id: &str, kind: PlaceKind, parent: Option<&str>) {
    let place = Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: format!("{id}名"),
    };
    admin::create_place(s, &place).unwrap();
}

/// A user of `role` in `community` granted `place`, with an enrolled device.
fn user_at(s: &dyn Storage, id: &str, role: Role, community: &str, place: &str) -> String {
    let user = User {
        id: id.into(),
        name: format!("{id}名"),
        role,
        community_id: community.into(),
    };
    admin::create_user(s, &user).unwrap();
    admin::grant(s, id, place).unwrap();
    admin::enroll(s, id, None).unwrap().token
}

fn in_micro(micro: &str, building: &str) -> Address {
    Address {
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: Some(micro.into()),
        building_id: Some(building.into()),
        unit_id: None,
        room: "502".into(),
    }
}

pub fn a_micro_grid_worker_has_exactly_their_micro_grid(s: &dyn Storage) {
    let d = seeded(s);
    put(s, MICRO_1, PlaceKind::MicroGrid, Some(demo::GRID_1));
    put(s, MICRO_2, PlaceKind::MicroGrid, Some(demo::GRID_1));
    put(s, BUILDING_M1, PlaceKind::Building, Some(MICRO_1));
    put(s, BUILDING_M2, PlaceKind::Building, Some(MICRO_2));
    let token = user_at(
        s,
        "u-micro",
        Role::MicroGridWorker,
        demo::COMMUNITY,
        MICRO_1,
    );
    let micro = device(s, &token);
    assert!(micro.scope.micro_grids.contains(MICRO_1));

    // The grid's worker records households in both micro-grids and in a plain building.
    for (id, at) in [
        ("hh-m1", in_micro(MICRO_1, BUILDING_M1)),
        ("hh-m2", in_micro(MICRO_2, BUILDING_M2)),
        ("hh-b1", super::b1()),
        // As a version-1 app writes it: no micro-grid named (the server fills it in).
        (
            "hh-m1-old",
            Address {
                micro_grid_id: None,
                ..in_micro(MICRO_1, BUILDING_M1)
            },
        ),
    ] {
        let mut hh = household(&d.li, id, &at);
        assert_eq!(
            push_one(s, &d.li, id, hh.save_after(&[])),
            PushOutcome::Stored
        );
    }
    let got = pull_all(s, &micro, &Cursor::default(), 100);
    assert_eq!(got.ids(), ["hh-m1", "hh-m1-old"]);
    let grid = pull_all(s, &d.li, &Cursor::default(), 100);
    assert_eq!(
        grid.docs.len(),
        4,
        "a fresh pass holds the grid's documents"
    );
    assert_eq!(pull_all(s, &d.admin, &Cursor::default(), 100).docs.len(), 4);

    // The micro-grid worker writes in their micro-grid, not in the sibling one.
    let mut mine = household(&micro, "hh-m1-new", &in_micro(MICRO_1, BUILDING_M1));
    let bytes = mine.save_after(&[]);
    assert_eq!(push_one(s, &micro, "hh-m1-new", bytes), PushOutcome::Stored);
    let mut sibling = household(&micro, "hh-m2-new", &in_micro(MICRO_2, BUILDING_M2));
    let bytes = sibling.save_after(&[]);
    assert_eq!(
        push_one(s, &micro, "hh-m2-new", bytes),
        PushOutcome::OutOfScope
    );
    // Nor by claiming their micro-grid for the sibling's building.
    let mut lying = household(&micro, "hh-lie", &in_micro(MICRO_1, BUILDING_M2));
    let bytes = lying.save_after(&[]);
    assert_eq!(
        push_one(s, &micro, "hh-lie", bytes),
        PushOutcome::OutOfScope
    );
    let li = pull_all(s, &d.li, &grid.cursor, 100);
    assert_eq!(li.ids(), ["hh-m1-new"]);
}

pub fn a_street_admin_has_every_community_of_their_street(s: &dyn Storage) {
    let d = seeded(s);
    put(s, "s-1", PlaceKind::Street, None);
    put(s, "s-2", PlaceKind::Street, None);
    let community = s.place(demo::COMMUNITY).unwrap().unwrap();
    admin::create_place(
        s,
        &Place {
            parent_id: Some("s-1".into()),
            ..community
        },
    )
    .unwrap();
    put(s, "c-2", PlaceKind::Community, Some("s-1"));
    put(s, "c-2-g", PlaceKind::Grid, Some("c-2"));
    put(s, "c-2-b", PlaceKind::Building, Some("c-2-g"));
    put(s, "c-3", PlaceKind::Community, Some("s-2"));
    put(s, "c-3-g", PlaceKind::Grid, Some("c-3"));
    put(s, "c-3-b", PlaceKind::Building, Some("c-3-g"));
    let street_token = user_at(s, "u-street", Role::StreetAdmin, demo::COMMUNITY, "s-1");
    let street = device(s, &street_token);
    let w2 = device(s, &user_at(s, "u-c2", Role::GridWorker, "c-2", "c-2-g"));
    let w3 = device(s, &user_at(s, "u-c3", Role::GridWorker, "c-3", "c-3-g"));
    assert!(street.scope.communities.contains(demo::COMMUNITY));
    assert!(street.scope.communities.contains("c-2"));
    assert!(!street.scope.communities.contains("c-3"));

    let at = |community: &str, grid: &str, building: &str| Address {
        community_id: community.into(),
        grid_id: grid.into(),
        micro_grid_id: None,
        building_id: Some(building.into()),
        unit_id: None,
        room: "101".into(),
    };
    for (who, id, place) in [
        (&d.li, "hh-c1", super::b1()),
        (&w2, "hh-c2", at("c-2", "c-2-g", "c-2-b")),
        (&w3, "hh-c3", at("c-3", "c-3-g", "c-3-b")),
    ] {
        let mut hh = household(who, id, &place);
        assert_eq!(
            push_one(s, who, id, hh.save_after(&[])),
            PushOutcome::Stored
        );
    }
    let mut got = pull_all(s, &street, &Cursor::default(), 100).ids();
    got.sort();
    assert_eq!(got, ["hh-c1", "hh-c2"]);

    // Reference data: their street, every community of it and their trees; none of s-2.
    let r = s.reference(&street, 0).unwrap().unwrap();
    let ids: Vec<&str> = r.places.iter().map(|p| p.id.as_str()).collect();
    for id in [
        "s-1",
        demo::COMMUNITY,
        demo::BUILDING_9,
        "c-2",
        "c-2-g",
        "c-2-b",
    ] {
        assert!(ids.contains(&id), "{id} is sent");
    }
    for id in ["s-2", "c-3", "c-3-g", "c-3-b"] {
        assert!(!ids.contains(&id), "{id} is not sent");
    }
    assert_eq!(ids[0], "s-1", "parents come first");
    // A community's worker does not receive the other communities of the street.
    let r = s.reference(&w2, 0).unwrap().unwrap();
    assert!(!r.places.iter().any(|p| p.id == demo::COMMUNITY));

    // A community put under the street later arrives in the street admin's next pull.
    let before = pull_all(s, &street, &Cursor::default(), 100);
    let c3 = s.place("c-3").unwrap().unwrap();
    admin::create_place(
        s,
        &Place {
            parent_id: Some("s-1".into()),
            ..c3
        },
    )
    .unwrap();
    let street = device(s, &street_token);
    assert!(street.scope.communities.contains("c-3"));
    assert!(street.scope_seq > before.cursor.seq);
    // A snapshot pass, as after a grant: the whole (wider) scope, now with c-3's household.
    let mut got = pull_all(s, &street, &before.cursor, 100).ids();
    got.sort();
    assert_eq!(got, ["hh-c1", "hh-c2", "hh-c3"]);
}

pub fn create_place_checks_the_new_levels(s: &dyn Storage) {
    seeded(s);
    put(s, "s-1", PlaceKind::Street, None);
    put(s, "m-1", PlaceKind::MicroGrid, Some(demo::GRID_1));
    put(s, "b-m", PlaceKind::Building, Some("m-1"));
    put(s, "c-free", PlaceKind::Community, None);
    let bad = |id: &str, kind, parent: Option<&str>| {
        let place = Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: "错".into(),
        };
        admin::create_place(s, &place).is_err()
    };
    assert!(bad("s-x", PlaceKind::Street, Some(demo::COMMUNITY)));
    assert!(bad("c-x", PlaceKind::Community, Some(demo::GRID_1)));
    assert!(bad("m-x", PlaceKind::MicroGrid, None));
    assert!(bad("m-x", PlaceKind::MicroGrid, Some(demo::COMMUNITY)));
    assert!(bad("b-x", PlaceKind::Building, Some("s-1")));
    assert!(bad("g-x", PlaceKind::Grid, Some("s-1")));
    assert!(bad("u-x", PlaceKind::Unit, Some("m-1")));
}

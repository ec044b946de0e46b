//! Duplicates warn first (issue 10): the households already at an address and room, for the
//! form's warning; bad places are typed errors.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

fn at(t: &TestStore, place: &str, room: &str) -> String {
    t.store
        .create_household(household(
            place,
            room,
            vec![member("张三丰", Relation::Head, None)],
        ))
        .unwrap()
}

fn ids(found: Vec<HouseholdSummary>) -> Vec<String> {
    found.into_iter().map(|h| h.id).collect()
}

#[test]
fn the_households_at_a_door_are_listed() {
    let t = open(1, USER_LI_MEI);
    let s = &t.store;
    assert_eq!(s.households_at_door(UNIT_1_1, "301").unwrap(), vec![]);
    let first = at(&t, UNIT_1_1, "301");
    let elsewhere = at(&t, UNIT_1_2, "301");
    let other_room = at(&t, UNIT_1_1, "302");
    let tenants = at(&t, UNIT_1_1, "301");
    // Same unit and room, trimmed: both households there, oldest first.
    assert_eq!(
        ids(s.households_at_door(UNIT_1_1, " 301 ").unwrap()),
        vec![first.clone(), tenants.clone()]
    );
    let found = s.households_at_door(UNIT_1_1, "301").unwrap();
    assert!(
        found
            .iter()
            .all(|h| h.room == "301" && h.unit_id.as_deref() == Some(UNIT_1_1))
    );
    assert_eq!(
        ids(s.households_at_door(UNIT_1_2, "301").unwrap()),
        vec![elsewhere.clone()]
    );
    assert_eq!(
        ids(s.households_at_door(UNIT_1_1, "302").unwrap()),
        vec![other_room]
    );
    assert_eq!(s.households_at_door(UNIT_1_1, "303").unwrap(), vec![]);
    assert_eq!(s.households_at_door(UNIT_2_1, "301").unwrap(), vec![]);
    // At the building (no unit said): any of its units' 301.
    let mut building = ids(s.households_at_door(BUILDING_1, "301").unwrap());
    building.sort();
    let mut want = vec![first, tenants, elsewhere];
    want.sort();
    assert_eq!(building, want);
    // A blank room matches nothing.
    assert_eq!(s.households_at_door(UNIT_1_1, "  ").unwrap(), vec![]);
}

#[test]
fn a_household_at_the_building_counts_at_its_units() {
    let t = open(1, USER_LI_MEI);
    let whole = at(&t, BUILDING_2, "101");
    assert_eq!(
        ids(t.store.households_at_door(UNIT_2_1, "101").unwrap()),
        vec![whole.clone()]
    );
    assert_eq!(
        ids(t.store.households_at_door(BUILDING_2, "101").unwrap()),
        vec![whole]
    );
    assert_eq!(t.store.households_at_door(UNIT_1_1, "101").unwrap(), vec![]);
}

#[test]
fn a_place_that_holds_no_households_is_a_typed_error() {
    let t = open(1, USER_LI_MEI);
    let before = fingerprint(&t.store);
    match t.store.households_at_door("nowhere", "301") {
        Err(Error::NotFound { kind }) => assert_eq!(kind, "place"),
        other => panic!("{other:?}"),
    }
    for place in [GRID_1, COMMUNITY] {
        match t.store.households_at_door(place, "301") {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!((field, reason), ("place", Reason::WrongPlace));
            }
            other => panic!("{place}: {other:?}"),
        }
    }
    assert_eq!(fingerprint(&t.store), before);
}

#[test]
fn sensitive_fields_are_seen_by_workers_and_admins_only() {
    use Role::*;
    for role in Role::ALL {
        let want = matches!(role, GridWorker | MicroGridWorker | Admin | StreetAdmin);
        assert_eq!(roles::sees_sensitive(*role), want, "{role:?}");
        let t = open(1, "me");
        people(&t.store, &[("me", *role), ("someone", GridWorker)]);
        assert_eq!(t.store.sees_sensitive().unwrap(), want, "{role:?}");
    }
    // Before the device knows its user's role: hidden.
    let t = open(1, "me");
    assert!(!t.store.sees_sensitive().unwrap());
    people(&t.store, &[("someone", GridWorker)]);
    assert!(!t.store.sees_sensitive().unwrap());
}

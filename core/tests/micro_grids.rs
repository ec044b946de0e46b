//! A street above the community and a micro-grid (微网格) between grid and building: a
//! household created there is addressed through the micro-grid and listed at every level.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

const STREET: &str = "street-1";
const MICRO: &str = "micro-1";
const MICRO_2: &str = "micro-2";
const BUILDING: &str = "building-m1";
const UNIT: &str = "unit-m1-1";

fn open_with_micro_grids() -> TestStore {
    let t = open(1, "worker-li");
    let mut tree = places();
    // The demo community gains a street above it.
    for p in &mut tree {
        if p.id == COMMUNITY {
            p.parent_id = Some(STREET.into());
        }
    }
    tree.insert(0, place(STREET, PlaceKind::Street, None, "幸福街道"));
    tree.extend([
        place(MICRO, PlaceKind::MicroGrid, Some(GRID_1), "第一微网格"),
        place(MICRO_2, PlaceKind::MicroGrid, Some(GRID_1), "第二微网格"),
        place(BUILDING, PlaceKind::Building, Some(MICRO), "桃园3栋"),
        place(UNIT, PlaceKind::Unit, Some(BUILDING), "1单元"),
    ]);
    t.store.put_places(&tree).unwrap();
    t
}

#[test]
fn a_household_under_a_micro_grid_building_is_addressed_and_listed() {
    let t = open_with_micro_grids();
    let s = &t.store;
    let in_unit = s
        .create_household(household(
            UNIT,
            "502",
            vec![member("王芳", Relation::Head, None)],
        ))
        .unwrap();
    let in_building = s
        .create_household(household(BUILDING, "101", vec![]))
        .unwrap();
    let plain = s
        .create_household(household(UNIT_1_1, "301", vec![]))
        .unwrap();

    let a = s.household(&in_unit).unwrap().address;
    assert_eq!(a.community_id, COMMUNITY);
    assert_eq!(a.grid_id, GRID_1);
    assert_eq!(a.micro_grid_id.as_deref(), Some(MICRO));
    assert_eq!(a.building_id.as_deref(), Some(BUILDING));
    assert_eq!(a.unit_id.as_deref(), Some(UNIT));
    assert_eq!(
        s.household(&in_building)
            .unwrap()
            .address
            .micro_grid_id
            .as_deref(),
        Some(MICRO)
    );
    assert_eq!(s.household(&plain).unwrap().address.micro_grid_id, None);

    let ids = |place: &str| {
        let mut v: Vec<String> = s
            .households_in(place)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    let mut both = vec![in_unit.clone(), in_building.clone()];
    both.sort();
    assert_eq!(ids(MICRO), both);
    assert!(ids(MICRO_2).is_empty());
    assert_eq!(ids(BUILDING), both);
    assert_eq!(ids(UNIT), vec![in_unit.clone()]);
    assert_eq!(ids(GRID_1).len(), 3);
    assert_eq!(ids(COMMUNITY).len(), 3);
    assert_eq!(ids(STREET).len(), 3);

    // The tree reads top-down through the new levels.
    let top = s.places_under(None).unwrap();
    assert_eq!(
        top.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec![STREET]
    );
    assert!(
        s.places_under(Some(GRID_1))
            .unwrap()
            .iter()
            .any(|p| p.id == MICRO)
    );
    assert_eq!(s.places_under(Some(MICRO)).unwrap()[0].id, BUILDING);

    // An incident at the household, or reported at the micro-grid, names the micro-grid.
    let by_household = s
        .report_incident(linli_testkit::records::incident_at_household(&in_unit))
        .unwrap();
    assert_eq!(
        s.incident(&by_household).unwrap().micro_grid_id.as_deref(),
        Some(MICRO)
    );
    let mut at_micro = linli_testkit::records::incident_at_household(&in_unit);
    at_micro.household_id = None;
    at_micro.place_id = Some(MICRO.into());
    let at_micro = s.report_incident(at_micro).unwrap();
    let i = s.incident(&at_micro).unwrap();
    assert_eq!(
        (i.grid_id.as_str(), i.micro_grid_id.as_deref()),
        (GRID_1, Some(MICRO))
    );
    assert_eq!(i.building_id, None);

    // A street is not a place to live or to report at.
    assert!(s.create_household(household(STREET, "1", vec![])).is_err());
    assert!(s.create_household(household(MICRO, "1", vec![])).is_err());
}

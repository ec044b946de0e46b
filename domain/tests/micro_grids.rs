//! Documents with and without a micro-grid (微网格): `micro_grid_id` is written only when
//! present, read as optional, and reaches the place the server scopes a document by.

#![allow(clippy::unwrap_used)]

use automerge::{AutoCommit, ROOT, ReadDoc};
use linli_domain::doc::{self, DocKind, DocPlace};
use linli_domain::*;

fn address(micro_grid: Option<&str>) -> Address {
    Address {
        community_id: "c".into(),
        grid_id: "g".into(),
        micro_grid_id: micro_grid.map(Into::into),
        building_id: Some("b".into()),
        unit_id: None,
        room: "101".into(),
    }
}

fn household(micro_grid: Option<&str>) -> AutoCommit {
    let mut d = AutoCommit::new();
    let new = NewHousehold {
        place_id: "b".into(),
        room: "101".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: vec![],
        notes: String::new(),
        members: vec![],
    };
    doc::init_household(&mut d, "h1", 1, &address(micro_grid), &new).unwrap();
    d.commit();
    d
}

fn address_has_micro_grid_key(d: &AutoCommit) -> bool {
    let (_, a) = d.get(&ROOT, "address").unwrap().unwrap();
    d.get(&a, "micro_grid_id").unwrap().is_some()
}

#[test]
fn a_household_without_a_micro_grid_reads_as_before() {
    let d = household(None);
    assert!(!address_has_micro_grid_key(&d));
    assert_eq!(doc::read_address(&d).unwrap(), address(None));
    let (kind, id, place) = doc::describe(&d).unwrap();
    assert_eq!((kind, id.as_str()), (DocKind::Household, "h1"));
    assert_eq!(
        place,
        DocPlace {
            community_id: "c".into(),
            grid_id: "g".into(),
            micro_grid_id: None,
            building_id: Some("b".into()),
            unit_id: None,
        }
    );
}

#[test]
fn a_household_in_a_micro_grid_names_it_and_can_leave_it() {
    let mut d = household(Some("m1"));
    assert!(address_has_micro_grid_key(&d));
    assert_eq!(doc::read_address(&d).unwrap(), address(Some("m1")));
    let (_, _, place) = doc::describe(&d).unwrap();
    assert_eq!(place.micro_grid_id.as_deref(), Some("m1"));
    // Survives a save and load (what the server stores).
    let loaded = AutoCommit::load(&d.save()).unwrap();
    assert_eq!(doc::read_address(&loaded).unwrap(), address(Some("m1")));
    // Moving to a building without a micro-grid removes the key.
    doc::write_address(&mut d, &address(None)).unwrap();
    assert!(!address_has_micro_grid_key(&d));
    assert_eq!(doc::describe(&d).unwrap().2.micro_grid_id, None);
}

#[test]
fn an_incident_carries_its_micro_grid_only_when_it_has_one() {
    for micro_grid in [None, Some("m1")] {
        let i = Incident {
            id: "i1".into(),
            category: IncidentCategory::Other,
            description: "楼道堆物".into(),
            community_id: "c".into(),
            grid_id: "g".into(),
            micro_grid_id: micro_grid.map(Into::into),
            building_id: Some("b".into()),
            unit_id: None,
            household_id: None,
            reporter: "u".into(),
            priority: Priority::Normal,
            assignee: None,
            department: None,
            reported_at: 1,
            received_at: None,
            status: IncidentStatus::Reported,
            level: Level::Grid,
            dispute: None,
            events: vec![],
        };
        let mut d = AutoCommit::new();
        doc::init_incident(&mut d, &i).unwrap();
        d.commit();
        assert_eq!(
            d.get(&ROOT, "micro_grid_id").unwrap().is_some(),
            micro_grid.is_some()
        );
        let (read, _) = doc::read_incident(&d).unwrap();
        assert_eq!(read.micro_grid_id.as_deref(), micro_grid);
        let (_, _, place) = doc::describe(&d).unwrap();
        assert_eq!(place.micro_grid_id.as_deref(), micro_grid);
    }
}

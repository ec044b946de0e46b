//! Shared set-up for the core's integration tests: a place tree and stores on real files.
#![allow(dead_code)]

use linli_core::*;
use tempfile::TempDir;

pub const COMMUNITY: &str = "c-xingfu";
pub const GRID_A: &str = "g-1";
pub const GRID_B: &str = "g-2";
pub const BUILDING_1: &str = "b-1";
pub const BUILDING_2: &str = "b-2";
pub const BUILDING_9: &str = "b-9";
pub const UNIT_1_1: &str = "u-1-1";

pub fn places() -> Vec<Place> {
    let p = |id: &str, kind, parent: Option<&str>, name: &str| Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: name.into(),
    };
    vec![
        p(COMMUNITY, PlaceKind::Community, None, "幸福社区"),
        p(GRID_A, PlaceKind::Grid, Some(COMMUNITY), "第一网格"),
        p(GRID_B, PlaceKind::Grid, Some(COMMUNITY), "第二网格"),
        p(BUILDING_1, PlaceKind::Building, Some(GRID_A), "安置小区1栋"),
        p(BUILDING_2, PlaceKind::Building, Some(GRID_A), "安置小区2栋"),
        p(BUILDING_9, PlaceKind::Building, Some(GRID_B), "桂花苑9栋"),
        p(UNIT_1_1, PlaceKind::Unit, Some(BUILDING_1), "1单元"),
    ]
}

pub fn identity(device: u8, user: &str) -> Identity {
    Identity {
        device_id: uuid::Uuid::from_bytes([device; 16]).to_string(),
        user_id: user.into(),
    }
}

pub struct TestStore {
    pub store: Store,
    pub dir: TempDir,
}

pub fn open(device: u8, user: &str) -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("linli.db"), identity(device, user)).expect("open");
    store.put_places(&places()).expect("places");
    TestStore { store, dir }
}

pub fn member(name: &str, relation: Relation, phone: Option<&str>) -> NewMember {
    NewMember {
        name: name.into(),
        relation,
        birth_year: Some(1960),
        phone: phone.map(Into::into),
        id_number: None,
    }
}

pub fn household(place: &str, room: &str, members: Vec<NewMember>) -> NewHousehold {
    NewHousehold {
        place_id: place.into(),
        room: room.into(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![],
        notes: String::new(),
        members,
    }
}

pub fn visit(household_id: &str) -> NewVisit {
    NewVisit {
        household_id: household_id.into(),
        at: None,
        purpose: VisitPurpose::AskNeeds,
        needs: vec![Need {
            category: NeedCategory::Repair,
            text: "卫生间漏水".into(),
        }],
        done_on_spot: "已联系物业".into(),
        follow_up: true,
    }
}

/// A fingerprint of every table, to prove a rejected call wrote nothing.
pub fn fingerprint(store: &Store) -> Vec<(String, i64)> {
    store.with_raw_connection(|c| {
        let tables = [
            "documents",
            "doc_changes",
            "change_history",
            "places",
            "households",
            "household_tags",
            "household_search",
            "visits",
            "incidents",
        ];
        let mut out = Vec::new();
        for t in tables {
            let n: i64 = c
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .expect("count");
            out.push((t.to_owned(), n));
        }
        let seq: i64 = c
            .query_row("SELECT coalesce(max(local_seq), 0) FROM documents", [], |r| r.get(0))
            .expect("seq");
        out.push(("local_seq".into(), seq));
        let bytes: i64 = c
            .query_row(
                "SELECT coalesce(sum(length(bytes)), 0) + (SELECT coalesce(sum(length(snapshot)), 0) FROM documents) FROM doc_changes",
                [],
                |r| r.get(0),
            )
            .expect("bytes");
        out.push(("bytes".into(), bytes));
        out
    })
}

//! The demo community, 幸福社区: two grids, three buildings of two units each, a grid worker
//! per grid, a building leader and a community admin. The main job seeds it, and every test
//! crate and benchmark starts from it.

use linli_domain::protocol::Role;
use linli_domain::{Place, PlaceKind};

pub const COMMUNITY: &str = "c-xingfu";
pub const GRID_1: &str = "g-1";
pub const GRID_2: &str = "g-2";
pub const BUILDING_1: &str = "b-1";
pub const BUILDING_2: &str = "b-2";
pub const BUILDING_9: &str = "b-9";
pub const UNIT_1_1: &str = "u-1-1";
pub const UNIT_1_2: &str = "u-1-2";
pub const UNIT_2_1: &str = "u-2-1";
pub const UNIT_2_2: &str = "u-2-2";
pub const UNIT_9_1: &str = "u-9-1";
pub const UNIT_9_2: &str = "u-9-2";

pub const USER_LI_MEI: &str = "user-limei";
pub const USER_WANG_QIANG: &str = "user-wangqiang";
pub const USER_ZHAO: &str = "user-zhao";
pub const USER_ADMIN: &str = "user-admin";
/// The property company's handler (物业小刘): a console user, with no phone.
pub const USER_HANDLER: &str = "user-wuye";

/// A place of the tree.
pub fn place(id: &str, kind: PlaceKind, parent: Option<&str>, name: &str) -> Place {
    Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: name.into(),
    }
}

/// The demo community's place tree, parents first (as a device store's `put_places` and the
/// server's `create_place` want them).
pub fn places() -> Vec<Place> {
    vec![
        place(COMMUNITY, PlaceKind::Community, None, "幸福社区"),
        place(GRID_1, PlaceKind::Grid, Some(COMMUNITY), "第一网格"),
        place(GRID_2, PlaceKind::Grid, Some(COMMUNITY), "第二网格"),
        place(BUILDING_1, PlaceKind::Building, Some(GRID_1), "安置小区1栋"),
        place(BUILDING_2, PlaceKind::Building, Some(GRID_1), "安置小区2栋"),
        place(BUILDING_9, PlaceKind::Building, Some(GRID_2), "桂花苑9栋"),
        place(UNIT_1_1, PlaceKind::Unit, Some(BUILDING_1), "1单元"),
        place(UNIT_1_2, PlaceKind::Unit, Some(BUILDING_1), "2单元"),
        place(UNIT_2_1, PlaceKind::Unit, Some(BUILDING_2), "1单元"),
        place(UNIT_2_2, PlaceKind::Unit, Some(BUILDING_2), "2单元"),
        place(UNIT_9_1, PlaceKind::Unit, Some(BUILDING_9), "1单元"),
        place(UNIT_9_2, PlaceKind::Unit, Some(BUILDING_9), "2单元"),
    ]
}

/// A person of the demo community, with the one place they are granted and the fixed
/// device id their phone is enrolled under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPerson {
    pub id: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub grant: &'static str,
    /// Recognisable fixed device ids: 00000000-0000-4000-8000-00000000000N.
    pub device_id: &'static str,
}

/// The demo community's people, in the order the demo prints them.
pub const PEOPLE: [DemoPerson; 4] = [
    DemoPerson {
        id: USER_LI_MEI,
        name: "李梅",
        role: Role::GridWorker,
        grant: GRID_1,
        device_id: "00000000-0000-4000-8000-000000000001",
    },
    DemoPerson {
        id: USER_WANG_QIANG,
        name: "王强",
        role: Role::GridWorker,
        grant: GRID_2,
        device_id: "00000000-0000-4000-8000-000000000002",
    },
    DemoPerson {
        id: USER_ZHAO,
        name: "赵楼长",
        role: Role::BuildingLeader,
        grant: BUILDING_1,
        device_id: "00000000-0000-4000-8000-000000000003",
    },
    DemoPerson {
        id: USER_ADMIN,
        name: "陈主任",
        role: Role::Admin,
        grant: COMMUNITY,
        device_id: "00000000-0000-4000-8000-000000000004",
    },
];

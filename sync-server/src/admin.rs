//! Administration: places, people, grants, devices and compaction, as used by the
//! `linli-sync-server admin` command, and the demo community of `linli-sync-server demo`.
//!
//! The checks here (a grid sits under a community, a user belongs to a community, …) are
//! independent of the storage; the writes go through [`AdminStorage`]. Output names ids, never
//! people's names, except the demo table, whose people are invented.

use std::io::Write;

use linli_domain::protocol::Role;
use linli_domain::{Place, PlaceKind};

use crate::error::{Error, Result};
use crate::storage::{AdminStorage, Compaction, User, new_token, token_hash};

/// A subcommand of `linli-sync-server admin`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Creates (or renames, re-parents) a place.
    CreatePlace {
        #[arg(long)]
        id: String,
        /// community, grid, building or unit.
        #[arg(long, value_parser = parse_place_kind)]
        kind: PlaceKind,
        /// The enclosing place: none for a community, else a community, grid or building.
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        name: String,
    },
    /// Creates (or updates) a user.
    CreateUser {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// grid_worker, building_leader, unit_leader or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        community: String,
    },
    /// Grants a user a place: its documents become the user's scope.
    Grant {
        #[arg(long)]
        user: String,
        #[arg(long)]
        place: String,
    },
    /// Enrolls a device for a user and prints its token (shown once, stored hashed).
    Enroll {
        #[arg(long)]
        user: String,
        /// Re-enrolling an existing device of the user gives it a new token.
        #[arg(long)]
        device_id: Option<uuid::Uuid>,
    },
    /// Revokes a device: its token is refused from now on.
    Revoke {
        #[arg(long)]
        device: String,
    },
    /// Deletes all but the last N changes of the log (documents keep full snapshots).
    Compact {
        #[arg(long)]
        keep: u64,
    },
    /// Lists devices with their user and state.
    ListDevices,
}

fn parse_place_kind(s: &str) -> std::result::Result<PlaceKind, String> {
    PlaceKind::from_code(s).ok_or_else(|| "expected community, grid, building or unit".into())
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    Role::from_code(s)
        .ok_or_else(|| "expected grid_worker, building_leader, unit_leader or admin".into())
}

/// A device's credentials, as shown once at enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub device_id: String,
    pub token: String,
}

fn check_text(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.trim() != value {
        return Err(Error::Invalid {
            field,
            reason: "must be non-empty without surrounding spaces",
        });
    }
    if value.chars().count() > 64 || value.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field,
            reason: "must be at most 64 printable characters",
        });
    }
    Ok(())
}

/// Creates or updates a place, checking it fits the tree: a community has no parent, a grid
/// sits under a community, a building under a grid, a unit under a building.
pub fn create_place(storage: &dyn AdminStorage, place: &Place) -> Result<()> {
    check_text("place id", &place.id)?;
    check_text("place name", &place.name)?;
    let parent_kind = match place.kind {
        PlaceKind::Community => None,
        PlaceKind::Grid => Some(PlaceKind::Community),
        PlaceKind::Building => Some(PlaceKind::Grid),
        PlaceKind::Unit => Some(PlaceKind::Building),
    };
    match (parent_kind, &place.parent_id) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(Error::Invalid {
                field: "parent",
                reason: "a community has no parent",
            });
        }
        (Some(_), None) => {
            return Err(Error::Invalid {
                field: "parent",
                reason: "is required below a community",
            });
        }
        (Some(kind), Some(parent)) => {
            let p = storage.place(parent)?.ok_or(Error::NotFound {
                kind: "parent place",
            })?;
            if p.kind != kind {
                return Err(Error::Invalid {
                    field: "parent",
                    reason: "must be the level above (community > grid > building > unit)",
                });
            }
        }
    }
    storage.put_place(place)?;
    Ok(())
}

pub fn create_user(storage: &dyn AdminStorage, user: &User) -> Result<()> {
    check_text("user id", &user.id)?;
    check_text("user name", &user.name)?;
    match storage.place(&user.community_id)? {
        Some(p) if p.kind == PlaceKind::Community => {}
        Some(_) => {
            return Err(Error::Invalid {
                field: "community",
                reason: "is not a community",
            });
        }
        None => return Err(Error::NotFound { kind: "community" }),
    }
    storage.put_user(user)?;
    Ok(())
}

/// Grants a user a place. The scope follows the place's level whatever the role, so a
/// street admin can hold several communities and a grid worker an extra building.
pub fn grant(storage: &dyn AdminStorage, user_id: &str, place_id: &str) -> Result<()> {
    storage
        .user(user_id)?
        .ok_or(Error::NotFound { kind: "user" })?;
    storage
        .place(place_id)?
        .ok_or(Error::NotFound { kind: "place" })?;
    storage.grant(user_id, place_id)?;
    Ok(())
}

/// Enrolls a device (a fresh id unless one is given) and returns its token.
pub fn enroll(
    storage: &dyn AdminStorage,
    user_id: &str,
    device_id: Option<uuid::Uuid>,
) -> Result<Enrollment> {
    storage
        .user(user_id)?
        .ok_or(Error::NotFound { kind: "user" })?;
    let device_id = device_id.unwrap_or_else(uuid::Uuid::new_v4).to_string();
    let token = new_token();
    storage.enroll(&device_id, user_id, &token_hash(&token))?;
    Ok(Enrollment { device_id, token })
}

pub fn revoke(storage: &dyn AdminStorage, device_id: &str) -> Result<()> {
    storage.revoke(device_id)?;
    Ok(())
}

pub fn compact(storage: &dyn AdminStorage, keep_last: u64) -> Result<Compaction> {
    storage.compact(keep_last)
}

/// Runs one admin command, writing its result to `out`.
pub fn run(storage: &dyn AdminStorage, cmd: AdminCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        AdminCommand::CreatePlace {
            id,
            kind,
            parent,
            name,
        } => {
            create_place(
                storage,
                &Place {
                    id: id.clone(),
                    kind,
                    parent_id: parent,
                    name,
                },
            )?;
            writeln!(out, "place {id} saved")?;
        }
        AdminCommand::CreateUser {
            id,
            name,
            role,
            community,
        } => {
            create_user(
                storage,
                &User {
                    id: id.clone(),
                    name,
                    role,
                    community_id: community,
                },
            )?;
            writeln!(out, "user {id} saved")?;
        }
        AdminCommand::Grant { user, place } => {
            grant(storage, &user, &place)?;
            writeln!(out, "user {user} granted {place}")?;
        }
        AdminCommand::Enroll { user, device_id } => {
            let e = enroll(storage, &user, device_id)?;
            writeln!(out, "device_id {}", e.device_id)?;
            writeln!(out, "token {}", e.token)?;
            writeln!(
                out,
                "(the token is shown only now; the server keeps its hash)"
            )?;
        }
        AdminCommand::Revoke { device } => {
            revoke(storage, &device)?;
            writeln!(out, "device {device} revoked")?;
        }
        AdminCommand::Compact { keep } => {
            let c = compact(storage, keep)?;
            writeln!(
                out,
                "deleted {} change(s); compacted up to seq {}",
                c.deleted, c.compacted_upto
            )?;
        }
        AdminCommand::ListDevices => {
            writeln!(out, "device_id\tuser_id\trole\tcreated_at\trevoked_at")?;
            for d in storage.devices()? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    d.device_id,
                    d.user_id,
                    d.role.code(),
                    d.created_at,
                    d.revoked_at.map(|t| t.to_string()).unwrap_or("-".into())
                )?;
            }
        }
    }
    Ok(())
}

// ---- the demo community ----------------------------------------------------------------

/// Ids of the demo community (the same as the core's test fixtures, plus units).
pub mod demo {
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
}

/// A demo user's device, with its freshly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoDevice {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub device_id: String,
    pub token: String,
}

/// The demo community's place tree, parents first (for a device store's `put_places`).
pub fn demo_places() -> Vec<Place> {
    use demo::*;
    let p = |id: &str, kind, parent: Option<&str>, name: &str| Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: name.into(),
    };
    vec![
        p(COMMUNITY, PlaceKind::Community, None, "幸福社区"),
        p(GRID_1, PlaceKind::Grid, Some(COMMUNITY), "第一网格"),
        p(GRID_2, PlaceKind::Grid, Some(COMMUNITY), "第二网格"),
        p(BUILDING_1, PlaceKind::Building, Some(GRID_1), "安置小区1栋"),
        p(BUILDING_2, PlaceKind::Building, Some(GRID_1), "安置小区2栋"),
        p(BUILDING_9, PlaceKind::Building, Some(GRID_2), "桂花苑9栋"),
        p(UNIT_1_1, PlaceKind::Unit, Some(BUILDING_1), "1单元"),
        p(UNIT_1_2, PlaceKind::Unit, Some(BUILDING_1), "2单元"),
        p(UNIT_2_1, PlaceKind::Unit, Some(BUILDING_2), "1单元"),
        p(UNIT_2_2, PlaceKind::Unit, Some(BUILDING_2), "2单元"),
        p(UNIT_9_1, PlaceKind::Unit, Some(BUILDING_9), "1单元"),
        p(UNIT_9_2, PlaceKind::Unit, Some(BUILDING_9), "2单元"),
    ]
}

/// Seeds the demo community (幸福社区: two grids, three buildings of two units each) with a
/// grid worker per grid, a building leader of 安置小区1栋 and a community admin, and enrolls
/// one device each. Idempotent: rerunning changes nothing but the devices' tokens, and does
/// not bump the reference version. Device ids are fixed so reruns reuse them.
pub fn seed_demo(storage: &dyn AdminStorage) -> Result<Vec<DemoDevice>> {
    use demo::*;
    for place in demo_places() {
        create_place(storage, &place)?;
    }
    let people: [(&str, &str, Role, &str, u128); 4] = [
        (USER_LI_MEI, "李梅", Role::GridWorker, GRID_1, 1),
        (USER_WANG_QIANG, "王强", Role::GridWorker, GRID_2, 2),
        (USER_ZHAO, "赵楼长", Role::BuildingLeader, BUILDING_1, 3),
        (USER_ADMIN, "陈主任", Role::Admin, COMMUNITY, 4),
    ];
    let mut devices = Vec::new();
    for (id, name, role, place, n) in people {
        create_user(
            storage,
            &User {
                id: id.into(),
                name: name.into(),
                role,
                community_id: COMMUNITY.into(),
            },
        )?;
        grant(storage, id, place)?;
        // Recognisable fixed ids: 00000000-0000-4000-8000-00000000000N.
        let device = uuid::Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n);
        let e = enroll(storage, id, Some(device))?;
        devices.push(DemoDevice {
            user_id: id.into(),
            name: name.into(),
            role,
            device_id: e.device_id,
            token: e.token,
        });
    }
    Ok(devices)
}

/// Writes the demo devices as a table.
pub fn print_demo_devices(devices: &[DemoDevice], out: &mut dyn Write) -> Result<()> {
    writeln!(out, "user\trole\tuser_id\tdevice_id\ttoken")?;
    for d in devices {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            d.name,
            d.role.label(),
            d.user_id,
            d.device_id,
            d.token
        )?;
    }
    Ok(())
}

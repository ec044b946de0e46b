//! The demo community seeded into a server's storage through the server's own administration
//! functions (the checks an admin's command gets), with one enrolled device per person.

use std::io::Write;

use linli_domain::Department;
use linli_domain::protocol::Role;
use linli_sync_server::admin::{create_place, create_user, enroll, grant};
use linli_sync_server::console::set_password;
use linli_sync_server::{AdminStorage, Result, Storage, User};

use crate::demo::{COMMUNITY, PEOPLE, USER_ADMIN, USER_HANDLER, places};

/// A demo user's device, with its freshly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoDevice {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub device_id: String,
    pub token: String,
}

/// Seeds the demo community (幸福社区: two grids, three buildings of two units each) with a
/// grid worker per grid, a building leader of 安置小区1栋 and a community admin, and enrolls
/// one device each. Idempotent: rerunning changes nothing but the devices' tokens, and does
/// not bump the reference version. Device ids are fixed so reruns reuse them.
pub fn seed_demo(storage: &dyn AdminStorage) -> Result<Vec<DemoDevice>> {
    for place in places() {
        create_place(storage, &place)?;
    }
    let mut devices = Vec::new();
    for p in PEOPLE {
        create_user(
            storage,
            &User {
                id: p.id.into(),
                name: p.name.into(),
                role: p.role,
                community_id: COMMUNITY.into(),
            },
        )?;
        grant(storage, p.id, p.grant)?;
        let device = uuid::Uuid::parse_str(p.device_id).ok();
        let e = enroll(storage, p.id, device)?;
        devices.push(DemoDevice {
            user_id: p.id.into(),
            name: p.name.into(),
            role: p.role,
            device_id: e.device_id,
            token: e.token,
        });
    }
    Ok(devices)
}

/// Writes the demo devices as a table.
pub fn print_demo_devices(devices: &[DemoDevice], out: &mut dyn Write) -> std::io::Result<()> {
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

/// The demo console accounts' password (the demo is not a deployment: change it anywhere
/// real people's data is kept).
pub const DEMO_PASSWORD: &str = "xingfu-demo-2026";

/// A console account of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Seeds the demo's console accounts, after [`seed_demo`]: the community admin 陈主任 and the
/// property company's handler 物业小刘 (department `property`, granted the community), both
/// with [`DEMO_PASSWORD`].
pub fn seed_console(storage: &dyn Storage) -> Result<Vec<DemoAccount>> {
    create_user(
        storage,
        &User {
            id: USER_HANDLER.into(),
            name: "物业小刘".into(),
            role: Role::DepartmentHandler,
            community_id: COMMUNITY.into(),
        },
    )?;
    grant(storage, USER_HANDLER, COMMUNITY)?;
    storage.set_department(USER_HANDLER, Some(Department::Property))?;
    let mut accounts = Vec::new();
    for id in [USER_ADMIN, USER_HANDLER] {
        set_password(storage, id, DEMO_PASSWORD)?;
        if let Some(a) = storage.account(id)? {
            accounts.push(DemoAccount {
                user_id: a.user.id,
                name: a.user.name,
                role: a.user.role,
                password: DEMO_PASSWORD.into(),
            });
        }
    }
    Ok(accounts)
}

/// Writes the console accounts as `account<TAB>user_id<TAB>password<TAB>role` lines.
pub fn print_demo_accounts(accounts: &[DemoAccount], out: &mut dyn Write) -> std::io::Result<()> {
    for a in accounts {
        writeln!(
            out,
            "account\t{}\t{}\t{}",
            a.user_id,
            a.password,
            a.role.label()
        )?;
    }
    Ok(())
}

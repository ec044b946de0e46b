//! Administration: places, people, grants, devices, compaction and a community's targets, as
//! used by the `linli-sync-server admin` command. (The demo community is seeded by the test kit.)
//!
//! The checks here (a grid sits under a community, a user belongs to a community, …) are
//! independent of the storage; the writes go through [`AdminStorage`]. Output names ids, never
//! people's names, except the demo table, whose people are invented.

use std::io::Write;

use linli_domain::protocol::Role;
use linli_domain::{Department, IncidentCategory, Place, PlaceKind};

use crate::directory::check_text;
use crate::error::{Error, Result};
use crate::storage::{AdminStorage, Compaction, Storage, User, new_token, token_hash};

/// A subcommand of `linli-sync-server admin`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Creates (or renames, re-parents) a place.
    CreatePlace {
        #[arg(long)]
        id: String,
        /// street, community, grid, micro_grid, building or unit.
        #[arg(long, value_parser = parse_place_kind)]
        kind: PlaceKind,
        /// The enclosing place: none for a street; none or a street for a community; a
        /// community for a grid; a grid for a micro-grid; a grid or micro-grid for a building;
        /// a building for a unit.
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
        /// grid_worker, micro_grid_worker, building_leader, unit_leader,
        /// department_handler, admin or street_admin.
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
    /// Prints an enrolment link (`linli://enrol?server=…&code=…`, single-use, valid 10
    /// minutes, stored hashed) that a phone exchanges for its token, as the console's QR
    /// code does.
    EnrolCode {
        #[arg(long)]
        user: String,
        /// This server's address as phones reach it, e.g. https://linli.example.gov.cn.
        #[arg(long)]
        server: String,
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
    /// Prints a single-use link (valid 24 h) that sets a console user's password: how the
    /// first admin of a street or community gets in.
    Invite {
        #[arg(long)]
        user: String,
    },
    /// Sets a console user's password, read from the first line of standard input (never
    /// from the command line, where it would stay in the shell's history).
    SetPassword {
        #[arg(long)]
        user: String,
    },
    /// Sets the department whose orders a department handler sees in the console.
    SetDepartment {
        #[arg(long)]
        user: String,
        /// property, urban_management, police, mediation or other.
        #[arg(long, value_parser = parse_department)]
        department: Department,
    },
    /// Ends a console account's locks: forgets its failed sign-ins from every address.
    Unlock {
        #[arg(long)]
        user: String,
    },
    /// Sets a community's targets (minutes; omitted ones keep their current value) and moves
    /// its incidents' deadlines to match.
    SetTargets {
        #[arg(long)]
        community: String,
        /// Set the targets of one category of incident (e.g. dispute) instead of the
        /// community's own; unset fields start from the category's current targets, else the
        /// community's.
        #[arg(long, value_parser = parse_category)]
        category: Option<IncidentCategory>,
        /// From receipt to the first accept (default 15).
        #[arg(long)]
        respond_min: Option<i64>,
        #[arg(long)]
        urgent_min: Option<i64>,
        #[arg(long)]
        high_min: Option<i64>,
        #[arg(long)]
        normal_min: Option<i64>,
        #[arg(long)]
        low_min: Option<i64>,
    },
}

fn parse_category(s: &str) -> std::result::Result<IncidentCategory, String> {
    IncidentCategory::from_code(s).ok_or_else(|| {
        let codes: Vec<&str> = IncidentCategory::ALL.iter().map(|c| c.code()).collect();
        format!("expected one of {}", codes.join(", "))
    })
}

fn parse_department(s: &str) -> std::result::Result<Department, String> {
    Department::from_code(s).ok_or_else(|| {
        let codes: Vec<&str> = Department::ALL.iter().map(|c| c.code()).collect();
        format!("one of {}", codes.join(", "))
    })
}

fn parse_place_kind(s: &str) -> std::result::Result<PlaceKind, String> {
    PlaceKind::from_code(s)
        .ok_or_else(|| "expected street, community, grid, micro_grid, building or unit".into())
}

fn parse_role(s: &str) -> std::result::Result<Role, String> {
    Role::from_code(s)
        .filter(|r| *r != Role::System)
        .ok_or_else(|| {
            "expected grid_worker, micro_grid_worker, building_leader, unit_leader, \
             department_handler, admin or street_admin"
                .into()
        })
}

/// A device's credentials, as shown once at enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub device_id: String,
    pub token: String,
}

/// Creates or updates a place, checking it fits the tree: a street has no parent, a
/// community none or a street, a grid sits under a community, a micro-grid under a grid, a
/// building under a grid or a micro-grid, a unit under a building.
pub fn create_place(storage: &dyn AdminStorage, place: &Place) -> Result<()> {
    check_place(storage, place)?;
    storage.put_place(place)?;
    Ok(())
}

/// The checks of [`create_place`], without writing.
pub fn check_place(storage: &dyn AdminStorage, place: &Place) -> Result<()> {
    let parent = match &place.parent_id {
        Some(id) => Some(storage.place(id)?.ok_or(Error::NotFound {
            kind: "parent place",
        })?),
        None => None,
    };
    crate::directory::check_place(place, parent.as_ref())
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
pub fn run(storage: &dyn Storage, cmd: AdminCommand, out: &mut dyn Write) -> Result<()> {
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
        AdminCommand::EnrolCode { user, server } => {
            let found = storage
                .user(&user)?
                .ok_or(Error::NotFound { kind: "user" })?;
            if !(server.starts_with("http://") || server.starts_with("https://")) {
                return Err(Error::Invalid {
                    field: "server",
                    reason: "must start with http:// or https://",
                });
            }
            let code = crate::directory::new_enrol_code();
            let now = storage.server().now();
            let audit =
                crate::directory::Audit::new(now, "cli", crate::directory::Action::EnrolCode)
                    .community(Some(&found.community_id))
                    .user(&user);
            storage.add_enrol_code(
                &token_hash(&code),
                now + crate::directory::ENROL_CODE_MS,
                &audit,
            )?;
            writeln!(
                out,
                "{}",
                crate::console::enrol_link(server.trim_end_matches('/'), &code)
            )?;
            writeln!(out, "(single use, valid 10 minutes; shown only now)")?;
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
        AdminCommand::SetTargets {
            community,
            category,
            respond_min,
            urgent_min,
            high_min,
            normal_min,
            low_min,
        } => {
            let mut all = storage.targets(&community)?;
            let mut t = match category {
                Some(c) => all.for_category(c),
                None => all.base,
            };
            let ms = |m: Option<i64>, current: i64| m.map_or(current, |m| m.saturating_mul(60_000));
            t.response_ms = ms(respond_min, t.response_ms);
            t.resolve_urgent_ms = ms(urgent_min, t.resolve_urgent_ms);
            t.resolve_high_ms = ms(high_min, t.resolve_high_ms);
            t.resolve_normal_ms = ms(normal_min, t.resolve_normal_ms);
            t.resolve_low_ms = ms(low_min, t.resolve_low_ms);
            match category {
                Some(category) => {
                    all.by_category.retain(|c| c.category != category);
                    all.by_category
                        .push(linli_domain::targets::CategoryTargets {
                            category,
                            targets: t,
                        });
                }
                None => all.base = t,
            }
            storage.set_targets(&community, &all)?;
            let of = category.map_or(String::new(), |c| format!(" for {}", c.code()));
            writeln!(
                out,
                "targets of {community}{of} saved: respond {} min; resolve urgent {} / high {} / normal {} / low {} min",
                t.response_ms / 60_000,
                t.resolve_urgent_ms / 60_000,
                t.resolve_high_ms / 60_000,
                t.resolve_normal_ms / 60_000,
                t.resolve_low_ms / 60_000
            )?;
        }
        AdminCommand::Invite { user } => {
            let token = crate::console::invite(storage, &user, "cli")?;
            writeln!(out, "invitation /admin/invitations/{token}")?;
            writeln!(
                out,
                "(open it on this server within 24 hours; it works once and is shown only now)"
            )?;
        }
        AdminCommand::SetPassword { user } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            crate::console::set_password(storage, &user, password)?;
            writeln!(out, "password of {user} set; their console sessions ended")?;
        }
        AdminCommand::SetDepartment { user, department } => {
            if storage.user(&user)?.is_none() {
                return Err(Error::NotFound { kind: "user" });
            }
            storage.set_department(&user, Some(department))?;
            writeln!(out, "department of {user} set to {}", department.code())?;
        }
        AdminCommand::Unlock { user } => {
            if storage.user(&user)?.is_none() {
                return Err(Error::NotFound { kind: "user" });
            }
            storage.clear_failures(&user, None)?;
            writeln!(out, "{user} unlocked (its failed sign-ins forgotten)")?;
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

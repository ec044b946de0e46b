//! People, devices and places as the console administers them, with the audit trail:
//! [`DirectoryStorage`] (each write one transaction that also appends its [`Audit`] row),
//! the action and reason codes, and enrolment codes (single-use, stored hashed, 10 minutes).
//!
//! Who may act on whom is the console's (`console/users.rs`, `console/places.rs`); the checks
//! on what is written (a user belongs to a community, a place fits the tree) are
//! [`crate::admin`]'s, shared with the command line.

use linli_domain::protocol::Role;
use linli_domain::{Millis, Place, PlaceKind};

use crate::error::{Error, Result};

/// A person known to the server (the reference data devices receive names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The community the user belongs to; their devices receive its place tree and people.
    pub community_id: String,
}

/// A device as listed by the admin command (ids only: no names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: String,
    pub user_id: String,
    pub role: Role,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A code enum of this module: stable codes (stored) and Chinese labels (shown).
macro_rules! codes {
    ($(#[$m:meta])* $name:ident { $($v:ident = $code:literal, $label:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($v,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)* }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label,)* }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$v),)* _ => None }
            }
        }
    };
}

codes!(
    /// What an admin did (the audit trail's `action`).
    Action {
        CreateUser = "create_user", "新建人员";
        DeactivateNow = "deactivate_now", "立即停用人员";
        DeactivateAfterSync = "deactivate_after_sync", "停用人员（最后同步后）";
        Grant = "grant", "授予地点";
        Withdraw = "withdraw", "收回地点";
        EnrolCode = "enrol_code", "生成设备登记码";
        Enrolled = "enrolled", "设备已登记";
        RevokeDevice = "revoke_device", "吊销设备";
        CreatePlace = "create_place", "新建地点";
        RenamePlace = "rename_place", "重命名地点";
        MoveBuilding = "move_building", "楼栋调整网格";
    }
);

codes!(
    /// Why (a code from a list, never free text: the trail holds no personal data).
    Reason {
        NewStaff = "new_staff", "新到岗";
        LeftPost = "left_post", "离岗";
        Reassigned = "reassigned", "岗位调整";
        LostDevice = "lost_device", "设备丢失";
        NewDevice = "new_device", "更换设备";
        Correction = "correction", "信息更正";
        Restructure = "restructure", "网格调整";
        Other = "other", "其他";
    }
);

/// One row of the audit trail, as written: ids and codes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub at: Millis,
    pub actor_id: String,
    pub action: Action,
    /// The community concerned (a community admin sees its rows); `None`: a street's.
    pub community_id: Option<String>,
    pub target_user: Option<String>,
    pub target_device: Option<String>,
    pub target_place: Option<String>,
    pub reason: Option<Reason>,
}

impl Audit {
    pub fn new(at: Millis, actor_id: &str, action: Action) -> Audit {
        Audit {
            at,
            actor_id: actor_id.to_owned(),
            action,
            community_id: None,
            target_user: None,
            target_device: None,
            target_place: None,
            reason: None,
        }
    }

    pub fn community(mut self, id: Option<&str>) -> Audit {
        self.community_id = id.map(str::to_owned);
        self
    }

    pub fn user(mut self, id: &str) -> Audit {
        self.target_user = Some(id.to_owned());
        self
    }

    pub fn device(mut self, id: &str) -> Audit {
        self.target_device = Some(id.to_owned());
        self
    }

    pub fn place(mut self, id: &str) -> Audit {
        self.target_place = Some(id.to_owned());
        self
    }

    pub fn reason(mut self, r: Option<Reason>) -> Audit {
        self.reason = r;
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: u64,
    pub audit: Audit,
}

/// Which rows of the trail a page reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only rows of these communities; `None`: every row (a street admin's own rows with no
    /// community are included only then).
    pub communities: Option<Vec<String>>,
    pub action: Option<Action>,
    /// Rows with an id below this (the next page); `None`: from the newest.
    pub before: Option<u64>,
    pub limit: u32,
}

/// How a user is deactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deactivation {
    /// Each device may sync once more (its last changes arrive), then gets 403.
    AfterFinalSync,
    /// At once (a lost phone): every device revoked, every console session ended.
    Now,
}

/// A user as the users page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    pub user: User,
    pub deactivated_at: Option<Millis>,
    /// Deactivated after a final sync that some device has not made yet.
    pub final_sync: bool,
    /// Granted place ids, by id.
    pub grants: Vec<String>,
}

/// A device as the users page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub info: DeviceInfo,
    pub name: Option<String>,
}

/// What redeeming an enrolment code gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// A new device of this user holds the token.
    Enrolled(User),
    /// No such code, used already, expired, or its user deactivated: the same from outside.
    Spent,
}

/// How long an enrolment code is valid.
pub const ENROL_CODE_MS: Millis = 10 * 60_000;
/// Failed enrolments from one address within [`ENROL_WINDOW_MS`] before it is refused (429).
pub const ENROL_FAILURE_LIMIT: u32 = 10;
pub const ENROL_WINDOW_MS: Millis = 15 * 60_000;

/// A fresh enrolment code: 128 bits of OS randomness as 32 lowercase hex characters (short
/// enough for a small QR code, too long to guess in 10 attempts).
pub fn new_enrol_code() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `s` has the shape of an enrolment code (checked before anything is hashed).
pub fn looks_like_code(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The console's administration of people, devices and places. Every write is one
/// transaction that also appends its audit row; a refused write changes nothing.
pub trait DirectoryStorage: Send + Sync + 'static {
    /// Creates a user (an error if the id is taken) with these grants.
    fn add_user(&self, user: &User, grants: &[String], audit: &Audit) -> Result<()>;

    /// Deactivates a user (see [`Deactivation`]). False if they were already deactivated
    /// (nothing written).
    fn deactivate_user(&self, user_id: &str, how: Deactivation, audit: &Audit) -> Result<bool>;

    /// Grants a place (as `AdminStorage::grant`); false if it was granted already (nothing
    /// written, no audit row).
    fn grant_place(&self, user_id: &str, place_id: &str, audit: &Audit) -> Result<bool>;

    /// Withdraws a grant; false if there was none. The documents of that place the user's
    /// remaining grants do not cover leave the user's devices (`user_departures`, read by
    /// the pull as `gone`).
    fn withdraw_grant(&self, user_id: &str, place_id: &str, audit: &Audit) -> Result<bool>;

    /// Stores an enrolment code's hash for `user_id`, valid until `expires_at`.
    fn add_enrol_code(&self, code_hash: &[u8], expires_at: Millis, audit: &Audit) -> Result<()>;

    /// Uses an unused, unexpired code of an active user: enrols `device_id` with the token's
    /// hash and the phone's name, and appends an `enrolled` row, in one transaction.
    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        device_id: &str,
        device_name: &str,
        token_hash: &[u8],
        now: Millis,
    ) -> Result<Redeemed>;

    /// Records a failed enrolment from `address` (rows older than a day are dropped here).
    fn enrol_failed(&self, address: &str, now: Millis) -> Result<()>;

    /// Failed enrolments from `address` at or after `since`.
    fn enrol_failures(&self, address: &str, since: Millis) -> Result<u32>;

    /// Revokes a device; false if it was revoked already (nothing written).
    fn revoke_device(&self, device_id: &str, audit: &Audit) -> Result<bool>;

    /// Creates or renames a place (checked by the caller, see [`crate::admin::create_place`]).
    fn save_place(&self, place: &Place, audit: &Audit) -> Result<bool>;

    /// Moves a building under another grid or micro-grid of its community (checked by the
    /// caller); its households and incidents follow as server changes by the audit's actor
    /// ([`crate::relocate`]), all in one transaction. Returns how many records moved.
    fn move_building(&self, building_id: &str, to_parent: &str, audit: &Audit) -> Result<usize>;

    /// The users of these communities, by id, with their state and grants.
    fn users_in(&self, communities: &[String]) -> Result<Vec<UserState>>;

    /// The devices of one user, by enrolment time.
    fn devices_of(&self, user_id: &str) -> Result<Vec<DeviceRow>>;

    /// One device, whoever it belongs to.
    fn device(&self, device_id: &str) -> Result<Option<DeviceRow>>;

    /// A page of the trail, newest first.
    fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRow>>;

    /// Whether a sync of `device_id` was its user's final one: if the user is deactivated
    /// after a final sync, the device is revoked now (in one transaction). Called after a
    /// complete sync of a device that `authenticate` marked as on its final sync.
    fn finish_final_sync(&self, device_id: &str) -> Result<()>;
}

/// The role codes a console admin may give (below their own rank).
pub fn creatable_roles(own: Role) -> &'static [Role] {
    match own {
        Role::StreetAdmin => &[
            Role::GridWorker,
            Role::MicroGridWorker,
            Role::BuildingLeader,
            Role::UnitLeader,
            Role::DepartmentHandler,
            Role::Admin,
        ],
        Role::Admin => &[
            Role::GridWorker,
            Role::MicroGridWorker,
            Role::BuildingLeader,
            Role::UnitLeader,
            Role::DepartmentHandler,
        ],
        _ => &[],
    }
}

/// An id or name the admin typed: non-empty, no surrounding spaces, at most 64 printable
/// characters.
pub fn check_text(field: &'static str, value: &str) -> Result<()> {
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

/// Whether a place fits the tree under `parent` (its parent place, looked up by the caller):
/// a street has no parent, a community none or a street, a grid sits under a community, a
/// micro-grid under a grid, a building under a grid or a micro-grid, a unit under a building.
pub fn check_place(place: &Place, parent: Option<&Place>) -> Result<()> {
    check_text("place id", &place.id)?;
    check_text("place name", &place.name)?;
    let parent_kinds: &[PlaceKind] = match place.kind {
        PlaceKind::Street => &[],
        PlaceKind::Community => &[PlaceKind::Street],
        PlaceKind::Grid => &[PlaceKind::Community],
        PlaceKind::MicroGrid => &[PlaceKind::Grid],
        PlaceKind::Building => &[PlaceKind::Grid, PlaceKind::MicroGrid],
        PlaceKind::Unit => &[PlaceKind::Building],
    };
    let optional = matches!(place.kind, PlaceKind::Street | PlaceKind::Community);
    match &place.parent_id {
        None if optional => {}
        None => {
            return Err(Error::Invalid {
                field: "parent",
                reason: "is required below a community",
            });
        }
        Some(_) if parent_kinds.is_empty() => {
            return Err(Error::Invalid {
                field: "parent",
                reason: "a street has no parent",
            });
        }
        Some(_) => {
            let Some(p) = parent else {
                return Err(Error::NotFound {
                    kind: "parent place",
                });
            };
            if !parent_kinds.contains(&p.kind) {
                return Err(Error::Invalid {
                    field: "parent",
                    reason: "must be the level above (street > community > grid > \
                             micro-grid > building > unit; the street and micro-grid optional)",
                });
            }
        }
    }
    Ok(())
}

//! Who may do what: the seven roles of community grid work (plus the server's own sweep) and
//! the one table of which incident moves each may make. The phone's action menu and the
//! server's judgement of a push both read this table, so they never disagree.
//!
//! | role | report | accept | dispatch | start / resolve | return | feedback | escalate | close / reopen |
//! |---|---|---|---|---|---|---|---|---|
//! | building / unit leader | yes | — | — | — | — | yes | — | — |
//! | grid / micro-grid worker | yes | yes | to themselves or a leader, in their grid | if the handler | if the handler | yes | — | — |
//! | department handler | — | if the handler (签收) | — | if the handler | if the handler | — | — | — |
//! | community admin | yes | yes | to anyone in the community, or a department | yes | — | yes | yes | yes |
//! | street admin | yes | yes | across communities | yes | — | yes | yes | yes |
//! | system (the server's sweep) | — | — | — | — | — | — | yes | — |
//!
//! Everything here is also bounded by place: a user acts only on incidents in their scope
//! (`scope.rs`); that check is the caller's, since it needs the place tree.

use serde::{Deserialize, Serialize};

use crate::codes::code_enum;
use crate::incident::{IncidentAction, IncidentStatus};

code_enum!(
    /// A user's role. The first four codes are those of the first release; never reorder.
    Role {
        GridWorker = "grid_worker", "网格员";
        BuildingLeader = "building_leader", "楼栋长";
        UnitLeader = "unit_leader", "单元长";
        Admin = "admin", "社区管理员";
        StreetAdmin = "street_admin", "街道管理员";
        DepartmentHandler = "department_handler", "部门处置人员";
        MicroGridWorker = "micro_grid_worker", "微网格员";
        System = "system", "系统";
    }
);

impl Role {
    /// Community or street staff, who work in the console.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin | Role::StreetAdmin)
    }

    /// Building and unit leaders: the residents' voice.
    pub fn is_leader(self) -> bool {
        matches!(self, Role::BuildingLeader | Role::UnitLeader)
    }

    /// Grid and micro-grid workers.
    pub fn is_grid_worker(self) -> bool {
        matches!(self, Role::GridWorker | Role::MicroGridWorker)
    }
}

/// How far a role may make a move (within its scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    No,
    Yes,
    /// Only on an incident they currently handle.
    IfHandler,
}

/// To whom a role may dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchGrant {
    No,
    /// To themselves or a building / unit leader, in their own grid.
    SelfOrLeader,
    /// To anyone of their community, or a department.
    Community,
    /// To anyone of their street, across communities, or a department.
    Street,
}

/// One role's row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    pub report: Grant,
    pub accept: Grant,
    pub dispatch: DispatchGrant,
    /// Start and resolve.
    pub work: Grant,
    pub return_: Grant,
    pub feedback: Grant,
    pub escalate: Grant,
    /// Close (without feedback, with a reason) and reopen.
    pub close_reopen: Grant,
}

// One argument per column of the table, so each row reads like the table above.
#[allow(clippy::too_many_arguments)]
const fn row(
    report: Grant,
    accept: Grant,
    dispatch: DispatchGrant,
    work: Grant,
    return_: Grant,
    feedback: Grant,
    escalate: Grant,
    close_reopen: Grant,
) -> Permissions {
    Permissions {
        report,
        accept,
        dispatch,
        work,
        return_,
        feedback,
        escalate,
        close_reopen,
    }
}

use DispatchGrant as D;
use Grant::{IfHandler as H, No, Yes};

/// The table: one row per role.
pub const TABLE: [(Role, Permissions); 8] = [
    (
        Role::BuildingLeader,
        row(Yes, No, D::No, No, No, Yes, No, No),
    ),
    (Role::UnitLeader, row(Yes, No, D::No, No, No, Yes, No, No)),
    (
        Role::GridWorker,
        row(Yes, Yes, D::SelfOrLeader, H, H, Yes, No, No),
    ),
    (
        Role::MicroGridWorker,
        row(Yes, Yes, D::SelfOrLeader, H, H, Yes, No, No),
    ),
    (Role::DepartmentHandler, row(No, H, D::No, H, H, No, No, No)),
    (
        Role::Admin,
        row(Yes, Yes, D::Community, Yes, No, Yes, Yes, Yes),
    ),
    (
        Role::StreetAdmin,
        row(Yes, Yes, D::Street, Yes, No, Yes, Yes, Yes),
    ),
    (Role::System, row(No, No, D::No, No, No, No, Yes, No)),
];

impl Role {
    /// This role's row of [`TABLE`].
    pub fn permissions(self) -> Permissions {
        TABLE
            .iter()
            .find(|(r, _)| *r == self)
            .map(|(_, p)| *p)
            // Every role has a row (a test checks it); an unknown one may do nothing.
            .unwrap_or(row(No, No, D::No, No, No, No, No, No))
    }
}

/// Who a dispatch goes to, as far as the table cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchTarget<'a> {
    /// A person: their id, role, and whether they belong to the dispatcher's community.
    Person {
        user_id: &'a str,
        role: Role,
        same_community: bool,
    },
    /// A department or organisation (物业, 城管, …).
    Department,
}

/// What a move is judged against besides the actor's role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoveContext<'a> {
    /// The incident's current handler.
    pub handler: Option<&'a str>,
    /// For a dispatch: where it goes.
    pub target: Option<DispatchTarget<'a>>,
}

/// Why the table refuses a move: a stable code for the screens to translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Denied {
    /// The role never makes this move.
    Role,
    /// Only the incident's current handler may.
    NotHandler,
    /// A dispatch to someone this role may not dispatch to.
    Target,
}

impl Denied {
    pub fn code(self) -> &'static str {
        match self {
            Denied::Role => "role",
            Denied::NotHandler => "not_handler",
            Denied::Target => "target",
        }
    }
}

fn grant(g: Grant, user_id: &str, ctx: &MoveContext<'_>) -> Result<(), Denied> {
    match g {
        Grant::Yes => Ok(()),
        Grant::No => Err(Denied::Role),
        Grant::IfHandler if ctx.handler == Some(user_id) => Ok(()),
        Grant::IfHandler => Err(Denied::NotHandler),
    }
}

/// Whether `user_id` in `role` may make `action` (reporting aside) on an incident, by the
/// table. Place is the caller's check.
pub fn check_move(
    role: Role,
    user_id: &str,
    action: IncidentAction,
    ctx: &MoveContext<'_>,
) -> Result<(), Denied> {
    use IncidentAction as A;
    let p = role.permissions();
    match action {
        A::Accept => grant(p.accept, user_id, ctx),
        A::Start | A::Resolve => grant(p.work, user_id, ctx),
        A::Return => grant(p.return_, user_id, ctx),
        A::Feedback => grant(p.feedback, user_id, ctx),
        A::Escalate => grant(p.escalate, user_id, ctx),
        A::Close | A::Reopen => grant(p.close_reopen, user_id, ctx),
        A::Other => Err(Denied::Role),
        A::Dispatch => match (p.dispatch, ctx.target) {
            (D::No, _) => Err(Denied::Role),
            // Where it goes is judged when it is known; a menu offers the move.
            (_, None) => Ok(()),
            (
                D::SelfOrLeader,
                Some(DispatchTarget::Person {
                    user_id: to, role, ..
                }),
            ) if to == user_id || role.is_leader() => Ok(()),
            (D::SelfOrLeader, Some(_)) => Err(Denied::Target),
            (D::Community, Some(DispatchTarget::Person { same_community, .. })) => {
                if same_community {
                    Ok(())
                } else {
                    Err(Denied::Target)
                }
            }
            (D::Community | D::Street, Some(_)) => Ok(()),
        },
    }
}

/// Whether the role sees residents' sensitive fields (phone numbers, ID numbers, the
/// sensitive care tags) in the register: grid and micro-grid workers and admins do;
/// building and unit leaders, department handlers and the system do not. A leader may still
/// enter them for a new household or member, write-only.
pub fn sees_sensitive(role: Role) -> bool {
    role.is_grid_worker() || role.is_admin()
}

/// Whether the role may report incidents at all.
pub fn may_report(role: Role) -> bool {
    role.permissions().report == Grant::Yes
}

/// The moves a user may make on an incident in `status` now, in menu order: what the phone
/// offers and the console shows as buttons.
pub fn allowed_moves(
    status: IncidentStatus,
    role: Role,
    user_id: &str,
    ctx: &MoveContext<'_>,
) -> Vec<IncidentAction> {
    status
        .allowed_actions()
        .into_iter()
        .filter(|a| check_move(role, user_id, *a, ctx).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentAction as A;

    #[test]
    fn every_role_has_one_row() {
        for role in Role::ALL {
            assert_eq!(TABLE.iter().filter(|(r, _)| r == role).count(), 1, "{role}");
        }
        assert_eq!(TABLE.len(), Role::ALL.len());
    }

    /// The matrix of `../shared/workflow.md`, spelled out: role × move → as the handler /
    /// as someone else.
    #[test]
    fn the_matrix() {
        let moves = [
            A::Accept,
            A::Start,
            A::Resolve,
            A::Return,
            A::Feedback,
            A::Escalate,
            A::Close,
            A::Reopen,
        ];
        // (role, [(handler may, other may)] in the order of `moves`)
        let t = (true, true);
        let h = (true, false);
        let f = (false, false);
        let expected: [(Role, [(bool, bool); 8]); 8] = [
            (Role::BuildingLeader, [f, f, f, f, t, f, f, f]),
            (Role::UnitLeader, [f, f, f, f, t, f, f, f]),
            (Role::GridWorker, [t, h, h, h, t, f, f, f]),
            (Role::MicroGridWorker, [t, h, h, h, t, f, f, f]),
            (Role::DepartmentHandler, [h, h, h, h, f, f, f, f]),
            (Role::Admin, [t, t, t, f, t, t, t, t]),
            (Role::StreetAdmin, [t, t, t, f, t, t, t, t]),
            (Role::System, [f, f, f, f, f, t, f, f]),
        ];
        for (role, row) in expected {
            for (action, (as_handler, as_other)) in moves.iter().zip(row) {
                let mine = MoveContext {
                    handler: Some("me"),
                    target: None,
                };
                let theirs = MoveContext {
                    handler: Some("someone"),
                    target: None,
                };
                assert_eq!(
                    check_move(role, "me", *action, &mine).is_ok(),
                    as_handler,
                    "{role} {action} as handler"
                );
                assert_eq!(
                    check_move(role, "me", *action, &theirs).is_ok(),
                    as_other,
                    "{role} {action} as someone else"
                );
            }
        }
        let reporters: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| may_report(*r))
            .collect();
        assert_eq!(
            reporters,
            vec![
                Role::GridWorker,
                Role::BuildingLeader,
                Role::UnitLeader,
                Role::Admin,
                Role::StreetAdmin,
                Role::MicroGridWorker
            ]
        );
    }

    #[test]
    fn dispatch_targets() {
        let person = |user_id, role, same_community| MoveContext {
            handler: None,
            target: Some(DispatchTarget::Person {
                user_id,
                role,
                same_community,
            }),
        };
        let dept = MoveContext {
            handler: None,
            target: Some(DispatchTarget::Department),
        };
        let d = |role, ctx: &MoveContext<'_>| check_move(role, "me", A::Dispatch, ctx);
        // A grid worker: to themselves or a leader, never a department or another worker.
        assert_eq!(
            d(Role::GridWorker, &person("me", Role::GridWorker, true)),
            Ok(())
        );
        assert_eq!(
            d(
                Role::GridWorker,
                &person("zhao", Role::BuildingLeader, true)
            ),
            Ok(())
        );
        assert_eq!(
            d(Role::GridWorker, &person("wang", Role::GridWorker, true)),
            Err(Denied::Target)
        );
        assert_eq!(d(Role::GridWorker, &dept), Err(Denied::Target));
        // A community admin: anyone of the community, or a department.
        assert_eq!(
            d(Role::Admin, &person("wang", Role::GridWorker, true)),
            Ok(())
        );
        assert_eq!(
            d(Role::Admin, &person("far", Role::GridWorker, false)),
            Err(Denied::Target)
        );
        assert_eq!(d(Role::Admin, &dept), Ok(()));
        // A street admin: across communities.
        assert_eq!(
            d(Role::StreetAdmin, &person("far", Role::GridWorker, false)),
            Ok(())
        );
        assert_eq!(
            d(
                Role::BuildingLeader,
                &person("me", Role::BuildingLeader, true)
            ),
            Err(Denied::Role)
        );
    }

    #[test]
    fn menus_follow_status_and_role() {
        let none = MoveContext::default();
        assert_eq!(
            allowed_moves(IncidentStatus::Reported, Role::GridWorker, "me", &none),
            vec![A::Accept]
        );
        assert_eq!(
            allowed_moves(IncidentStatus::Reported, Role::Admin, "me", &none),
            vec![A::Accept, A::Escalate]
        );
        assert_eq!(
            allowed_moves(IncidentStatus::Resolved, Role::BuildingLeader, "me", &none),
            vec![A::Feedback]
        );
        let mine = MoveContext {
            handler: Some("me"),
            target: None,
        };
        assert_eq!(
            allowed_moves(
                IncidentStatus::Dispatched,
                Role::DepartmentHandler,
                "me",
                &mine
            ),
            vec![A::Accept, A::Start, A::Resolve, A::Return]
        );
        assert!(
            allowed_moves(
                IncidentStatus::Dispatched,
                Role::DepartmentHandler,
                "me",
                &none
            )
            .is_empty()
        );
    }
}

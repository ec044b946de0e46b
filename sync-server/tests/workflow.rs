//! The incident workflow kept by the server, through pushes of real Automerge changes made as
//! phones make them (actor = the device's UUID, message `u` = its user): the role table on
//! every move (every role × every move × inside / outside scope), attribution, the server's
//! receipt, and escalation exactly once per level with an injected clock, across a restart
//! mid-sweep and with two storages ("processes") on one file.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use linli_domain::doc;
use linli_domain::protocol::{Cursor, DocPush, PushOutcome, Role};
use linli_domain::roles::{self, DispatchTarget, MoveContext};
use linli_domain::{
    Department, Incident, IncidentAction as A, IncidentCategory, IncidentStatus, Level, Millis,
    MoveDetail, PlaceKind, Priority, Rating, ReturnReason, moves,
};
use linli_sync_server::admin;
use linli_sync_server::workflow;
use linli_sync_server::{Auth, Device, SqliteStorage, SyncStorage, User, WorkflowStorage};
use linli_testkit::demo;
use tempfile::TempDir;

const T0: Millis = 1_764_547_200_000;
const MIN: Millis = 60_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(T0)))
    }
    fn clock(&self) -> workflow::Clock {
        let c = self.0.clone();
        Arc::new(move || c.load(Ordering::SeqCst))
    }
    fn set(&self, at: Millis) {
        self.0.store(at, Ordering::SeqCst);
    }
}

struct World {
    dir: TempDir,
    clock: TestClock,
    s: SqliteStorage,
    /// One device per user id.
    devices: Vec<Device>,
}

/// The other community, outside every demo user's scope.
const OTHER: &str = "c-other";
const OTHER_GRID: &str = "g-other";

/// Users of every role (beyond the demo's four), each with one enrolled device.
const EXTRA: [(&str, Role, &str); 5] = [
    ("user-street", Role::StreetAdmin, demo::COMMUNITY),
    ("user-dept", Role::DepartmentHandler, demo::COMMUNITY),
    ("user-micro", Role::MicroGridWorker, demo::GRID_1),
    ("user-unit", Role::UnitLeader, demo::UNIT_1_1),
    ("user-other-admin", Role::Admin, OTHER),
];

fn path(dir: &TempDir) -> PathBuf {
    dir.path().join("server.db")
}

fn open(p: &Path, clock: &TestClock) -> SqliteStorage {
    SqliteStorage::open(p).unwrap().with_clock(clock.clock())
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let s = open(&path(&dir), &clock);
    let mut tokens: Vec<String> = linli_testkit::seed_demo(&s)
        .unwrap()
        .into_iter()
        .map(|d| d.token)
        .collect();
    let place = |id: &str, kind, parent: Option<&str>| linli_domain::Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: id.into(),
    };
    admin::create_place(&s, &place(OTHER, PlaceKind::Community, None)).unwrap();
    admin::create_place(&s, &place(OTHER_GRID, PlaceKind::Grid, Some(OTHER))).unwrap();
    for (id, role, grant) in EXTRA {
        let community = if grant == OTHER {
            OTHER
        } else {
            demo::COMMUNITY
        };
        admin::create_user(
            &s,
            &User {
                id: id.into(),
                name: id.into(),
                role,
                community_id: community.into(),
            },
        )
        .unwrap();
        admin::grant(&s, id, grant).unwrap();
        tokens.push(admin::enroll(&s, id, None).unwrap().token);
    }
    let devices = tokens
        .iter()
        .map(|t| match s.authenticate(t).unwrap() {
            Auth::Device(d) => *d,
            other => panic!("{other:?}"),
        })
        .collect();
    World {
        dir,
        clock,
        s,
        devices,
    }
}

impl World {
    fn dev(&self, user: &str) -> &Device {
        self.devices.iter().find(|d| d.user_id == user).unwrap()
    }

    fn rows(&self) -> i64 {
        let c = rusqlite::Connection::open(path(&self.dir)).unwrap();
        c.query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap()
    }

    fn push(&self, who: &Device, id: &str, changes: Vec<u8>) -> PushOutcome {
        self.s
            .push(
                who,
                &[DocPush {
                    doc_id: id.into(),
                    changes,
                }],
            )
            .unwrap()[0]
            .outcome
    }

    /// The server's copy of a document.
    fn server_doc(&self, id: &str) -> AutoCommit {
        let admin = self.dev(demo::USER_ADMIN);
        let page = self.s.pull(admin, &Cursor::default(), 500).unwrap();
        let found = page.docs.iter().find(|d| d.doc_id == id);
        match found {
            Some(d) => AutoCommit::load(&d.changes).unwrap(),
            None => {
                let other = self.dev("user-other-admin");
                let page = self.s.pull(other, &Cursor::default(), 500).unwrap();
                let d = page.docs.iter().find(|d| d.doc_id == id).unwrap();
                AutoCommit::load(&d.changes).unwrap()
            }
        }
    }
}

fn actor(who: &Device) -> ActorId {
    ActorId::from(
        uuid::Uuid::parse_str(&who.device_id)
            .unwrap()
            .as_bytes()
            .as_slice(),
    )
}

fn commit(d: &mut AutoCommit, user: &str, op: &str) {
    d.commit_with(
        CommitOptions::default().with_message(format!(r#"{{"u":"{user}","op":"{op}","f":[]}}"#)),
    );
}

/// A new incident document reported by `who` at a building of grid 1 (or the other
/// community's grid).
fn report(who: &Device, id: &str, other: bool) -> AutoCommit {
    let mut d = AutoCommit::new().with_actor(actor(who));
    let (community, grid, building) = if other {
        (OTHER, OTHER_GRID, None)
    } else {
        (
            demo::COMMUNITY,
            demo::GRID_1,
            Some(demo::BUILDING_1.to_owned()),
        )
    };
    let i = Incident {
        id: id.into(),
        category: IncidentCategory::FlyingWireCharging,
        description: "楼道飞线充电".into(),
        community_id: community.into(),
        grid_id: grid.into(),
        micro_grid_id: None,
        building_id: building,
        unit_id: if other {
            None
        } else {
            Some(demo::UNIT_1_1.into())
        },
        household_id: None,
        reporter: who.user_id.clone(),
        priority: Priority::High,
        assignee: None,
        department: None,
        reported_at: T0,
        received_at: None,
        status: IncidentStatus::Reported,
        level: Level::Grid,
        dispute: None,
        events: Vec::new(),
    };
    doc::init_incident(&mut d, &i).unwrap();
    commit(&mut d, &who.user_id, "incident.report");
    d
}

/// `who` makes `action` on its copy `d` as its phone would; returns the bytes to push, or
/// `None` if the document layer itself refuses the move.
fn make_move(
    who: &Device,
    d: &mut AutoCommit,
    n: &mut u32,
    action: A,
    detail: MoveDetail,
) -> Option<Vec<u8>> {
    *n += 1;
    d.set_actor(actor(who));
    let heads = d.get_heads();
    let at = T0 + Millis::from(*n) * 1000;
    let e = moves::event(format!("e{n}"), action, who.user_id.clone(), at, detail);
    moves::apply(d, &e).ok()?;
    commit(d, &who.user_id, &format!("incident.{}", action.code()));
    Some(d.save_after(&heads))
}

fn detail(action: A, to: &str) -> MoveDetail {
    let note = |s: &str| MoveDetail {
        note: s.into(),
        ..MoveDetail::default()
    };
    match action {
        A::Dispatch => MoveDetail {
            to: Some(to.into()),
            ..MoveDetail::default()
        },
        A::Return => MoveDetail {
            reason: Some(ReturnReason::Jurisdiction),
            ..note("不在本网格")
        },
        A::Feedback => MoveDetail {
            rating: Some(Rating::Unsatisfied),
            ..MoveDetail::default()
        },
        A::Escalate => MoveDetail {
            level: Some(Level::Community),
            ..MoveDetail::default()
        },
        A::Close | A::Reopen => note("居民联系不上"),
        _ => MoveDetail::default(),
    }
}

/// Every role × every move × inside / outside scope, as pushes: stored exactly when the role
/// table allows it (inside the scope), else refused with nothing stored.
#[test]
fn the_permission_matrix_holds_on_every_push() {
    let w = world();
    let admin = w.dev(demo::USER_ADMIN).clone();
    let other_admin = w.dev("user-other-admin").clone();
    let actors: Vec<Device> = w
        .devices
        .iter()
        .filter(|d| d.user_id != "user-other-admin" && d.user_id != demo::USER_WANG_QIANG)
        .cloned()
        .collect();
    assert_eq!(actors.len(), 7, "one device of each of the seven roles");
    let mut n = 0u32;
    let mut checked = 0;
    let mut stored = 0;
    for who in &actors {
        for inside in [true, false] {
            // Reporting.
            let id = format!("r-{}-{inside}", who.user_id);
            let mut d = report(who, &id, !inside);
            let before = w.rows();
            let outcome = w.push(who, &id, d.save_after(&[]));
            let expected = inside && roles::may_report(who.role);
            assert_eq!(
                outcome == PushOutcome::Stored,
                expected,
                "{} report inside={inside}: {outcome:?}",
                who.role
            );
            if !expected {
                assert_eq!(w.rows(), before, "nothing stored");
            }
            for action in A::MENU.iter().copied() {
                // Set up an incident where `action` is legal, written by its community's admin.
                let boss = if inside { &admin } else { &other_admin };
                let id = format!("m-{}-{action}-{inside}", who.user_id);
                let mut d = report(boss, &id, !inside);
                assert_eq!(w.push(boss, &id, d.save_after(&[])), PushOutcome::Stored);
                let mut setup = vec![A::Accept];
                match action {
                    A::Accept | A::Escalate => setup.clear(),
                    A::Dispatch => {}
                    A::Start | A::Resolve | A::Return => setup.push(A::Dispatch),
                    A::Feedback | A::Close | A::Reopen => setup.extend([A::Dispatch, A::Resolve]),
                    A::Other => unreachable!(),
                }
                for step in setup {
                    // Outside, the other community's admin dispatches within it.
                    let to = if inside { &who.user_id } else { &boss.user_id };
                    let bytes = make_move(boss, &mut d, &mut n, step, detail(step, to));
                    assert_eq!(
                        w.push(boss, &id, bytes.unwrap()),
                        PushOutcome::Stored,
                        "setup {step}"
                    );
                }
                let handler = moves::current(&d).unwrap().handler;
                let Some(bytes) =
                    make_move(who, &mut d, &mut n, action, detail(action, &who.user_id))
                else {
                    panic!("{action} is legal in the set-up state");
                };
                let ctx = MoveContext {
                    handler: handler.as_deref(),
                    target: (action == A::Dispatch).then_some(DispatchTarget::Person {
                        user_id: &who.user_id,
                        role: who.role,
                        same_community: true,
                    }),
                };
                let allowed =
                    roles::check_move(who.role, &who.user_id, action, &ctx).is_ok() && inside;
                let before = w.rows();
                let outcome = w.push(who, &id, bytes);
                assert_eq!(
                    outcome == PushOutcome::Stored,
                    allowed,
                    "{} {action} inside={inside}: {outcome:?}",
                    who.role
                );
                if allowed {
                    stored += 1;
                    assert!(w.rows() > before);
                } else {
                    assert_ne!(outcome, PushOutcome::Invalid, "refused by role or scope");
                    assert_eq!(w.rows(), before, "nothing stored");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7 * 2 * A::MENU.len());
    // Leaders 1 each, grid and micro-grid workers 6 each, the department handler 3 (not the
    // accept of an order not theirs), each admin 8: the table's cells that allow.
    assert_eq!(stored, 33);
}

/// Dispatch targets are judged with the target's role and community, looked up on the
/// server: a grid worker may dispatch to a leader, not to another worker or a department.
#[test]
fn dispatch_targets_are_judged_on_the_server() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI);
    let mut n = 0;
    let mut d = report(li, "i", false);
    assert_eq!(w.push(li, "i", d.save_after(&[])), PushOutcome::Stored);
    let accept = make_move(li, &mut d, &mut n, A::Accept, MoveDetail::default()).unwrap();
    assert_eq!(w.push(li, "i", accept), PushOutcome::Stored);
    let mut copy = d.clone();
    let dept = MoveDetail {
        department: Some(Department::Property),
        ..MoveDetail::default()
    };
    let bytes = make_move(li, &mut copy, &mut n, A::Dispatch, dept).unwrap();
    assert_eq!(w.push(li, "i", bytes), PushOutcome::OutOfScope);
    for (to, ok) in [
        (demo::USER_WANG_QIANG, false),
        ("no-such-user", false),
        (demo::USER_ZHAO, true),
    ] {
        let mut copy = d.clone();
        let bytes = make_move(li, &mut copy, &mut n, A::Dispatch, detail(A::Dispatch, to));
        let outcome = w.push(li, "i", bytes.unwrap());
        assert_eq!(outcome == PushOutcome::Stored, ok, "to {to}");
    }
}

/// A change must be the pushing device's, for its user; others' changes already held are
/// skipped before that check.
#[test]
fn attribution_is_checked_and_held_changes_are_skipped() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    let wang = w.dev(demo::USER_WANG_QIANG).clone();
    let admin = w.dev(demo::USER_ADMIN).clone();
    let mut n = 0;

    // Another device's actor, for Li's user.
    let li_report = report(&li, "i1", false);
    let mut forged = AutoCommit::new().with_actor(actor(&wang));
    doc::init_incident(&mut forged, &doc::read_incident(&li_report).unwrap().0).unwrap();
    commit(&mut forged, &li.user_id, "incident.report");
    let bytes = forged.save_after(&[]);
    let before = w.rows();
    assert_eq!(w.push(&li, "i1", bytes), PushOutcome::Invalid);
    // Li's device claiming Wang's user id.
    let claims_wang = report(&li, "i2", false);
    let mut as_wang = AutoCommit::new().with_actor(actor(&li));
    doc::init_incident(&mut as_wang, &doc::read_incident(&claims_wang).unwrap().0).unwrap();
    commit(&mut as_wang, demo::USER_WANG_QIANG, "incident.report");
    assert_eq!(
        w.push(&li, "i2", as_wang.save_after(&[])),
        PushOutcome::Invalid
    );
    // An event by someone else, in Li's own change.
    let mut d = report(&li, "i3", false);
    assert_eq!(w.push(&li, "i3", d.save_after(&[])), PushOutcome::Stored);
    let after_report = w.rows();
    let heads = d.get_heads();
    let e = moves::event(
        "x".into(),
        A::Accept,
        demo::USER_ADMIN.into(),
        T0 + 1,
        MoveDetail::default(),
    );
    moves::apply(&mut d, &e).unwrap();
    commit(&mut d, &li.user_id, "incident.accept");
    assert_eq!(
        w.push(&li, "i3", d.save_after(&heads)),
        PushOutcome::Invalid
    );
    assert_eq!(w.rows(), after_report, "nothing stored");
    assert_eq!(after_report, before + 2, "the report and its receipt only");

    // Li re-sends the admin's accept she pulled, with her own start on top: accepted.
    let mut d = report(&li, "i4", false);
    assert_eq!(w.push(&li, "i4", d.save_after(&[])), PushOutcome::Stored);
    let mut admins = d.clone();
    let accept = make_move(
        &admin,
        &mut admins,
        &mut n,
        A::Accept,
        MoveDetail::default(),
    )
    .unwrap();
    assert_eq!(w.push(&admin, "i4", accept.clone()), PushOutcome::Stored);
    d.load_incremental(&accept).unwrap();
    let dispatch = make_move(
        &admin,
        &mut d,
        &mut n,
        A::Dispatch,
        detail(A::Dispatch, &li.user_id),
    )
    .unwrap();
    assert_eq!(w.push(&admin, "i4", dispatch), PushOutcome::Stored);
    let start = make_move(&li, &mut d, &mut n, A::Start, MoveDetail::default()).unwrap();
    let mut all = accept;
    all.extend(start);
    assert_eq!(w.push(&li, "i4", all), PushOutcome::Stored);
    assert_eq!(
        moves::current(&w.server_doc("i4")).unwrap().status,
        IncidentStatus::InProgress
    );
}

/// The server writes `received_at` once, on its clock, as its own change; the reporter
/// pulls it; a device may not write it.
#[test]
fn the_receipt_is_written_once_by_the_server_and_reaches_the_reporter() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    w.clock.set(T0 + 5 * MIN);
    let mut d = report(&li, "i", false);
    let start = Cursor::default();
    assert_eq!(w.push(&li, "i", d.save_after(&[])), PushOutcome::Stored);
    let page = w.s.pull(&li, &start, 100).unwrap();
    assert_eq!(page.docs.len(), 1, "the reporter pulls the receipt");
    d.load_incremental(&page.docs[0].changes).unwrap();
    let (i, _) = doc::read_incident(&d).unwrap();
    assert_eq!(i.received_at, Some(T0 + 5 * MIN));
    let server_changes: Vec<_> = d
        .get_changes(&[])
        .iter()
        .filter(|c| c.actor_id() != &actor(&li))
        .map(|c| (c.message().map(str::to_owned), c.timestamp()))
        .collect();
    assert_eq!(server_changes.len(), 1);
    assert_eq!(
        server_changes[0].0.as_deref(),
        Some(r#"{"f":[],"op":"incident.received","u":"system"}"#)
    );
    // Later pushes do not write it again.
    w.clock.set(T0 + 9 * MIN);
    let mut n = 0;
    let accept = make_move(&li, &mut d, &mut n, A::Accept, MoveDetail::default()).unwrap();
    let before = w.rows();
    assert_eq!(w.push(&li, "i", accept), PushOutcome::Stored);
    assert_eq!(w.rows(), before + 1);
    let (i, _) = doc::read_incident(&w.server_doc("i")).unwrap();
    assert_eq!(i.received_at, Some(T0 + 5 * MIN));
    // A phone that writes the receipt itself is refused.
    let heads = d.get_heads();
    d.set_actor(actor(&li));
    doc::put_received_at(&mut d, T0).unwrap();
    commit(&mut d, &li.user_id, "x");
    assert_eq!(w.push(&li, "i", d.save_after(&heads)), PushOutcome::Invalid);
}

fn escalations(d: &AutoCommit) -> Vec<Level> {
    let derived = moves::current(d).unwrap();
    derived
        .applied
        .iter()
        .filter(|(e, _)| e.action == A::Escalate)
        .map(|(e, _)| e.level.unwrap())
        .collect()
}

fn notifications(p: &Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(p).unwrap();
    let mut stmt = c
        .prepare("SELECT doc_id, level FROM notifications ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A crash mid-sweep (the escalation's transaction never commits), then a restart: the
/// level is reached once; sweeps after it add nothing; the next level comes at its deadline.
#[test]
fn escalation_happens_once_per_level_across_a_restart() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    let mut d = report(&li, "i", false);
    assert_eq!(w.push(&li, "i", d.save_after(&[])), PushOutcome::Stored);
    assert!(w.s.sweep().unwrap().is_empty(), "nothing due yet");
    w.clock.set(T0 + 15 * MIN - 1);
    assert!(w.s.sweep().unwrap().is_empty());
    w.clock.set(T0 + 16 * MIN);
    // The process dies inside the escalation's transaction.
    let crashed = w.s.write_workflow(&mut |tx| {
        let made = workflow::escalate_one(tx, w.s.server(), "i")?;
        assert!(made.is_some());
        Err(linli_sync_server::Error::Task)
    });
    assert!(crashed.is_err());
    assert!(escalations(&w.server_doc("i")).is_empty(), "rolled back");
    let World { dir, clock, s, .. } = w;
    drop(s);
    let s = open(&path(&dir), &clock);
    let made = s.sweep().unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].level, Level::Community);
    assert!(s.sweep().unwrap().is_empty(), "once per level");
    drop(s);
    let s = open(&path(&dir), &clock);
    assert!(s.sweep().unwrap().is_empty(), "and once across restarts");
    // The resolution target (72 h for high priority) raises it to the street, once.
    clock.set(T0 + 72 * 60 * MIN);
    assert_eq!(s.sweep().unwrap().len(), 1);
    assert!(s.sweep().unwrap().is_empty());
    clock.set(T0 + 100 * 60 * MIN);
    assert!(s.sweep().unwrap().is_empty(), "nothing above the street");
    let admin = match s
        .authenticate(&admin::enroll(&s, demo::USER_ADMIN, None).unwrap().token)
        .unwrap()
    {
        Auth::Device(d) => *d,
        other => panic!("{other:?}"),
    };
    let page = s.pull(&admin, &Cursor::default(), 100).unwrap();
    let copy = AutoCommit::load(&page.docs[0].changes).unwrap();
    assert_eq!(escalations(&copy), vec![Level::Community, Level::Street]);
    let derived = moves::current(&copy).unwrap();
    assert_eq!(derived.level, Level::Street);
    assert!(
        derived
            .applied
            .iter()
            .all(|(e, took)| *took || e.action != A::Escalate)
    );
    assert_eq!(
        notifications(&path(&dir)),
        vec![
            ("i".to_owned(), "community".to_owned()),
            ("i".to_owned(), "street".to_owned())
        ]
    );
    assert_eq!(s.notifications(&admin.scope, 0, 10).unwrap().len(), 2);
}

/// Two storages on one file (two server processes), sweeping concurrently from threads:
/// one event and one notification per level and incident.
#[test]
fn two_processes_sweeping_together_escalate_once() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    let ids: Vec<String> = (0..6).map(|i| format!("i{i}")).collect();
    for id in &ids {
        let mut d = report(&li, id, false);
        assert_eq!(w.push(&li, id, d.save_after(&[])), PushOutcome::Stored);
    }
    let p = path(&w.dir);
    // Past both deadlines: each incident is owed two levels.
    w.clock.set(T0 + 80 * 60 * MIN);
    let second = open(&p, &w.clock);
    let made = std::thread::scope(|scope| {
        let a = scope.spawn(|| (0..5).map(|_| w.s.sweep().unwrap().len()).sum::<usize>());
        let b = scope.spawn(|| (0..5).map(|_| second.sweep().unwrap().len()).sum::<usize>());
        a.join().unwrap() + b.join().unwrap()
    });
    assert_eq!(made, ids.len() * 2);
    for id in &ids {
        assert_eq!(
            escalations(&w.server_doc(id)),
            vec![Level::Community, Level::Street],
            "{id}"
        );
    }
    let notes = notifications(&p);
    assert_eq!(notes.len(), ids.len() * 2);
    // Each escalation event is written by one of the two server actors, author "system".
    let mut copy = w.server_doc(&ids[0]);
    for c in copy.get_changes(&[]) {
        let m = c.message().map(str::to_owned).unwrap_or_default();
        if m.contains("incident.escalate") {
            assert!(m.contains(r#""u":"system""#));
            assert!(
                c.actor_id() == w.s.server().actor() || c.actor_id() == second.server().actor()
            );
        }
    }
}

/// A community's targets move its incidents' deadlines.
#[test]
fn targets_are_per_community_and_move_deadlines() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    assert_eq!(
        w.s.targets(demo::COMMUNITY).unwrap().base,
        linli_domain::targets::Targets::default()
    );
    let mut d = report(&li, "i", false);
    assert_eq!(w.push(&li, "i", d.save_after(&[])), PushOutcome::Stored);
    w.clock.set(T0 + 6 * MIN);
    assert!(w.s.sweep().unwrap().is_empty());
    let five = linli_domain::targets::CommunityTargets {
        base: linli_domain::targets::Targets {
            response_ms: 5 * MIN,
            ..Default::default()
        },
        by_category: vec![],
    };
    w.s.set_targets(demo::COMMUNITY, &five).unwrap();
    assert_eq!(w.s.targets(demo::COMMUNITY).unwrap(), five);
    assert_eq!(w.s.targets(OTHER).unwrap().base.response_ms, 15 * MIN);
    assert_eq!(w.s.sweep().unwrap().len(), 1, "now overdue");
    let bad = linli_domain::targets::CommunityTargets {
        base: linli_domain::targets::Targets {
            response_ms: 1,
            ..Default::default()
        },
        by_category: vec![],
    };
    assert!(w.s.set_targets(demo::COMMUNITY, &bad).is_err());
    assert!(w.s.set_targets("no-such-community", &five).is_err());
}

/// Targets differ by category: with disputes due an answer in 5 minutes, the sweep at
/// 6 minutes escalates a dispute and leaves the flying-wire charging reported beside it.
#[test]
fn a_category_with_its_own_targets_is_escalated_on_its_own_clock() {
    use automerge::transaction::Transactable;
    use linli_domain::targets::{CategoryTargets, CommunityTargets, Targets};
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    w.s.set_targets(
        demo::COMMUNITY,
        &CommunityTargets {
            base: Targets::default(),
            by_category: vec![CategoryTargets {
                category: IncidentCategory::Dispute,
                targets: Targets {
                    response_ms: 5 * MIN,
                    ..Targets::default()
                },
            }],
        },
    )
    .unwrap();
    let mut wire = report(&li, "wire", false);
    assert_eq!(
        w.push(&li, "wire", wire.save_after(&[])),
        PushOutcome::Stored
    );
    let mut dispute = report(&li, "dispute", false);
    dispute
        .put(
            automerge::ROOT,
            "category",
            IncidentCategory::Dispute.code(),
        )
        .unwrap();
    dispute.commit_with(
        automerge::transaction::CommitOptions::default().with_message(format!(
            r#"{{"u":"{}","op":"incident.report"}}"#,
            li.user_id
        )),
    );
    assert_eq!(
        w.push(&li, "dispute", dispute.save_after(&[])),
        PushOutcome::Stored
    );
    w.clock.set(T0 + 6 * MIN);
    let escalated: Vec<String> = w.s.sweep().unwrap().into_iter().map(|e| e.doc_id).collect();
    assert_eq!(escalated, vec!["dispute".to_owned()]);
    w.clock.set(T0 + 16 * MIN);
    let escalated: Vec<String> = w.s.sweep().unwrap().into_iter().map(|e| e.doc_id).collect();
    assert_eq!(
        escalated,
        vec!["wire".to_owned()],
        "on the community's clock"
    );
}

/// `linli-sync-server admin set-targets` sets what is given and keeps the rest.
#[test]
fn the_admin_command_sets_targets() {
    let w = world();
    let mut out = Vec::new();
    let cmd = admin::AdminCommand::SetTargets {
        community: demo::COMMUNITY.into(),
        category: None,
        respond_min: Some(10),
        urgent_min: None,
        high_min: Some(48 * 60),
        normal_min: None,
        low_min: None,
    };
    admin::run(&w.s, cmd, &mut out).unwrap();
    let t = w.s.targets(demo::COMMUNITY).unwrap().base;
    assert_eq!(t.response_ms, 10 * MIN);
    assert_eq!(t.resolve_high_ms, 48 * 60 * MIN);
    assert_eq!(
        t.resolve_low_ms,
        linli_domain::targets::Targets::default().resolve_low_ms
    );
    assert!(String::from_utf8(out).unwrap().contains("respond 10 min"));
    // A category's own targets start from the community's and leave it as it was.
    let disputes = admin::AdminCommand::SetTargets {
        community: demo::COMMUNITY.into(),
        category: Some(linli_domain::IncidentCategory::Dispute),
        respond_min: Some(5),
        urgent_min: None,
        high_min: None,
        normal_min: None,
        low_min: None,
    };
    let mut out = Vec::new();
    admin::run(&w.s, disputes, &mut out).unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("for dispute saved: respond 5 min")
    );
    let all = w.s.targets(demo::COMMUNITY).unwrap();
    assert_eq!(all.base.response_ms, 10 * MIN);
    let dispute = all.for_category(linli_domain::IncidentCategory::Dispute);
    assert_eq!(dispute.response_ms, 5 * MIN);
    assert_eq!(dispute.resolve_high_ms, 48 * 60 * MIN);
    let bad = admin::AdminCommand::SetTargets {
        community: demo::COMMUNITY.into(),
        category: None,
        respond_min: Some(0),
        urgent_min: None,
        high_min: None,
        normal_min: None,
        low_min: None,
    };
    assert!(admin::run(&w.s, bad, &mut Vec::new()).is_err());
}

/// `serve` runs the sweep on its own, at its configured interval: once the (injected) clock
/// passes a deadline, the escalation follows within a few ticks, with no request made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_sweep_at_its_interval() {
    let w = world();
    let li = w.dev(demo::USER_LI_MEI).clone();
    let mut d = report(&li, "i", false);
    assert_eq!(w.push(&li, "i", d.save_after(&[])), PushOutcome::Stored);
    let World { dir, clock, s, .. } = w;
    let storage: Arc<dyn linli_sync_server::Storage> = Arc::new(s);
    let state = linli_sync_server::AppState::new(storage.clone())
        .with_sweep_every(std::time::Duration::from_millis(50));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(linli_sync_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(notifications(&path(&dir)).is_empty(), "nothing due yet");
    clock.set(T0 + 16 * MIN);
    let passed = std::time::Instant::now();
    while notifications(&path(&dir)).is_empty() {
        assert!(passed.elapsed().as_secs() < 10, "escalated within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(notifications(&path(&dir)).len(), 1);
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}

//! Server databases written by shipped versions open, upgrade and are still served.
//!
//! `fixtures/server_schema_vN.sql` freezes each shipped schema with data of that version
//! (places, people, devices, a household's document, its change rows with real Automerge
//! bytes). Each is built into a database, opened with `SqliteStorage::open` (which upgrades
//! it), compared with a fresh database, and synced from. Freeze the current version only
//! when shipping a new one:
//! `LINLI_FREEZE=1 cargo test -p linli-sync-server --test migration -- --ignored freeze`.

#![allow(clippy::unwrap_used)]

use automerge::AutoCommit;
use linli_domain::doc;
use linli_domain::protocol::{Cursor, DocPush, PushOutcome};
use linli_domain::{Address, CareTag, Housing, NewHousehold, NewMember, Relation, Residency};
use linli_sync_server::erase::{
    AuditAction, AuditEntry, EraseReason, Erased, Erasure, PrivacyStorage,
};
use linli_sync_server::sqlite::SCHEMA_VERSION;
use linli_sync_server::storage::token_hash;
use linli_sync_server::{
    AccountStorage, AdminStorage, Auth, Device, DirectoryStorage, RegisterStorage, SqliteStorage,
    SyncStorage, WorkflowStorage,
};
use linli_testkit::demo;
use rusqlite::Connection;

/// Every shipped schema, frozen with data.
const FIXTURES: &[(i64, &str)] = &[
    (1, include_str!("fixtures/server_schema_v1.sql")),
    (2, include_str!("fixtures/server_schema_v2.sql")),
    (3, include_str!("fixtures/server_schema_v3.sql")),
    (4, include_str!("fixtures/server_schema_v4.sql")),
    (5, include_str!("fixtures/server_schema_v5.sql")),
    (6, include_str!("fixtures/server_schema_v6.sql")),
    (7, include_str!("fixtures/server_schema_v7.sql")),
    (8, include_str!("fixtures/server_schema_v8.sql")),
    (9, include_str!("fixtures/server_schema_v9.sql")),
];

/// The tokens of the fixtures' devices (their hashes are what the fixtures hold).
const LI_TOKEN: &str = "fixture-token-li";
const ADMIN_TOKEN: &str = "fixture-token-admin";
const LI_DEVICE: &str = "00000000-0000-4000-8000-000000000001";
const ADMIN_DEVICE: &str = "00000000-0000-4000-8000-000000000004";
/// The fixtures' household.
const HOUSEHOLD: &str = "hh-fixture-1";
/// From version 5: a street above the community, a micro-grid of grid 1, a building in it
/// and a household there.
const STREET: &str = "street-fixture";
const MICRO_GRID: &str = "micro-fixture-1";
const MICRO_BUILDING: &str = "building-fixture-m1";
const MICRO_HOUSEHOLD: &str = "hh-fixture-micro";
/// From version 3: an incident, escalated to the community by a sweep.
const INCIDENT: &str = "inc-fixture-1";
/// Version 9's household, erased: only its tombstone and audit row remain.
const ERASED_HOUSEHOLD: &str = "hh-fixture-erased";
/// Version 6's console session and invitation tokens (stored hashed).
const SESSION_TOKEN: &str = "fixture-session-token";
const INVITATION_TOKEN: &str = "fixture-invitation-token";
/// Version 8: a user created in the console and deactivated at once, and an unused
/// enrolment code (stored hashed) for Wang, valid 10 minutes from the fixture's time.
const V8_USER: &str = "user-fixture-v8";
const ENROL_CODE: &str = "0123456789abcdef0123456789abcdef";

fn schema_of(c: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = c
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn user_version(c: &Connection) -> i64 {
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn device(s: &SqliteStorage, token: &str) -> Device {
    match s.authenticate(token).unwrap() {
        Auth::Device(d) => *d,
        other => panic!("expected a device, got {other:?}"),
    }
}

#[test]
fn every_shipped_version_opens_upgraded_with_its_data() {
    assert_eq!(
        FIXTURES.last().map(|f| f.0),
        Some(SCHEMA_VERSION),
        "freeze the new version"
    );
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("fresh.db");
    drop(SqliteStorage::open(&fresh_path).unwrap());
    let fresh = schema_of(&Connection::open(&fresh_path).unwrap());
    for (version, sql) in FIXTURES {
        let path = dir.path().join(format!("v{version}.db"));
        let c = Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
        assert_eq!(user_version(&c), *version);
        drop(c);

        let s = SqliteStorage::open(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        assert_eq!(
            schema_of(&c),
            fresh,
            "v{version} upgrades to today's schema"
        );
        assert_eq!(user_version(&c), SCHEMA_VERSION);
        check_served(&s, *version);
    }
}

/// The fixture's data is served as a device would see it, and new writes are taken.
fn check_served(s: &SqliteStorage, version: i64) {
    let admin = device(s, ADMIN_TOKEN);
    let li = device(s, LI_TOKEN);
    assert_eq!(admin.device_id, ADMIN_DEVICE);
    assert_eq!(li.device_id, LI_DEVICE);
    assert!(li.scope.grids.contains(demo::GRID_1), "v{version}");

    // A fresh device gets the document whole.
    let page = s.pull(&admin, &Cursor::default(), 100).unwrap();
    // Version 3's fixture also holds an incident, version 5's a household in a micro-grid.
    let expected = match version {
        ..=2 => 1,
        3 | 4 => 2,
        _ => 3,
    };
    assert_eq!(page.docs.len(), expected, "v{version}");
    let hh = page.docs.iter().find(|d| d.doc_id == HOUSEHOLD).unwrap();
    let mut copy = AutoCommit::load(&hh.changes).unwrap();
    let household = doc::read_household(&copy).unwrap();
    assert_eq!(household.members[0].name, "张三丰");
    assert_eq!(household.notes, "独居，女儿每周来一次");

    // The change rows are served to a device that has the first of them.
    // (Version 6's console handler was granted the community between them: a grant marks the
    // log with a sequence number of its own.)
    // (Version 9's erased household used two: its push and its erasure.)
    let first_seq = page.cursor.seq
        - match version {
            ..=5 => 2,
            6..=8 => 3,
            _ => 5,
        };
    let changes = s
        .pull(
            &admin,
            &Cursor {
                seq: first_seq,
                snapshot: None,
            },
            100,
        )
        .unwrap();
    // Version 5's last two changes are the micro-grid's household and the escalation.
    let expected = if version >= 5 { 2 } else { 1 };
    assert_eq!(changes.docs.len(), expected, "v{version}");
    assert!(changes.cursor.snapshot.is_none());

    // And the upgraded database takes new pushes (made as Li's device, for Li).
    let heads = copy.get_heads();
    copy.set_actor(actor(LI_DEVICE));
    doc::put_household_fields(&mut copy, None, None, Some("升级后")).unwrap();
    commit_as(&mut copy, demo::USER_LI_MEI);
    let acks = s
        .push(
            &li,
            &[DocPush {
                doc_id: HOUSEHOLD.into(),
                changes: copy.save_after(&heads),
            }],
        )
        .unwrap();
    assert_eq!(acks[0].outcome, PushOutcome::Stored, "v{version}");
    let after = s.pull(&admin, &page.cursor, 100).unwrap();
    assert_eq!(after.docs.len(), 1);

    // From version 3: every role may be stored, and targets are read.
    let street = linli_sync_server::User {
        id: "user-street".into(),
        name: "街道".into(),
        role: linli_domain::Role::StreetAdmin,
        community_id: demo::COMMUNITY.into(),
    };
    assert!(s.put_user(&street).unwrap(), "v{version}");
    let t = s.targets(demo::COMMUNITY).unwrap();
    if version >= 4 {
        assert_eq!(
            t.for_category(linli_domain::IncidentCategory::Dispute)
                .response_ms,
            5 * 60 * 1000,
            "the frozen dispute targets"
        );
    }
    let t = t.base;
    if version >= 3 {
        assert_eq!(t.response_ms, 10 * 60 * 1000, "the frozen targets");
        assert_eq!(s.notifications(&admin.scope, 0, 10).unwrap().len(), 1);
        // Documents stored before version 6 are indexed when the server first opens them:
        // the incident is on the board, at the level its escalation reached.
        let row = s.incident_row(INCIDENT).unwrap().expect("indexed on open");
        assert_eq!(row.level, linli_domain::Level::Community, "v{version}");
        assert_eq!(row.level_rank, 1);
        assert_eq!(row.grid_id, demo::GRID_1);
        assert_eq!(row.status, linli_domain::IncidentStatus::Reported);
        assert!(row.received_at.is_some() && row.respond_by.is_some());
        let q = linli_sync_server::board::BoardQuery {
            limit: 10,
            ..Default::default()
        };
        let page = s.board(&admin.scope, &q).unwrap();
        assert_eq!(page.total, 1, "v{version}");
        assert_eq!(page.rows[0].doc_id, INCIDENT);
    } else {
        assert_eq!(t, linli_domain::targets::Targets::default());
        assert!(s.incident_row(INCIDENT).unwrap().is_none());
    }

    // From version 6: console accounts, sessions, invitations and failed sign-ins. Before,
    // users exist with no password (an invitation sets one).
    let at = 1_764_547_200_000 + 60_000;
    let admin_account = s.account(demo::USER_ADMIN).unwrap().unwrap();
    if version >= 6 {
        let phc = admin_account.password_hash.unwrap();
        assert!(
            linli_sync_server::console::password::verify(linli_testkit::DEMO_PASSWORD, &phc),
            "v{version}"
        );
        let handler = s.account(demo::USER_HANDLER).unwrap().unwrap();
        assert_eq!(handler.department, Some(linli_domain::Department::Property));
        let session = s.session(&token_hash(SESSION_TOKEN)).unwrap().unwrap();
        assert_eq!(session.user_id, demo::USER_ADMIN);
        assert_eq!(
            s.invitation(&token_hash(INVITATION_TOKEN), at)
                .unwrap()
                .as_deref(),
            Some(demo::USER_HANDLER)
        );
        assert_eq!(
            s.failures(Some(demo::USER_HANDLER), "192.0.2.1", at - 120_000)
                .unwrap(),
            1
        );
    } else {
        assert_eq!(admin_account.password_hash, None, "v{version}");
        assert!(s.session(&token_hash(SESSION_TOKEN)).unwrap().is_none());
    }
    // From version 7: the register's rows. Documents stored before are projected when the
    // server first opens them; the push above kept them in step.
    let q = linli_sync_server::register::RegisterQuery {
        search: linli_sync_server::register::Search::parse("zsf").unwrap(),
        limit: 10,
        ..Default::default()
    };
    let found = s.register_page(&admin.scope, &q).unwrap();
    assert_eq!(found.total, 1, "v{version}");
    let (h, members) = &found.households[0];
    assert_eq!(h.doc_id, HOUSEHOLD);
    assert_eq!(h.notes, "升级后");
    assert_eq!(h.tags, [CareTag::ElderlyAlone]);
    assert_eq!(members[0].name, "张三丰");
    assert_eq!(members[0].birth_year, Some(1948));
    let all = linli_sync_server::register::RegisterQuery {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        s.register_page(&admin.scope, &all).unwrap().total,
        expected_households(version)
    );
    let exports = s.exports(&admin.communities, 10).unwrap();
    if version >= 7 {
        assert_eq!(exports.len(), 1, "the frozen export");
        assert_eq!(exports[0].ledger, "households");
        assert_eq!(exports[0].rows, 2);
    } else {
        assert!(exports.is_empty());
    }

    // From version 8: the audit trail, deactivated users and enrolment codes.
    {
        use linli_sync_server::directory::{Action, AuditQuery, Redeemed};
        let rows = s
            .audit(&AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .unwrap();
        let redeemed = s
            .redeem_enrol_code(
                &token_hash(ENROL_CODE),
                "00000000-0000-4000-8000-0000000000ee",
                "升级后手机",
                &token_hash("upgraded-device-token"),
                at,
            )
            .unwrap();
        let users = s.users_in(&[demo::COMMUNITY.to_owned()]).unwrap();
        let v8 = users.iter().find(|u| u.user.id == V8_USER);
        if version >= 8 {
            let actions: Vec<_> = rows.iter().map(|r| r.audit.action).collect();
            assert_eq!(
                actions[actions.len() - 3..],
                [Action::EnrolCode, Action::DeactivateNow, Action::CreateUser]
            );
            assert!(v8.unwrap().deactivated_at.is_some());
            assert!(matches!(redeemed, Redeemed::Enrolled(ref u) if u.id == demo::USER_WANG_QIANG));
        } else {
            assert!(rows.is_empty() && v8.is_none(), "v{version}");
            assert_eq!(redeemed, Redeemed::Spent);
        }
    }
    // From version 9: the tombstone refuses a push of the erased household, and the audit
    // holds the erasure and a view.
    let audit = s.privacy_audit(&admin.communities, 10).unwrap();
    if version >= 9 {
        let t = s
            .tombstone(ERASED_HOUSEHOLD)
            .unwrap()
            .expect("the frozen tombstone");
        assert_eq!(t.reason, EraseReason::EnteredByMistake);
        assert_eq!(t.erased_by, demo::USER_ADMIN);
        let mut again = AutoCommit::new().with_actor(actor(LI_DEVICE));
        doc::init_household(
            &mut again,
            ERASED_HOUSEHOLD,
            1_764_547_200_000,
            &fixture_address(),
            &new_household(),
        )
        .unwrap();
        commit_as(&mut again, demo::USER_LI_MEI);
        let acks = s
            .push(
                &li,
                &[DocPush {
                    doc_id: ERASED_HOUSEHOLD.into(),
                    changes: again.save_after(&[]),
                }],
            )
            .unwrap();
        assert_eq!(acks[0].outcome, PushOutcome::Erased);
        let actions: Vec<AuditAction> = audit.iter().map(|a| a.action).collect();
        assert_eq!(actions, [AuditAction::Erase, AuditAction::ViewSensitive]);
        assert_eq!(audit[0].doc_id.as_deref(), Some(ERASED_HOUSEHOLD));
    } else {
        assert!(audit.is_empty(), "v{version}");
        assert!(s.tombstone(ERASED_HOUSEHOLD).unwrap().is_none());
    }

    // Any version takes a password once upgraded.
    linli_sync_server::console::set_password(s, demo::USER_ADMIN, "upgraded password").unwrap();

    // From version 5: places of every kind may be stored, and documents carry their
    // micro-grid.
    let micro = linli_domain::Place {
        id: "micro-upgraded".into(),
        kind: linli_domain::PlaceKind::MicroGrid,
        parent_id: Some(demo::GRID_1.into()),
        name: "升级后微网格".into(),
    };
    assert!(s.put_place(&micro).unwrap(), "v{version}");
    if version >= 5 {
        let street = s.place(STREET).unwrap().unwrap();
        assert_eq!(street.kind, linli_domain::PlaceKind::Street);
        let community = s.place(demo::COMMUNITY).unwrap().unwrap();
        assert_eq!(community.parent_id.as_deref(), Some(STREET));
        let hh = page
            .docs
            .iter()
            .find(|d| d.doc_id == MICRO_HOUSEHOLD)
            .unwrap();
        let a = doc::read_address(&AutoCommit::load(&hh.changes).unwrap()).unwrap();
        assert_eq!(a.micro_grid_id.as_deref(), Some(MICRO_GRID));
        assert_eq!(a.building_id.as_deref(), Some(MICRO_BUILDING));
        let mut scope = linli_domain::scope::Scope::default();
        scope.grant(linli_domain::PlaceKind::MicroGrid, MICRO_GRID);
        let mut only = admin.clone();
        only.scope = scope;
        let got = s.pull(&only, &Cursor::default(), 100).unwrap();
        let ids: Vec<&str> = got.docs.iter().map(|d| d.doc_id.as_str()).collect();
        assert_eq!(
            ids,
            [MICRO_HOUSEHOLD],
            "the micro-grid column is served from"
        );
    }
}

/// The households of a version's fixture: a second one from version 5 (in the micro-grid).
fn expected_households(version: i64) -> u64 {
    if version >= 5 { 2 } else { 1 }
}

/// Version 9's erased household: room 303 of unit 1-1, no members.
fn fixture_address() -> Address {
    Address {
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(demo::BUILDING_1.into()),
        unit_id: Some(demo::UNIT_1_1.into()),
        room: "303".into(),
    }
}

fn new_household() -> NewHousehold {
    NewHousehold {
        place_id: demo::UNIT_1_1.into(),
        room: "303".into(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![],
        notes: String::new(),
        members: Vec::new(),
    }
}

fn actor(device: &str) -> automerge::ActorId {
    let id = uuid::Uuid::parse_str(device).unwrap();
    automerge::ActorId::from(id.as_bytes().as_slice())
}

/// Commits as a phone does: the message names the user.
fn commit_as(d: &mut AutoCommit, user: &str) {
    d.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(format!(r#"{{"u":"{user}","op":"fixture","f":[]}}"#)),
    );
}

/// Writes `fixtures/server_schema_v{SCHEMA_VERSION}.sql` from a database of the current
/// version: the demo community, two devices with known tokens, one household created,
/// edited and moved within grid 1 by 李梅's device; from version 3 also an incident she
/// reported, the community's targets (10 minutes to respond) and the escalation a sweep an
/// hour later made (its event, deadline and notification); from version 4 disputes' own
/// targets; from version 5 a street above the community, a micro-grid of grid 1 with a
/// building, and a household there.
#[test]
#[ignore]
fn freeze() {
    if std::env::var_os("LINLI_FREEZE").is_none() {
        return;
    }
    const AT: i64 = 1_764_547_200_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let s = SqliteStorage::open(&path)
        .unwrap()
        .with_clock(std::sync::Arc::new(|| AT));
    linli_testkit::seed_demo(&s).unwrap();
    s.enroll(LI_DEVICE, demo::USER_LI_MEI, &token_hash(LI_TOKEN))
        .unwrap();
    s.enroll(ADMIN_DEVICE, demo::USER_ADMIN, &token_hash(ADMIN_TOKEN))
        .unwrap();
    // Version 5: a street above the community, a micro-grid with a building.
    let put = |id: &str, kind, parent: Option<&str>, name: &str| {
        let place = linli_domain::Place {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            name: name.into(),
        };
        linli_sync_server::admin::create_place(&s, &place).unwrap();
    };
    put(STREET, linli_domain::PlaceKind::Street, None, "文宫街道");
    let community = s.place(demo::COMMUNITY).unwrap().unwrap();
    put(
        demo::COMMUNITY,
        linli_domain::PlaceKind::Community,
        Some(STREET),
        &community.name,
    );
    put(
        MICRO_GRID,
        linli_domain::PlaceKind::MicroGrid,
        Some(demo::GRID_1),
        "第一网格第1微网格",
    );
    put(
        MICRO_BUILDING,
        linli_domain::PlaceKind::Building,
        Some(MICRO_GRID),
        "桂苑小区5栋",
    );
    let li = device(&s, LI_TOKEN);

    let at = |building: &str, unit: &str| Address {
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(building.into()),
        unit_id: Some(unit.into()),
        room: "301".into(),
    };
    let mut d = AutoCommit::new().with_actor(actor(LI_DEVICE));
    let new = NewHousehold {
        place_id: demo::UNIT_1_1.into(),
        room: "301".into(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![CareTag::ElderlyAlone],
        notes: String::new(),
        members: Vec::new(),
    };
    doc::init_household(
        &mut d,
        HOUSEHOLD,
        1_764_547_200_000,
        &at(demo::BUILDING_1, demo::UNIT_1_1),
        &new,
    )
    .unwrap();
    let member = NewMember {
        name: "张三丰".into(),
        relation: Relation::Head,
        birth_year: Some(1948),
        phone: None,
        id_number: None,
    };
    doc::put_member(&mut d, "m-fixture-1", &member).unwrap();
    commit_as(&mut d, demo::USER_LI_MEI);
    let mut pushes = vec![(HOUSEHOLD, d.save_after(&[]))];
    let heads = d.get_heads();
    doc::put_household_fields(&mut d, None, None, Some("独居，女儿每周来一次")).unwrap();
    commit_as(&mut d, demo::USER_LI_MEI);
    pushes.push((HOUSEHOLD, d.save_after(&heads)));
    let heads = d.get_heads();
    doc::write_address(&mut d, &at(demo::BUILDING_2, demo::UNIT_2_1)).unwrap();
    commit_as(&mut d, demo::USER_LI_MEI);
    pushes.push((HOUSEHOLD, d.save_after(&heads)));
    let mut incident = AutoCommit::new().with_actor(actor(LI_DEVICE));
    let i = linli_domain::Incident {
        id: INCIDENT.into(),
        category: linli_domain::IncidentCategory::FlyingWireCharging,
        description: "楼道飞线充电".into(),
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(demo::BUILDING_1.into()),
        unit_id: None,
        household_id: None,
        reporter: demo::USER_LI_MEI.into(),
        priority: linli_domain::Priority::High,
        assignee: None,
        department: None,
        reported_at: AT - 60_000,
        received_at: None,
        status: linli_domain::IncidentStatus::Reported,
        level: linli_domain::Level::Grid,
        dispute: None,
        events: Vec::new(),
    };
    doc::init_incident(&mut incident, &i).unwrap();
    commit_as(&mut incident, demo::USER_LI_MEI);
    pushes.push((INCIDENT, incident.save_after(&[])));
    let mut micro = AutoCommit::new().with_actor(actor(LI_DEVICE));
    let there = Address {
        micro_grid_id: Some(MICRO_GRID.into()),
        unit_id: None,
        room: "502".into(),
        ..at(MICRO_BUILDING, "")
    };
    let new_there = NewHousehold {
        place_id: MICRO_BUILDING.into(),
        room: "502".into(),
        ..new.clone()
    };
    doc::init_household(&mut micro, MICRO_HOUSEHOLD, AT, &there, &new_there).unwrap();
    let member = NewMember {
        name: "王桂兰".into(),
        relation: Relation::Head,
        birth_year: Some(1952),
        phone: None,
        id_number: None,
    };
    doc::put_member(&mut micro, "m-fixture-micro", &member).unwrap();
    commit_as(&mut micro, demo::USER_LI_MEI);
    pushes.push((MICRO_HOUSEHOLD, micro.save_after(&[])));
    for (id, changes) in pushes {
        let acks = s
            .push(
                &li,
                &[DocPush {
                    doc_id: id.into(),
                    changes,
                }],
            )
            .unwrap();
        assert_eq!(acks[0].outcome, PushOutcome::Stored);
    }
    let base = linli_domain::targets::Targets {
        response_ms: 10 * 60 * 1000,
        ..Default::default()
    };
    // From version 4, disputes have their own targets.
    let by_category = if SCHEMA_VERSION >= 4 {
        vec![linli_domain::targets::CategoryTargets {
            category: linli_domain::IncidentCategory::Dispute,
            targets: linli_domain::targets::Targets {
                response_ms: 5 * 60 * 1000,
                ..base
            },
        }]
    } else {
        vec![]
    };
    let targets = linli_domain::targets::CommunityTargets { base, by_category };
    s.set_targets(demo::COMMUNITY, &targets).unwrap();
    // Version 6: console accounts (the admin and the property handler, with passwords), a
    // session, an unused invitation and a failed sign-in.
    if SCHEMA_VERSION >= 6 {
        linli_testkit::seed_console(&s).unwrap();
        s.create_session(
            &token_hash(SESSION_TOKEN),
            &linli_sync_server::storage::SessionRow {
                user_id: demo::USER_ADMIN.into(),
                csrf: "fixture-csrf".into(),
                created_at: AT,
                seen_at: AT,
                expires_at: AT + 7_200_000,
            },
        )
        .unwrap();
        s.create_invitation(
            &token_hash(INVITATION_TOKEN),
            demo::USER_HANDLER,
            demo::USER_ADMIN,
            AT,
            AT + 86_400_000,
        )
        .unwrap();
        s.sign_in_failed(Some(demo::USER_HANDLER), "192.0.2.1", AT)
            .unwrap();
    }
    // Version 7: a ledger exported.
    if SCHEMA_VERSION >= 7 {
        s.record_export(&linli_sync_server::register::ExportRecord {
            user_id: demo::USER_ADMIN.into(),
            communities: vec![demo::COMMUNITY.into()],
            ledger: "households".into(),
            format: "xlsx".into(),
            filters: "{}".into(),
            rows: 2,
            at: AT,
        })
        .unwrap();
    }
    // Version 8: a user created in the console and deactivated, an unused enrolment code.
    if SCHEMA_VERSION >= 8 {
        use linli_sync_server::directory::{Action, Audit, Deactivation, ENROL_CODE_MS};
        let by = |action| Audit::new(AT, demo::USER_ADMIN, action).community(Some(demo::COMMUNITY));
        let user = linli_sync_server::User {
            id: V8_USER.into(),
            name: "临时人员".into(),
            role: linli_domain::protocol::Role::GridWorker,
            community_id: demo::COMMUNITY.into(),
        };
        s.add_user(&user, &[], &by(Action::CreateUser).user(V8_USER))
            .unwrap();
        s.deactivate_user(
            V8_USER,
            Deactivation::Now,
            &by(Action::DeactivateNow).user(V8_USER),
        )
        .unwrap();
        s.add_enrol_code(
            &token_hash(ENROL_CODE),
            AT + ENROL_CODE_MS,
            &by(Action::EnrolCode).user(demo::USER_WANG_QIANG),
        )
        .unwrap();
    }
    drop(s);
    let later = SqliteStorage::open(&path)
        .unwrap()
        .with_clock(std::sync::Arc::new(|| AT + 3_600_000));
    assert_eq!(later.sweep().unwrap().len(), 1);
    // Version 9: a household pushed, its sensitive fields viewed, then erased.
    if SCHEMA_VERSION >= 9 {
        let mut gone = AutoCommit::new().with_actor(actor(LI_DEVICE));
        doc::init_household(
            &mut gone,
            ERASED_HOUSEHOLD,
            AT,
            &fixture_address(),
            &new_household(),
        )
        .unwrap();
        commit_as(&mut gone, demo::USER_LI_MEI);
        let acks = later
            .push(
                &li,
                &[DocPush {
                    doc_id: ERASED_HOUSEHOLD.into(),
                    changes: gone.save_after(&[]),
                }],
            )
            .unwrap();
        assert_eq!(acks[0].outcome, PushOutcome::Stored);
        later
            .record_audit(&AuditEntry {
                at: AT + 3_600_000,
                user_id: demo::USER_ADMIN.into(),
                action: AuditAction::ViewSensitive,
                doc_id: Some(ERASED_HOUSEHOLD.into()),
                community_id: demo::COMMUNITY.into(),
                detail: String::new(),
            })
            .unwrap();
        let done = later
            .erase_household(&Erasure {
                doc_id: ERASED_HOUSEHOLD.into(),
                by_user: demo::USER_ADMIN.into(),
                reason: EraseReason::EnteredByMistake,
                note: "重复登记".into(),
                at: AT + 3_600_000,
            })
            .unwrap();
        assert!(matches!(done, Erased::Done { .. }));
    }
    drop(later);

    let c = Connection::open(&path).unwrap();
    let dump = dump(&c);
    let out = format!(
        "{}/tests/fixtures/server_schema_v{SCHEMA_VERSION}.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::write(out, dump).unwrap();
}

/// The schema and every row, as SQL that rebuilds the database.
fn dump(c: &Connection) -> String {
    let mut out = String::from(
        "-- Frozen by sync-server/tests/migration.rs `freeze`. Do not edit.\n\
         -- Tokens: fixture-token-li, fixture-token-admin (the devices hold their SHA-256).\n",
    );
    out.push_str(&format!("PRAGMA user_version = {};\n", user_version(c)));
    // Tables come in creation order, and a rebuilt table (users, in version 3) comes after
    // the tables that refer to it.
    out.push_str("PRAGMA foreign_keys = OFF;\n");
    let mut stmt = c
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL \
             AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        )
        .unwrap();
    let objects: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut tables = Vec::new();
    for (name, sql) in &objects {
        out.push_str(sql);
        out.push_str(";\n");
        if sql.starts_with("CREATE TABLE") {
            tables.push(name.clone());
        }
    }
    // AUTOINCREMENT's counter: sequence numbers are never reused.
    tables.push("sqlite_sequence".into());
    for t in tables {
        if t == "sqlite_sequence" {
            // Inserting the rows above made counters of their own: the frozen ones replace
            // them (from version 9; older fixtures were frozen without this line).
            out.push_str("DELETE FROM sqlite_sequence;\n");
        }
        let mut stmt = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let vals: Vec<String> = (0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "NULL".into(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(v) => {
                        format!("'{}'", String::from_utf8_lossy(v).replace('\'', "''"))
                    }
                    rusqlite::types::ValueRef::Blob(v) => format!(
                        "X'{}'",
                        v.iter().map(|b| format!("{b:02X}")).collect::<String>()
                    ),
                })
                .collect();
            out.push_str(&format!("INSERT INTO {t} VALUES ({});\n", vals.join(", ")));
        }
    }
    out
}

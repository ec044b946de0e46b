//! The conformance suite every server storage implementation must pass, written against the
//! storage traits only (`SyncStorage`, `AdminStorage`, `WorkflowStorage`, `RegisterStorage`): what a device can observe through a
//! sync round and what the admin command relies on.
//!
//! An implementation's test file declares `#[macro_use] mod conformance;` and invokes
//! [`storage_conformance_tests!`] with an expression that makes a fresh, empty storage: any
//! value that dereferences to a `Storage` (so it can hold a temp dir or a test database
//! alive). `tests/sqlite_conformance.rs` runs it on SQLite; a PostgreSQL implementation adds
//! its own file with the same one-line invocation.
//!
//! Documents are built with `linli_domain::doc`'s writers, as a phone would write them.

#![allow(clippy::unwrap_used)]

use automerge::AutoCommit;
use linli_domain::doc::{self as write, describe};
use linli_domain::protocol::{Cursor, DocChanges, DocPush, PushOutcome, Role};
use linli_domain::{Address, CareTag, Housing, NewHousehold, Place, PlaceKind, Residency};
use linli_sync_server::admin;
use linli_sync_server::storage::Compaction;
use linli_sync_server::{Auth, Device, Error, Storage, User};
use linli_testkit::{DemoDevice, demo};

mod board;
mod directory;
mod erase;
mod places;
mod register;
pub use board::*;
pub use directory::*;
pub use erase::*;
pub use places::*;
pub use register::*;

/// Generates one `#[test]` per conformance check, each on a fresh storage made by `$make`.
macro_rules! storage_conformance_tests {
    ($make:expr) => {
        storage_conformance_tests!(@tests $make;
            health_answers,
            unknown_and_revoked_tokens_are_refused,
            a_device_is_authenticated_with_its_users_scope,
            enroll_and_revoke,
            a_push_is_stored_and_reaches_another_device,
            a_replayed_push_stores_nothing_twice,
            a_push_outside_the_scope_is_refused,
            invalid_pushes_are_refused,
            missing_dependencies_are_refused,
            own_changes_are_never_sent_back,
            changed_since_follows_the_pull,
            pulls_page_by_items_and_say_more,
            consecutive_changes_of_a_document_travel_together,
            a_fresh_device_gets_a_snapshot_pass,
            a_device_behind_compaction_gets_a_snapshot_pass,
            a_new_grant_brings_a_snapshot_pass,
            a_document_moved_away_is_gone,
            a_document_moved_in_arrives_whole,
            reference_data_is_sent_when_its_version_changed,
            put_place_and_put_user_are_idempotent,
            grants_are_idempotent_and_bump_the_reference_version,
            an_incident_gets_the_servers_receipt_once,
            changes_not_of_the_device_and_its_user_are_refused,
            targets_default_and_can_be_set,
            escalation_is_once_per_level_and_notified,
            a_micro_grid_worker_has_exactly_their_micro_grid,
            a_street_admin_has_every_community_of_their_street,
            create_place_checks_the_new_levels,
            board_rows_follow_pushes_moves_and_escalations,
            the_board_honours_the_scope,
            the_board_filters_orders_and_pages,
            open_disputes_are_counted_per_grid,
            a_micro_grid_workers_board_holds_their_micro_grid,
            register_rows_follow_pushes_and_moves,
            the_register_is_searched_as_on_the_phone,
            the_register_honours_the_scope,
            ledgers_stream_rows_by_scope_and_filters,
            visits_per_week_in_sql_match_the_weeks_in_rust,
            exports_are_logged_per_community,
            a_withdrawn_grants_documents_are_gone_from_the_users_devices,
            a_grant_still_covering_a_document_keeps_it,
            deactivation_now_or_after_a_final_sync,
            enrolment_codes_are_single_use_and_expire,
            users_devices_and_the_audit_trail,
            an_erased_household_is_gone_refused_and_told,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let made = $make;
                $crate::conformance::$name(&*made);
            }
        )*
    };
}

// ---- helpers ---------------------------------------------------------------------------

fn seed(s: &dyn Storage) -> Vec<DemoDevice> {
    linli_testkit::seed_demo(s).unwrap()
}

fn token_of<'a>(devices: &'a [DemoDevice], user: &str) -> &'a str {
    &devices.iter().find(|d| d.user_id == user).unwrap().token
}

fn device(s: &dyn Storage, token: &str) -> Device {
    match s.authenticate(token).unwrap() {
        Auth::Device(d) => *d,
        other => panic!("expected a device, got {other:?}"),
    }
}

/// The demo's devices, authenticated: (李梅 grid 1, 王强 grid 2, 赵楼长 building 1, admin).
struct Demo {
    li: Device,
    wang: Device,
    zhao: Device,
    admin: Device,
}

fn demo(s: &dyn Storage) -> Demo {
    let devices = seed(s);
    Demo {
        li: device(s, token_of(&devices, demo::USER_LI_MEI)),
        wang: device(s, token_of(&devices, demo::USER_WANG_QIANG)),
        zhao: device(s, token_of(&devices, demo::USER_ZHAO)),
        admin: device(s, token_of(&devices, demo::USER_ADMIN)),
    }
}

fn address(grid: &str, building: Option<&str>, unit: Option<&str>) -> Address {
    Address {
        community_id: demo::COMMUNITY.into(),
        grid_id: grid.into(),
        micro_grid_id: None,
        building_id: building.map(Into::into),
        unit_id: unit.map(Into::into),
        room: "301".into(),
    }
}

/// Commits what `d` holds as a change of `who`'s device, as its phone does: actor = the
/// device's UUID bytes, message `u` = its user (the server refuses anything else).
fn commit_as(who: &Device, d: &mut AutoCommit) {
    let note = format!(r#"{{"u":"{}","op":"test","f":[]}}"#, who.user_id);
    d.commit_with(automerge::transaction::CommitOptions::default().with_message(note));
}

/// The Automerge actor of a device: its UUID's bytes.
fn actor_of(who: &Device) -> automerge::ActorId {
    let device = uuid::Uuid::parse_str(&who.device_id).unwrap();
    automerge::ActorId::from(device.as_bytes().as_slice())
}

/// A household document as a phone creates it.
fn household(who: &Device, id: &str, at: &Address) -> AutoCommit {
    let mut d = AutoCommit::new().with_actor(actor_of(who));
    let new = NewHousehold {
        place_id: at.unit_id.clone().or(at.building_id.clone()).unwrap(),
        room: at.room.clone(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![CareTag::ElderlyAlone],
        notes: String::new(),
        members: Vec::new(),
    };
    write::init_household(&mut d, id, 1_700_000_000_000, at, &new).unwrap();
    commit_as(who, &mut d);
    d
}

fn b1() -> Address {
    address(demo::GRID_1, Some(demo::BUILDING_1), Some(demo::UNIT_1_1))
}

fn b2() -> Address {
    address(demo::GRID_1, Some(demo::BUILDING_2), Some(demo::UNIT_2_1))
}

/// Everything in `d` (a first push).
fn push_all(id: &str, d: &mut AutoCommit) -> DocPush {
    DocPush {
        doc_id: id.into(),
        changes: d.save_after(&[]),
    }
}

/// An edit of `d`; returns the bytes of just that edit.
fn edit(who: &Device, d: &mut AutoCommit, notes: &str) -> Vec<u8> {
    let heads = d.get_heads();
    d.set_actor(automerge::ActorId::from(
        uuid::Uuid::parse_str(&who.device_id)
            .unwrap()
            .as_bytes()
            .as_slice(),
    ));
    write::put_household_fields(d, None, None, Some(notes)).unwrap();
    commit_as(who, d);
    d.save_after(&heads)
}

/// Moves `d` to `to`; returns the bytes of the move.
fn move_to(who: &Device, d: &mut AutoCommit, to: &Address) -> Vec<u8> {
    let heads = d.get_heads();
    d.set_actor(automerge::ActorId::from(
        uuid::Uuid::parse_str(&who.device_id)
            .unwrap()
            .as_bytes()
            .as_slice(),
    ));
    write::write_address(d, to).unwrap();
    commit_as(who, d);
    d.save_after(&heads)
}

fn push_one(s: &dyn Storage, who: &Device, id: &str, bytes: Vec<u8>) -> PushOutcome {
    let acks = s
        .push(
            who,
            &[DocPush {
                doc_id: id.into(),
                changes: bytes,
            }],
        )
        .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].doc_id, id);
    acks[0].outcome
}

/// What a device received over a whole pull (until `more` is false).
struct Pulled {
    docs: Vec<DocChanges>,
    gone: Vec<String>,
    erased: Vec<String>,
    cursor: Cursor,
}

impl Pulled {
    fn ids(&self) -> Vec<String> {
        self.docs.iter().map(|d| d.doc_id.clone()).collect()
    }
}

fn pull_all(s: &dyn Storage, who: &Device, from: &Cursor, page_limit: u32) -> Pulled {
    let mut out = Pulled {
        docs: Vec::new(),
        gone: Vec::new(),
        erased: Vec::new(),
        cursor: from.clone(),
    };
    for _ in 0..1000 {
        let page = s.pull(who, &out.cursor, page_limit).unwrap();
        out.docs.extend(page.docs);
        out.gone.extend(page.gone);
        out.erased.extend(page.erased);
        out.cursor = page.cursor;
        if !page.more {
            return out;
        }
    }
    panic!("the storage never stopped saying `more`");
}

/// The device's copy after applying what it pulled (documents it had are given).
fn apply(have: Option<AutoCommit>, bytes: &[u8]) -> AutoCommit {
    let mut d = have.unwrap_or_default();
    d.load_incremental(bytes).unwrap();
    assert!(
        d.get_missing_deps(&[]).is_empty(),
        "pulled bytes apply whole"
    );
    d
}

/// The highest sequence of the log, read through the trait's read primitive.
fn max_seq(s: &dyn Storage) -> u64 {
    let mut seq = 0;
    s.read_log(&mut |log| {
        seq = log.max_seq()?;
        Ok(linli_sync_server::storage::Page {
            docs: Vec::new(),
            gone: Vec::new(),
            erased: Vec::new(),
            cursor: Cursor::default(),
            more: false,
        })
    })
    .unwrap();
    seq
}

// ---- the checks ------------------------------------------------------------------------

pub fn health_answers(s: &dyn Storage) {
    s.health().unwrap();
}

pub fn unknown_and_revoked_tokens_are_refused(s: &dyn Storage) {
    let devices = seed(s);
    assert_eq!(s.authenticate("no-such-token").unwrap(), Auth::Unknown);
    assert_eq!(s.authenticate("").unwrap(), Auth::Unknown);
    let li = devices
        .iter()
        .find(|d| d.user_id == demo::USER_LI_MEI)
        .unwrap();
    assert!(s.revoke(&li.device_id).unwrap());
    assert_eq!(s.authenticate(&li.token).unwrap(), Auth::Revoked);
    assert!(!s.revoke(&li.device_id).unwrap(), "already revoked");
}

pub fn a_device_is_authenticated_with_its_users_scope(s: &dyn Storage) {
    let d = demo(s);
    assert_eq!(d.li.user_id, demo::USER_LI_MEI);
    assert_eq!(d.li.role, Role::GridWorker);
    assert_eq!(d.li.scope.grids.iter().collect::<Vec<_>>(), [demo::GRID_1]);
    assert!(d.li.scope.communities.is_empty() && d.li.scope.buildings.is_empty());
    assert_eq!(d.li.communities, [demo::COMMUNITY]);
    assert_eq!(
        d.zhao.scope.buildings.iter().collect::<Vec<_>>(),
        [demo::BUILDING_1]
    );
    assert_eq!(
        d.admin.scope.communities.iter().collect::<Vec<_>>(),
        [demo::COMMUNITY]
    );
    assert_ne!(d.li.device_id, d.wang.device_id);
}

pub fn enroll_and_revoke(s: &dyn Storage) {
    let devices = seed(s);
    let listed = s.devices().unwrap();
    assert_eq!(listed.len(), devices.len());
    assert!(listed.iter().all(|d| d.revoked_at.is_none()));

    let e = admin::enroll(s, demo::USER_WANG_QIANG, None).unwrap();
    let wang = device(s, &e.token);
    assert_eq!(wang.device_id, e.device_id);
    assert_eq!(s.devices().unwrap().len(), devices.len() + 1);

    // Re-enrolling the same device gives it a new token, unrevoked; the old one is dead.
    assert!(s.revoke(&e.device_id).unwrap());
    let id = uuid::Uuid::parse_str(&e.device_id).unwrap();
    let again = admin::enroll(s, demo::USER_WANG_QIANG, Some(id)).unwrap();
    assert_eq!(again.device_id, e.device_id);
    assert_eq!(device(s, &again.token).device_id, e.device_id);
    assert_eq!(s.authenticate(&e.token).unwrap(), Auth::Unknown);

    // A device of another user cannot be taken over; unknown devices cannot be revoked.
    let other = s.enroll(&e.device_id, demo::USER_LI_MEI, b"some hash");
    assert!(matches!(other, Err(Error::Invalid { .. })), "{other:?}");
    assert!(matches!(
        s.revoke("no-such-device"),
        Err(Error::NotFound { .. })
    ));
}

pub fn a_push_is_stored_and_reaches_another_device(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    let acks = s.push(&d.li, &[push_all("hh-1", &mut hh)]).unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].outcome, PushOutcome::Stored);

    for who in [&d.admin, &d.zhao] {
        let got = pull_all(s, who, &Cursor::default(), 100);
        assert_eq!(got.ids(), ["hh-1"]);
        let mut copy = apply(None, &got.docs[0].changes);
        assert_eq!(copy.get_heads(), hh.get_heads());
    }
    // Grid 2's worker sees nothing of grid 1.
    assert!(
        pull_all(s, &d.wang, &Cursor::default(), 100)
            .docs
            .is_empty()
    );
}

pub fn a_replayed_push_stores_nothing_twice(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    let push = push_all("hh-1", &mut hh);
    assert_eq!(
        push_one(s, &d.li, "hh-1", push.changes.clone()),
        PushOutcome::Stored
    );
    let after_first = max_seq(s);
    for _ in 0..2 {
        assert_eq!(
            push_one(s, &d.li, "hh-1", push.changes.clone()),
            PushOutcome::Stored
        );
    }
    assert_eq!(max_seq(s), after_first, "a replay adds nothing to the log");
    let got = pull_all(s, &d.admin, &Cursor::default(), 100);
    assert_eq!(got.ids(), ["hh-1"]);
}

pub fn a_push_outside_the_scope_is_refused(s: &dyn Storage) {
    let d = demo(s);
    // Wang (grid 2) writes a household of grid 1.
    let mut foreign = household(&d.wang, "hh-foreign", &b1());
    let bytes = foreign.save_after(&[]);
    assert_eq!(
        push_one(s, &d.wang, "hh-foreign", bytes),
        PushOutcome::OutOfScope
    );
    // A place that does not exist in the tree is out of scope too.
    let mut nowhere = household(
        &d.li,
        "hh-nowhere",
        &address(demo::GRID_1, Some("b-nowhere"), None),
    );
    let bytes = nowhere.save_after(&[]);
    assert_eq!(
        push_one(s, &d.li, "hh-nowhere", bytes),
        PushOutcome::OutOfScope
    );
    // Moving one's own record out of one's scope is refused, and stores nothing.
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let out = move_to(
        &d.li,
        &mut hh,
        &address(demo::GRID_2, Some(demo::BUILDING_9), None),
    );
    assert_eq!(push_one(s, &d.li, "hh-1", out), PushOutcome::OutOfScope);
    let got = pull_all(s, &d.admin, &Cursor::default(), 100);
    assert_eq!(got.ids(), ["hh-1"]);
    assert!(
        pull_all(s, &d.wang, &Cursor::default(), 100)
            .docs
            .is_empty()
    );
}

pub fn invalid_pushes_are_refused(s: &dyn Storage) {
    let d = demo(s);
    assert_eq!(
        push_one(s, &d.li, "x", b"garbage".to_vec()),
        PushOutcome::Invalid
    );
    assert_eq!(push_one(s, &d.li, "x", Vec::new()), PushOutcome::Invalid);
    let mut hh = household(&d.li, "hh-1", &b1());
    let all = hh.save_after(&[]);
    // Cut short: a partial chunk is refused, not half-applied.
    assert_eq!(
        push_one(s, &d.li, "hh-1", all[..all.len() - 3].to_vec()),
        PushOutcome::Invalid
    );
    // A document under another id than it says.
    assert_eq!(
        push_one(s, &d.li, "hh-2", all.clone()),
        PushOutcome::Invalid
    );
    // Valid Automerge, but not a household or an incident.
    let mut other = AutoCommit::new();
    automerge::transaction::Transactable::put(&mut other, automerge::ROOT, "a", 1).unwrap();
    assert_eq!(push_one(s, &d.li, "x", other.save()), PushOutcome::Invalid);
    // One refusal does not stop the other documents of the request.
    let acks = s
        .push(
            &d.li,
            &[
                DocPush {
                    doc_id: "bad".into(),
                    changes: b"garbage".to_vec(),
                },
                DocPush {
                    doc_id: "hh-1".into(),
                    changes: all,
                },
            ],
        )
        .unwrap();
    let outcomes: Vec<_> = acks.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [PushOutcome::Invalid, PushOutcome::Stored]);
    let got = pull_all(s, &d.admin, &Cursor::default(), 100);
    assert_eq!(got.ids(), ["hh-1"]);
}

pub fn missing_dependencies_are_refused(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    // Only the edit, never the creation it builds on.
    let later = edit(&d.li, &mut hh, "第二次");
    assert_eq!(
        push_one(s, &d.li, "hh-1", later.clone()),
        PushOutcome::MissingDependencies
    );
    assert!(
        pull_all(s, &d.admin, &Cursor::default(), 100)
            .docs
            .is_empty()
    );
    // Once the whole document is pushed, the same edit is held.
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    assert_eq!(push_one(s, &d.li, "hh-1", later), PushOutcome::Stored);
}

pub fn own_changes_are_never_sent_back(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    let first = pull_all(s, &d.li, &Cursor::default(), 100);
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    assert_eq!(
        push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, "x")),
        PushOutcome::Stored
    );
    let again = pull_all(s, &d.li, &first.cursor, 100);
    assert!(again.docs.is_empty(), "own changes never come back");
    assert_eq!(
        again.cursor.seq,
        max_seq(s),
        "but the cursor moves past them"
    );
    // The admin's edit does come back to Li.
    assert_eq!(
        push_one(s, &d.admin, "hh-1", edit(&d.admin, &mut hh, "y")),
        PushOutcome::Stored
    );
    let third = pull_all(s, &d.li, &again.cursor, 100);
    assert_eq!(third.ids(), ["hh-1"]);
}

/// `changed_since` (what the long poll asks) answers as a pull would: own changes and
/// changes outside the scope are nothing new; another device's change in scope is; a fresh
/// device is owed a snapshot pass.
pub fn changed_since_follows_the_pull(s: &dyn Storage) {
    let d = demo(s);
    let li = pull_all(s, &d.li, &Cursor::default(), 100).cursor.seq;
    let wang = pull_all(s, &d.wang, &Cursor::default(), 100).cursor.seq;
    assert_eq!(s.changed_since(&d.li, li).unwrap(), (false, max_seq(s)));
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let max = max_seq(s);
    assert_eq!(s.changed_since(&d.li, li).unwrap(), (false, max), "own");
    assert_eq!(
        s.changed_since(&d.wang, wang).unwrap(),
        (false, max),
        "scope"
    );
    assert_eq!(s.changed_since(&d.admin, li).unwrap(), (true, max));
    assert_eq!(s.changed_since(&d.admin, max).unwrap(), (false, max));
    assert_eq!(
        push_one(s, &d.admin, "hh-1", edit(&d.admin, &mut hh, "y")),
        PushOutcome::Stored
    );
    assert_eq!(s.changed_since(&d.li, max).unwrap(), (true, max_seq(s)));
    // A cursor ahead of the log (a restored server) is owed a pass.
    assert!(s.changed_since(&d.li, max_seq(s) + 5).unwrap().0);
}

pub fn pulls_page_by_items_and_say_more(s: &dyn Storage) {
    let d = demo(s);
    let mut docs: Vec<(String, AutoCommit)> = (0..5)
        .map(|i| {
            let id = format!("hh-{i}");
            let hh = household(&d.li, &id, &b1());
            (id, hh)
        })
        .collect();
    for (id, hh) in &mut docs {
        assert_eq!(
            push_one(s, &d.li, id, hh.save_after(&[])),
            PushOutcome::Stored
        );
    }
    // A snapshot pass of 5 documents, 2 a page: 2 + 2 + 1.
    let mut cursor = Cursor::default();
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let page = s.pull(&d.admin, &cursor, 2).unwrap();
        sizes.push(page.docs.len());
        seen.extend(page.docs.iter().map(|x| x.doc_id.clone()));
        assert_eq!(page.more, page.cursor.snapshot.is_some());
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    let mut ids: Vec<_> = docs.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(seen, ids, "in id order, each once");

    // Three edits of three documents, 2 a page: 2, then 1.
    for (id, hh) in docs.iter_mut().take(3) {
        assert_eq!(
            push_one(s, &d.li, id, edit(&d.li, hh, "改")),
            PushOutcome::Stored
        );
    }
    let page = s.pull(&d.admin, &cursor, 2).unwrap();
    assert_eq!((page.docs.len(), page.more), (2, true));
    let page = s.pull(&d.admin, &page.cursor, 2).unwrap();
    assert_eq!((page.docs.len(), page.more), (1, false));
    assert_eq!(page.cursor.seq, max_seq(s));
    // A limit of 0 is taken as 1, and one beyond the maximum as the maximum.
    let one = s.pull(&d.admin, &Cursor::default(), 0).unwrap();
    assert_eq!((one.docs.len(), one.more), (1, true));
    let all = s.pull(&d.admin, &Cursor::default(), u32::MAX).unwrap();
    assert_eq!((all.docs.len(), all.more), (5, false));
}

pub fn consecutive_changes_of_a_document_travel_together(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let synced = pull_all(s, &d.admin, &Cursor::default(), 100);
    let mut copy = apply(None, &synced.docs[0].changes);
    for note in ["一", "二", "三"] {
        assert_eq!(
            push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, note)),
            PushOutcome::Stored
        );
    }
    let got = pull_all(s, &d.admin, &synced.cursor, 100);
    assert_eq!(got.ids(), ["hh-1"], "three rows, one entry");
    copy = apply(Some(copy), &got.docs[0].changes);
    assert_eq!(copy.get_heads(), hh.get_heads());
}

pub fn a_fresh_device_gets_a_snapshot_pass(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    for note in ["一", "二"] {
        assert_eq!(
            push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, note)),
            PushOutcome::Stored
        );
    }
    // One whole document, not three changes, and the cursor lands at the end of the log.
    let page = s.pull(&d.admin, &Cursor::default(), 100).unwrap();
    assert_eq!(page.docs.len(), 1);
    assert!(!page.more);
    assert_eq!(page.cursor.seq, max_seq(s));
    assert!(page.cursor.snapshot.is_none());
    let mut whole = AutoCommit::load(&page.docs[0].changes).unwrap();
    assert_eq!(whole.get_heads(), hh.get_heads());
    assert_eq!(describe(&whole).unwrap().1, "hh-1");
    // An empty log still ends the pass.
    let empty = s.pull(&d.wang, &Cursor::default(), 100).unwrap();
    assert!(empty.docs.is_empty() && !empty.more);
}

pub fn a_device_behind_compaction_gets_a_snapshot_pass(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let early = pull_all(s, &d.admin, &Cursor::default(), 100);
    let copy = apply(None, &early.docs[0].changes);
    for note in ["一", "二", "三"] {
        assert_eq!(
            push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, note)),
            PushOutcome::Stored
        );
    }
    let Compaction {
        deleted,
        compacted_upto,
    } = s.compact(1).unwrap();
    assert_eq!(deleted, 3);
    assert_eq!(compacted_upto, max_seq(s) - 1);
    // The changes it missed are gone from the log: it gets the whole document.
    let got = pull_all(s, &d.admin, &early.cursor, 100);
    assert_eq!(got.ids(), ["hh-1"]);
    let mut copy = apply(Some(copy), &got.docs[0].changes);
    assert_eq!(copy.get_heads(), hh.get_heads());
    // Compaction never moves the horizon back.
    assert_eq!(s.compact(100).unwrap().compacted_upto, compacted_upto);
}

pub fn a_new_grant_brings_a_snapshot_pass(s: &dyn Storage) {
    let devices = seed(s);
    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    let wang_token = token_of(&devices, demo::USER_WANG_QIANG);
    let mut hh = household(&li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let before = pull_all(s, &device(s, wang_token), &Cursor::default(), 100);
    assert!(before.docs.is_empty());
    let version = s.reference_version().unwrap();

    assert!(s.grant(demo::USER_WANG_QIANG, demo::GRID_1).unwrap());
    assert!(s.reference_version().unwrap() > version);
    // The device's scope is read at authentication, as the next request would.
    let wang = device(s, wang_token);
    assert!(wang.scope.grids.contains(demo::GRID_1));
    assert!(wang.scope_seq > before.cursor.seq);
    let after = pull_all(s, &wang, &before.cursor, 100);
    assert_eq!(after.ids(), ["hh-1"], "the new place's documents arrive");
}

pub fn a_document_moved_away_is_gone(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let zhao = pull_all(s, &d.zhao, &Cursor::default(), 100);
    assert_eq!(zhao.ids(), ["hh-1"]);
    let admin = pull_all(s, &d.admin, &Cursor::default(), 100);

    // Li moves it to building 2 (still her grid, no longer Zhao's building).
    assert_eq!(
        push_one(s, &d.li, "hh-1", move_to(&d.li, &mut hh, &b2())),
        PushOutcome::Stored
    );
    let zhao = pull_all(s, &d.zhao, &zhao.cursor, 100);
    assert!(zhao.docs.is_empty());
    assert_eq!(zhao.gone, ["hh-1"]);
    // The admin still holds it: an update, not a departure.
    let admin = pull_all(s, &d.admin, &admin.cursor, 100);
    assert_eq!(admin.ids(), ["hh-1"]);
    assert!(admin.gone.is_empty());
    // Told once.
    assert!(pull_all(s, &d.zhao, &zhao.cursor, 100).gone.is_empty());
}

pub fn a_document_moved_in_arrives_whole(s: &dyn Storage) {
    let d = demo(s);
    let mut hh = household(&d.li, "hh-1", &b2());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    assert_eq!(
        push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, "一")),
        PushOutcome::Stored
    );
    let zhao = pull_all(s, &d.zhao, &Cursor::default(), 100);
    assert!(zhao.docs.is_empty(), "building 2 is not Zhao's");

    assert_eq!(
        push_one(s, &d.li, "hh-1", move_to(&d.li, &mut hh, &b1())),
        PushOutcome::Stored
    );
    let got = pull_all(s, &d.zhao, &zhao.cursor, 100);
    assert_eq!(got.ids(), ["hh-1"]);
    // It never had the document: the move brings all of it, not a change it cannot apply.
    let mut copy = apply(None, &got.docs[0].changes);
    assert_eq!(copy.get_heads(), hh.get_heads());
}

pub fn reference_data_is_sent_when_its_version_changed(s: &dyn Storage) {
    let d = demo(s);
    let r = s.reference(&d.li, 0).unwrap().unwrap();
    assert_eq!(r.version, s.reference_version().unwrap());
    assert_eq!(r.places.len(), linli_testkit::demo::places().len());
    assert_eq!(r.places[0].id, demo::COMMUNITY, "parents come first");
    for (i, p) in r.places.iter().enumerate() {
        if let Some(parent) = &p.parent_id {
            assert!(r.places[..i].iter().any(|q| &q.id == parent));
        }
    }
    assert_eq!(r.people.len(), 4);
    assert!(s.reference(&d.li, r.version).unwrap().is_none());

    admin::create_place(
        s,
        &Place {
            id: "b-3".into(),
            kind: PlaceKind::Building,
            parent_id: Some(demo::GRID_1.into()),
            name: "安置小区3栋".into(),
        },
    )
    .unwrap();
    let newer = s.reference(&d.li, r.version).unwrap().unwrap();
    assert!(newer.version > r.version);
    assert_eq!(newer.places.len(), r.places.len() + 1);
}

pub fn put_place_and_put_user_are_idempotent(s: &dyn Storage) {
    seed(s);
    let version = s.reference_version().unwrap();
    let place = s.place(demo::BUILDING_1).unwrap().unwrap();
    assert!(!s.put_place(&place).unwrap());
    let user = s.user(demo::USER_LI_MEI).unwrap().unwrap();
    assert!(!s.put_user(&user).unwrap());
    assert_eq!(
        s.reference_version().unwrap(),
        version,
        "no change, no bump"
    );
    // Seeding again changes nothing but tokens.
    seed(s);
    assert_eq!(s.reference_version().unwrap(), version);

    let renamed = Place {
        name: "安置小区一栋".into(),
        ..place
    };
    assert!(s.put_place(&renamed).unwrap());
    assert_eq!(s.place(demo::BUILDING_1).unwrap(), Some(renamed));
    let renamed = User {
        name: "李梅梅".into(),
        ..user
    };
    assert!(s.put_user(&renamed).unwrap());
    assert_eq!(s.user(demo::USER_LI_MEI).unwrap(), Some(renamed));
    assert_eq!(s.reference_version().unwrap(), version + 2);
    assert_eq!(s.place("nowhere").unwrap(), None);
    assert_eq!(s.user("nobody").unwrap(), None);
}

pub fn grants_are_idempotent_and_bump_the_reference_version(s: &dyn Storage) {
    seed(s);
    let version = s.reference_version().unwrap();
    assert!(!s.grant(demo::USER_LI_MEI, demo::GRID_1).unwrap());
    assert_eq!(s.reference_version().unwrap(), version);
    assert!(s.grant(demo::USER_LI_MEI, demo::BUILDING_9).unwrap());
    assert_eq!(s.reference_version().unwrap(), version + 1);
}

// ---- the incident workflow ---------------------------------------------------------------

/// An incident reported by `who` in unit 1-1 (grid 1, building 1).
fn incident(who: &Device, id: &str) -> AutoCommit {
    let mut d = AutoCommit::new().with_actor(actor_of(who));
    let i = linli_domain::Incident {
        id: id.into(),
        category: linli_domain::IncidentCategory::Noise,
        description: "夜间噪音".into(),
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(demo::BUILDING_1.into()),
        unit_id: Some(demo::UNIT_1_1.into()),
        household_id: None,
        reporter: who.user_id.clone(),
        priority: linli_domain::Priority::Normal,
        assignee: None,
        department: None,
        reported_at: 1_700_000_000_000,
        received_at: None,
        status: linli_domain::IncidentStatus::Reported,
        level: linli_domain::Level::Grid,
        dispute: None,
        events: Vec::new(),
    };
    write::init_incident(&mut d, &i).unwrap();
    commit_as(who, &mut d);
    d
}

pub fn an_incident_gets_the_servers_receipt_once(s: &dyn Storage) {
    let d = demo(s);
    let mut inc = incident(&d.li, "inc-1");
    let before = s.server().now();
    assert_eq!(
        push_one(s, &d.li, "inc-1", inc.save_after(&[])),
        PushOutcome::Stored
    );
    // The reporter pulls the server's receipt; so does everyone else in scope.
    let got = pull_all(s, &d.li, &Cursor::default(), 100);
    assert_eq!(got.ids(), ["inc-1"]);
    let copy = apply(Some(inc.clone()), &got.docs[0].changes);
    let received = write::read_incident(&copy).unwrap().0.received_at.unwrap();
    assert!(received >= before);
    let zhao = pull_all(s, &d.zhao, &Cursor::default(), 100);
    let theirs = apply(None, &zhao.docs[0].changes);
    assert_eq!(
        write::read_incident(&theirs).unwrap().0.received_at,
        Some(received)
    );
    // A later push keeps it.
    let heads = inc.get_heads();
    write::put_priority(&mut inc, linli_domain::Priority::High).unwrap();
    commit_as(&d.li, &mut inc);
    assert_eq!(
        push_one(s, &d.li, "inc-1", inc.save_after(&heads)),
        PushOutcome::Stored
    );
    let again = pull_all(s, &d.admin, &Cursor::default(), 100);
    let copy = apply(None, &again.docs[0].changes);
    assert_eq!(
        write::read_incident(&copy).unwrap().0.received_at,
        Some(received)
    );
}

pub fn changes_not_of_the_device_and_its_user_are_refused(s: &dyn Storage) {
    let d = demo(s);
    // Li's household (her device's changes), pushed by the admin's device.
    let mut hh = household(&d.li, "hh-1", &b1());
    let before = max_seq(s);
    assert_eq!(
        push_one(s, &d.admin, "hh-1", hh.save_after(&[])),
        PushOutcome::Invalid
    );
    // Li's device, claiming the admin's user.
    let mut claims = AutoCommit::new().with_actor(actor_of(&d.li));
    let new = NewHousehold {
        place_id: demo::UNIT_1_1.into(),
        room: "1".into(),
        residency: Residency::Resident,
        housing: Housing::Owned,
        tags: Vec::new(),
        notes: String::new(),
        members: Vec::new(),
    };
    write::init_household(&mut claims, "hh-2", 1, &b1(), &new).unwrap();
    commit_as(&d.admin, &mut claims);
    assert_eq!(
        push_one(s, &d.li, "hh-2", claims.save_after(&[])),
        PushOutcome::Invalid
    );
    assert_eq!(max_seq(s), before, "nothing stored");
    // Held changes of others are skipped: Li's household re-sent by the admin with an edit.
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    edit(&d.admin, &mut hh, "管理员补充");
    assert_eq!(
        push_one(s, &d.admin, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
}

pub fn targets_default_and_can_be_set(s: &dyn Storage) {
    use linli_domain::IncidentCategory;
    use linli_domain::targets::{CategoryTargets, CommunityTargets, Targets};
    demo(s);
    let defaults = Targets::default();
    assert_eq!(
        s.targets(demo::COMMUNITY).unwrap(),
        CommunityTargets::default()
    );
    let set = CommunityTargets {
        base: Targets {
            response_ms: 30 * 60 * 1000,
            ..defaults
        },
        // Disputes answered in 10 minutes, leaks resolved within a day whatever the priority.
        by_category: vec![
            CategoryTargets {
                category: IncidentCategory::Dispute,
                targets: Targets {
                    response_ms: 10 * 60 * 1000,
                    ..defaults
                },
            },
            CategoryTargets {
                category: IncidentCategory::LeakRepair,
                targets: Targets {
                    resolve_normal_ms: 24 * 3_600_000,
                    resolve_low_ms: 24 * 3_600_000,
                    ..defaults
                },
            },
        ],
    };
    s.set_targets(demo::COMMUNITY, &set).unwrap();
    let read = s.targets(demo::COMMUNITY).unwrap();
    assert_eq!(read.base, set.base);
    assert_eq!(read.by_category.len(), 2);
    assert_eq!(
        read.for_category(IncidentCategory::Dispute).response_ms,
        10 * 60 * 1000
    );
    assert_eq!(read.for_category(IncidentCategory::Parking), set.base);
    s.set_targets(demo::COMMUNITY, &set).unwrap();
    assert_eq!(s.targets(demo::COMMUNITY).unwrap().by_category.len(), 2);
    // Setting again replaces the categories too.
    let fewer = CommunityTargets {
        by_category: set.by_category[..1].to_vec(),
        ..set.clone()
    };
    s.set_targets(demo::COMMUNITY, &fewer).unwrap();
    assert_eq!(s.targets(demo::COMMUNITY).unwrap().by_category.len(), 1);
    let bad = CommunityTargets {
        base: Targets {
            response_ms: 0,
            ..defaults
        },
        by_category: vec![],
    };
    assert!(s.set_targets(demo::COMMUNITY, &bad).is_err());
    let bad_category = CommunityTargets {
        by_category: vec![CategoryTargets {
            category: IncidentCategory::Noise,
            targets: Targets {
                response_ms: 0,
                ..defaults
            },
        }],
        ..set.clone()
    };
    assert!(s.set_targets(demo::COMMUNITY, &bad_category).is_err());
    assert_eq!(s.targets(demo::COMMUNITY).unwrap().by_category.len(), 1);
}

pub fn escalation_is_once_per_level_and_notified(s: &dyn Storage) {
    let d = demo(s);
    let inc = incident(&d.li, "inc-1");
    let mut inc = inc;
    assert_eq!(
        push_one(s, &d.li, "inc-1", inc.save_after(&[])),
        PushOutcome::Stored
    );
    let received = s.server().now();
    assert!(
        s.due(received, 10).unwrap().is_empty(),
        "nothing due at receipt"
    );
    // The server's step, on a clock 20 minutes on (response target: 15 minutes).
    let later = received + 20 * 60 * 1000;
    let due = s.due(later, 10).unwrap();
    assert_eq!(due, ["inc-1"]);
    let server = linli_sync_server::workflow::ServerActor::new(std::sync::Arc::new(move || later));
    let mut made = Vec::new();
    for _ in 0..3 {
        s.write_workflow(&mut |tx| {
            if let Some(e) = linli_sync_server::workflow::escalate_one(tx, &server, "inc-1")? {
                made.push(e);
            }
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(made.len(), 1, "once per level");
    assert_eq!(made[0].level, linli_domain::Level::Community);
    assert!(
        s.due(later, 10).unwrap().is_empty(),
        "next due at the resolution target"
    );
    let notes = s.notifications(&d.admin.scope, 0, 10).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].doc_id, "inc-1");
    assert_eq!(notes[0].level, Some(linli_domain::Level::Community));
    assert!(s.notifications(&d.wang.scope, 0, 10).unwrap().is_empty());
    assert!(
        s.notifications(&d.admin.scope, notes[0].id, 10)
            .unwrap()
            .is_empty()
    );
    // The escalation reaches the phones as a change like any other.
    let got = pull_all(s, &d.li, &Cursor::default(), 100);
    inc = apply(Some(inc), &got.docs[0].changes);
    let derived = linli_domain::moves::current(&inc).unwrap();
    assert_eq!(derived.level, linli_domain::Level::Community);
    let ids: Vec<String> = s
        .incident_docs(&d.zhao.scope)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["inc-1"]);
    assert!(s.incident_docs(&d.wang.scope).unwrap().is_empty());
}

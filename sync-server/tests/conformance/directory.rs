//! Conformance checks of the console's administration (`DirectoryStorage`): withdrawn grants
//! whose documents leave the user's devices, the two deactivations, single-use enrolment
//! codes, revocation, and the audit trail every action appends to.

use linli_domain::protocol::{Cursor, PushOutcome, Role};
use linli_sync_server::directory::{
    Action, Audit, AuditQuery, Deactivation, ENROL_CODE_MS, Reason, Redeemed,
};
use linli_sync_server::storage::token_hash;
use linli_sync_server::{Auth, Storage, User};
use linli_testkit::demo;

use super::{b1, device, household, pull_all, push_one, seed, token_of};

const T: i64 = 1_764_547_200_000;
const ADMIN: &str = demo::USER_ADMIN;

fn audit(action: Action) -> Audit {
    Audit::new(T, ADMIN, action).community(Some(demo::COMMUNITY))
}

fn all_rows(s: &dyn Storage) -> Vec<Action> {
    s.audit(&AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    })
    .unwrap()
    .into_iter()
    .map(|r| r.audit.action)
    .collect()
}

pub fn a_withdrawn_grants_documents_are_gone_from_the_users_devices(s: &dyn Storage) {
    let devices = seed(s);
    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    let wang_token = token_of(&devices, demo::USER_WANG_QIANG);
    let mut hh = household(&li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let li_seen = pull_all(s, &li, &Cursor::default(), 100);

    let grant = audit(Action::Grant)
        .user(demo::USER_WANG_QIANG)
        .place(demo::BUILDING_1);
    assert!(
        s.grant_place(demo::USER_WANG_QIANG, demo::BUILDING_1, &grant)
            .unwrap()
    );
    assert!(
        !s.grant_place(demo::USER_WANG_QIANG, demo::BUILDING_1, &grant)
            .unwrap(),
        "granted once"
    );
    let wang = device(s, wang_token);
    let had = pull_all(s, &wang, &Cursor::default(), 100);
    assert_eq!(had.ids(), ["hh-1"]);
    let version = s.reference_version().unwrap();

    let withdraw = audit(Action::Withdraw)
        .user(demo::USER_WANG_QIANG)
        .place(demo::BUILDING_1)
        .reason(Some(Reason::Reassigned));
    assert!(
        s.withdraw_grant(demo::USER_WANG_QIANG, demo::BUILDING_1, &withdraw)
            .unwrap()
    );
    assert!(s.reference_version().unwrap() > version, "grants changed");
    let wang = device(s, wang_token);
    assert!(!wang.scope.buildings.contains(demo::BUILDING_1));
    assert!(
        s.changed_since(&wang, had.cursor.seq).unwrap().0,
        "the long poll wakes"
    );
    let after = pull_all(s, &wang, &had.cursor, 100);
    assert!(after.docs.is_empty());
    assert_eq!(after.gone, ["hh-1"]);
    assert!(
        pull_all(s, &wang, &after.cursor, 100).gone.is_empty(),
        "told once"
    );
    // Nobody else is told: Li's grid still covers it.
    assert!(pull_all(s, &li, &li_seen.cursor, 100).gone.is_empty());
    // Nothing to withdraw twice: no second row.
    assert!(
        !s.withdraw_grant(demo::USER_WANG_QIANG, demo::BUILDING_1, &withdraw)
            .unwrap()
    );
    assert_eq!(all_rows(s), [Action::Withdraw, Action::Grant]);
}

pub fn a_grant_still_covering_a_document_keeps_it(s: &dyn Storage) {
    let devices = seed(s);
    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    let mut hh = household(&li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    // Li holds grid 1; an extra grant of building 1, withdrawn, takes nothing away.
    let a = audit(Action::Grant).user(demo::USER_LI_MEI);
    assert!(
        s.grant_place(demo::USER_LI_MEI, demo::BUILDING_1, &a)
            .unwrap()
    );
    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    let seen = pull_all(s, &li, &Cursor::default(), 100);
    assert!(
        s.withdraw_grant(demo::USER_LI_MEI, demo::BUILDING_1, &a)
            .unwrap()
    );
    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    assert!(pull_all(s, &li, &seen.cursor, 100).gone.is_empty());
}

pub fn deactivation_now_or_after_a_final_sync(s: &dyn Storage) {
    let devices = seed(s);
    let zhao = token_of(&devices, demo::USER_ZHAO);
    let li = token_of(&devices, demo::USER_LI_MEI);

    let now = audit(Action::DeactivateNow)
        .user(demo::USER_ZHAO)
        .reason(Some(Reason::LostDevice));
    assert!(
        s.deactivate_user(demo::USER_ZHAO, Deactivation::Now, &now)
            .unwrap()
    );
    assert_eq!(s.authenticate(zhao).unwrap(), Auth::Revoked);
    assert!(
        !s.deactivate_user(demo::USER_ZHAO, Deactivation::Now, &now)
            .unwrap(),
        "once"
    );

    let later = audit(Action::DeactivateAfterSync).user(demo::USER_LI_MEI);
    assert!(
        s.deactivate_user(demo::USER_LI_MEI, Deactivation::AfterFinalSync, &later)
            .unwrap()
    );
    let last = device(s, li);
    assert!(last.final_sync, "one more sync is allowed");
    // The long poll (or a retried request) before the sync does not use it up.
    assert!(device(s, li).final_sync);
    s.finish_final_sync(&last.device_id).unwrap();
    assert_eq!(s.authenticate(li).unwrap(), Auth::Revoked);
    // An active user's device is untouched by the same call.
    let wang = device(s, token_of(&devices, demo::USER_WANG_QIANG));
    s.finish_final_sync(&wang.device_id).unwrap();
    assert!(!device(s, token_of(&devices, demo::USER_WANG_QIANG)).final_sync);

    let states = s.users_in(&[demo::COMMUNITY.to_owned()]).unwrap();
    let of = |id: &str| states.iter().find(|u| u.user.id == id).unwrap();
    assert!(of(demo::USER_ZHAO).deactivated_at.is_some());
    assert!(of(demo::USER_LI_MEI).final_sync);
    assert!(of(demo::USER_WANG_QIANG).deactivated_at.is_none());
    assert_eq!(of(demo::USER_LI_MEI).grants, [demo::GRID_1]);
    assert_eq!(
        all_rows(s),
        [Action::DeactivateAfterSync, Action::DeactivateNow]
    );
}

pub fn enrolment_codes_are_single_use_and_expire(s: &dyn Storage) {
    seed(s);
    let code = "0123456789abcdef0123456789abcdef";
    let a = audit(Action::EnrolCode).user(demo::USER_WANG_QIANG);
    s.add_enrol_code(&token_hash(code), T + ENROL_CODE_MS, &a)
        .unwrap();
    let token = "a-new-device-token";
    let dev = "00000000-0000-4000-8000-0000000000aa";
    let redeem = |hash: &[u8], at: i64| {
        s.redeem_enrol_code(hash, dev, "测试手机", &token_hash(token), at)
            .unwrap()
    };
    assert_eq!(redeem(&token_hash("not-the-code"), T + 1), Redeemed::Spent);
    assert_eq!(
        redeem(&token_hash(code), T + ENROL_CODE_MS),
        Redeemed::Spent,
        "expired at ten minutes"
    );
    assert_eq!(s.authenticate(token).unwrap(), Auth::Unknown);
    match redeem(&token_hash(code), T + ENROL_CODE_MS - 1) {
        Redeemed::Enrolled(user) => assert_eq!(user.id, demo::USER_WANG_QIANG),
        other => panic!("expected an enrolment, got {other:?}"),
    }
    let d = device(s, token);
    assert_eq!(
        (d.device_id.as_str(), d.user_id.as_str()),
        (dev, demo::USER_WANG_QIANG)
    );
    assert_eq!(
        s.device(dev).unwrap().unwrap().name.as_deref(),
        Some("测试手机")
    );
    assert_eq!(
        redeem(&token_hash(code), T + 2),
        Redeemed::Spent,
        "used once"
    );
    assert_eq!(all_rows(s), [Action::Enrolled, Action::EnrolCode]);

    // A deactivated user's code is spent too.
    let other = "fedcba9876543210fedcba9876543210";
    let a = audit(Action::EnrolCode).user(demo::USER_ZHAO);
    s.add_enrol_code(&token_hash(other), T + ENROL_CODE_MS, &a)
        .unwrap();
    let off = audit(Action::DeactivateNow).user(demo::USER_ZHAO);
    s.deactivate_user(demo::USER_ZHAO, Deactivation::Now, &off)
        .unwrap();
    let again = s
        .redeem_enrol_code(
            &token_hash(other),
            "00000000-0000-4000-8000-0000000000bb",
            "手机",
            &token_hash("another-token"),
            T + 1,
        )
        .unwrap();
    assert_eq!(again, Redeemed::Spent);

    // Failures are counted per address and window.
    s.enrol_failed("10.0.0.1", T).unwrap();
    s.enrol_failed("10.0.0.1", T + 1).unwrap();
    s.enrol_failed("10.0.0.2", T + 1).unwrap();
    assert_eq!(s.enrol_failures("10.0.0.1", T).unwrap(), 2);
    assert_eq!(s.enrol_failures("10.0.0.1", T + 1).unwrap(), 1);
    assert_eq!(s.enrol_failures("10.0.0.3", T).unwrap(), 0);
}

pub fn users_devices_and_the_audit_trail(s: &dyn Storage) {
    let devices = seed(s);
    let user = User {
        id: "user-new".into(),
        name: "新网格员".into(),
        role: Role::GridWorker,
        community_id: demo::COMMUNITY.into(),
    };
    let a = audit(Action::CreateUser)
        .user("user-new")
        .reason(Some(Reason::NewStaff));
    s.add_user(&user, &[demo::GRID_2.to_owned()], &a).unwrap();
    assert!(s.add_user(&user, &[], &a).is_err(), "the id is taken");
    let bad = User {
        id: "user-other".into(),
        ..user.clone()
    };
    assert!(
        s.add_user(&bad, &["no-such-place".to_owned()], &a).is_err(),
        "an unknown place"
    );
    assert!(s.user("user-other").unwrap().is_none(), "nothing written");
    let state = s.users_in(&[demo::COMMUNITY.to_owned()]).unwrap();
    let new = state.iter().find(|u| u.user.id == "user-new").unwrap();
    assert_eq!(new.grants, [demo::GRID_2]);

    let li = device(s, token_of(&devices, demo::USER_LI_MEI));
    let listed = s.devices_of(demo::USER_LI_MEI).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].info.device_id, li.device_id);
    let r = audit(Action::RevokeDevice).device(&li.device_id);
    assert!(s.revoke_device(&li.device_id, &r).unwrap());
    assert!(!s.revoke_device(&li.device_id, &r).unwrap());
    assert!(s.revoke_device("no-such-device", &r).is_err());
    assert!(
        s.devices_of(demo::USER_LI_MEI).unwrap()[0]
            .info
            .revoked_at
            .is_some()
    );

    // Another community's row, and paging and filters.
    let elsewhere = Audit::new(T, ADMIN, Action::CreatePlace).community(Some("c-other"));
    let place = linli_domain::Place {
        id: "g-3".into(),
        kind: linli_domain::PlaceKind::Grid,
        parent_id: Some(demo::COMMUNITY.into()),
        name: "三网格".into(),
    };
    assert!(s.save_place(&place, &elsewhere).unwrap());
    assert!(
        !s.save_place(&place, &elsewhere).unwrap(),
        "unchanged: no row"
    );
    assert_eq!(
        all_rows(s),
        [
            Action::CreatePlace,
            Action::RevokeDevice,
            Action::CreateUser
        ]
    );
    let mine = s
        .audit(&AuditQuery {
            communities: Some(vec![demo::COMMUNITY.to_owned()]),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    let actions: Vec<_> = mine.iter().map(|r| r.audit.action).collect();
    assert_eq!(actions, [Action::RevokeDevice, Action::CreateUser]);
    let first = s
        .audit(&AuditQuery {
            limit: 1,
            ..AuditQuery::default()
        })
        .unwrap();
    let next = s
        .audit(&AuditQuery {
            before: Some(first[0].id),
            limit: 1,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(next[0].audit.action, Action::RevokeDevice);
    let only = s
        .audit(&AuditQuery {
            action: Some(Action::CreateUser),
            limit: 10,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].audit.reason, Some(Reason::NewStaff));
    assert_eq!(only[0].audit.target_user.as_deref(), Some("user-new"));
}

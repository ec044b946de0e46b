//! The register in the console (`/admin/households`): search as on the phone, paging, scope
//! (another community's household is not found), masking of ID numbers, phones and sensitive
//! tags (street admins and lists), the household page with its history.

use automerge::AutoCommit;
use axum::http::StatusCode;
use linli_domain::doc as write;
use linli_domain::protocol::{DocPush, PushOutcome};
use linli_domain::{Address, CareTag, Housing, NewHousehold, NewMember, Relation, Residency};
use linli_sync_server::{Auth, Device, SyncStorage, admin};
use linli_testkit::demo;

use super::scope::{
    OTHER, OTHER_ADMIN, OTHER_GRID, OTHER_PASSWORD, STREET_ADMIN, STREET_PASSWORD, street,
};
use super::*;

pub const ID_NUMBER: &str = "11010519491231002X";
pub const PHONE: &str = "13812345678";

fn device_of(w: &World, token: &str) -> Device {
    match w.storage.authenticate(token).unwrap() {
        Auth::Device(d) => *d,
        other => panic!("expected a device, got {other:?}"),
    }
}

fn commit(who: &Device, d: &mut AutoCommit, op: &str) {
    let note = format!(r#"{{"u":"{}","op":"{op}","f":["name"]}}"#, who.user_id);
    d.commit_with(automerge::transaction::CommitOptions::default().with_message(note));
}

/// A household pushed by `token`'s phone at `at`, with members (name, phone, ID number)
/// added in a second change; tagged disabled.
pub fn push_household(
    w: &World,
    token: &str,
    id: &str,
    at: &Address,
    members: &[(&str, Option<&str>, Option<&str>)],
) {
    let who = device_of(w, token);
    let actor = uuid::Uuid::parse_str(&who.device_id).unwrap();
    let mut d = AutoCommit::new().with_actor(automerge::ActorId::from(actor.as_bytes().as_slice()));
    let new = NewHousehold {
        place_id: at
            .unit_id
            .clone()
            .or(at.building_id.clone())
            .unwrap_or(at.grid_id.clone()),
        room: at.room.clone(),
        residency: Residency::Resident,
        housing: Housing::Rented,
        tags: vec![CareTag::Disabled, CareTag::Veteran],
        notes: "备注一".into(),
        members: Vec::new(),
    };
    write::init_household(&mut d, id, T0, at, &new).unwrap();
    commit(&who, &mut d, "household.create");
    for (i, (name, phone, id_number)) in members.iter().enumerate() {
        let m = NewMember {
            name: (*name).into(),
            relation: if i == 0 {
                Relation::Head
            } else {
                Relation::Child
            },
            birth_year: Some(1960),
            phone: phone.map(Into::into),
            id_number: id_number.map(Into::into),
        };
        write::put_member(&mut d, &format!("{id}-m{i}"), &m).unwrap();
    }
    commit(&who, &mut d, "member.add");
    let acks = w
        .storage
        .push(
            &who,
            &[DocPush {
                doc_id: id.into(),
                changes: d.save_after(&[]),
            }],
        )
        .unwrap();
    assert_eq!(acks[0].outcome, PushOutcome::Stored);
}

pub fn unit_1_1(room: &str) -> Address {
    Address {
        community_id: demo::COMMUNITY.into(),
        grid_id: demo::GRID_1.into(),
        micro_grid_id: None,
        building_id: Some(demo::BUILDING_1.into()),
        unit_id: Some(demo::UNIT_1_1.into()),
        room: room.into(),
    }
}

/// 张秀英's household (with her son 李明's phone and ID number) in 1栋1单元301.
pub fn zhang(w: &World) {
    push_household(
        w,
        &w.phone(demo::USER_LI_MEI),
        "hh-zhang",
        &unit_1_1("301"),
        &[
            ("张秀英", None, None),
            ("李明", Some(PHONE), Some(ID_NUMBER)),
        ],
    );
}

/// The household ids a list page shows, in order.
pub fn listed(html: &str) -> Vec<String> {
    html.split("<tr data-id=\"")
        .skip(1)
        .map(|r| r[..r.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_register_is_searched_and_lists_masked() {
    let w = world();
    zhang(&w);
    push_household(
        &w,
        &w.phone(demo::USER_LI_MEI),
        "hh-wang",
        &unit_1_1("502"),
        &[("王建国", None, None)],
    );
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let all = w.get("/admin/households", Some(&s)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(listed(&all.body), ["hh-zhang", "hh-wang"]);
    assert!(all.body.contains("共 2 户"));
    assert!(
        all.body.contains("138****5678"),
        "a list shows phones masked"
    );
    assert!(!all.body.contains(PHONE));
    assert!(!all.body.contains("残疾"), "sensitive tags masked in lists");
    assert!(all.body.contains("退役军人"));
    for (q, expected) in [
        ("zxy", vec!["hh-zhang"]),
        ("zhangxiuying", vec!["hh-zhang"]),
        ("秀英", vec!["hh-zhang"]),
        ("wjg", vec!["hh-wang"]),
        ("1栋 502", vec!["hh-wang"]),
        ("nobody", vec![]),
    ] {
        let res = w
            .get(
                &format!("/admin/households?{}", form(&[("q", q)])),
                Some(&s),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(listed(&res.body), expected, "{q}");
    }
    // A place filter of the scope narrows; one outside it is not found.
    let res = w
        .get(
            &format!("/admin/households?place={}", demo::BUILDING_2),
            Some(&s),
        )
        .await;
    assert!(listed(&res.body).is_empty());
    let res = w.get("/admin/households?place=g-nowhere", Some(&s)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Bad input is a 400 with a Chinese message, never a 500.
    let long = "长".repeat(101);
    let res = w
        .get(
            &format!("/admin/households?{}", form(&[("q", &long)])),
            Some(&s),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("搜索内容过长"));
    let res = w.get("/admin/households?page=abc", Some(&s)).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "an unreadable query is no filter"
    );
}

#[tokio::test]
async fn the_household_page_shows_members_history_and_full_fields_to_its_admin() {
    let w = world();
    zhang(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("张秀英") && page.body.contains("李明"));
    assert!(
        page.body.contains(ID_NUMBER),
        "the community admin sees it in full"
    );
    assert!(page.body.contains(PHONE));
    assert!(page.body.contains("残疾"));
    // The history: who did what.
    assert!(page.body.contains("李梅"), "{}", page.body);
    assert!(page.body.contains("建档") && page.body.contains("添加成员"));
    assert!(!page.body.contains("已隐藏：仅本社区管理员"));
    let missing = w.get("/admin/households/hh-none", Some(&s)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_street_admin_sees_the_register_masked() {
    let w = world();
    street(&w);
    zhang(&w);
    let s = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("李明"));
    assert!(!page.body.contains(ID_NUMBER));
    assert!(page.body.contains("110105********002X"));
    assert!(!page.body.contains(PHONE));
    assert!(page.body.contains("138****5678"));
    assert!(!page.body.contains("残疾"));
    assert!(page.body.contains("特殊关爱（已隐藏）"));
}

#[tokio::test]
async fn another_communitys_household_is_not_found() {
    let w = world();
    street(&w);
    zhang(&w);
    // 和平社区's admin, with a phone, registers a household of theirs.
    let theirs = admin::enroll(w.storage.as_ref(), OTHER_ADMIN, None).unwrap();
    let at = Address {
        community_id: OTHER.into(),
        grid_id: OTHER_GRID.into(),
        micro_grid_id: None,
        building_id: None,
        unit_id: None,
        room: "101".into(),
    };
    push_household(
        &w,
        &theirs.token,
        "hh-other",
        &at,
        &[("赵和平", None, None)],
    );

    let ours = w.sign_in(ADMIN, PASSWORD).await;
    let res = w.get("/admin/households/hh-other", Some(&ours)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("赵和平"));
    let list = w.get("/admin/households?q=zhp", Some(&ours)).await;
    assert!(listed(&list.body).is_empty());

    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let res = w.get("/admin/households/hh-zhang", Some(&other)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("张秀英"));
    let list = w.get("/admin/households", Some(&other)).await;
    assert_eq!(listed(&list.body), ["hh-other"]);
}

#[tokio::test]
async fn a_department_handler_has_no_register() {
    let w = world();
    zhang(&w);
    let s = w.sign_in(WUYE, PASSWORD).await;
    let res = w.get("/admin/households", Some(&s)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!res.body.contains("张秀英"));
    // Signed out: to the sign-in page.
    assert!(w.get("/admin/households", None).await.to_login());
}

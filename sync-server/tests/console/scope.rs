//! Scope: a community admin sees and touches only their community; a street admin both of
//! theirs. Escaping: what phones and people write is shown as text.

use axum::http::StatusCode;
use linli_domain::PlaceKind;
use linli_domain::protocol::Role;
use linli_sync_server::api::{self, ReportBody};
use linli_sync_server::console::set_password;
use linli_sync_server::{AccountStorage, admin};
use linli_testkit::demo;

use super::*;

pub const STREET: &str = "s-1";
pub const OTHER: &str = "c-other";
pub const OTHER_GRID: &str = "g-other";
pub const OTHER_ADMIN: &str = "user-other-admin";
pub const STREET_ADMIN: &str = "user-street";
pub const STREET_PASSWORD: &str = "street admin password";
pub const OTHER_PASSWORD: &str = "other admin password";

/// A street above 幸福社区 and a second community (with a grid and its own admin), and a
/// street admin of both; both admins with passwords.
pub fn street(w: &World) {
    let s = w.storage.as_ref();
    let place = |id: &str, kind, parent: Option<&str>, name: &str| linli_domain::Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: name.into(),
    };
    admin::create_place(s, &place(STREET, PlaceKind::Street, None, "幸福街道")).unwrap();
    admin::create_place(
        s,
        &place(
            demo::COMMUNITY,
            PlaceKind::Community,
            Some(STREET),
            "幸福社区",
        ),
    )
    .unwrap();
    admin::create_place(
        s,
        &place(OTHER, PlaceKind::Community, Some(STREET), "和平社区"),
    )
    .unwrap();
    admin::create_place(
        s,
        &place(OTHER_GRID, PlaceKind::Grid, Some(OTHER), "和平一网格"),
    )
    .unwrap();
    w.user(OTHER_ADMIN, "和平主任", Role::Admin, OTHER, OTHER);
    set_password(s, OTHER_ADMIN, OTHER_PASSWORD).unwrap();
    w.user(
        STREET_ADMIN,
        "街道主任",
        Role::StreetAdmin,
        demo::COMMUNITY,
        STREET,
    );
    set_password(s, STREET_ADMIN, STREET_PASSWORD).unwrap();
}

/// An incident in the other community, reported by its admin (as the console does).
pub fn other_incident(w: &World, category: &str) -> String {
    let me = w
        .storage
        .principal(OTHER_ADMIN, "console")
        .unwrap()
        .unwrap();
    api::report_incident(
        w.storage.as_ref(),
        &me,
        &ReportBody {
            category: category.into(),
            description: "和平社区的事".into(),
            place_id: OTHER_GRID.into(),
            priority: None,
            parties: None,
            mediator: None,
        },
    )
    .unwrap()
    .id
}

#[tokio::test]
async fn a_community_admin_cannot_reach_another_communitys_incident() {
    let w = world();
    street(&w);
    let theirs = other_incident(&w, "dispute");
    let ours = w
        .phone_report(demo::UNIT_1_1, "dispute", "楼上楼下噪音纠纷")
        .await;
    let s = w.sign_in(ADMIN, PASSWORD).await;

    let res = w.get(&format!("/admin/incidents/{theirs}"), Some(&s)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("和平社区的事"));
    assert_eq!(
        w.get(&format!("/admin/incidents/{ours}"), Some(&s))
            .await
            .status,
        StatusCode::OK
    );

    let before = w.written();
    for fields in [
        vec![("action", "accept")],
        vec![("action", "escalate"), ("level", "community")],
        vec![("action", "close"), ("note", "无")],
    ] {
        let res = w.console_move(&s, &theirs, &fields).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{fields:?}");
    }
    assert_eq!(w.written(), before);
    // Nor may an order of ours be dispatched to their people.
    w.console_move(&s, &ours, &[("action", "accept")]).await;
    let before = w.written();
    let res = w
        .console_move(
            &s,
            &ours,
            &[
                ("action", "dispatch"),
                ("target", &format!("user:{OTHER_ADMIN}")),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(error_of(&res.body).as_deref(), Some("您不能派单给该对象。"));
    assert_eq!(w.written(), before);
    let page = w.get(&format!("/admin/incidents/{ours}"), Some(&s)).await;
    assert!(!page.body.contains(&format!("user:{OTHER_ADMIN}")));

    let board = w.get("/admin/board", Some(&s)).await;
    assert!(lists(&board.body, &ours));
    assert!(!lists(&board.body, &theirs));
    let disputes = w.get("/admin/disputes", Some(&s)).await;
    assert_eq!(disputes.status, StatusCode::OK);
    assert!(lists(&disputes.body, &ours));
    assert!(!lists(&disputes.body, &theirs));
    assert!(!disputes.body.contains("和平"));
    // The report form offers no place of the other community, and refuses one posted.
    let page = w.get("/admin/report", Some(&s)).await;
    assert!(page.body.contains(demo::GRID_1));
    assert!(!page.body.contains(OTHER_GRID));
    let before = w.written();
    let res = w
        .post(
            "/admin/report",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("place_id", OTHER_GRID),
                ("category", "noise"),
                ("priority", "normal"),
                ("description", "越界登记"),
                ("contact", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&res.body).as_deref(),
        Some("请选择发生地点（网格、楼栋或单元）。")
    );
    assert_eq!(w.written(), before);
    // Nor are the other community's people within reach.
    let res = w
        .post(
            &format!("/admin/people/{OTHER_ADMIN}/invite"),
            Some(&s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = w
        .post(
            &format!("/admin/people/{OTHER_ADMIN}/unlock"),
            Some(&s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(w.written(), before);
    let people = w.get("/admin/people", Some(&s)).await;
    assert!(!people.body.contains(OTHER_ADMIN));
}

#[tokio::test]
async fn a_street_admin_sees_both_communities() {
    let w = world();
    street(&w);
    let theirs = other_incident(&w, "dispute");
    let ours = w
        .phone_report(demo::UNIT_1_1, "dispute", "楼上楼下噪音纠纷")
        .await;
    let s = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let board = w.get("/admin/board", Some(&s)).await;
    assert!(lists(&board.body, &ours));
    assert!(lists(&board.body, &theirs));
    let disputes = w.get("/admin/disputes", Some(&s)).await;
    assert!(lists(&disputes.body, &ours));
    assert!(lists(&disputes.body, &theirs));
    for id in [&ours, &theirs] {
        let page = w.get(&format!("/admin/incidents/{id}"), Some(&s)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(moves_of(&page.body).contains(&"accept".to_owned()));
    }
    let res = w.console_move(&s, &theirs, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = w.get(&format!("/admin/incidents/{theirs}"), Some(&s)).await;
    assert_eq!(status_of(&page.body), "accepted");
    // The other community's admin still does not see 幸福社区's.
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let board = w.get("/admin/board", Some(&other)).await;
    assert!(lists(&board.body, &theirs));
    assert!(!lists(&board.body, &ours));
}

const SCRIPT: &str = "<script>alert(1)</script><b>x</b>";

#[tokio::test]
async fn what_a_phone_wrote_is_shown_as_text() {
    let w = world();
    let id = w.phone_report(demo::BUILDING_1, "noise", SCRIPT).await;
    assert_eq!(w.incident(&id).await["description"], SCRIPT);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let board = w.get("/admin/board", Some(&s)).await;
    let rows = w.get("/admin/board/rows", Some(&s)).await;
    let page = w.get(&format!("/admin/incidents/{id}"), Some(&s)).await;
    for (what, html) in [
        ("board", &board.body),
        ("rows", &rows.body),
        ("incident", &page.body),
    ] {
        assert!(lists(html, &id), "{what}");
        assert!(!html.contains("<script>alert"), "{what}: {html}");
        assert!(!html.contains("<b>x"), "{what}");
        // askama's HTML escaping (numeric entities).
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#60;b&#62;x&#60;/b&#62;"),
            "{what}: {html}"
        );
    }
    // A move's note is text too.
    let res = w
        .console_move(&s, &id, &[("action", "accept"), ("note", SCRIPT)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = w.get(&format!("/admin/incidents/{id}"), Some(&s)).await;
    assert_eq!(page.body.matches("<script>alert").count(), 0);
    assert_eq!(page.body.matches("&#60;script&#62;alert(1)").count(), 2);
}

#[tokio::test]
async fn a_name_with_markup_is_shown_as_text() {
    let w = world();
    let name = "<img src=x onerror=alert(1)>";
    w.user(
        "user-img",
        name,
        Role::DepartmentHandler,
        demo::COMMUNITY,
        demo::COMMUNITY,
    );
    let id = w.phone_report(demo::BUILDING_1, "noise", "楼道噪音").await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let people = w.get("/admin/people", Some(&s)).await;
    assert!(people.body.contains("data-user=\"user-img\""));
    // The accept makes a dispatch form listing people (the name among them).
    w.console_move(&s, &id, &[("action", "accept")]).await;
    let page = w.get(&format!("/admin/incidents/{id}"), Some(&s)).await;
    assert!(page.body.contains("value=\"user:user-img\""));
    let board = w.get("/admin/board", Some(&s)).await;
    for (what, html) in [
        ("people", &people.body),
        ("incident", &page.body),
        ("board", &board.body),
    ] {
        assert!(!html.contains("<img"), "{what}: {html}");
        if what != "board" {
            assert!(
                html.contains("&#60;img src=x onerror=alert(1)&#62;"),
                "{what}: {html}"
            );
        }
    }
    // The invitation link page names them as text as well.
    let res = w
        .post(
            "/admin/people/user-img/invite",
            Some(&s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(!res.body.contains("<img"));
    let link = accounts::link_of(&res.body);
    let page = w.get(&link, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<img"));
    assert!(page.body.contains("&#60;img"));
    assert!(
        w.storage
            .account("user-img")
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
}

#[tokio::test]
async fn a_street_admin_reports_in_either_community_and_a_handler_not_at_all() {
    let w = world();
    street(&w);
    let s = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let page = w.get("/admin/report", Some(&s)).await;
    assert!(page.body.contains(&format!("value=\"{OTHER_GRID}\"")));
    assert!(page.body.contains(&format!("value=\"{}\"", demo::UNIT_1_1)));
    let docs = w.documents();
    let res = w
        .post(
            "/admin/report",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("place_id", OTHER_GRID),
                ("category", "noise"),
                ("priority", "urgent"),
                ("description", "街道热线登记"),
                ("contact", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(w.documents(), docs + 1);

    // A department handler does not report: no form, and a posted one writes nothing.
    let wuye = w.sign_in(WUYE, PASSWORD).await;
    assert_eq!(
        w.get("/admin/report", Some(&wuye)).await.status,
        StatusCode::FORBIDDEN
    );
    let before = w.written();
    let res = w
        .post(
            "/admin/report",
            Some(&wuye),
            &[
                ("csrf", &wuye.csrf),
                ("place_id", demo::UNIT_1_1),
                ("category", "noise"),
                ("priority", "normal"),
                ("description", "物业登记"),
                ("contact", ""),
            ],
        )
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(
        error_of(&res.body).as_deref(),
        Some("您的角色不能执行此操作。")
    );
    assert_eq!(w.written(), before);
}

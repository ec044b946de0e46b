//! People, devices, places and the audit trail in the console: each action through its
//! form, its audit row, its scope (another community's admin gets 404, a handler 403) and
//! CSRF (missing: 403, nothing written); an enrolment QR code's link exchanged by
//! `POST /v1/enrol` for a working token.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_sync_server::{AdminStorage, Auth, DirectoryStorage, SyncStorage};
use linli_testkit::demo;

use super::scope::{OTHER_ADMIN, OTHER_PASSWORD, street};
use super::*;

/// Audit rows (action codes), newest first.
fn audit_codes(w: &World) -> Vec<String> {
    let c = w.db();
    let mut stmt = c
        .prepare("SELECT action FROM admin_actions ORDER BY id DESC")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Posts a form with a `Host` header, as a browser does.
async fn post_host(w: &World, path: &str, s: &Session, fields: &[(&str, &str)]) -> Resp {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, s.cookie())
        .header(header::HOST, "linli.example:8443")
        .body(Body::from(form(fields)))
        .unwrap();
    w.send(req).await
}

#[tokio::test]
async fn an_admin_creates_a_user_grants_and_withdraws_places() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/users", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("李梅") && page.body.contains("new-user"));

    let made = w
        .post(
            "/admin/users",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("name", "新来的网格员"),
                ("role", "grid_worker"),
                ("community", demo::COMMUNITY),
                ("place", demo::GRID_2),
                ("reason", "new_staff"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let at = made.location().unwrap().to_owned();
    let id = at.strip_prefix("/admin/users/").unwrap().to_owned();
    let user = w.storage.user(&id).unwrap().unwrap();
    assert_eq!(user.name, "新来的网格员");
    let page = w.get(&at, Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("data-place=\"{}\"", demo::GRID_2))
    );

    let granted = w
        .post(
            &format!("{at}/grants"),
            Some(&s),
            &[("csrf", &s.csrf), ("place", demo::BUILDING_1)],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER);
    let withdrawn = w
        .post(
            &format!("{at}/grants/{}/withdraw", demo::GRID_2),
            Some(&s),
            &[("csrf", &s.csrf), ("reason", "reassigned")],
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.body
    );
    let state = w.storage.users_in(&[demo::COMMUNITY.to_owned()]).unwrap();
    let grants = &state.iter().find(|u| u.user.id == id).unwrap().grants;
    assert_eq!(grants, &[demo::BUILDING_1]);
    assert_eq!(audit_codes(&w), ["withdraw", "grant", "create_user"]);

    // Bad input: a role above the admin's, no name, a place outside, no reason to withdraw.
    let before = audit_codes(&w);
    for fields in [
        vec![
            ("name", "某人"),
            ("role", "street_admin"),
            ("community", demo::COMMUNITY),
        ],
        vec![
            ("name", " "),
            ("role", "grid_worker"),
            ("community", demo::COMMUNITY),
        ],
        vec![
            ("name", "某人"),
            ("role", "grid_worker"),
            ("community", "c-other"),
        ],
    ] {
        let mut f = vec![("csrf", s.csrf.as_str())];
        f.extend(fields);
        let res = w.post("/admin/users", Some(&s), &f).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{f:?}");
        assert!(res.body.contains("输入有误"));
    }
    let res = w
        .post(
            &format!("{at}/grants/{}/withdraw", demo::BUILDING_1),
            Some(&s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &format!("{at}/grants"),
            Some(&s),
            &[("csrf", &s.csrf), ("place", "g-nowhere")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(audit_codes(&w), before, "nothing written");
}

#[tokio::test]
async fn a_qr_code_enrols_a_phone_and_a_device_is_revoked() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = post_host(
        &w,
        &format!("/admin/users/{}/enrol", demo::USER_WANG_QIANG),
        &s,
        &[("csrf", &s.csrf)],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("<svg"), "a QR code");
    let marker = "id=\"enrol-link\">";
    let at = res.body.find(marker).unwrap() + marker.len();
    let link = &res.body[at..at + res.body[at..].find('<').unwrap()];
    let link = link.replace("&amp;", "&").replace("&#38;", "&");
    assert!(
        link.starts_with("linli://enrol?server=http%3A%2F%2Flinli.example%3A8443&code="),
        "{link}"
    );
    let code = link.rsplit("code=").next().unwrap();
    let body = serde_json::json!({"code": code, "device_name": "王强的新手机"}).to_string();
    let enrolled = w
        .post_raw(
            "/v1/enrol",
            None,
            "application/json",
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
    let answer: Value = serde_json::from_str(&enrolled.body).unwrap();
    let token = answer["token"].as_str().unwrap();
    let device_id = answer["device_id"].as_str().unwrap().to_owned();
    assert!(matches!(
        w.storage.authenticate(token).unwrap(),
        Auth::Device(_)
    ));
    let again = w
        .post_raw("/v1/enrol", None, "application/json", body.into_bytes())
        .await;
    assert_eq!(again.status, StatusCode::GONE);

    // The page lists the device with its name; revoking it needs a reason.
    let page = w
        .get(&format!("/admin/users/{}", demo::USER_WANG_QIANG), Some(&s))
        .await;
    assert!(page.body.contains("王强的新手机"));
    let path = format!("/admin/devices/{device_id}/revoke");
    let res = w.post(&path, Some(&s), &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &path,
            Some(&s),
            &[("csrf", &s.csrf), ("reason", "lost_device")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(w.storage.authenticate(token).unwrap(), Auth::Revoked);
    assert_eq!(audit_codes(&w), ["revoke_device", "enrolled", "enrol_code"]);
}

#[tokio::test]
async fn deactivation_offers_after_a_final_sync_or_now() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let li = w.phone(demo::USER_LI_MEI);
    let zhao = w.phone(demo::USER_ZHAO);
    let path = |u: &str| format!("/admin/users/{u}/deactivate");
    let res = w
        .post(
            &path(demo::USER_LI_MEI),
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("how", "sometime"),
                ("reason", "left_post"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &path(demo::USER_LI_MEI),
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("how", "after_sync"),
                ("reason", "left_post"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    match w.storage.authenticate(&li).unwrap() {
        Auth::Device(d) => assert!(d.final_sync),
        other => panic!("{other:?}"),
    }
    let res = w
        .post(
            &path(demo::USER_ZHAO),
            Some(&s),
            &[("csrf", &s.csrf), ("how", "now"), ("reason", "lost_device")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(w.storage.authenticate(&zhao).unwrap(), Auth::Revoked);
    let page = w.get("/admin/users", Some(&s)).await;
    assert!(page.body.contains("已停用（待最后同步）"));
    assert_eq!(audit_codes(&w), ["deactivate_now", "deactivate_after_sync"]);
}

#[tokio::test]
async fn another_communitys_admin_and_handlers_and_forgers_change_nothing() {
    let w = world();
    street(&w);
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let li = format!("/admin/users/{}", demo::USER_LI_MEI);
    assert_eq!(w.get(&li, Some(&other)).await.status, StatusCode::NOT_FOUND);
    let listed = w.get("/admin/users", Some(&other)).await;
    assert!(!listed.body.contains("李梅"), "not their community");
    let before = (audit_codes(&w), w.written());
    for (path, fields) in [
        (
            format!("{li}/deactivate"),
            vec![("how", "now"), ("reason", "other")],
        ),
        (format!("{li}/grants"), vec![("place", "g-other")]),
        (
            format!("{li}/grants/{}/withdraw", demo::GRID_1),
            vec![("reason", "other")],
        ),
        (format!("{li}/enrol"), vec![]),
        (
            format!("/admin/places/{}/rename", demo::GRID_1),
            vec![("name", "改掉")],
        ),
    ] {
        let mut f = vec![("csrf", other.csrf.as_str())];
        f.extend(fields);
        let res = post_host(&w, &path, &other, &f).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A handler may not open these pages.
    let handler = w.sign_in(WUYE, PASSWORD).await;
    for page in ["/admin/users", "/admin/places", "/admin/audit"] {
        assert_eq!(
            w.get(page, Some(&handler)).await.status,
            StatusCode::FORBIDDEN
        );
    }
    // The right admin without the CSRF token.
    let s = w.sign_in(ADMIN, PASSWORD).await;
    for (path, fields) in [
        (
            format!("{li}/deactivate"),
            vec![("how", "now"), ("reason", "other")],
        ),
        (
            "/admin/users".to_owned(),
            vec![("name", "某人"), ("role", "grid_worker")],
        ),
        (
            "/admin/places".to_owned(),
            vec![("kind", "grid"), ("name", "新网格")],
        ),
    ] {
        let res = w.post(&path, Some(&s), &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        (audit_codes(&w), w.written()).0,
        before.0,
        "no action recorded"
    );
    assert!(matches!(
        w.storage.authenticate(&w.phone(demo::USER_LI_MEI)).unwrap(),
        Auth::Device(_)
    ));
    assert_eq!(
        w.storage.place(demo::GRID_1).unwrap().unwrap().name,
        "第一网格"
    );
}

#[tokio::test]
async fn places_are_created_and_renamed_and_the_audit_page_filters() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/places", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("data-place=\"{}\"", demo::BUILDING_1))
    );
    let res = w
        .post(
            "/admin/places",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("kind", "grid"),
                ("parent", demo::COMMUNITY),
                ("name", "第三网格"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // A unit under a community is not the tree.
    let res = w
        .post(
            "/admin/places",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("kind", "unit"),
                ("parent", demo::COMMUNITY),
                ("name", "某单元"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &format!("/admin/places/{}/rename", demo::GRID_2),
            Some(&s),
            &[("csrf", &s.csrf), ("name", "第二网格（东）")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.storage.place(demo::GRID_2).unwrap().unwrap().name,
        "第二网格（东）"
    );
    let page = w.get("/admin/places", Some(&s)).await;
    assert!(page.body.contains("第三网格"));

    let audit = w.get("/admin/audit", Some(&s)).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("新建地点") && audit.body.contains("重命名地点"));
    let only = w.get("/admin/audit?action=rename_place", Some(&s)).await;
    assert_eq!(only.body.matches("data-action=").count(), 1);
    assert!(only.body.contains("data-action=\"rename_place\""));
    let bad = w.get("/admin/audit?action=drop_tables", Some(&s)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Another community's admin sees none of these rows.
    street(&w);
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let theirs = w.get("/admin/audit", Some(&other)).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(theirs.body.matches("data-action=").count(), 0);
}

#[tokio::test]
async fn a_building_is_moved_to_another_grid_with_its_records() {
    let w = world();
    let hh = w.phone_report(demo::BUILDING_1, "noise", "楼道噪音").await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let path = format!("/admin/places/{}/move", demo::BUILDING_1);
    // A reason is required; the target must be a grid of the community.
    let res = w
        .post(
            &path,
            Some(&s),
            &[("csrf", &s.csrf), ("grid", demo::GRID_2)],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &path,
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("grid", demo::BUILDING_2),
                ("reason", "restructure"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            &format!("/admin/places/{}/move", demo::GRID_1),
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("grid", demo::GRID_2),
                ("reason", "restructure"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "only buildings move");
    assert!(audit_codes(&w).is_empty());

    let res = w
        .post(
            &path,
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("grid", demo::GRID_2),
                ("reason", "restructure"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let building = w.storage.place(demo::BUILDING_1).unwrap().unwrap();
    assert_eq!(building.parent_id.as_deref(), Some(demo::GRID_2));
    let grid: String = w
        .db()
        .query_row(
            "SELECT grid_id FROM documents WHERE doc_id = ?1",
            [&hh],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(grid, demo::GRID_2);
    let departed: i64 = w
        .db()
        .query_row(
            "SELECT count(*) FROM departures WHERE doc_id = ?1 AND grid_id = ?2",
            [&hh, demo::GRID_1],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(departed, 1, "the old grid's devices are told");
    assert_eq!(audit_codes(&w), ["move_building"]);
}

#[tokio::test]
async fn the_audit_page_lists_ledger_exports_of_the_admins_communities() {
    use linli_sync_server::RegisterStorage;
    use linli_sync_server::register::ExportRecord;
    let w = world();
    street(&w);
    w.storage
        .record_export(&ExportRecord {
            user_id: ADMIN.into(),
            communities: vec![demo::COMMUNITY.into()],
            ledger: "visits".into(),
            format: "csv".into(),
            filters: "{}".into(),
            rows: 42,
            at: T0,
        })
        .unwrap();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/audit", Some(&s)).await;
    assert!(page.body.contains("id=\"exports\""), "{}", page.body);
    assert!(page.body.contains("走访台账") && page.body.contains("<td>42</td>"));
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let theirs = w.get("/admin/audit", Some(&other)).await;
    assert!(
        !theirs.body.contains("走访台账"),
        "another community's export"
    );
}

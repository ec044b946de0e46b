//! Bad input: each refused with a clear Chinese message, never a 500, nothing written.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_sync_server::AccountStorage;
use linli_testkit::demo;

use super::*;

const FORM: &str = "application/x-www-form-urlencoded";

fn report_fields<'a>(
    csrf: &'a str,
    place: &'a str,
    category: &'a str,
    description: &'a str,
    contact: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("place_id", place),
        ("category", category),
        ("priority", "normal"),
        ("description", description),
        ("contact", contact),
    ]
}

#[tokio::test]
async fn a_bad_report_is_refused_with_its_reason() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let long = "长".repeat(4001);
    let just = "长".repeat(4000);
    let contact = "电".repeat(101);
    let before = w.written();
    for (place, category, description, contact, message) in [
        (
            demo::UNIT_1_1,
            "noise",
            "",
            "",
            "请填写事件描述（不超过4000字）。",
        ),
        (
            demo::UNIT_1_1,
            "noise",
            "   ",
            "王先生",
            "请填写事件描述（不超过4000字）。",
        ),
        (
            demo::UNIT_1_1,
            "noise",
            long.as_str(),
            "",
            "请填写事件描述（不超过4000字）。",
        ),
        (demo::UNIT_1_1, "nope", "楼道噪音", "", "请选择事件类别。"),
        (demo::UNIT_1_1, "", "楼道噪音", "", "请选择事件类别。"),
        (
            "",
            "noise",
            "楼道噪音",
            "",
            "请选择发生地点（网格、楼栋或单元）。",
        ),
        (
            "p-nowhere",
            "noise",
            "楼道噪音",
            "",
            "请选择发生地点（网格、楼栋或单元）。",
        ),
        (
            demo::COMMUNITY,
            "noise",
            "楼道噪音",
            "",
            "请选择发生地点（网格、楼栋或单元）。",
        ),
        (
            demo::UNIT_1_1,
            "noise",
            "楼道噪音",
            contact.as_str(),
            "联系方式不超过100字。",
        ),
    ] {
        let res = w
            .post(
                "/admin/report",
                Some(&s),
                &report_fields(&s.csrf, place, category, description, contact),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{message}: {}",
            res.body
        );
        assert_eq!(
            error_of(&res.body).as_deref(),
            Some(message),
            "{place} {category}"
        );
        assert_eq!(w.written(), before, "{message}");
    }
    // A bad priority too.
    let mut fields = report_fields(&s.csrf, demo::UNIT_1_1, "noise", "楼道噪音", "");
    fields[3] = ("priority", "asap");
    let res = w.post("/admin/report", Some(&s), &fields).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&res.body).as_deref(), Some("请选择紧急程度。"));
    // What was typed is kept in the form (escaped).
    let res = w
        .post(
            "/admin/report",
            Some(&s),
            &report_fields(&s.csrf, "", "noise", "楼道<噪音>", ""),
        )
        .await;
    assert!(res.body.contains("楼道&#60;噪音&#62;"), "{}", res.body);
    assert_eq!(w.written(), before);

    // 4000 characters are fine.
    let res = w
        .post(
            "/admin/report",
            Some(&s),
            &report_fields(&s.csrf, demo::UNIT_1_1, "noise", &just, ""),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_refused() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let id = w.phone_report(demo::UNIT_1_1, "noise", "楼道噪音").await;
    let before = w.written();
    let json = serde_json::json!({
        "csrf": s.csrf, "place_id": demo::UNIT_1_1, "category": "noise",
        "description": "x", "action": "accept"
    })
    .to_string();
    let mut garbage = vec![0xff, 0xfe, 0x00, b'%', b'z', b'=', 0x80];
    garbage.extend_from_slice(format!("&csrf={}", s.csrf).as_bytes());
    let moves = format!("/admin/incidents/{id}/moves");
    const BAD_FORM: &str = "表单无效，请刷新后重试。";
    const FORGED: &str = "表单校验失败，请返回刷新页面后重试。";
    // (path, what garbage with the right token is refused for; None: logout, where the
    // token is all there is and it signs out)
    for (path, garbage_refusal) in [
        ("/admin/report", Some("请选择事件类别。")),
        (moves.as_str(), Some("无效的操作。")),
        ("/admin/account", Some("当前密码不正确。")),
        ("/admin/logout", None),
    ] {
        let logout = garbage_refusal.is_none();
        let mut cases = vec![
            // Not a form: refused as such (logout reads it as no token).
            (
                "application/json",
                json.clone().into_bytes(),
                if logout { FORGED } else { BAD_FORM },
            ),
            (
                "text/plain",
                format!("csrf={}", s.csrf).into_bytes(),
                if logout { FORGED } else { BAD_FORM },
            ),
            // JSON sent as a form: one odd field name, no token.
            (FORM, json.clone().into_bytes(), FORGED),
        ];
        if let Some(refusal) = garbage_refusal {
            // Bytes that are no text at all, then the right token: the form's fields are
            // missing, and said so.
            cases.push((FORM, garbage.clone(), refusal));
        }
        for (ct, body, message) in cases {
            let res = w.post_raw(path, Some(&s.cookie()), ct, body).await;
            let expected = if message == FORGED {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(res.status, expected, "{path} {ct}: {}", res.body);
            assert_eq!(error_of(&res.body).as_deref(), Some(message), "{path} {ct}");
            assert_eq!(w.written(), before, "{path} {ct}");
        }
    }
    assert!(w.opens_board(&s).await);
    assert_eq!(w.incident(&id).await["status"], "reported");
}

#[tokio::test]
async fn a_bad_move_is_refused_with_its_reason() {
    let w = world();
    let id = w.phone_report(demo::UNIT_1_1, "noise", "楼道噪音").await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = w.console_move(&s, &id, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let long_note = "说".repeat(4001);
    let before = w.written();
    for (fields, status, message) in [
        (
            vec![("action", "fly")],
            StatusCode::BAD_REQUEST,
            "无效的操作。",
        ),
        (
            vec![("action", "")],
            StatusCode::BAD_REQUEST,
            "无效的操作。",
        ),
        (
            vec![("action", "other")],
            StatusCode::BAD_REQUEST,
            "无效的操作。",
        ),
        (
            vec![("action", "dispatch")],
            StatusCode::BAD_REQUEST,
            "请选择派给的人员或部门。",
        ),
        (
            vec![("action", "dispatch"), ("target", "department:nope")],
            StatusCode::BAD_REQUEST,
            "请选择派给的人员或部门。",
        ),
        (
            vec![("action", "dispatch"), ("target", "nobody")],
            StatusCode::BAD_REQUEST,
            "请选择派给的人员或部门。",
        ),
        (
            vec![("action", "dispatch"), ("target", "user:user-nobody")],
            StatusCode::BAD_REQUEST,
            "请选择派给的人员或部门。",
        ),
        (
            vec![("action", "return"), ("note", "不归我")],
            StatusCode::BAD_REQUEST,
            "请选择退单原因。",
        ),
        (
            vec![("action", "return"), ("reason", "nope"), ("note", "不归我")],
            StatusCode::BAD_REQUEST,
            "请选择退单原因。",
        ),
        (
            vec![("action", "escalate"), ("level", "grid")],
            StatusCode::BAD_REQUEST,
            "请选择督办层级（高于当前层级）。",
        ),
        (
            vec![("action", "escalate")],
            StatusCode::BAD_REQUEST,
            "请选择督办层级（高于当前层级）。",
        ),
        (
            vec![("action", "feedback"), ("rating", "great")],
            StatusCode::BAD_REQUEST,
            "请选择回访评价。",
        ),
        (
            vec![
                ("action", "dispatch"),
                ("target", "user:user-limei"),
                ("note", long_note.as_str()),
            ],
            StatusCode::BAD_REQUEST,
            "此操作需要填写说明（不超过4000字）。",
        ),
        (
            vec![("action", "close")],
            StatusCode::BAD_REQUEST,
            "此操作需要填写说明（不超过4000字）。",
        ),
        (
            vec![("action", "accept")],
            StatusCode::CONFLICT,
            "事件当前状态不允许此操作（可能已被他人处理），请刷新后重试。",
        ),
    ] {
        let res = w.console_move(&s, &id, &fields).await;
        assert_eq!(res.status, status, "{fields:?}");
        assert_eq!(error_of(&res.body).as_deref(), Some(message), "{fields:?}");
        // The page is shown again, with the incident unchanged.
        assert_eq!(status_of(&res.body), "accepted", "{fields:?}");
        assert_eq!(w.written(), before, "{fields:?}");
    }
    let v = w.incident(&id).await;
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn huge_names_and_ids_are_refused_quietly() {
    let w = world();
    let before = w.written();
    let res = w.try_sign_in(&"u".repeat(10_000), PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&res.body).as_deref(), Some("账号或密码错误。"));
    assert!(res.set_cookie("linli_session").is_none());
    // The name is not echoed back whole.
    assert!(!res.body.contains(&"u".repeat(65)));
    let res = w.try_sign_in(ADMIN, &"p".repeat(10_000)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    // Neither is worth a guess: neither counts as a failure.
    let _ = before;

    let s = w.sign_in(ADMIN, PASSWORD).await;
    let long = "i".repeat(20_000);
    let res = w.get(&format!("/admin/incidents/{long}"), Some(&s)).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("记录不存在，或不在您的管辖范围内。"));
    let before = w.written();
    let res = w.console_move(&s, &long, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(w.written(), before);
    let res = w
        .post(
            &format!("/admin/people/{long}/unlock"),
            Some(&s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = w.get(&format!("/admin/invitations/{long}"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A cookie far longer than a token opens nothing.
    let res = w
        .send(
            Request::get("/admin/board")
                .header(header::COOKIE, format!("linli_session={long}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(res.to_login());
    assert_eq!(w.written(), before);
}

#[tokio::test]
async fn odd_board_queries_are_ignored_or_shown_safely() {
    let w = world();
    let me = w.storage.principal(ADMIN, "console").unwrap().unwrap();
    // More than a page of incidents (50 a page), so the page links are shown.
    for i in 0..51 {
        linli_sync_server::api::report_incident(
            w.storage.as_ref(),
            &me,
            &linli_sync_server::api::ReportBody {
                category: "noise".into(),
                description: format!("噪音 {i}"),
                place_id: demo::UNIT_1_1.into(),
                priority: None,
                parties: None,
                mediator: None,
            },
        )
        .unwrap();
    }
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let first = w.get("/admin/board", Some(&s)).await;
    assert!(first.body.contains("共 51 件"));
    assert!(first.body.contains("href=\"/admin/board?page=1\""));
    for query in [
        "page=1",
        "page=abc",
        "page=-1",
        "page=4294967295",
        "page=4294967296",
        "category=nope&status=nope&grid=nope&handler=nope",
        "grid=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "handler=%3Cimg%20src=x%3E&page=2",
    ] {
        for path in ["/admin/board", "/admin/board/rows"] {
            let res = w.get(&format!("{path}?{query}"), Some(&s)).await;
            assert_eq!(res.status, StatusCode::OK, "{path}?{query}");
            assert!(!res.body.contains("<script>alert"), "{path}?{query}");
            assert!(!res.body.contains("<img src=x"), "{path}?{query}");
        }
    }
}

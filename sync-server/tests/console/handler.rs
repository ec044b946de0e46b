//! A department handler (物业小刘): the orders dispatched to the property department, and
//! nothing else.

use axum::http::StatusCode;
use linli_testkit::demo;

use super::*;

#[tokio::test]
async fn a_handler_signs_for_and_returns_an_order_of_his_department() {
    let w = world();
    let order = w
        .phone_report(demo::UNIT_1_1, "leak_repair", "楼上漏水")
        .await;
    let other = w.phone_report(demo::UNIT_1_2, "noise", "夜间噪音").await;
    let admin = w.sign_in(ADMIN, PASSWORD).await;
    for id in [&order, &other] {
        let res = w.console_move(&admin, id, &[("action", "accept")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            res.location(),
            Some(format!("/admin/incidents/{id}?done=accept").as_str())
        );
    }
    let page = w
        .get(&format!("/admin/incidents/{order}"), Some(&admin))
        .await;
    assert!(page.body.contains("value=\"department:property\""));
    let res = w
        .console_move(
            &admin,
            &order,
            &[("action", "dispatch"), ("target", "department:property")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let v = w.incident(&order).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["department"], "property");

    let wuye = w.sign_in(WUYE, PASSWORD).await;
    let board = w.get("/admin/board", Some(&wuye)).await;
    assert!(lists(&board.body, &order));
    assert!(!lists(&board.body, &other));
    let rows = w.get("/admin/board/rows", Some(&wuye)).await;
    assert!(lists(&rows.body, &order));
    assert!(!lists(&rows.body, &other));
    // Not his department's: as if it did not exist, and no move on it.
    let res = w
        .get(&format!("/admin/incidents/{other}"), Some(&wuye))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let before = w.written();
    let res = w.console_move(&wuye, &other, &[("action", "start")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(w.written(), before);

    let page = w
        .get(&format!("/admin/incidents/{order}"), Some(&wuye))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let moves = moves_of(&page.body);
    assert!(moves.contains(&"accept".to_owned()), "{moves:?}");
    assert!(moves.contains(&"return".to_owned()), "{moves:?}");
    assert!(!moves.contains(&"dispatch".to_owned()), "{moves:?}");
    // A handler has no admin pages.
    assert_eq!(
        w.get("/admin/people", Some(&wuye)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.get("/admin/report", Some(&wuye)).await.status,
        StatusCode::FORBIDDEN
    );

    let res = w.console_move(&wuye, &order, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let v = w.incident(&order).await;
    assert_eq!(
        v["status"], "dispatched",
        "a sign-for keeps the order dispatched"
    );
    let res = w
        .console_move(
            &wuye,
            &order,
            &[
                ("action", "return"),
                ("reason", "ownership"),
                ("note", "管道属市政，不归物业"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let v = w.incident(&order).await;
    assert_eq!(v["status"], "accepted", "a return goes back to accepted");
    assert_eq!(v["returns"], 1);
    assert_eq!(v["department"], serde_json::Value::Null);
    let page = w
        .get(&format!("/admin/incidents/{order}"), Some(&admin))
        .await;
    assert_eq!(status_of(&page.body), "accepted");
    assert_eq!(
        timeline_of(&page.body),
        ["accept", "dispatch", "accept", "return"]
    );
    assert!(page.body.contains("原因：权属不清"));
    assert!(page.body.contains("管道属市政，不归物业"));
    assert!(page.body.contains("物业小刘"));
    // Handed back, it is no longer his.
    let board = w.get("/admin/board", Some(&wuye)).await;
    assert!(!lists(&board.body, &order));
    assert_eq!(
        w.get(&format!("/admin/incidents/{order}"), Some(&wuye))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_order_dispatched_to_the_handler_himself_is_on_his_board() {
    let w = world();
    let order = w
        .phone_report(demo::UNIT_1_1, "leak_repair", "楼上漏水")
        .await;
    let admin = w.sign_in(ADMIN, PASSWORD).await;
    w.console_move(&admin, &order, &[("action", "accept")])
        .await;
    let page = w
        .get(&format!("/admin/incidents/{order}"), Some(&admin))
        .await;
    assert!(page.body.contains(&format!("value=\"user:{WUYE}\"")));
    let res = w
        .console_move(
            &admin,
            &order,
            &[("action", "dispatch"), ("target", &format!("user:{WUYE}"))],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(w.incident(&order).await["handler"], WUYE);

    let wuye = w.sign_in(WUYE, PASSWORD).await;
    // His incident page opens it and offers him its moves...
    let page = w
        .get(&format!("/admin/incidents/{order}"), Some(&wuye))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(moves_of(&page.body).contains(&"accept".to_owned()));
    // ...so his board, the page he works from, lists it too.
    let board = w.get("/admin/board", Some(&wuye)).await;
    assert!(lists(&board.body, &order), "{}", board.body);
    let rows = w.get("/admin/board/rows", Some(&wuye)).await;
    assert!(lists(&rows.body, &order));
}

#[tokio::test]
async fn a_handler_without_a_department_sees_no_orders_anywhere() {
    let w = world();
    w.user(
        "user-nodept",
        "无部门小张",
        linli_domain::protocol::Role::DepartmentHandler,
        demo::COMMUNITY,
        demo::COMMUNITY,
    );
    linli_sync_server::console::set_password(
        w.storage.as_ref(),
        "user-nodept",
        "no department password",
    )
    .unwrap();
    let dispute = w.phone_report(demo::UNIT_1_1, "dispute", "邻里纠纷").await;
    let noise = w.phone_report(demo::UNIT_1_2, "noise", "夜间噪音").await;
    let s = w.sign_in("user-nodept", "no department password").await;
    for path in ["/admin/board", "/admin/board/rows", "/admin/disputes"] {
        let page = w.get(path, Some(&s)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!lists(&page.body, &dispute), "{path}");
        assert!(!lists(&page.body, &noise), "{path}");
        assert!(!page.body.contains("邻里纠纷"), "{path}");
    }
    for id in [&dispute, &noise] {
        let res = w.get(&format!("/admin/incidents/{id}"), Some(&s)).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
}

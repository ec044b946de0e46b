//! Statistics (`/admin/stats`): the figures of the admin's scope only, SVG charts with the
//! counts, the three rates, the period's weeks; admins only; a bad period refused.

use axum::http::StatusCode;
use linli_testkit::demo;

use super::scope::{OTHER_ADMIN, OTHER_PASSWORD, street};
use super::*;

/// The `data-value` of the bar labelled `label` in the chart `id`.
fn bar(html: &str, id: &str, label: &str) -> Option<u32> {
    let chart = &html[html.find(&format!("<svg id=\"{id}\""))?..];
    let chart = &chart[..chart.find("</svg>")?];
    let marker = format!("data-label=\"{label}\" data-value=\"");
    let at = chart.find(&marker)? + marker.len();
    chart[at..at + chart[at..].find('"')?].parse().ok()
}

fn card(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"rate-{id}\""))
        .unwrap_or_else(|| panic!("{html}"));
    let rest = &html[at..];
    let v = rest.find("class=\"value\">").unwrap() + "class=\"value\">".len();
    rest[v..v + rest[v..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn figures_of_the_admins_scope() {
    let w = world();
    street(&w);
    let noise = w.phone_report(demo::BUILDING_1, "noise", "楼上噪音").await;
    let (status, v) = w
        .api(
            &w.phone(ADMIN),
            "POST",
            "/api/v1/incidents",
            Some(serde_json::json!({
                "category": "noise",
                "description": "广场舞噪音",
                "place_id": demo::BUILDING_9,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    w.phone_report(demo::BUILDING_1, "parking", "占用消防通道")
        .await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let res = w.console_move(&s, &noise, &[("action", "accept")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let page = w.get("/admin/stats", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let b = &page.body;
    assert!(b.contains("共 3 件"), "{b}");
    assert_eq!(bar(b, "by-category", "噪音扰民"), Some(2));
    assert_eq!(bar(b, "by-category", "违规停车"), Some(1));
    assert_eq!(bar(b, "by-status", "已受理"), Some(1));
    assert_eq!(bar(b, "by-status", "已上报"), Some(2));
    assert_eq!(bar(b, "by-grid", "第一网格"), Some(2));
    assert_eq!(bar(b, "by-grid", "第二网格"), Some(1));
    // Accepted at once: on time; the two others are not decided yet.
    assert_eq!(card(b, "response"), "100.0%");
    assert_eq!(card(b, "resolution"), "0.0%");
    assert_eq!(card(b, "satisfaction"), "—");
    for chart in ["visits-chart", "incidents-chart", "disputes-chart"] {
        assert!(b.contains(&format!("<svg id=\"{chart}\"")), "{chart}");
    }
    // Twelve weeks by default, each figure with its ledger.
    assert_eq!(b.matches("<th>").count(), 12 + 2);
    assert!(b.contains("name=\"kind\" value=\"visits\""));
    assert!(b.contains("name=\"kind\" value=\"disputes\""));

    // Three weeks later the unaccepted ones missed their response target.
    w.set_clock(w.now() + 21 * 24 * HOUR);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let later = w.get("/admin/stats?weeks=4", Some(&s)).await;
    assert_eq!(card(&later.body, "response"), "33.3%");
    assert_eq!(later.body.matches("<th>").count(), 4 + 2);

    // Another community's admin sees none of it.
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let theirs = w.get("/admin/stats", Some(&other)).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("共 0 件"));
    assert_eq!(bar(&theirs.body, "by-category", "噪音扰民"), None);
}

#[tokio::test]
async fn admins_only_and_a_bad_period_is_refused() {
    let w = world();
    assert!(w.get("/admin/stats", None).await.to_login());
    let h = w.sign_in(WUYE, PASSWORD).await;
    assert_eq!(
        w.get("/admin/stats", Some(&h)).await.status,
        StatusCode::FORBIDDEN
    );
    let s = w.sign_in(ADMIN, PASSWORD).await;
    for bad in ["0", "53", "x"] {
        let res = w.get(&format!("/admin/stats?weeks={bad}"), Some(&s)).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            error_of(&res.body).as_deref(),
            Some("周数须在 1 到 52 之间。")
        );
    }
}

//! Ledgers (`/admin/ledgers`): the CSV's BOM, columns and formula escaping, the XLSX's
//! string cells and frozen header (read back with the zip crate), masking for street admins,
//! bad input refused with nothing logged, and the export log.

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli_sync_server::RegisterStorage;
use linli_sync_server::ledger::HOUSEHOLD_COLUMNS;
use linli_testkit::demo;
use tower::ServiceExt;

use super::register::{ID_NUMBER, PHONE, push_household, unit_1_1, zhang};
use super::scope::{STREET_ADMIN, STREET_PASSWORD, street};
use super::*;

/// Posts the export form; the status, headers and the body's raw bytes.
async fn export(
    w: &World,
    s: &Session,
    fields: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut all = vec![("csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    let req = Request::post("/admin/ledgers/export")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, s.cookie())
        .body(Body::from(form(&all)))
        .unwrap();
    let res = w.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

/// 张秀英's household, one whose member is named `=王` with a phone `+86…`, and one with
/// no members.
fn three(w: &World) {
    zhang(w);
    let li = w.phone(demo::USER_LI_MEI);
    push_household(
        w,
        &li,
        "hh-eq",
        &unit_1_1("502"),
        &[("=王", Some("+8613812345678"), None)],
    );
    push_household(w, &li, "hh-empty", &unit_1_1("601"), &[]);
}

fn exports(w: &World) -> usize {
    w.storage
        .exports(&[demo::COMMUNITY.into()], 100)
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_csv_ledger_has_a_bom_its_columns_and_escaped_formulas() {
    let w = world();
    three(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/ledgers", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("户籍台账"));

    let (status, headers, bytes) =
        export(&w, &s, &[("kind", "households"), ("format", "csv")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"ledger-households-"));
    assert!(
        disposition.contains("filename*=UTF-8''%E6%88%B7%E7%B1%8D"),
        "{disposition}"
    );
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], HOUSEHOLD_COLUMNS.join(","));
    assert_eq!(
        lines.len(),
        1 + 4,
        "a row per member, one for the empty household"
    );
    assert!(text.contains(",\"'=王\","), "{text}");
    assert!(text.contains(",\"'+8613812345678\","));
    assert!(
        text.contains(ID_NUMBER),
        "a community admin's ledger is in full"
    );
    assert!(text.contains(PHONE));
    let empty = lines.iter().find(|l| l.contains("hh-empty")).unwrap();
    assert!(empty.ends_with(",,,,,,,,"), "blank member columns: {empty}");
    assert!(lines.iter().any(|l| l.contains("幸福社区,第一网格,hh-zhang,安置小区1栋,1单元,301,常住,租住,残疾、退役军人,备注一,张秀英,户主,1960")), "{text}");

    let log = w.storage.exports(&[demo::COMMUNITY.into()], 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].ledger.as_str(), log[0].format.as_str(), log[0].rows),
        ("households", "csv", 4)
    );
    assert_eq!(log[0].user_id, ADMIN);
}

#[tokio::test]
async fn an_xlsx_ledger_holds_strings_under_a_frozen_header() {
    let w = world();
    three(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let (status, headers, bytes) =
        export(&w, &s, &[("kind", "households"), ("format", "xlsx")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(sheet.contains("ySplit=\"1\""), "the header row is frozen");
    assert!(sheet.contains("身份证号") && sheet.contains("张秀英"));
    assert!(sheet.contains(&format!(">{ID_NUMBER}<")));
    // Every cell is a string: none is a bare number.
    let cells = sheet.matches("<c ").count();
    let strings = sheet.matches("t=\"inlineStr\"").count() + sheet.matches("t=\"s\"").count();
    assert!(cells > 18 + 3 * 10, "{cells}");
    assert_eq!(cells, strings, "{sheet}");
    assert_eq!(exports(&w), 1);
}

#[tokio::test]
async fn a_street_admins_ledger_is_masked() {
    let w = world();
    street(&w);
    three(&w);
    let s = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let (status, _, bytes) = export(&w, &s, &[("kind", "households"), ("format", "csv")]).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("张秀英"));
    assert!(!text.contains(ID_NUMBER));
    assert!(text.contains("110105********002X"));
    assert!(!text.contains(PHONE));
    assert!(!text.contains("残疾"));
}

#[tokio::test]
async fn bad_exports_are_refused_and_not_logged() {
    let w = world();
    three(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    for (fields, status) in [
        (
            vec![("kind", "nope"), ("format", "csv")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("kind", "households"), ("format", "pdf")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("kind", "visits"), ("format", "csv"), ("category", "noise")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![
                ("kind", "visits"),
                ("format", "csv"),
                ("period", "custom"),
                ("from", "2026-13-01"),
                ("to", "x"),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![
                ("kind", "households"),
                ("format", "csv"),
                ("place", "g-nowhere"),
            ],
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, _, body) = export(&w, &s, &fields).await;
        assert_eq!(got, status, "{fields:?}");
        let body = String::from_utf8(body).unwrap();
        assert!(!body.contains("张秀英"));
    }
    // A forged form: refused.
    let forged = Session {
        token: s.token.clone(),
        csrf: "forged".into(),
    };
    let (got, _, _) = export(&w, &forged, &[("kind", "households"), ("format", "csv")]).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    // A department handler has no ledgers.
    let h = w.sign_in(WUYE, PASSWORD).await;
    let (got, _, _) = export(&w, &h, &[("kind", "households"), ("format", "csv")]).await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    assert_eq!(
        w.get("/admin/ledgers", Some(&h)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(exports(&w), 0);
}

#[tokio::test]
async fn every_ledger_exports_with_its_filters() {
    let w = world();
    three(&w);
    w.phone_report(demo::UNIT_1_1, "dispute", "楼上楼下噪音纠纷")
        .await;
    w.phone_report(demo::UNIT_1_1, "noise", "夜间施工").await;
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let lines = |bytes: Vec<u8>| -> Vec<String> {
        String::from_utf8(bytes[3..].to_vec())
            .unwrap()
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (_, _, b) = export(&w, &s, &[("kind", "incidents"), ("format", "csv")]).await;
    let all = lines(b);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all[0].starts_with("事件编号,社区,网格"));
    let (_, _, b) = export(&w, &s, &[("kind", "disputes"), ("format", "csv")]).await;
    let disputes = lines(b);
    assert_eq!(disputes.len(), 2);
    assert!(disputes[1].contains("楼上楼下噪音纠纷") && disputes[1].contains("未化解"));
    let (_, _, b) = export(
        &w,
        &s,
        &[
            ("kind", "incidents"),
            ("format", "csv"),
            ("category", "noise"),
        ],
    )
    .await;
    assert_eq!(lines(b).len(), 2);
    // This week (Asia/Shanghai, from Monday) holds them; a day in 2020 does not.
    let (_, _, b) = export(
        &w,
        &s,
        &[
            ("kind", "incidents"),
            ("format", "csv"),
            ("period", "this_week"),
        ],
    )
    .await;
    assert_eq!(lines(b).len(), 3);
    let (_, _, b) = export(
        &w,
        &s,
        &[
            ("kind", "incidents"),
            ("format", "csv"),
            ("period", "custom"),
            ("from", "2020-01-01"),
            ("to", "2020-01-31"),
        ],
    )
    .await;
    assert_eq!(lines(b).len(), 1, "the header alone");
    for kind in ["visits", "needs"] {
        let (status, _, b) = export(&w, &s, &[("kind", kind), ("format", "xlsx")]).await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert!(b.starts_with(b"PK"));
    }
    assert_eq!(exports(&w), 7);
}

/// The CSV ledger's rows without the 户编号 column (ids differ between databases), sorted.
fn register_of(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows: Vec<String> = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(2);
            cells.join(",")
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn an_exported_ledger_imports_into_a_fresh_community_as_the_same_register() {
    let w = world();
    zhang(&w);
    push_household(
        &w,
        &w.phone(demo::USER_LI_MEI),
        "hh-eq",
        &unit_1_1("502"),
        &[("=王", Some("+8613812345678"), None)],
    );
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let (_, _, exported) = export(&w, &s, &[("kind", "households"), ("format", "csv")]).await;

    // A fresh server with the same place tree, no households: the import writes them.
    let fresh = world();
    let f = fresh.sign_in(ADMIN, PASSWORD).await;
    let job = super::import::uploaded(&fresh, &f, &exported).await;
    let report = fresh.get(&job, Some(&f)).await;
    assert_eq!(report.status, StatusCode::OK);
    let done = super::import::confirmed(&fresh, &f, &job).await;
    assert!(done.contains("data-state=\"done\""), "{done}");
    let (_, _, again) = export(&fresh, &f, &[("kind", "households"), ("format", "csv")]).await;
    let (before, after) = (register_of(&exported), register_of(&again));
    assert_eq!(before, after);
    assert!(
        after
            .iter()
            .any(|r| r.contains("\"'=王\",") && r.contains("\"'+8613812345678\""))
    );
    assert!(after.iter().any(|r| r.contains(ID_NUMBER)));
}

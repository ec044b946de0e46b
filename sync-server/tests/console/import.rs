//! Roster import through the console: the upload's dry run writes nothing and lists every
//! row's problem; confirming writes server-authored households (the history names the
//! admin); the same file again creates and changes nothing; CSRF on both forms; only
//! admins, only their uploads, only buildings of their communities; the caps.

use automerge::AutoCommit;
use axum::http::StatusCode;
use linli_domain::PlaceKind;
use linli_sync_server::admin;
use linli_testkit::demo;

use super::scope::{OTHER, OTHER_ADMIN, OTHER_GRID, OTHER_PASSWORD, street};
use super::*;

const HEADER: &str =
    "楼栋,单元,房号,居住类型,住房,标签,备注,姓名,关系,出生年,性别,户籍状态,电话,身份证号";
/// Two households, three members; a name that starts with `=` and a `+86` phone, escaped
/// as the CSV export escapes them.
const ROSTER: &str = "安置小区1栋,1单元,101,常住,自有,空巢/独居老人,,张桂兰,户主,1942,女,户籍,'+8613812345678,511502194203150025\n\
                      安置小区1栋,1单元,101,,,,,'=王小明,孙辈,2015,男,户籍,,\n\
                      桂花苑9栋,2单元,502,流动,租住,,租户,刘强,户主,1988,男,流动,13912345678,\n";

pub fn roster() -> String {
    format!("\u{feff}{HEADER}\n{ROSTER}")
}

const BOUNDARY: &str = "----linli-test-boundary";

/// A multipart body with the CSRF field and a file.
pub fn multipart(csrf: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn upload(w: &World, s: &Session, csrf: &str, bytes: &[u8]) -> Resp {
    w.post_raw(
        "/admin/import",
        Some(&s.cookie()),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(csrf, "roster.csv", bytes),
    )
    .await
}

/// Uploads a file (it must be accepted); the job's report page path.
pub async fn uploaded(w: &World, s: &Session, bytes: &[u8]) -> String {
    let res = upload(w, s, &s.csrf, bytes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location().unwrap().to_owned()
}

/// Confirms an import and waits for it to end; the final progress fragment.
pub async fn confirmed(w: &World, s: &Session, job: &str) -> String {
    let res = w
        .post(&format!("{job}/confirm"), Some(s), &[("csrf", &s.csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    for _ in 0..1000 {
        let p = w.get(&format!("{job}/progress"), Some(s)).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        if !p.body.contains("data-state=\"running\"") {
            return p.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the import did not end");
}

fn changes(w: &World) -> i64 {
    w.db()
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn dry_run_writes_nothing_then_the_import_writes_once() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/import", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    let before = w.written();
    let (docs, logged) = (w.documents(), changes(&w));

    let job = uploaded(&w, &s, roster().as_bytes()).await;
    let report = w.get(&job, Some(&s)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(
        report
            .body
            .contains("共 3 行。将新建 2 户、3 人；更新 0 户、0 人"),
        "{}",
        report.body
    );
    assert!(report.body.contains("id=\"confirm-import\""));
    assert_eq!(w.written(), before, "the dry run wrote something");

    let done = confirmed(&w, &s, &job).await;
    assert!(done.contains("导入完成"), "{done}");
    assert!(done.contains("新建 2 户、3 人"), "{done}");
    assert_eq!(w.documents(), docs + 2);
    assert_eq!(changes(&w), logged + 2);

    // The households as stored: written by the server for the admin, values intact.
    let all: Vec<(String, Vec<u8>)> = {
        let db = w.db();
        let mut q = db
            .prepare("SELECT doc_id, snapshot FROM documents WHERE kind = 'household'")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut found = 0;
    for (_, bytes) in all {
        let mut d = AutoCommit::load(&bytes).unwrap();
        let h = linli_domain::doc::read_household_head(&d).unwrap();
        if h.address.room == "101" && h.address.unit_id.as_deref() == Some(demo::UNIT_1_1) {
            found += 1;
            let names: Vec<&str> = h.members.iter().map(|m| m.name.as_str()).collect();
            assert!(names.contains(&"=王小明"), "{names:?}");
            let head = h.members.iter().find(|m| m.name == "张桂兰").unwrap();
            assert_eq!(head.phone.as_deref(), Some("+8613812345678"));
            assert_eq!(head.id_number.as_deref(), Some("511502194203150025"));
            assert_eq!(head.gender, Some(linli_domain::Gender::Female));
            assert_eq!(h.address.grid_id, demo::GRID_1);
            let messages: Vec<String> = d
                .get_changes(&[])
                .iter()
                .filter_map(|c| c.message().map(str::to_owned))
                .collect();
            assert!(
                messages
                    .iter()
                    .all(|m| m.contains("\"u\":\"user-admin\"") && m.contains("household.import")),
                "{messages:?}"
            );
        }
    }
    assert_eq!(found, 1);

    // A second confirmation of the same upload runs nothing.
    let again = w
        .post(&format!("{job}/confirm"), Some(&s), &[("csrf", &s.csrf)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(changes(&w), logged + 2);

    // The same file again: nothing to create or change, and nothing written.
    let job2 = uploaded(&w, &s, roster().as_bytes()).await;
    let report = w.get(&job2, Some(&s)).await;
    assert!(
        report
            .body
            .contains("将新建 0 户、0 人；更新 0 户、0 人；无变化 2 户、3 人"),
        "{}",
        report.body
    );
    let done = confirmed(&w, &s, &job2).await;
    assert!(done.contains("新建 0 户、0 人"), "{done}");
    assert_eq!(w.documents(), docs + 2);
    assert_eq!(changes(&w), logged + 2);

    // A changed phone is one change to one household.
    let changed = roster().replace("13912345678", "13900000000");
    let job3 = uploaded(&w, &s, changed.as_bytes()).await;
    let report = w.get(&job3, Some(&s)).await;
    assert!(report.body.contains("更新 1 户、1 人"), "{}", report.body);
    confirmed(&w, &s, &job3).await;
    assert_eq!(w.documents(), docs + 2);
    assert_eq!(changes(&w), logged + 3);
}

#[tokio::test]
async fn every_rows_problem_is_listed_and_nothing_is_imported() {
    let w = world();
    street(&w);
    admin::create_place(
        w.storage.as_ref(),
        &linli_domain::Place {
            id: "b-other".into(),
            kind: PlaceKind::Building,
            parent_id: Some(OTHER_GRID.into()),
            name: "和平1栋".into(),
        },
    )
    .unwrap();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let file = format!(
        "{HEADER}\n\
         安置小区1栋,1单元,101,常住,自有,,,张三,户主,,,,,110105194912310021\n\
         不存在的楼,,101,常住,自有,,,李四,户主,,,,,\n\
         和平1栋,,101,常住,自有,,,王五,户主,,,,,\n\
         安置小区2栋,,201,常住,自有,,,赵六,户主,,,,,11010519491231002X\n\
         安置小区2栋,,202,常住,自有,,,钱七,户主,,,,,11010519491231002X\n\
         安置小区2栋,,203,常住,自有,,=SUM(A1),孙八,户主,,,,,\n"
    );
    let before = w.written();
    let job = uploaded(&w, &s, file.as_bytes()).await;
    let report = w.get(&job, Some(&s)).await;
    assert_eq!(report.status, StatusCode::OK);
    let b = &report.body;
    assert!(b.contains("发现 5 处问题"), "{b}");
    for (line, text) in [
        (2, "校验位错误"),
        (3, "楼栋不存在"),
        (4, "楼栋不存在"),
        (6, "与第 5 行重复"),
        (7, "单元格含公式"),
    ] {
        let row = format!("<tr data-line=\"{line}\">");
        let at = b.find(&row).unwrap_or_else(|| panic!("no row {line}: {b}"));
        assert!(
            b[at..].split("</tr>").next().unwrap().contains(text),
            "{line} {b}"
        );
    }
    assert!(!b.contains("id=\"confirm-import\""));
    // No resident's name in a problem.
    assert!(!b.contains("张三") && !b.contains("钱七"));
    // Confirming anyway imports nothing.
    let done = confirmed(&w, &s, &job).await;
    assert!(done.contains("未导入任何数据"), "{done}");
    assert_eq!(w.written(), before);

    // The other community's admin sees their own building, not this upload.
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    assert_eq!(
        w.get(&job, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    let res = w
        .post(
            &format!("{job}/confirm"),
            Some(&other),
            &[("csrf", &other.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let _ = OTHER;
}

#[tokio::test]
async fn forms_need_the_token_and_an_admin() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let before = w.written();
    let res = upload(&w, &s, "forged", roster().as_bytes()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let job = uploaded(&w, &s, roster().as_bytes()).await;
    let res = w
        .post(&format!("{job}/confirm"), Some(&s), &[("csrf", "forged")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = w.post(&format!("{job}/confirm"), Some(&s), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(w.written(), before);
    // Signed out: to the sign-in page.
    assert!(w.get("/admin/import", None).await.to_login());
    // A department handler may not import.
    let h = w.sign_in(WUYE, PASSWORD).await;
    assert_eq!(
        w.get("/admin/import", Some(&h)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&w, &h, &h.csrf, roster().as_bytes()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(w.get(&job, Some(&h)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn files_over_the_caps_are_refused_with_a_message() {
    let w = world();
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let before = w.written();
    let mut rows = format!("{HEADER}\n");
    for i in 0..100_001 {
        rows.push_str(&format!("安置小区1栋,,{i},常住,自有,,,某,户主,,,,,\n"));
    }
    let job = uploaded(&w, &s, rows.as_bytes()).await;
    let report = w.get(&job, Some(&s)).await;
    assert_eq!(report.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&report.body).as_deref(),
        Some("文件超过 50000 行，请拆分后分批导入。")
    );
    let big = vec![b'a'; linli_sync_server::import::MAX_UPLOAD_BYTES + 1];
    let res = upload(&w, &s, &s.csrf, &big).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&res.body).unwrap().contains("文件超过 20 MB"));
    let res = upload(&w, &s, &s.csrf, b"\xff\xfe\x00garbage\xff").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let report = w.get(res.location().unwrap(), Some(&s)).await;
    assert_eq!(report.status, StatusCode::BAD_REQUEST);
    assert!(error_of(&report.body).unwrap().contains("无法识别文件编码"));
    assert_eq!(w.written(), before);
}

/// The household ledger exported as `format` (`csv` or `xlsx`).
async fn export(w: &World, s: &Session, format: &str) -> Vec<u8> {
    let req = axum::http::Request::post("/admin/ledgers/export")
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(axum::http::header::COOKIE, s.cookie())
        .body(axum::body::Body::from(form(&[
            ("csrf", s.csrf.as_str()),
            ("kind", "households"),
            ("format", format),
        ])))
        .unwrap();
    let res = tower::ServiceExt::oneshot(w.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

/// A ledger's rows as text, without the household ids (户编号), which differ between
/// servers; CSV escapes undone; sorted.
fn ledger_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use linli_sync_server::import::{roster, table};
    let t = table::read(bytes).unwrap();
    let skip = t.header.iter().position(|h| h == "户编号").unwrap();
    let mut rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| roster::unescape(&c.text).to_owned())
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn an_exported_ledger_imports_into_a_fresh_server_as_the_same_register() {
    for format in ["csv", "xlsx"] {
        let w = world();
        let li = w.phone(demo::USER_LI_MEI);
        super::register::zhang(&w);
        super::register::push_household(
            &w,
            &li,
            "hh-eq",
            &super::register::unit_1_1("502"),
            &[("=王", Some("+8613812345678"), None)],
        );
        super::register::push_household(
            &w,
            &li,
            "hh-empty",
            &super::register::unit_1_1("601"),
            &[],
        );
        let s = w.sign_in(ADMIN, PASSWORD).await;
        let job = uploaded(&w, &s, roster().as_bytes()).await;
        assert!(confirmed(&w, &s, &job).await.contains("导入完成"));
        let first = export(&w, &s, format).await;
        let rows = ledger_rows(&first);
        assert_eq!(rows.len(), 7, "{rows:?}");
        assert!(
            rows.iter()
                .any(|r| r.contains(&"=王".to_owned()) && r.contains(&"+8613812345678".to_owned()))
        );

        let fresh = world();
        let s2 = fresh.sign_in(ADMIN, PASSWORD).await;
        let job = uploaded(&fresh, &s2, &first).await;
        let report = fresh.get(&job, Some(&s2)).await;
        assert!(
            report.body.contains("将新建 5 户、6 人"),
            "{format}: {}",
            report.body
        );
        assert!(confirmed(&fresh, &s2, &job).await.contains("导入完成"));
        let second = export(&fresh, &s2, format).await;
        assert_eq!(ledger_rows(&second), rows, "{format}");

        // And once more: the same file changes nothing.
        let before = fresh.written();
        let job = uploaded(&fresh, &s2, &first).await;
        assert!(
            confirmed(&fresh, &s2, &job)
                .await
                .contains("新建 0 户、0 人")
        );
        assert_eq!(fresh.written(), before);
    }
}

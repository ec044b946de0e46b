//! Roster import end to end (issue 11): an admin signs in to the console of a real server
//! on loopback, uploads a roster, reads the dry run and confirms; the households are
//! written as server changes, and each grid worker's real store syncs and lists the
//! households of its own grid only, with the import in their history as the admin's. A
//! phone then edits an imported household and the server takes the edit.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use linli_core::protocol::Role;
use linli_core::{NewVisit, VisitPurpose};

const BOUNDARY: &str = "----linli-e2e-boundary";
const ROSTER: &str = "\u{feff}楼栋,单元,房号,居住类型,住房,标签,备注,姓名,关系,出生年,性别,户籍状态,电话,身份证号\n\
    安置小区1栋,1单元,101,常住,自有,空巢/独居老人,,张桂兰,户主,1942,女,户籍,'+8613812345678,11010519491231002X\n\
    安置小区1栋,1单元,101,,,,,'=王小明,孙辈,2015,男,户籍,,\n\
    安置小区2栋,,202,常住,安置房,,,陈建国,户主,1960,男,户籍,,\n\
    桂花苑9栋,2单元,502,流动,租住,,,刘强,户主,1988,男,流动,13912345678,\n";

/// The console as a browser uses it: its cookies by hand, no redirects followed.
struct Console {
    client: reqwest::Client,
    url: String,
    session: String,
    csrf: String,
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let rest = &html[html.find(marker).unwrap() + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn cookie(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

impl Console {
    async fn sign_in(url: &str, user: &str) -> Console {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let page = client
            .get(format!("{url}/admin/login"))
            .send()
            .await
            .unwrap();
        let login = cookie(&page, "linli_login");
        let csrf = csrf_of(&page.text().await.unwrap());
        let body = format!(
            "user={user}&password={}&csrf={csrf}",
            linli_testkit::DEMO_PASSWORD.replace(' ', "+")
        );
        let res = client
            .post(format!("{url}/admin/login"))
            .header("cookie", login)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let session = cookie(&res, "linli_session");
        let mut c = Console {
            client,
            url: url.to_owned(),
            session,
            csrf: String::new(),
        };
        c.csrf = csrf_of(&c.get("/admin/import").await.1);
        c
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.session)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Posts and returns the status and the redirect target.
    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.session)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let to = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status().as_u16(), to)
    }

    async fn upload(&self, bytes: &[u8]) -> String {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"花名册.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n",
            self.csrf
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let (status, to) = self
            .post(
                "/admin/import",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                body,
            )
            .await;
        assert_eq!(status, 303);
        to
    }

    async fn import(&self, job: &str) -> String {
        let (status, _) = self
            .post(
                &format!("{job}/confirm"),
                "application/x-www-form-urlencoded",
                format!("csrf={}", self.csrf).into_bytes(),
            )
            .await;
        assert_eq!(status, 303);
        for _ in 0..500 {
            let (status, body) = self.get(&format!("{job}/progress")).await;
            assert_eq!(status, 200, "{body}");
            if !body.contains("data-state=\"running\"") {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the import did not end");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_households_sync_to_the_grid_workers_phones() {
    let server = Server::start().await;
    linli_testkit::seed_console(server.storage.as_ref()).unwrap();
    let li = server.device(&server.person("imp-li", Role::GridWorker, &[GRID_1]));
    let wang = server.device(&server.person("imp-wang", Role::GridWorker, &[GRID_2]));
    li.synced().await;
    wang.synced().await;
    assert!(li.store.households_in(COMMUNITY).unwrap().is_empty());

    let console = Console::sign_in(&server.url, USER_ADMIN).await;
    let job = console.upload(ROSTER.as_bytes()).await;
    let (status, report) = console.get(&job).await;
    assert_eq!(status, 200);
    assert!(report.contains("将新建 3 户、4 人"), "{report}");
    let done = console.import(&job).await;
    assert!(done.contains("导入完成"), "{done}");

    // 李梅's grid holds 安置小区1栋 and 2栋; 王强's 桂花苑9栋.
    li.synced().await;
    wang.synced().await;
    let mine = li.store.households_in(COMMUNITY).unwrap();
    let mut rooms: Vec<&str> = mine.iter().map(|h| h.room.as_str()).collect();
    rooms.sort();
    assert_eq!(rooms, ["101", "202"]);
    let theirs = wang.store.households_in(COMMUNITY).unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].room, "502");
    assert_eq!(theirs[0].head_name.as_deref(), Some("刘强"));

    let flat = mine.iter().find(|h| h.room == "101").unwrap();
    let h = li.store.household(&flat.id).unwrap();
    assert_eq!(h.address.unit_id.as_deref(), Some(UNIT_1_1));
    assert_eq!(h.members.len(), 2);
    assert!(h.members.iter().any(|m| m.name == "=王小明"));
    assert!(
        h.members
            .iter()
            .any(|m| m.phone.as_deref() == Some("+8613812345678"))
    );
    let history = li.store.history(&flat.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].user_id, USER_ADMIN);
    assert_eq!(history[0].op, "household.import");

    // The phone works on the imported household like any other; the server takes it.
    li.store
        .record_visit(NewVisit {
            household_id: flat.id.clone(),
            at: None,
            purpose: VisitPurpose::Routine,
            needs: vec![],
            done_on_spot: String::new(),
            follow_up: false,
        })
        .unwrap();
    let report = li.synced().await;
    assert!(report.refused.is_empty(), "{report:?}");

    // The same roster again: nothing new reaches the phones.
    let job = console.upload(ROSTER.as_bytes()).await;
    let done = console.import(&job).await;
    assert!(done.contains("新建 0 户、0 人"), "{done}");
    wang.synced().await;
    assert_eq!(wang.store.households_in(COMMUNITY).unwrap().len(), 1);
    assert_eq!(li.store.households_in(COMMUNITY).unwrap().len(), 2);
    server.shutdown().await;
}

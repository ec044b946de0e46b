//! Merging duplicate households (`POST /admin/households/{id}/merge`): only a community admin
//! of the place, with the CSRF token, households at the same door; after it the register
//! lists one household with both members, the merged one's page says where it went, both
//! documents and their histories are kept, and one audit row is written.

use axum::http::StatusCode;
use linli_testkit::demo;

use super::register::{ID_NUMBER, PHONE, listed, push_household, unit_1_1, zhang};
use super::scope::{OTHER_ADMIN, OTHER_PASSWORD, street};
use super::*;

fn audit_rows(w: &World) -> Vec<(String, Option<String>)> {
    let db = w.db();
    let mut stmt = db
        .prepare("SELECT action, community_id FROM admin_actions ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn changes_of(w: &World, doc: &str) -> i64 {
    w.db()
        .query_row(
            "SELECT count(*) FROM changes WHERE doc_id = ?1",
            [doc],
            |r| r.get(0),
        )
        .unwrap()
}

/// 张秀英's household, a duplicate of it at the same door (李明 again, by ID number, and
/// 王芳), and a household next door.
fn duplicates(w: &World) {
    zhang(w);
    let phone = w.phone(demo::USER_LI_MEI);
    push_household(
        w,
        &phone,
        "hh-dup",
        &unit_1_1("301"),
        &[
            ("李 明", None, Some(ID_NUMBER)),
            ("王芳", Some("13900001111"), None),
        ],
    );
    push_household(
        w,
        &phone,
        "hh-next",
        &unit_1_1("302"),
        &[("赵六", None, None)],
    );
}

#[tokio::test]
async fn a_duplicate_household_is_merged_and_both_histories_kept() {
    let w = world();
    street(&w);
    duplicates(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The form offers the household at the same door, not the one next door.
    assert!(
        page.body
            .contains("action=\"/admin/households/hh-zhang/merge\"")
    );
    assert!(page.body.contains("value=\"hh-dup\""));
    assert!(!page.body.contains("value=\"hh-next\""));
    let before = (changes_of(&w, "hh-zhang"), changes_of(&w, "hh-dup"));
    let documents = w.documents();
    let path = "/admin/households/hh-zhang/merge";
    let ok = [
        ("csrf", s.csrf.as_str()),
        ("other", "hh-dup"),
        ("confirm", "1"),
    ];

    // Without the CSRF token: refused.
    let res = w
        .post(path, Some(&s), &[("other", "hh-dup"), ("confirm", "1")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Another community's admin: not found.
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    let res = w
        .post(
            path,
            Some(&other),
            &[("csrf", &other.csrf), ("other", "hh-dup"), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A household at another door, itself, an unknown one, or no confirmation: refused.
    for (other_id, confirm, status) in [
        ("hh-next", "1", StatusCode::BAD_REQUEST),
        ("hh-zhang", "1", StatusCode::BAD_REQUEST),
        ("hh-none", "1", StatusCode::NOT_FOUND),
        ("hh-dup", "", StatusCode::BAD_REQUEST),
    ] {
        let res = w
            .post(
                path,
                Some(&s),
                &[("csrf", &s.csrf), ("other", other_id), ("confirm", confirm)],
            )
            .await;
        assert_eq!(res.status, status, "{other_id}: {}", res.body);
    }
    assert!(audit_rows(&w).is_empty(), "a refused merge writes nothing");
    assert_eq!(
        (changes_of(&w, "hh-zhang"), changes_of(&w, "hh-dup")),
        before
    );
    let list = w.get("/admin/households", Some(&s)).await;
    assert_eq!(listed(&list.body), ["hh-dup", "hh-zhang", "hh-next"]);

    let res = w.post(path, Some(&s), &ok).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), Some("/admin/households/hh-zhang"));

    // The register lists one household at that door, with both households' members.
    let list = w.get("/admin/households", Some(&s)).await;
    assert_eq!(listed(&list.body), ["hh-zhang", "hh-next"]);
    let search = w
        .get(
            &format!("/admin/households?{}", form(&[("q", "王芳")])),
            Some(&s),
        )
        .await;
    assert_eq!(listed(&search.body), ["hh-zhang"]);
    let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert!(page.body.contains("张秀英") && page.body.contains("王芳"));
    assert!(page.body.contains(PHONE) && page.body.contains("13900001111"));
    assert_eq!(
        page.body.matches(ID_NUMBER).count(),
        1,
        "李明 is there once (same ID number)"
    );
    assert!(!page.body.contains("李 明"));
    assert!(page.body.contains("并入重复户"), "the kept history says so");
    assert!(!page.body.contains("id=\"merge\""), "nothing left to merge");

    // The merged household's page says where it went; its history is kept.
    let gone = w.get("/admin/households/hh-dup", Some(&s)).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert!(gone.body.contains("id=\"merged\""));
    assert!(gone.body.contains("href=\"/admin/households/hh-zhang\""));
    assert!(gone.body.contains("王芳") && gone.body.contains("建档"));
    assert!(gone.body.contains("合并至另一户"));
    assert_eq!(changes_of(&w, "hh-zhang"), before.0 + 1);
    assert_eq!(changes_of(&w, "hh-dup"), before.1 + 1);
    assert_eq!(w.documents(), documents, "nothing deleted");
    assert_eq!(
        audit_rows(&w),
        [(
            "merge_household".to_owned(),
            Some(demo::COMMUNITY.to_owned())
        )]
    );

    // Merging again (the merged one, either way) is refused.
    let res = w.post(path, Some(&s), &ok).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = w
        .post(
            "/admin/households/hh-dup/merge",
            Some(&s),
            &[("csrf", &s.csrf), ("other", "hh-zhang"), ("confirm", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(audit_rows(&w).len(), 1);
}

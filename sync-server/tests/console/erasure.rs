//! Erasing a household from the console (issue 12): the form is on a community admin's
//! household page, the post needs the CSRF token, a reason code and the confirmation; a
//! street admin, another community's admin, or a bad form change nothing. Every unmasked
//! view of a household page is an audit row, and no audit column holds a name or an ID
//! number.

use axum::http::StatusCode;
use linli_sync_server::erase::{AuditAction, EraseReason, PrivacyStorage};
use linli_testkit::demo;

use super::register::{ID_NUMBER, PHONE, zhang};
use super::scope::{OTHER_ADMIN, OTHER_PASSWORD, STREET_ADMIN, STREET_PASSWORD, street};
use super::*;

/// Every column of every audit row, as text.
fn audit_text(w: &World) -> String {
    let db = w.db();
    let mut stmt = db
        .prepare("SELECT at, user_id, action, doc_id, community_id, detail FROM audit_log")
        .unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{:?}|{}|{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

#[tokio::test]
async fn each_unmasked_view_is_an_audit_row_without_personal_data() {
    let w = world();
    street(&w);
    zhang(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    for n in 1..=2 {
        let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(ID_NUMBER));
        let rows = w
            .storage
            .privacy_audit(&[demo::COMMUNITY.into()], 10)
            .unwrap();
        assert_eq!(rows.len(), n, "a second view writes a second row");
        assert_eq!(rows[0].action, AuditAction::ViewSensitive);
        assert_eq!(rows[0].user_id, ADMIN);
        assert_eq!(rows[0].doc_id.as_deref(), Some("hh-zhang"));
    }
    // A street admin sees it masked: not an unmasked view.
    let st = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let page = w.get("/admin/households/hh-zhang", Some(&st)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("id=\"erase\""),
        "no erase form for a street admin"
    );
    assert_eq!(
        w.storage
            .privacy_audit(&[demo::COMMUNITY.into()], 10)
            .unwrap()
            .len(),
        2
    );
    let text = audit_text(&w);
    for personal in ["张秀英", "李明", ID_NUMBER, PHONE] {
        assert!(!text.contains(personal), "{personal} in the audit: {text}");
    }
    // The street admin reads them on the audit page.
    let audit = w.get("/admin/audit", Some(&st)).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert_eq!(
        audit.body.matches("data-action=\"view_sensitive\"").count(),
        2
    );
}

#[tokio::test]
async fn a_community_admin_erases_a_household_with_a_reason_and_confirmation() {
    let w = world();
    street(&w);
    zhang(&w);
    let s = w.sign_in(ADMIN, PASSWORD).await;
    let page = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert!(page.body.contains("id=\"erase\""));
    // Every reason the form offers is a code the server takes.
    for r in EraseReason::ALL {
        assert!(page.body.contains(&format!("value=\"{}\"", r.code())));
    }
    let path = "/admin/households/hh-zhang/erase";
    let ok = [
        ("csrf", s.csrf.as_str()),
        ("reason", "resident_request"),
        ("note", "本人来电申请"),
        ("confirm", "yes"),
    ];
    let documents = w.documents();

    // No CSRF token, a wrong one, no reason, an unknown reason, no confirmation, a long note:
    // refused, nothing erased.
    let long = "备".repeat(201);
    for (what, fields) in [
        ("no csrf", vec![ok[1], ok[2], ok[3]]),
        ("wrong csrf", vec![("csrf", "nope"), ok[1], ok[2], ok[3]]),
        ("no reason", vec![ok[0], ok[2], ok[3]]),
        ("bad reason", vec![ok[0], ("reason", "whim"), ok[2], ok[3]]),
        ("no confirm", vec![ok[0], ok[1], ok[2]]),
        (
            "long note",
            vec![ok[0], ok[1], ("note", long.as_str()), ok[3]],
        ),
    ] {
        let res = w.post(path, Some(&s), &fields).await;
        assert!(res.status.is_client_error(), "{what}: {}", res.status);
        assert_eq!(w.documents(), documents, "{what}");
    }
    // A street admin and another community's admin may not.
    let st = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let mut theirs = ok.to_vec();
    theirs[0] = ("csrf", st.csrf.as_str());
    let res = w.post(path, Some(&st), &theirs).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let other = w.sign_in(OTHER_ADMIN, OTHER_PASSWORD).await;
    theirs[0] = ("csrf", other.csrf.as_str());
    let res = w.post(path, Some(&other), &theirs).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(w.documents(), documents);
    assert!(w.storage.tombstone("hh-zhang").unwrap().is_none());

    let res = w.post(path, Some(&s), &ok).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(w.documents(), documents - 1);
    let t = w.storage.tombstone("hh-zhang").unwrap().unwrap();
    assert_eq!(t.reason, EraseReason::ResidentRequest);
    assert_eq!(t.erased_by, ADMIN);
    let gone = w.get("/admin/households/hh-zhang", Some(&s)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let list = w.get("/admin/households?q=zxy", Some(&s)).await;
    assert!(!list.body.contains("张秀英"));
    // Erased once: a second post finds nothing.
    let res = w.post(path, Some(&s), &ok).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // The audit holds the erasure, with the reason code and the note, and no name.
    let rows = w
        .storage
        .privacy_audit(&[demo::COMMUNITY.into()], 10)
        .unwrap();
    assert_eq!(rows[0].action, AuditAction::Erase);
    assert_eq!(rows[0].detail, "resident_request: 本人来电申请");
    let st = w.sign_in(STREET_ADMIN, STREET_PASSWORD).await;
    let audit = w.get("/admin/audit", Some(&st)).await;
    assert!(audit.body.contains("data-action=\"erase\""));
    assert!(audit.body.contains("本人申请删除：本人来电申请"));
    let text = audit_text(&w);
    for personal in ["张秀英", "李明", ID_NUMBER, PHONE] {
        assert!(!text.contains(personal), "{personal} in the audit: {text}");
    }
}

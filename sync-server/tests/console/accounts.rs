//! Accounts: invitation links (single use, 24 h), resets, and one's own password.

use axum::http::StatusCode;
use linli_sync_server::AccountStorage;

use super::*;

const INVALID_LINK: &str = "邀请链接无效或已过期，请联系管理员重新发送。";

/// The invitation link a people page shows (`/admin/invitations/<64 hex>`).
pub fn link_of(html: &str) -> String {
    let m = "/admin/invitations/";
    let at = html
        .find(m)
        .unwrap_or_else(|| panic!("no invitation link in {html}"));
    let token = &html[at + m.len()..at + m.len() + 64];
    assert!(
        token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token} is not 64 hex"
    );
    assert!(!html[at + m.len() + 64..].starts_with(|c: char| c.is_ascii_hexdigit()));
    format!("{m}{token}")
}

async fn invite(w: &World, s: &Session, user: &str) -> String {
    let res = w
        .post(
            &format!("/admin/people/{user}/invite"),
            Some(s),
            &[("csrf", &s.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    link_of(&res.body)
}

async fn set_by_link(w: &World, link: &str, new: &str, confirm: &str) -> Resp {
    w.post(link, None, &[("new", new), ("confirm", confirm)])
        .await
}

#[tokio::test]
async fn an_invitation_sets_a_password_once() {
    let w = world();
    let wuye = w.sign_in(WUYE, PASSWORD).await;
    let admin = w.sign_in(ADMIN, PASSWORD).await;
    let link = invite(&w, &admin, WUYE).await;
    // Only the hash of the link's token is stored.
    let token = link.rsplit('/').next().unwrap();
    let stored: Vec<u8> = w
        .db()
        .query_row("SELECT token_hash FROM invitations", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token.as_bytes());

    // A reset: the old password and the sessions end at once.
    assert!(!w.opens_board(&wuye).await);
    assert_eq!(
        w.try_sign_in(WUYE, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let people = w.get("/admin/people", Some(&admin)).await;
    assert!(people.body.contains("未设置密码"));

    // The link needs no session.
    let page = w.get(&link, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("物业小刘"));
    assert!(page.body.contains(&format!("action=\"{link}\"")));

    // Too short, or not confirmed: refused with the reason, and the link still works.
    for (new, confirm, message) in [
        ("short", "short", "新密码至少10个字符"),
        ("long enough 1", "long enough 2", "两次输入的新密码不一致"),
        ("          ", "          ", "新密码不能全是空格"),
    ] {
        let before = w.written();
        let res = set_by_link(&w, &link, new, confirm).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert_eq!(error_of(&res.body).as_deref(), Some(message));
        assert_eq!(w.written(), before);
        assert_eq!(w.get(&link, None).await.status, StatusCode::OK);
    }
    let res = set_by_link(
        &w,
        &link,
        "物业小刘的新密码是这个",
        "物业小刘的新密码是这个",
    )
    .await;
    assert!(res.to_login(), "{} {}", res.status, res.body);
    w.sign_in(WUYE, "物业小刘的新密码是这个").await;
    assert_eq!(
        w.try_sign_in(WUYE, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Used up.
    let page = w.get(&link, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains(INVALID_LINK));
    let before = w.written();
    let res = set_by_link(&w, &link, "yet another password", "yet another password").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(INVALID_LINK));
    assert_eq!(w.written(), before);
    w.sign_in(WUYE, "物业小刘的新密码是这个").await;

    // A token that is not one, and a made-up one.
    assert_eq!(
        w.get("/admin/invitations/abc", None).await.status,
        StatusCode::NOT_FOUND
    );
    let made_up = format!("/admin/invitations/{}", "a".repeat(64));
    assert_eq!(w.get(&made_up, None).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_invitation_ends_after_a_day() {
    let w = world();
    let admin = w.sign_in(ADMIN, PASSWORD).await;
    let link = invite(&w, &admin, WUYE).await;
    w.set_clock(T0 + 24 * HOUR - 1);
    assert_eq!(w.get(&link, None).await.status, StatusCode::OK);
    w.set_clock(T0 + 24 * HOUR);
    let page = w.get(&link, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains(INVALID_LINK));
    let before = w.written();
    let res = set_by_link(&w, &link, "a late password", "a late password").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains(INVALID_LINK));
    assert_eq!(w.written(), before);
    assert_eq!(
        w.try_sign_in(WUYE, "a late password").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changing_ones_password_ends_every_session() {
    let w = world();
    let s = w.sign_in(WUYE, PASSWORD).await;
    let elsewhere = w.sign_in(WUYE, PASSWORD).await;
    let page = w.get("/admin/account", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.csrf(), s.csrf);

    let before = w.written();
    let res = w
        .post(
            "/admin/account",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("current", "not my password"),
                ("new", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&res.body).as_deref(), Some("当前密码不正确。"));
    let res = w
        .post(
            "/admin/account",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&res.body).as_deref(), Some("新密码至少10个字符"));
    assert_eq!(w.written(), before);
    assert!(w.opens_board(&s).await);

    let res = w
        .post(
            "/admin/account",
            Some(&s),
            &[
                ("csrf", &s.csrf),
                ("current", PASSWORD),
                ("new", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    assert!(res.to_login(), "{} {}", res.status, res.body);
    assert!(!w.opens_board(&s).await);
    assert!(!w.opens_board(&elsewhere).await);
    assert_eq!(
        w.try_sign_in(WUYE, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    w.sign_in(WUYE, "a brand new password").await;
    let a = w.storage.account(WUYE).unwrap().unwrap();
    assert!(a.password_hash.unwrap().starts_with("$argon2id$"));
}

#[tokio::test]
#[ignore = "bug: an unused invitation stays valid after the password is set by a newer \
            link (or changed), so a stray link can still take the account over for 24 h; \
            the fix belongs in AccountStorage (void a user's other invitations when one is \
            used or the password is set)"]
async fn a_password_set_by_a_newer_link_voids_the_older_links() {
    let w = world();
    let admin = w.sign_in(ADMIN, PASSWORD).await;
    // The first link went astray; the admin sends another, which the user uses.
    let astray = invite(&w, &admin, WUYE).await;
    let link = invite(&w, &admin, WUYE).await;
    assert_ne!(astray, link);
    let res = set_by_link(
        &w,
        &link,
        "物业小刘的新密码是这个",
        "物业小刘的新密码是这个",
    )
    .await;
    assert!(res.to_login());
    // Whoever holds the stray link must not be able to set the password now.
    let before = w.written();
    let res = set_by_link(&w, &astray, "a takeover password", "a takeover password").await;
    assert_eq!(
        res.status,
        StatusCode::BAD_REQUEST,
        "the stray link still worked"
    );
    assert_eq!(w.written(), before);
    w.sign_in(WUYE, "物业小刘的新密码是这个").await;
}

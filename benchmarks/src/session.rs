//! The admin console as a browser uses it: the sign-in page (its CSRF token and double-submit
//! cookie), the sign-in form, then pages and forms with the session cookie. Redirects are
//! not followed, so a form's answer (303 and where to) is seen as the browser sees it.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use tokio::runtime::Runtime;

use crate::{Res, fail};

/// A signed-in console session.
pub struct Session {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

fn encode(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap_or_default()
}

/// The value of the hidden `csrf` input of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

fn cookie_of(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

impl Session {
    /// Signs in at `base` (e.g. `http://127.0.0.1:PORT`) as `user`.
    pub fn sign_in(rt: &Runtime, base: &str, user: &str, password: &str) -> Res<Session> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        rt.block_on(async {
            let page = client.get(format!("{base}/admin/login")).send().await?;
            let Some(login) = cookie_of(&page, "linli_login") else {
                return fail("the sign-in page set no login cookie");
            };
            let Some(token) = csrf_of(&page.text().await?) else {
                return fail("the sign-in page has no csrf field");
            };
            let answer = client
                .post(format!("{base}/admin/login"))
                .header(COOKIE, format!("linli_login={login}"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encode(&[
                    ("user", user),
                    ("password", password),
                    ("csrf", &token),
                ]))
                .send()
                .await?;
            let Some(session) = cookie_of(&answer, "linli_session") else {
                return fail(format!("sign-in refused: {}", answer.status()));
            };
            let cookie = format!("linli_session={session}");
            let account = client
                .get(format!("{base}/admin/account"))
                .header(COOKIE, &cookie)
                .send()
                .await?
                .text()
                .await?;
            let Some(csrf) = csrf_of(&account) else {
                return fail("a signed-in page has no csrf field");
            };
            Ok(Session {
                client,
                base: base.to_owned(),
                cookie,
                csrf,
            })
        })
    }

    /// A page's HTML; fails unless it answers 200.
    pub async fn get(&self, path: &str) -> Res<String> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await?;
        if r.status() != reqwest::StatusCode::OK {
            return fail(format!("GET {path} answered {}", r.status()));
        }
        Ok(r.text().await?)
    }

    /// Posts a form (the session's CSRF token added); the status and where it redirects.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Res<(u16, Option<String>)> {
        let mut all = fields.to_vec();
        all.push(("csrf", &self.csrf));
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode(&all))
            .send()
            .await?;
        let location = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((r.status().as_u16(), location))
    }

    /// Posts a form (the session's CSRF token added) and reads the answer as it streams,
    /// keeping only its length: (status, bytes, the first bytes).
    pub async fn download(&self, path: &str, fields: &[(&str, &str)]) -> Res<(u16, u64, Vec<u8>)> {
        let mut all = fields.to_vec();
        all.push(("csrf", &self.csrf));
        let mut r = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode(&all))
            .send()
            .await?;
        let status = r.status().as_u16();
        let mut total = 0u64;
        let mut head = Vec::new();
        while let Some(chunk) = r.chunk().await? {
            if head.len() < 64 {
                head.extend_from_slice(&chunk[..chunk.len().min(64)]);
            }
            total += chunk.len() as u64;
        }
        Ok((status, total, head))
    }
}

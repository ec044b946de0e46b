//! Enrolment by QR code: the console shows `linli://enrol?server=<url>&code=<code>`; the
//! app reads it ([`parse_enrol_link`], typed errors for a bad link) and exchanges the
//! single-use code for its device token ([`enrol`], `POST /v1/enrol` over the core's HTTP
//! client), so nobody types a 64-character token. The token is then the app's to keep (the
//! platform's secure storage), with the device id it opens its store under.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::http;
use crate::{Reason, Role};

/// What a QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolLink {
    /// The server's base URL (`http` or `https`, no path beyond `/`).
    pub server_url: String,
    /// The single-use code: 32 lowercase hex characters.
    pub code: String,
}

/// What the server gave the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub server_url: String,
    pub device_id: String,
    pub token: String,
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
}

fn bad(field: &'static str) -> Error {
    Error::InvalidInput {
        field,
        reason: Reason::BadFormat,
    }
}

fn is_code(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads an enrolment link. A text that is not a `linli://enrol` link is a bad `link`; a
/// missing or malformed server address a bad `server`; a missing or malformed code a bad
/// `code` (`required` when absent).
pub fn parse_enrol_link(text: &str) -> Result<EnrolLink> {
    let text = text.trim();
    if text.len() > 2048 {
        return Err(Error::InvalidInput {
            field: "link",
            reason: Reason::TooLong,
        });
    }
    let url = reqwest::Url::parse(text).map_err(|_| bad("link"))?;
    if url.scheme() != "linli" || url.host_str() != Some("enrol") {
        return Err(bad("link"));
    }
    let mut server = None;
    let mut code = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "server" if server.is_none() => server = Some(v.into_owned()),
            "code" if code.is_none() => code = Some(v.into_owned()),
            // A repeated key is ambiguous: refuse rather than guess.
            "server" => return Err(bad("server")),
            "code" => return Err(bad("code")),
            _ => {}
        }
    }
    let server = server.ok_or(Error::InvalidInput {
        field: "server",
        reason: Reason::Required,
    })?;
    let code = code.ok_or(Error::InvalidInput {
        field: "code",
        reason: Reason::Required,
    })?;
    let parsed = reqwest::Url::parse(&server).map_err(|_| bad("server"))?;
    let plain = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.query().is_none()
        && parsed.fragment().is_none();
    if !plain {
        return Err(bad("server"));
    }
    if !is_code(&code) {
        return Err(bad("code"));
    }
    Ok(EnrolLink {
        server_url: server.trim_end_matches('/').to_owned(),
        code,
    })
}

#[derive(serde::Deserialize)]
struct Answer {
    token: String,
    device_id: String,
    user: AnswerUser,
}

#[derive(serde::Deserialize)]
struct AnswerUser {
    id: String,
    name: String,
    role: String,
}

/// Exchanges the link's code for this device's token. `device_name` (1–64 printable
/// characters) is what the admin sees in the console. The code works once: a used, expired
/// or unknown one is [`Error::EnrolCodeSpent`]; too many failures from this network are
/// [`Error::Throttled`]. Not retried: a code is single-use, so a lost answer needs a new one.
pub async fn enrol(
    link: &EnrolLink,
    device_name: &str,
    trusted_certificates: Option<&str>,
) -> Result<Enrolment> {
    let name = device_name.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput {
            field: "device_name",
            reason: Reason::Required,
        });
    }
    if name.chars().count() > 64 {
        return Err(Error::InvalidInput {
            field: "device_name",
            reason: Reason::TooLong,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidInput {
            field: "device_name",
            reason: Reason::ControlCharacters,
        });
    }
    let client = http::client(Duration::from_secs(20), trusted_certificates)?;
    let url = format!("{}/v1/enrol", link.server_url);
    let body = serde_json::json!({ "code": link.code, "device_name": name });
    let (status, bytes) = http::post_json(&client, &url, &body).await?;
    match status {
        200 => {
            let a: Answer = serde_json::from_slice(&bytes)
                .map_err(|_| Error::Server("unreadable enrolment answer".into()))?;
            let role = Role::from_code(&a.user.role)
                .ok_or_else(|| Error::Server("unknown role in the enrolment answer".into()))?;
            Ok(Enrolment {
                server_url: link.server_url.clone(),
                device_id: a.device_id,
                token: a.token,
                user_id: a.user.id,
                user_name: a.user.name,
                role,
            })
        }
        400 => Err(bad("code")),
        410 => Err(Error::EnrolCodeSpent),
        429 => Err(Error::Throttled),
        s => Err(Error::Server(format!("enrolment answered {s}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "0123456789abcdef0123456789abcdef";

    fn field(text: &str) -> (&'static str, Reason) {
        match parse_enrol_link(text) {
            Err(Error::InvalidInput { field, reason }) => (field, reason),
            other => panic!("expected a refusal of {text}, got {other:?}"),
        }
    }

    #[test]
    fn a_console_link_reads() {
        let link = parse_enrol_link(&format!(
            "linli://enrol?server=https%3A%2F%2Flinli.example.gov.cn%3A8443%2F&code={CODE}"
        ))
        .unwrap();
        assert_eq!(link.server_url, "https://linli.example.gov.cn:8443");
        assert_eq!(link.code, CODE);
        let plain = parse_enrol_link(&format!(
            " linli://enrol?code={CODE}&server=http://10.0.0.2:8080 "
        ))
        .unwrap();
        assert_eq!(plain.server_url, "http://10.0.0.2:8080");
    }

    #[test]
    fn bad_links_are_typed_errors() {
        assert_eq!(field("not a link").0, "link");
        assert_eq!(
            field(&format!("https://enrol?server=x&code={CODE}")).0,
            "link"
        );
        assert_eq!(
            field(&format!("linli://pay?server=http://a&code={CODE}")).0,
            "link"
        );
        assert_eq!(
            field(&format!("linli://enrol?code={CODE}")),
            ("server", Reason::Required)
        );
        assert_eq!(
            field("linli://enrol?server=http://a"),
            ("code", Reason::Required)
        );
        for server in ["ftp://a", "http://user:pw@a", "http://a/?x=1", "nonsense"] {
            let text = format!(
                "linli://enrol?server={}&code={CODE}",
                server
                    .replace(':', "%3A")
                    .replace('/', "%2F")
                    .replace('?', "%3F")
                    .replace('=', "%3D")
                    .replace('@', "%40")
            );
            assert_eq!(field(&text).0, "server", "{server}");
        }
        for code in [
            "",
            "0123",
            "0123456789ABCDEF0123456789ABCDEF",
            "g123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(
                field(&format!("linli://enrol?server=http://a&code={code}")).0,
                "code"
            );
        }
        assert_eq!(
            field(&format!(
                "linli://enrol?server=http://a&code={CODE}&code={CODE}"
            ))
            .0,
            "code"
        );
        assert_eq!(field(&"x".repeat(3000)), ("link", Reason::TooLong));
    }
}

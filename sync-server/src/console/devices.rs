//! Devices (设备): enrolling a phone with a QR code and revoking one. The QR code holds
//! `linli://enrol?server=<this server>&code=<code>`: a single-use code, valid 10 minutes,
//! stored hashed, that the phone exchanges for its token (`POST /v1/enrol`), so nobody
//! types a 64-character token. The code is shown once, on the page the enrolment makes.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use qrcode::QrCode;
use qrcode::render::svg;

use super::session::Staff;
use super::users::{ActionFields, Enrolment, admin_only, check_csrf, managed, reason, user_page};
use super::{Page, blocking, view};
use crate::AppState;
use crate::directory::{Action, Audit, ENROL_CODE_MS, new_enrol_code};
use crate::storage::token_hash;

/// The enrolment link a phone scans.
pub fn enrol_link(server: &str, code: &str) -> String {
    let server: String =
        serde_urlencoded::to_string([("server", server), ("code", code)]).unwrap_or_default();
    format!("linli://enrol?{server}")
}

/// The link as an SVG QR code (our own markup: no user text in it but the link's escaped
/// characters, which the encoder turns into modules).
fn qr_svg(link: &str) -> Result<String, Page> {
    let code = QrCode::new(link.as_bytes()).map_err(|_| Page::Internal)?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Inline in the page: drop the XML declaration.
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_owned(),
        None => svg,
    })
}

/// The server's own address as the browser reached it (`Host`), for the phone to use.
fn server_url(headers: &HeaderMap, tls: bool) -> Result<String, Page> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or(Page::Bad("无法确定服务器地址。"))?;
    Ok(format!("{}://{host}", if tls { "https" } else { "http" }))
}

/// `POST /admin/users/{id}/enrol`: a fresh enrolment code for the user, shown as a QR code.
pub async fn enrol(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let tls = state.secure_cookies();
    let storage = state.storage().clone();
    blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let user = managed(storage.as_ref(), &staff, &id)?;
        let server = server_url(&headers, tls)?;
        let code = new_enrol_code();
        let now = storage.server().now();
        let expires_at = now + ENROL_CODE_MS;
        let audit = Audit::new(now, &staff.device.user_id, Action::EnrolCode)
            .community(Some(&user.community_id))
            .user(&user.id)
            .reason(reason(&f.reason, false)?);
        storage.add_enrol_code(&token_hash(&code), expires_at, &audit)?;
        tracing::info!(user = %user.id, "console: enrolment code issued");
        let link = enrol_link(&server, &code);
        let enrolment = Enrolment {
            svg: qr_svg(&link)?,
            link,
            expires: view::time(expires_at),
        };
        user_page(storage.as_ref(), &staff, &user.id, Some(enrolment))
    })
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /admin/devices/{id}/revoke`: the device's token is refused from now on.
pub async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Result<Form<ActionFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return Page::Bad("表单无效，请刷新后重试。").into_response();
    };
    let storage = state.storage().clone();
    let done = blocking(move || {
        check_csrf(&staff, &f.csrf)?;
        admin_only(&staff)?;
        let device = storage.device(&id)?.ok_or(Page::NotFound)?;
        let user = managed(storage.as_ref(), &staff, &device.info.user_id)?;
        let audit = Audit::new(
            storage.server().now(),
            &staff.device.user_id,
            Action::RevokeDevice,
        )
        .community(Some(&user.community_id))
        .user(&user.id)
        .device(&id)
        .reason(reason(&f.reason, true)?);
        storage.revoke_device(&id, &audit)?;
        tracing::info!(device = %id, "console: device revoked");
        Ok(user.id)
    })
    .await;
    match done {
        Ok(user) => Redirect::to(&format!("/admin/users/{user}")).into_response(),
        Err(e) => e.into_response(),
    }
}

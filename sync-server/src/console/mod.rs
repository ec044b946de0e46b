//! The admin console at `/admin`: server-rendered pages (askama templates in
//! `sync-server/templates/`, htmx vendored in `sync-server/assets/`) for community and street
//! admins and department handlers. Chinese throughout; every user-written value is escaped
//! by the templates.
//!
//! Who may see what is the JSON API's rule: a signed-in user acts as their
//! [`crate::Device`]-shaped principal (role and scope from their grants), every record is
//! checked with `Scope::covers` whatever id is in the URL, and moves go through
//! [`crate::api::move_incident`] and the role table.
//!
//! - `session.rs`: the session cookie, the signed-in [`session::Staff`] extractor, CSRF
//! - `password.rs`: argon2id, password rules, the sign-in throttle
//! - `auth.rs`: sign in, sign out
//! - `board.rs`: the response board (响应看板) and its self-refreshing rows
//! - `incident.rs`: one incident: timeline and the moves its status allows
//! - `disputes.rs`: open disputes per grid (矛盾纠纷清零) and outcomes
//! - `erase.rs`: erasing a household (删除住户信息): reason code, confirmation, community admins
//! - `households.rs`: the register (户籍登记): search, one household with its history
//! - `merge.rs`: merging a duplicate household at the same door into another
//! - `ledgers.rs`: ledgers (台账): the export form and its streamed XLSX and CSV downloads
//! - `report.rs`: a hotline report (热线登记)
//! - `people.rs`: accounts: own password, invitations, resets and unlocking
//! - `import.rs`: roster import: upload, dry run, confirm, progress
//! - `stats.rs`: statistics: visits, incidents, times against targets, rates, disputes;
//!   `charts.rs` the SVG charts' geometry
//! - `users.rs`: people (人员管理): create, grant and withdraw places, deactivate
//! - `devices.rs`: enrolment QR codes (single-use codes for `POST /v1/enrol`), revoking devices
//! - `places.rs`: the place tree: create, rename, move a building (its records follow)
//! - `audit.rs`: the audit trail (操作记录), paged and filtered by action
//! - `view.rs`: labels, times and names for the templates

mod audit;
mod auth;
mod board;
mod charts;
mod devices;
mod disputes;
mod erase;
mod households;
mod import;
mod incident;
mod ledgers;
mod merge;
pub mod password;
mod people;
mod places;
mod report;
pub mod session;
pub mod stats;
mod users;
mod view;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::api::ApiError;

pub use devices::enrol_link;
pub use people::{invite, set_password};

/// The console's routes, to be merged into [`crate::app`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/board") }))
        .route("/admin/", get(|| async { Redirect::to("/admin/board") }))
        .route("/admin/login", get(auth::login_page).post(auth::login))
        .route("/admin/logout", post(auth::logout))
        .route("/admin/board", get(board::page))
        .route("/admin/board/rows", get(board::rows))
        .route("/admin/incidents/{id}", get(incident::page))
        .route("/admin/incidents/{id}/moves", post(incident::make_move))
        .route("/admin/disputes", get(disputes::page))
        .route("/admin/households", get(households::list))
        .route("/admin/households/{id}", get(households::page))
        .route("/admin/households/{id}/merge", post(merge::merge))
        .route("/admin/households/{id}/erase", post(erase::erase))
        .route("/admin/ledgers", get(ledgers::page))
        .route("/admin/ledgers/export", post(ledgers::export))
        .route("/admin/report", get(report::page).post(report::submit))
        .route(
            "/admin/account",
            get(people::account_page).post(people::change_password),
        )
        .route("/admin/people", get(people::list))
        .route("/admin/people/{id}/invite", post(people::invite_link))
        .route("/admin/people/{id}/unlock", post(people::unlock))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}", get(users::page))
        .route("/admin/users/{id}/deactivate", post(users::deactivate))
        .route("/admin/users/{id}/grants", post(users::grant))
        .route(
            "/admin/users/{id}/grants/{place}/withdraw",
            post(users::withdraw),
        )
        .route("/admin/users/{id}/enrol", post(devices::enrol))
        .route("/admin/devices/{id}/revoke", post(devices::revoke))
        .route("/admin/places", get(places::page).post(places::create))
        .route("/admin/places/{id}/rename", post(places::rename))
        .route("/admin/places/{id}/move", post(places::move_building))
        .route("/admin/audit", get(audit::page))
        .route(
            "/admin/invitations/{token}",
            get(people::invitation_page).post(people::accept_invitation),
        )
        .route(
            "/admin/import",
            get(import::page)
                .post(import::upload)
                // The file's cap, and room for the form around it.
                .layer(DefaultBodyLimit::max(
                    crate::import::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
        )
        .route("/admin/stats", get(stats::page))
        .route("/admin/import/{id}", get(import::report))
        .route("/admin/import/{id}/confirm", post(import::confirm))
        .route("/admin/import/{id}/progress", get(import::progress))
        .route("/admin/assets/htmx.min.js", get(htmx))
        .route("/admin/assets/console.js", get(console_js))
        .route("/admin/assets/console.css", get(console_css))
        .layer(middleware::from_fn(headers))
}

/// Headers on every console response: no caching of pages with residents' data, no
/// framing, no sniffing, and scripts and styles from the server only.
async fn headers(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/admin/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn htmx() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/htmx-2.0.11.min.js"),
    )
}

async fn console_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console.js"),
    )
}

async fn console_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/console.css"),
    )
}

/// A page that could not be shown: its status and a Chinese message. Never personal data.
#[derive(Debug)]
pub enum Page {
    /// Not there, or not in the user's scope: the two look the same.
    NotFound,
    Forbidden(&'static str),
    Bad(&'static str),
    /// The request's CSRF token was missing or wrong.
    Forged,
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: &'static str,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Page::NotFound => (
                StatusCode::NOT_FOUND,
                "未找到",
                "记录不存在，或不在您的管辖范围内。",
            ),
            Page::Forbidden(m) => (StatusCode::FORBIDDEN, "无权操作", m),
            Page::Bad(m) => (StatusCode::BAD_REQUEST, "输入有误", m),
            Page::Forged => (
                StatusCode::FORBIDDEN,
                "页面已过期",
                "表单校验失败，请返回刷新页面后重试。",
            ),
            Page::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器出错",
                "服务器暂时无法完成请求，请稍后重试。",
            ),
        };
        render_status(status, &ErrorPage { title, message })
    }
}

impl From<crate::Error> for Page {
    fn from(e: crate::Error) -> Page {
        match e {
            crate::Error::NotFound { .. } => Page::NotFound,
            other => {
                tracing::error!(error = %other, "console request failed");
                Page::Internal
            }
        }
    }
}

impl From<ApiError> for Page {
    fn from(e: ApiError) -> Page {
        match e.status {
            StatusCode::NOT_FOUND => Page::NotFound,
            StatusCode::FORBIDDEN => Page::Forbidden(view::refusal(e.code, e.field)),
            s if s.is_client_error() => Page::Bad(view::refusal(e.code, e.field)),
            _ => Page::Internal,
        }
    }
}

/// Renders a template as a 200 page.
fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal").into_response()
        }
    }
}

/// Runs blocking storage work for a page.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, Page> + Send + 'static,
) -> Result<R, Page> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Page::Internal)?
}

//! The response board (响应看板): open incidents of the user's scope, overdue and escalated
//! first, each with a live countdown to its pending deadline; filters by category, status,
//! grid and handler; the rows refresh themselves (htmx, every 10 s). A department handler
//! sees only the orders dispatched to their department or to them by name.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use linli_domain::{IncidentCategory, IncidentStatus, Millis, PlaceKind};
use serde::Deserialize;

use super::session::Staff;
use super::view::{self, Names};
use super::{Page, blocking, render};
use crate::AppState;
use crate::storage::Storage;

pub const PAGE_ROWS: u32 = 50;

/// The board's query string; an unknown code in it is ignored (it filters nothing).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub grid: String,
    #[serde(default)]
    pub handler: String,
    #[serde(default)]
    pub page: Option<u32>,
    /// The move just made on an incident that left the user's view (a handler's return).
    #[serde(default)]
    pub done: String,
}

impl Filter {
    /// The same filters as a query string (for the refresh and the page links).
    pub fn query(&self, page: u32) -> String {
        let page = page.to_string();
        let pairs: Vec<(&str, &str)> = [
            ("category", self.category.as_str()),
            ("status", self.status.as_str()),
            ("grid", self.grid.as_str()),
            ("handler", self.handler.as_str()),
            ("page", if page == "0" { "" } else { page.as_str() }),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        // Strings always encode; an empty query is the fallback that cannot happen.
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// One row of the board, ready to show.
pub struct Row {
    pub id: String,
    pub category: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub level: &'static str,
    pub level_label: &'static str,
    pub priority_label: &'static str,
    pub overdue: bool,
    /// The pending deadline (epoch ms) and which one it is.
    pub deadline: Option<Millis>,
    pub deadline_kind: &'static str,
    pub location: String,
    pub description: String,
    pub handler: String,
    pub received: String,
}

/// What the board shows: a page of rows, the total, and the filters' choices.
pub struct Board {
    pub rows: Vec<Row>,
    pub total: u64,
    pub page: u32,
    pub pages: u32,
    pub now: Millis,
}

fn short(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

/// Reads a page of the board for `staff`.
pub fn load(
    storage: &dyn Storage,
    staff: &Staff,
    names: &Names,
    filter: &Filter,
) -> crate::Result<Board> {
    let now = storage.server().now();
    let q = crate::board::BoardQuery {
        category: IncidentCategory::from_code(&filter.category),
        status: IncidentStatus::from_code(&filter.status),
        grid_id: Some(filter.grid.clone()).filter(|g| !g.is_empty()),
        handler: Some(filter.handler.clone()).filter(|h| !h.is_empty()),
        department: None,
        orders_of: staff.orders_of(),
        open_only: filter.status != IncidentStatus::Closed.code(),
        now,
        offset: filter.page.unwrap_or(0).saturating_mul(PAGE_ROWS),
        limit: PAGE_ROWS,
    };
    let page = storage.board(&staff.device.scope, &q)?;
    let rows = page
        .rows
        .into_iter()
        .map(|r| Row {
            overdue: r.next_due.is_some_and(|d| d < now),
            deadline: r.next_due,
            deadline_kind: if r.accepted_at.is_none() {
                "响应"
            } else {
                "办结"
            },
            location: names.location(&r.grid_id, r.building_id.as_deref(), r.unit_id.as_deref()),
            description: short(&r.description, 60),
            handler: match (&r.handler, r.department) {
                (Some(h), _) => names.person(h),
                (None, Some(d)) => d.label().to_owned(),
                (None, None) => "—".into(),
            },
            received: view::time_opt(r.received_at.or(Some(r.reported_at))),
            category: r.category.label(),
            status: r.status.code(),
            status_label: r.status.label(),
            level: r.level.code(),
            level_label: r.level.label(),
            priority_label: r.priority.label(),
            id: r.doc_id,
        })
        .collect();
    let pages = u32::try_from(page.total.div_ceil(u64::from(PAGE_ROWS))).unwrap_or(u32::MAX);
    let pages = pages.max(1);
    Ok(Board {
        rows,
        total: page.total,
        // A page past the last one shows no rows; kept at most one past it, so the page
        // links' arithmetic cannot overflow whatever number the query string holds.
        page: filter.page.unwrap_or(0).min(pages),
        pages,
        now,
    })
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    notice: Option<String>,
    staff_name: String,
    is_admin: bool,
    csrf: String,
    board: Board,
    filter: Filter,
    refresh: String,
    categories: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    grids: Vec<(String, String)>,
    handlers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "board_rows.html")]
struct RowsFragment {
    board: Board,
}

/// `GET /admin/board`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<Filter>, QueryRejection>,
) -> Response {
    let filter = q.map(|Query(f)| f).unwrap_or_default();
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let board = load(storage.as_ref(), &staff, &names, &filter)?;
        let grids = names.places_of(&staff.device, &[PlaceKind::Grid]);
        let handlers = names
            .people
            .iter()
            .filter(|p| !p.role.is_leader())
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect();
        Ok(BoardPage {
            notice: linli_domain::IncidentAction::from_code(&filter.done)
                .map(|a| format!("已{}，该事件已不在您的列表中。", a.label())),
            staff_name: staff.account.user.name.clone(),
            is_admin: staff.device.role.is_admin(),
            csrf: staff.csrf.clone(),
            refresh: filter.query(board.page),
            board,
            filter,
            categories: IncidentCategory::ALL
                .iter()
                .map(|c| (c.code(), c.label()))
                .collect(),
            statuses: IncidentStatus::ALL
                .iter()
                .map(|s| (s.code(), s.label()))
                .collect(),
            grids,
            handlers,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

/// `GET /admin/board/rows`: the rows alone, for the refresh.
pub async fn rows(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<Filter>, QueryRejection>,
) -> Response {
    let filter = q.map(|Query(f)| f).unwrap_or_default();
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let names = Names::of(storage.as_ref(), &staff.device)?;
        Ok(RowsFragment {
            board: load(storage.as_ref(), &staff, &names, &filter)?,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e @ Page::Internal) => e.into_response(),
        Err(e) => e.into_response(),
    }
}

//! Disputes (矛盾纠纷): how many are open per grid (the 清零 count: every dispute not closed
//! with an outcome), and each dispute with its status and outcome.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use linli_domain::IncidentCategory;

use super::session::Staff;
use super::view::{self, Names};
use super::{blocking, render};
use crate::AppState;

pub struct GridCount {
    pub grid_id: String,
    pub grid: String,
    pub open: u32,
    pub total: u32,
}

pub struct Dispute {
    pub id: String,
    pub location: String,
    pub description: String,
    pub status_label: &'static str,
    pub outcome: &'static str,
    pub open: bool,
    pub received: String,
}

#[derive(Template)]
#[template(path = "disputes.html")]
struct DisputesPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    grids: Vec<GridCount>,
    open_total: u32,
    disputes: Vec<Dispute>,
}

/// At most this many disputes are listed (the counts cover all of them).
const LISTED: u32 = 500;

/// `GET /admin/disputes`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let q = crate::board::BoardQuery {
            category: Some(IncidentCategory::Dispute),
            status: None,
            grid_id: None,
            handler: None,
            department: None,
            orders_of: staff.orders_of(),
            open_only: false,
            now: storage.server().now(),
            offset: 0,
            limit: LISTED,
        };
        let rows = storage.board(&staff.device.scope, &q)?.rows;
        let counts = match q.orders_of {
            // A handler counts only the disputes they may see.
            Some(_) => {
                let mut by_grid: Vec<(String, u32, u32)> = Vec::new();
                for r in &rows {
                    let open = u32::from(r.is_open_dispute());
                    match by_grid.iter_mut().find(|g| g.0 == r.grid_id) {
                        Some(g) => {
                            g.1 += open;
                            g.2 += 1;
                        }
                        None => by_grid.push((r.grid_id.clone(), open, 1)),
                    }
                }
                by_grid
            }
            None => storage.open_disputes_by_grid(&staff.device.scope)?,
        };
        let mut grids: Vec<GridCount> = counts
            .into_iter()
            .map(|(grid_id, open, total)| GridCount {
                grid: names.place(&grid_id),
                grid_id,
                open,
                total,
            })
            .collect();
        let disputes = rows
            .into_iter()
            .map(|r| Dispute {
                open: r.is_open_dispute(),
                location: names.location(
                    &r.grid_id,
                    r.building_id.as_deref(),
                    r.unit_id.as_deref(),
                ),
                description: r.description.chars().take(60).collect(),
                status_label: r.status.label(),
                outcome: r.outcome.map(|o| o.label()).unwrap_or("—"),
                received: view::time_opt(r.received_at.or(Some(r.reported_at))),
                id: r.doc_id,
            })
            .collect();
        grids.sort_by(|a, b| a.grid.cmp(&b.grid));
        Ok(DisputesPage {
            staff_name: staff.account.user.name.clone(),
            is_admin: staff.device.role.is_admin(),
            csrf: staff.csrf.clone(),
            open_total: grids.iter().map(|g| g.open).sum(),
            grids,
            disputes,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

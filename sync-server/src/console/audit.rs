//! The audit trail (操作记录): every administrative action, newest first, paged, filterable by
//! action. A street admin sees every row of their communities and the street's own; a
//! community admin the rows of their community. Rows hold ids and codes; the page shows
//! names for them. The first page also lists the latest ledger exports (`ledger_exports`,
//! written by the ledgers page) and the privacy audit (`audit_log`: who viewed a household's
//! sensitive fields unmasked, who erased which household, with the reason).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use linli_domain::protocol::Role;
use serde::Deserialize;

use super::session::Staff;
use super::users::admin_only;
use super::view::{self, Names};
use super::{Page, blocking, render};
use crate::AppState;
use crate::directory::{Action, AuditQuery};
use crate::erase::{AuditAction, EraseReason};
use crate::ledger::LedgerKind;

/// Rows per page.
const PAGE: u32 = 50;

pub struct AuditView {
    pub id: u64,
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub action_code: &'static str,
    pub target: String,
    pub reason: &'static str,
}

pub struct ExportView {
    pub at: String,
    pub actor: String,
    pub ledger: &'static str,
    pub format: String,
    pub rows: u64,
}

/// Exports listed on the first page.
const EXPORTS: u32 = 20;

/// A row of the privacy audit (`audit_log`): an unmasked view or an erasure.
pub struct PrivacyView {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub action_code: &'static str,
    /// The household's id (shortened): it may be erased, so no address is shown.
    pub household: String,
    /// An erasure's reason and note.
    pub detail: String,
}

/// Privacy rows listed on the first page.
const PRIVACY: u32 = 50;

/// An erasure's detail (`reason code: note`) as shown.
fn privacy_detail(detail: &str) -> String {
    let (code, note) = detail.split_once(": ").unwrap_or((detail, ""));
    let reason: &str = match EraseReason::from_code(code) {
        Some(r) => r.label(),
        None => code,
    };
    if note.is_empty() {
        reason.to_owned()
    } else {
        format!("{reason}：{note}")
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    rows: Vec<AuditView>,
    actions: Vec<(&'static str, &'static str)>,
    action: String,
    next: Option<u64>,
    exports: Vec<ExportView>,
    privacy: Vec<PrivacyView>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    action: String,
    #[serde(default)]
    before: Option<u64>,
}

/// `GET /admin/audit?action=…&before=…`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    filter: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(filter)) = filter else {
        return Page::Bad("筛选条件无效。").into_response();
    };
    let storage = state.storage().clone();
    let shown = blocking(move || {
        admin_only(&staff)?;
        let action = match filter.action.as_str() {
            "" => None,
            code => Some(Action::from_code(code).ok_or(Page::Bad("筛选条件无效。"))?),
        };
        let mut communities = staff.device.communities.clone();
        if staff.device.role != Role::StreetAdmin {
            // A community admin: only the communities they administer (not a street's rows).
            communities.retain(|c| staff.device.scope.communities.contains(c));
        }
        let q = AuditQuery {
            communities: Some(communities),
            action,
            before: filter.before,
            limit: PAGE + 1,
        };
        let mut found = storage.audit(&q)?;
        let more = found.len() > PAGE as usize;
        found.truncate(PAGE as usize);
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let rows: Vec<AuditView> = found
            .into_iter()
            .map(|r| {
                let a = r.audit;
                let target = [
                    a.target_user.as_deref().map(|u| names.person(u)),
                    a.target_place.as_deref().map(|p| names.place(p)),
                    a.target_device
                        .as_deref()
                        .map(|d| format!("设备 {}", d.chars().take(8).collect::<String>())),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
                AuditView {
                    id: r.id,
                    at: view::time(a.at),
                    actor: names.person(&a.actor_id),
                    action: a.action.label(),
                    action_code: a.action.code(),
                    target,
                    reason: a.reason.map(|r| r.label()).unwrap_or("—"),
                }
            })
            .collect();
        let exports = if filter.before.is_none() && action.is_none() {
            storage
                .exports(&q.communities.clone().unwrap_or_default(), EXPORTS)?
                .into_iter()
                .map(|e| ExportView {
                    at: view::time(e.at),
                    actor: names.person(&e.user_id),
                    ledger: LedgerKind::from_code(&e.ledger).map_or("台账", LedgerKind::title),
                    format: e.format.to_uppercase(),
                    rows: e.rows,
                })
                .collect()
        } else {
            Vec::new()
        };
        let privacy = if filter.before.is_none() && action.is_none() {
            storage
                .privacy_audit(&q.communities.clone().unwrap_or_default(), PRIVACY)?
                .into_iter()
                .map(|a| PrivacyView {
                    at: view::time(a.at),
                    actor: names.person(&a.user_id),
                    action: a.action.label(),
                    action_code: a.action.code(),
                    household: a
                        .doc_id
                        .as_deref()
                        .map(|d| d.chars().take(8).collect())
                        .unwrap_or_default(),
                    detail: match a.action {
                        AuditAction::Erase => privacy_detail(&a.detail),
                        AuditAction::ViewSensitive => "—".into(),
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(AuditPage {
            exports,
            privacy,
            staff_name: staff.account.user.name.clone(),
            is_admin: true,
            csrf: staff.csrf.clone(),
            next: if more {
                rows.last().map(|r| r.id)
            } else {
                None
            },
            rows,
            actions: Action::ALL.iter().map(|a| (a.code(), a.label())).collect(),
            action: filter.action,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

//! The register (户籍登记) in the console: `/admin/households`, searched as on the phone
//! (name substring, pinyin initials and full pinyin, address and room), paged and limited to
//! the admin's scope; `/admin/households/{id}`, one household: members, visits, needs,
//! incidents and its history (who changed what, when).
//!
//! Sensitive fields (ID numbers, phones, the correction/rehab and disability tags) are
//! masked in the list and for street admins; a community admin sees them in full on the
//! household page of their community, and each such view is an audit row
//! (`PrivacyStorage::record_audit`). Only admins see the register.

use askama::Template;
use automerge::AutoCommit;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use linli_domain::{PlaceKind, Role};
use serde::Deserialize;

use super::session::Staff;
use super::view::{self, Names};
use super::{Page, blocking, render};
use crate::AppState;
use crate::erase::{AuditAction, AuditEntry};
use crate::register::{self, MemberRow, RegisterQuery, Search};

/// A time with its year (`YYYY-MM-DD HH:MM`, Beijing time): a household's record spans years.
fn dated(ms: i64) -> String {
    crate::ledger::period::time(Some(ms))
}

/// Households per page.
pub const PAGE_ROWS: u32 = 50;

const ADMINS_ONLY: &str = "只有社区和街道管理员可以查看户籍登记。";

/// The list's query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub page: Option<u32>,
}

impl Filter {
    fn query(&self, page: u32) -> String {
        let page = page.to_string();
        let pairs: Vec<(&str, &str)> = [
            ("q", self.q.as_str()),
            ("place", self.place.as_str()),
            ("page", if page == "0" { "" } else { page.as_str() }),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// One household of the list, masked.
pub struct Row {
    pub id: String,
    pub location: String,
    pub room: String,
    pub members: String,
    pub phone: String,
    pub tags: String,
    pub updated: String,
}

/// Who may see a sensitive field in full: a community admin, on a household of theirs.
fn full_view(role: Role) -> bool {
    role == Role::Admin
}

/// A phone as shown: in full or masked.
pub fn phone(p: Option<&str>, full: bool) -> String {
    match p {
        Some(p) if full => p.to_owned(),
        Some(p) => register::mask_phone(p),
        None => "—".into(),
    }
}

/// An ID number as shown: in full or masked.
pub fn id_number(n: Option<&str>, full: bool) -> String {
    match n {
        Some(n) if full => n.to_owned(),
        Some(n) => register::mask_id_number(n),
        None => "—".into(),
    }
}

fn tags(t: &[linli_domain::CareTag], full: bool) -> String {
    let labels = register::tag_labels(t, full);
    if labels.is_empty() {
        "—".into()
    } else {
        labels.join("、")
    }
}

#[derive(Template)]
#[template(path = "households.html")]
struct ListPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    filter: Filter,
    places: Vec<(String, String)>,
    rows: Vec<Row>,
    total: u64,
    page: u32,
    pages: u32,
}

/// `GET /admin/households`.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    q: Result<Query<Filter>, QueryRejection>,
) -> Response {
    let filter = q.map(|Query(f)| f).unwrap_or_default();
    let storage = state.storage().clone();
    let shown = blocking(move || {
        if !staff.device.role.is_admin() {
            return Err(Page::Forbidden(ADMINS_ONLY));
        }
        let search = Search::parse(&filter.q)
            .map_err(|_| Page::Bad("搜索内容过长：最多 8 个词、100 个字。"))?;
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let places = names.places_of(
            &staff.device,
            &[
                PlaceKind::Community,
                PlaceKind::Grid,
                PlaceKind::MicroGrid,
                PlaceKind::Building,
            ],
        );
        let place_id = Some(filter.place.clone()).filter(|p| !p.is_empty());
        if let Some(p) = &place_id
            && !places.iter().any(|(id, _)| id == p)
        {
            return Err(Page::NotFound);
        }
        let q = RegisterQuery {
            search,
            place_id,
            moved_out: false,
            offset: filter.page.unwrap_or(0).saturating_mul(PAGE_ROWS),
            limit: PAGE_ROWS,
        };
        let found = storage.register_page(&staff.device.scope, &q)?;
        let rows = found
            .households
            .into_iter()
            .map(|(h, members)| Row {
                location: names.location(
                    &h.place.grid_id,
                    h.place.building_id.as_deref(),
                    h.place.unit_id.as_deref(),
                ),
                room: h.room,
                members: members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                phone: phone(members.iter().find_map(|m| m.phone.as_deref()), false),
                tags: tags(&h.tags, false),
                updated: view::time(h.updated_at),
                id: h.doc_id,
            })
            .collect();
        let pages = u32::try_from(found.total.div_ceil(u64::from(PAGE_ROWS)))
            .unwrap_or(u32::MAX)
            .max(1);
        Ok(ListPage {
            staff_name: staff.account.user.name.clone(),
            is_admin: true,
            csrf: staff.csrf.clone(),
            page: filter.page.unwrap_or(0).min(pages),
            filter,
            places,
            rows,
            total: found.total,
            pages,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

pub struct MemberView {
    pub name: String,
    pub relation: &'static str,
    pub birth_year: String,
    pub gender: &'static str,
    pub residence: &'static str,
    pub phone: String,
    pub id_number: String,
    pub tags: String,
    /// 迁出 and when, for a former member.
    pub moved_out: Option<String>,
}

fn member_view(m: &MemberRow, full: bool) -> MemberView {
    MemberView {
        name: m.name.clone(),
        relation: m.relation.label(),
        birth_year: m.birth_year.map_or_else(|| "—".into(), |y| y.to_string()),
        gender: m.gender.map_or("—", |g| g.label()),
        residence: m.residence.map_or("—", |r| r.label()),
        phone: phone(m.phone.as_deref(), full),
        id_number: id_number(m.id_number.as_deref(), full),
        tags: tags(&m.tags, full),
        moved_out: m.moved_out_at.map(dated),
    }
}

pub struct VisitView {
    pub at: String,
    pub visitor: String,
    pub purpose: &'static str,
    pub needs: String,
    pub done_on_spot: String,
}

pub struct NeedView {
    pub raised: String,
    pub category: &'static str,
    pub text: String,
    pub status: &'static str,
    pub owner: String,
    pub due: String,
}

pub struct IncidentView {
    pub id: String,
    pub reported: String,
    pub category: &'static str,
    pub status: &'static str,
    pub description: String,
}

pub struct HistoryView {
    pub at: String,
    pub who: String,
    pub what: String,
    pub fields: String,
}

/// What a change's `op` says, in Chinese; an unknown one as it is.
fn op_label(op: &str) -> String {
    match op {
        "household.create" => "建档",
        "household.update" => "修改户信息",
        "member.add" => "添加成员",
        "member.update" => "修改成员",
        "member.details" => "修改成员详情",
        "member.move_out" => "成员迁出",
        "member.remove" => "删除成员",
        "tag.add" => "添加标签",
        "tag.remove" => "移除标签",
        "visit.record" => "登记走访",
        "need.raise" => "登记诉求",
        "import" | "roster.import" => "名册导入",
        "unknown" => "（未说明）",
        other => return other.to_owned(),
    }
    .to_owned()
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    id: String,
    location: String,
    room: String,
    residency: &'static str,
    housing: &'static str,
    tags: String,
    notes: String,
    full: bool,
    members: Vec<MemberView>,
    visits: Vec<VisitView>,
    needs: Vec<NeedView>,
    incidents: Vec<IncidentView>,
    history: Vec<HistoryView>,
}

/// `GET /admin/households/{id}`: a household outside the admin's scope is not found.
pub async fn page(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let storage = state.storage().clone();
    let shown = blocking(move || {
        if !staff.device.role.is_admin() {
            return Err(Page::Forbidden(ADMINS_ONLY));
        }
        let Some((place, snapshot)) = storage.household_document(&id)? else {
            return Err(Page::NotFound);
        };
        if !staff.device.scope.covers(&place) {
            return Err(Page::NotFound);
        }
        let mut d = AutoCommit::load(&snapshot).map_err(|_| Page::Internal)?;
        let Some(p) = register::project(&id, &d, &place, 0) else {
            return Err(Page::NotFound);
        };
        let full = full_view(staff.device.role);
        let names = Names::of(storage.as_ref(), &staff.device)?;
        let incidents = storage
            .household_incidents(&id)?
            .into_iter()
            .map(|r| IncidentView {
                reported: dated(r.reported_at),
                category: r.category.label(),
                status: r.status.label(),
                description: r.description.chars().take(60).collect(),
                id: r.doc_id,
            })
            .collect();
        let history = register::history(&mut d)
            .into_iter()
            .map(|e| HistoryView {
                at: dated(e.at),
                who: if e.user_id.is_empty() {
                    "—".into()
                } else {
                    names.person(&e.user_id)
                },
                what: op_label(&e.op),
                fields: e.fields.join("、"),
            })
            .collect();
        let h = &p.household;
        if full {
            // Shown unmasked: who looked, and at which household (ids only).
            storage.record_audit(&AuditEntry {
                at: storage.server().now(),
                user_id: staff.device.user_id.clone(),
                action: AuditAction::ViewSensitive,
                doc_id: Some(id.clone()),
                community_id: h.place.community_id.clone(),
                detail: String::new(),
            })?;
        }
        Ok(HouseholdPage {
            staff_name: staff.account.user.name.clone(),
            is_admin: true,
            csrf: staff.csrf.clone(),
            location: names.location(
                &h.place.grid_id,
                h.place.building_id.as_deref(),
                h.place.unit_id.as_deref(),
            ),
            room: h.room.clone(),
            residency: h.residency.label(),
            housing: h.housing.label(),
            tags: tags(&h.tags, full),
            notes: h.notes.clone(),
            full,
            members: p.members.iter().map(|m| member_view(m, full)).collect(),
            visits: p
                .visits
                .iter()
                .map(|v| VisitView {
                    at: dated(v.at),
                    visitor: names.person(&v.visitor),
                    purpose: v.purpose.label(),
                    needs: v
                        .needs
                        .iter()
                        .map(|n| format!("{}：{}", n.category.label(), n.text))
                        .collect::<Vec<_>>()
                        .join("；"),
                    done_on_spot: v.done_on_spot.clone(),
                })
                .collect(),
            needs: p
                .needs
                .iter()
                .map(|n| NeedView {
                    raised: dated(n.raised_at),
                    category: n.category.label(),
                    text: n.text.clone(),
                    status: n.status.label(),
                    owner: names.person(&n.owner),
                    due: dated(n.due_at),
                })
                .collect(),
            incidents,
            history,
            id,
        })
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

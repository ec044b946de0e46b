//! Each ledger's columns and rows: what [`export`] writes to a [`Sheet`], read through
//! [`RegisterStorage`]'s streams. Every cell is text; times are `YYYY-MM-DD HH:MM` in
//! Asia/Shanghai. ID numbers, phones and the sensitive care tags are masked unless `full`.

use linli_domain::codes::NeedStatus;
use linli_domain::scope::Scope;
use linli_domain::{CareTag, Millis};

use super::columns::{HOUSEHOLD_COLUMNS, TAG_SEPARATOR};
use super::period::time;
use super::{LedgerKind, Sheet};
use crate::board::IncidentRow;
use crate::error::Result;
use crate::register::{self, LedgerFilter, MemberRow};
use crate::storage::RegisterStorage;

/// Names for ids: places and people (the exporter's reference data).
pub struct Labels<'a> {
    pub place: &'a dyn Fn(&str) -> String,
    pub person: &'a dyn Fn(&str) -> String,
}

impl Labels<'_> {
    fn place_opt(&self, id: Option<&str>) -> String {
        id.map(|i| (self.place)(i)).unwrap_or_default()
    }
}

pub const VISIT_COLUMNS: [&str; 12] = [
    "社区",
    "网格",
    "楼栋",
    "单元",
    "房号",
    "户编号",
    "走访时间",
    "走访人",
    "走访目的",
    "诉求",
    "当场办理",
    "需跟进",
];

pub const INCIDENT_COLUMNS: [&str; 27] = [
    "事件编号",
    "社区",
    "网格",
    "楼栋",
    "单元",
    "类别",
    "紧急程度",
    "状态",
    "层级",
    "描述",
    "上报人",
    "上报时间",
    "接收时间",
    "受理时间",
    "办结时间",
    "关闭时间",
    "响应时限",
    "办结时限",
    "响应结果",
    "办结结果",
    "处置人",
    "处置部门",
    "退回次数",
    "重开次数",
    "评价",
    "调解结果",
    "矛盾状态",
];

pub const NEED_COLUMNS: [&str; 16] = [
    "社区",
    "网格",
    "楼栋",
    "单元",
    "房号",
    "户编号",
    "类别",
    "内容",
    "登记人",
    "登记时间",
    "状态",
    "跟进人",
    "期限",
    "办结时间",
    "转事件编号",
    "是否超期",
];

fn tags(t: &[CareTag], full: bool) -> String {
    register::tag_labels(t, full).join(&TAG_SEPARATOR.to_string())
}

fn member_cells(m: Option<&MemberRow>, full: bool) -> [String; 8] {
    let Some(m) = m else {
        return Default::default();
    };
    let masked = |v: &Option<String>, mask: fn(&str) -> String| match v {
        Some(v) if full => v.clone(),
        Some(v) => mask(v),
        None => String::new(),
    };
    [
        m.name.clone(),
        m.relation.label().to_owned(),
        m.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        m.gender.map(|g| g.label().to_owned()).unwrap_or_default(),
        m.residence
            .map(|r| r.label().to_owned())
            .unwrap_or_default(),
        masked(&m.phone, register::mask_phone),
        masked(&m.id_number, register::mask_id_number),
        tags(&m.tags, full),
    ]
}

/// Whether a deadline was met: on time, late, or (not yet done) overdue or pending at `now`.
fn outcome(done: Option<Millis>, due: Option<Millis>, now: Millis) -> &'static str {
    match (done, due) {
        (_, None) => "",
        (Some(d), Some(due)) if d <= due => "按时",
        (Some(_), Some(_)) => "超时",
        (None, Some(due)) if now > due => "已超时未完成",
        (None, Some(_)) => "进行中",
    }
}

fn incident_cells(r: &IncidentRow, l: &Labels<'_>, now: Millis) -> Vec<String> {
    vec![
        r.doc_id.clone(),
        (l.place)(&r.community_id),
        (l.place)(&r.grid_id),
        l.place_opt(r.building_id.as_deref()),
        l.place_opt(r.unit_id.as_deref()),
        r.category.label().to_owned(),
        r.priority.label().to_owned(),
        r.status.label().to_owned(),
        r.level.label().to_owned(),
        r.description.clone(),
        (l.person)(&r.reporter),
        time(Some(r.reported_at)),
        time(r.received_at),
        time(r.accepted_at),
        time(r.resolved_at),
        time(r.closed_at),
        time(r.respond_by),
        time(r.resolve_by),
        outcome(r.accepted_at, r.respond_by, now).to_owned(),
        outcome(r.resolved_at, r.resolve_by, now).to_owned(),
        r.handler
            .as_deref()
            .map(|h| (l.person)(h))
            .unwrap_or_default(),
        r.department
            .map(|d| d.label().to_owned())
            .unwrap_or_default(),
        r.returns.to_string(),
        r.reopens.to_string(),
        r.rating.map(|x| x.label().to_owned()).unwrap_or_default(),
        r.outcome.map(|x| x.label().to_owned()).unwrap_or_default(),
        if r.category != linli_domain::IncidentCategory::Dispute {
            String::new()
        } else if r.is_open_dispute() {
            "未化解".into()
        } else {
            "已化解".into()
        },
    ]
}

/// What to export: which ledger of which scope, filtered how, named how, and whether
/// sensitive fields are written in full; `now` judges deadlines not yet met.
pub struct Export<'a> {
    pub scope: &'a Scope,
    pub kind: LedgerKind,
    pub filter: &'a LedgerFilter,
    pub labels: Labels<'a>,
    pub full: bool,
    pub now: Millis,
}

/// Writes the ledger to `sheet`; returns how many rows (one per member for households; a
/// household without members is one row).
pub fn export(storage: &dyn RegisterStorage, e: &Export<'_>, sheet: &mut dyn Sheet) -> Result<u64> {
    let (scope, f, l, full, now) = (e.scope, e.filter, &e.labels, e.full, e.now);
    let mut rows = 0u64;
    match e.kind {
        LedgerKind::Households => {
            sheet.header(&HOUSEHOLD_COLUMNS)?;
            storage.ledger_households(scope, f, &mut |h, members| {
                let head = [
                    (l.place)(&h.place.community_id),
                    (l.place)(&h.place.grid_id),
                    h.doc_id.clone(),
                    l.place_opt(h.place.building_id.as_deref()),
                    l.place_opt(h.place.unit_id.as_deref()),
                    h.room.clone(),
                    h.residency.label().to_owned(),
                    h.housing.label().to_owned(),
                    tags(&h.tags, full),
                    h.notes.clone(),
                ];
                let mut write = |m: Option<&MemberRow>| {
                    let mut cells: Vec<String> = head.to_vec();
                    cells.extend(member_cells(m, full));
                    rows += 1;
                    sheet.row(&cells)
                };
                if members.is_empty() {
                    write(None)
                } else {
                    members.iter().try_for_each(|m| write(Some(m)))
                }
            })?;
        }
        LedgerKind::Visits => {
            sheet.header(&VISIT_COLUMNS)?;
            rows = storage.ledger_visits(scope, f, &mut |v| {
                sheet.row(&[
                    (l.place)(&v.place.community_id),
                    (l.place)(&v.place.grid_id),
                    l.place_opt(v.place.building_id.as_deref()),
                    l.place_opt(v.place.unit_id.as_deref()),
                    v.room,
                    v.doc_id,
                    time(Some(v.at)),
                    (l.person)(&v.visitor),
                    v.purpose.label().to_owned(),
                    v.needs
                        .iter()
                        .map(|(c, t)| format!("{}：{t}", c.label()))
                        .collect::<Vec<_>>()
                        .join("；"),
                    v.done_on_spot,
                    if v.follow_up { "是" } else { "否" }.to_owned(),
                ])
            })?;
        }
        LedgerKind::Incidents | LedgerKind::Disputes => {
            sheet.header(&INCIDENT_COLUMNS)?;
            rows = storage
                .ledger_incidents(scope, f, &mut |r| sheet.row(&incident_cells(&r, l, now)))?;
        }
        LedgerKind::Needs => {
            sheet.header(&NEED_COLUMNS)?;
            rows = storage.ledger_needs(scope, f, &mut |n| {
                let late = match n.done_at {
                    Some(d) => d > n.due_at,
                    None => now > n.due_at && n.status != NeedStatus::Referred,
                };
                sheet.row(&[
                    (l.place)(&n.place.community_id),
                    (l.place)(&n.place.grid_id),
                    l.place_opt(n.place.building_id.as_deref()),
                    l.place_opt(n.place.unit_id.as_deref()),
                    n.room,
                    n.doc_id,
                    n.category.label().to_owned(),
                    n.text,
                    (l.person)(&n.raised_by),
                    time(Some(n.raised_at)),
                    n.status.label().to_owned(),
                    (l.person)(&n.owner),
                    time(Some(n.due_at)),
                    time(n.done_at),
                    n.incident_id.unwrap_or_default(),
                    if late { "是" } else { "否" }.to_owned(),
                ])
            })?;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        assert_eq!(outcome(Some(5), Some(10), 0), "按时");
        assert_eq!(outcome(Some(11), Some(10), 0), "超时");
        assert_eq!(outcome(None, Some(10), 11), "已超时未完成");
        assert_eq!(outcome(None, Some(10), 9), "进行中");
        assert_eq!(outcome(None, None, 9), "");
    }
}

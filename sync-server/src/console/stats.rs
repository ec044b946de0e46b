//! Statistics (统计) for community and street admins, over their scope and the last weeks
//! (Asia/Shanghai, weeks from Monday): visits per grid per week; incidents per week, by
//! category, status and grid; response and resolution times against their targets; the
//! three rates (响应率, 办结率, 满意率); the open-disputes trend. Read from the register's
//! and the board's rows (never documents); charts are SVG drawn by the template
//! (`charts.rs`); each figure links to the ledger it came from.
//!
//! - 响应率: of incidents whose response is decided (accepted, or its response deadline
//!   passed), those accepted by the deadline.
//! - 办结率: of incidents reported in the period, those resolved (办结).
//! - 满意率: of incidents rated at feedback (回访), those 满意 or 基本满意.
//! - Open disputes at a week's end: reported before it and not closed with an outcome by
//!   then.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone};
use linli_domain::{IncidentCategory, IncidentStatus, Millis, Rating};
use serde::Deserialize;

use super::charts::{self, BarChart, LineChart};
use super::session::Staff;
use super::view::Names;
use super::{Page, blocking, render};
use crate::AppState;
use crate::board::IncidentRow;
use crate::register::LedgerFilter;

const DAY_MS: Millis = 86_400_000;
const WEEK_MS: Millis = 7 * DAY_MS;
pub const DEFAULT_WEEKS: u32 = 12;
pub const MAX_WEEKS: u32 = 52;

fn shanghai() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

fn date_of(ms: Millis) -> Option<NaiveDate> {
    Some(
        DateTime::from_timestamp_millis(ms)?
            .with_timezone(&shanghai()?)
            .date_naive(),
    )
}

/// The last `n` weeks up to and including the current one: each week's Monday 00:00 in
/// Asia/Shanghai, and the end of the current week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weeks {
    pub starts: Vec<Millis>,
    pub end: Millis,
}

impl Weeks {
    pub fn last(n: u32, now: Millis) -> Option<Weeks> {
        let today = date_of(now)?;
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let start = shanghai()?
            .from_local_datetime(&monday.and_hms_opt(0, 0, 0)?)
            .single()?
            .timestamp_millis();
        let n = i64::from(n.clamp(1, MAX_WEEKS));
        let starts = (0..n).map(|i| start - (n - 1 - i) * WEEK_MS).collect();
        Some(Weeks {
            starts,
            end: start + WEEK_MS,
        })
    }

    pub fn start(&self) -> Millis {
        self.starts.first().copied().unwrap_or(self.end)
    }

    /// The week `at` falls in.
    pub fn index(&self, at: Millis) -> Option<usize> {
        if at < self.start() || at >= self.end {
            return None;
        }
        usize::try_from((at - self.start()) / WEEK_MS).ok()
    }

    /// Visits per grid and week from `(grid, week index, count)` rows (as counted in SQL by
    /// `visits_per_week`); rows outside the weeks are dropped.
    pub fn visit_table(&self, rows: Vec<(String, u32, u32)>) -> BTreeMap<String, Vec<u32>> {
        let n = self.starts.len();
        let mut table: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (grid, week, count) in rows {
            if let Some(cell) = table
                .entry(grid)
                .or_insert_with(|| vec![0; n])
                .get_mut(week as usize)
            {
                *cell += count;
            }
        }
        table
    }

    /// `MM-DD` of each Monday.
    pub fn labels(&self) -> Vec<String> {
        self.starts
            .iter()
            .map(|s| date_of(*s).map_or_else(String::new, |d| d.format("%m-%d").to_string()))
            .collect()
    }

    /// The first and last day, as `YYYY-MM-DD` (for the ledger forms).
    pub fn days(&self) -> (String, String) {
        let day = |ms| date_of(ms).map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string());
        (day(self.start()), day(self.end - DAY_MS))
    }
}

/// A share: `num` of `den`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    pub fn text(&self) -> String {
        if self.den == 0 {
            return "—".into();
        }
        format!("{:.1}%", f64::from(self.num) * 100.0 / f64::from(self.den))
    }
}

/// Times against a target: how many are decided, how many met it, the median time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Times {
    pub met: Rate,
    pub median: Option<Millis>,
}

/// Everything the page shows, computed from rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Per grid id: visits per week.
    pub visits: BTreeMap<String, Vec<u32>>,
    pub incidents_per_week: Vec<u32>,
    pub by_category: Vec<(IncidentCategory, u32)>,
    pub by_status: Vec<(IncidentStatus, u32)>,
    pub by_grid: BTreeMap<String, u32>,
    pub response: Times,
    pub resolution: Times,
    pub resolved: Rate,
    pub satisfied: Rate,
    /// Open disputes at the end of each week (now, for the current one).
    pub open_disputes: Vec<u32>,
}

fn median(mut v: Vec<Millis>) -> Option<Millis> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// The figures of `visits` (per grid and week, counted in SQL), `incidents` (reported in
/// the weeks) and `disputes` (every dispute reported before their end), at `now`.
pub fn figures(
    weeks: &Weeks,
    now: Millis,
    visits: BTreeMap<String, Vec<u32>>,
    incidents: &[IncidentRow],
    disputes: &[IncidentRow],
) -> Figures {
    let n = weeks.starts.len();
    let mut f = Figures {
        visits,
        incidents_per_week: vec![0; n],
        ..Figures::default()
    };
    let mut by_category: BTreeMap<IncidentCategory, u32> = BTreeMap::new();
    let mut by_status: BTreeMap<IncidentStatus, u32> = BTreeMap::new();
    let (mut respond_times, mut resolve_times) = (Vec::new(), Vec::new());
    for r in incidents {
        let Some(i) = weeks.index(r.reported_at) else {
            continue;
        };
        f.incidents_per_week[i] += 1;
        *by_category.entry(r.category).or_default() += 1;
        *by_status.entry(r.status).or_default() += 1;
        *f.by_grid.entry(r.grid_id.clone()).or_default() += 1;
        let from = r.received_at.unwrap_or(r.reported_at);
        match (r.accepted_at, r.respond_by) {
            (Some(at), by) => {
                f.response.met.den += 1;
                f.response.met.num += u32::from(by.is_none_or(|b| at <= b));
                respond_times.push(at - from);
            }
            (None, Some(by)) if by < now => f.response.met.den += 1,
            _ => {}
        }
        match (r.resolved_at, r.resolve_by) {
            (Some(at), by) => {
                f.resolution.met.den += 1;
                f.resolution.met.num += u32::from(by.is_none_or(|b| at <= b));
                resolve_times.push(at - from);
            }
            (None, Some(by)) if by < now => f.resolution.met.den += 1,
            _ => {}
        }
        f.resolved.den += 1;
        f.resolved.num += u32::from(r.resolved_at.is_some());
        if let Some(rating) = r.rating {
            f.satisfied.den += 1;
            f.satisfied.num += u32::from(matches!(rating, Rating::Satisfied | Rating::Basic));
        }
    }
    f.response.median = median(respond_times);
    f.resolution.median = median(resolve_times);
    f.by_category = by_category.into_iter().collect();
    f.by_status = by_status.into_iter().collect();
    f.open_disputes = weeks
        .starts
        .iter()
        .map(|s| (s + WEEK_MS).min(now))
        .map(|at| {
            let open = disputes.iter().filter(|d| {
                d.reported_at < at
                    && !(d.outcome.is_some()
                        && d.status == IncidentStatus::Closed
                        && d.closed_at.is_some_and(|c| c <= at))
            });
            u32::try_from(open.count()).unwrap_or(u32::MAX)
        })
        .collect();
    f
}

/// A duration as the page shows it: minutes under two hours, hours under two days, days.
pub fn duration_text(ms: Option<Millis>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 2 * 3_600_000 => format!("{} 分钟", ms / 60_000),
        Some(ms) if ms < 2 * DAY_MS => format!("{:.1} 小时", ms as f64 / 3_600_000.0),
        Some(ms) => format!("{:.1} 天", ms as f64 / DAY_MS as f64),
    }
}

pub struct RateCard {
    pub id: &'static str,
    pub name: &'static str,
    pub value: String,
    pub detail: String,
}

/// A visits row of the table: the grid and its counts per week.
pub struct GridRow {
    pub grid: String,
    pub counts: Vec<u32>,
    pub total: u32,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    staff_name: String,
    is_admin: bool,
    csrf: String,
    weeks: u32,
    from_day: String,
    to_day: String,
    week_labels: Vec<String>,
    visits_chart: LineChart,
    visit_rows: Vec<GridRow>,
    visits_total: u32,
    incidents_chart: LineChart,
    incidents_total: u32,
    by_category: BarChart,
    by_status: BarChart,
    by_grid: BarChart,
    rates: Vec<RateCard>,
    response_median: String,
    resolution_median: String,
    disputes_chart: LineChart,
    open_disputes_now: u32,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    weeks: Option<String>,
}

/// `GET /admin/stats?weeks=N` (N from 1 to 52, 12 unless given).
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<StatsQuery>,
) -> Response {
    if !staff.device.role.is_admin() {
        return Page::Forbidden("只有社区或街道管理员可以查看统计。").into_response();
    }
    let n = match q.weeks.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_WEEKS,
        Some(Ok(n)) if (1..=MAX_WEEKS).contains(&n) => n,
        Some(_) => return Page::Bad("周数须在 1 到 52 之间。").into_response(),
    };
    let storage = state.storage().clone();
    let shown = blocking(move || {
        let now = storage.server().now();
        let weeks = Weeks::last(n, now).ok_or(Page::Internal)?;
        let scope = &staff.device.scope;
        let period = LedgerFilter {
            from: Some(weeks.start()),
            to: Some(weeks.end),
            ..LedgerFilter::default()
        };
        let visits = weeks.visit_table(storage.visits_per_week(scope, weeks.start(), n)?);
        let (mut incidents, mut disputes) = (Vec::new(), Vec::new());
        storage.ledger_incidents(scope, &period, &mut |r| {
            incidents.push(r);
            Ok(())
        })?;
        let all_disputes = LedgerFilter {
            to: Some(weeks.end),
            category: Some(IncidentCategory::Dispute.code().into()),
            ..LedgerFilter::default()
        };
        storage.ledger_incidents(scope, &all_disputes, &mut |r| {
            disputes.push(r);
            Ok(())
        })?;
        let f = figures(&weeks, now, visits, &incidents, &disputes);
        let names = Names::of(storage.as_ref(), &staff.device)?;
        Ok(page_of(
            &staff,
            n,
            &weeks,
            &f,
            &names,
            disputes.iter().filter(|d| d.is_open_dispute()).count(),
        ))
    })
    .await;
    match shown {
        Ok(p) => render(&p),
        Err(e) => e.into_response(),
    }
}

fn page_of(
    staff: &Staff,
    n: u32,
    weeks: &Weeks,
    f: &Figures,
    names: &Names,
    open_now: usize,
) -> StatsPage {
    let labels = weeks.labels();
    let mut visit_rows: Vec<GridRow> = f
        .visits
        .iter()
        .map(|(grid, counts)| GridRow {
            grid: names.place(grid),
            total: counts.iter().sum(),
            counts: counts.clone(),
        })
        .collect();
    visit_rows.sort_by(|a, b| a.grid.cmp(&b.grid));
    let visits_chart = charts::line_chart(
        &labels,
        visit_rows
            .iter()
            .map(|r| (r.grid.clone(), r.counts.clone()))
            .collect(),
    );
    let (from_day, to_day) = weeks.days();
    let rates = vec![
        RateCard {
            id: "response",
            name: "响应率",
            value: f.response.met.text(),
            detail: format!(
                "按时受理 {} / {} 件",
                f.response.met.num, f.response.met.den
            ),
        },
        RateCard {
            id: "resolution",
            name: "办结率",
            value: f.resolved.text(),
            detail: format!("已办结 {} / {} 件", f.resolved.num, f.resolved.den),
        },
        RateCard {
            id: "satisfaction",
            name: "满意率",
            value: f.satisfied.text(),
            detail: format!(
                "满意及基本满意 {} / {} 件",
                f.satisfied.num, f.satisfied.den
            ),
        },
        RateCard {
            id: "on-time",
            name: "按时办结",
            value: f.resolution.met.text(),
            detail: format!(
                "在办结时限内 {} / {} 件",
                f.resolution.met.num, f.resolution.met.den
            ),
        },
    ];
    let mut by_grid: Vec<(String, u32)> = f
        .by_grid
        .iter()
        .map(|(g, c)| (names.place(g), *c))
        .collect();
    by_grid.sort();
    StatsPage {
        staff_name: staff.account.user.name.clone(),
        is_admin: staff.device.role.is_admin(),
        csrf: staff.csrf.clone(),
        weeks: n,
        from_day,
        to_day,
        visits_total: visit_rows.iter().map(|r| r.total).sum(),
        week_labels: labels.clone(),
        visits_chart,
        visit_rows,
        incidents_chart: charts::line_chart(
            &labels,
            vec![("上报事件".into(), f.incidents_per_week.clone())],
        ),
        incidents_total: f.incidents_per_week.iter().sum(),
        by_category: charts::bar_chart(
            f.by_category
                .iter()
                .map(|(c, n)| (c.label().to_owned(), *n))
                .collect(),
        ),
        by_status: charts::bar_chart(
            f.by_status
                .iter()
                .map(|(s, n)| (s.label().to_owned(), *n))
                .collect(),
        ),
        by_grid: charts::bar_chart(by_grid),
        rates,
        response_median: duration_text(f.response.median),
        resolution_median: duration_text(f.resolution.median),
        disputes_chart: charts::line_chart(
            &labels,
            vec![("未化解纠纷".into(), f.open_disputes.clone())],
        ),
        open_disputes_now: u32::try_from(open_now).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_domain::doc::DocPlace;
    use linli_domain::{Level, Priority, VisitPurpose};

    use crate::register::LedgerVisit;

    /// 2026-12-02 (a Wednesday) 11:00 in Shanghai.
    const NOW: Millis = 1_796_180_400_000;
    /// Monday 2026-11-30 00:00 in Shanghai.
    const MONDAY: Millis = 1_795_968_000_000;

    fn incident(at: Millis) -> IncidentRow {
        IncidentRow {
            doc_id: format!("i{at}"),
            community_id: "c".into(),
            grid_id: "g".into(),
            micro_grid_id: None,
            building_id: None,
            unit_id: None,
            category: IncidentCategory::Noise,
            priority: Priority::Normal,
            status: IncidentStatus::Reported,
            open: true,
            level: Level::Grid,
            level_rank: 0,
            handler: None,
            department: None,
            reporter: "u".into(),
            description: String::new(),
            reported_at: at,
            received_at: Some(at),
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
            respond_by: Some(at + 15 * 60_000),
            resolve_by: Some(at + 72 * 3_600_000),
            next_due: None,
            returns: 0,
            reopens: 0,
            rating: None,
            outcome: None,
        }
    }

    #[test]
    fn weeks_start_on_monday_in_shanghai() {
        let w = Weeks::last(2, NOW).unwrap();
        assert_eq!(w.days(), ("2026-11-23".into(), "2026-12-06".into()));
        assert_eq!(w.labels(), ["11-23", "11-30"]);
        assert_eq!(w.starts[1], MONDAY);
        // Sunday 23:59 in Shanghai is the first week; Monday 00:00 the second.
        assert_eq!(w.index(MONDAY - 60_000), Some(0));
        assert_eq!(w.index(MONDAY), Some(1));
        assert_eq!(w.index(w.end), None);
        assert_eq!(w.index(w.start() - 1), None);
    }

    #[test]
    fn rates_and_times_against_targets() {
        let w = Weeks::last(2, NOW).unwrap();
        let t = MONDAY + 3_600_000;
        let mut on_time = incident(t);
        on_time.accepted_at = Some(t + 5 * 60_000);
        on_time.resolved_at = Some(t + 3_600_000);
        on_time.rating = Some(Rating::Satisfied);
        let mut late = incident(t + 1);
        late.accepted_at = Some(t + 1 + 30 * 60_000);
        late.rating = Some(Rating::Unsatisfied);
        // Not accepted and its response deadline passed: a miss.
        let missed = incident(t + 2);
        // Reported just now: its response is not decided yet.
        let fresh = incident(NOW - 60_000);
        let mut visit = LedgerVisit {
            doc_id: "h".into(),
            place: DocPlace {
                grid_id: "g".into(),
                ..DocPlace::default()
            },
            room: "1".into(),
            visit_id: "v".into(),
            visitor: "u".into(),
            at: MONDAY - 1,
            purpose: VisitPurpose::Routine,
            needs: vec![],
            done_on_spot: String::new(),
            follow_up: false,
        };
        let mut visits = vec![visit.clone()];
        visit.at = MONDAY;
        visits.push(visit.clone());
        visits.push(visit);
        let mut dispute = incident(MONDAY - 3 * DAY_MS);
        dispute.category = IncidentCategory::Dispute;
        dispute.status = IncidentStatus::Closed;
        dispute.outcome = Some(linli_domain::DisputeOutcome::Mediated);
        dispute.closed_at = Some(MONDAY + DAY_MS);
        // Counted as the SQL counts them: per grid and week index.
        let mut rows: BTreeMap<(String, u32), u32> = BTreeMap::new();
        for v in &visits {
            if let Some(i) = w.index(v.at) {
                *rows.entry((v.place.grid_id.clone(), i as u32)).or_default() += 1;
            }
        }
        let table = w.visit_table(rows.into_iter().map(|((g, i), c)| (g, i, c)).collect());
        let f = figures(&w, NOW, table, &[on_time, late, missed, fresh], &[dispute]);
        assert_eq!(f.visits["g"], vec![1, 2]);
        assert_eq!(f.incidents_per_week, vec![0, 4]);
        assert_eq!(f.response.met, Rate { num: 1, den: 3 });
        assert_eq!(f.response.met.text(), "33.3%");
        assert_eq!(f.response.median, Some(30 * 60_000));
        assert_eq!(f.resolution.met, Rate { num: 1, den: 1 });
        assert_eq!(f.resolved, Rate { num: 1, den: 4 });
        assert_eq!(f.satisfied, Rate { num: 1, den: 2 });
        // Open at the end of the first week, settled during the second.
        assert_eq!(f.open_disputes, vec![1, 0]);
        assert_eq!(Rate::default().text(), "—");
        assert_eq!(duration_text(Some(30 * 60_000)), "30 分钟");
        assert_eq!(duration_text(Some(3 * DAY_MS)), "3.0 天");
    }
}

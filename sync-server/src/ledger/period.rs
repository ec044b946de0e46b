//! Periods and times as the ledgers show them: Asia/Shanghai (UTC+8, no daylight saving),
//! weeks starting on Monday; times written as text `YYYY-MM-DD HH:MM`.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone};
use linli_domain::Millis;

fn shanghai() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai; empty for none.
pub fn time(ms: Option<Millis>) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    match (DateTime::from_timestamp_millis(ms), shanghai()) {
        (Some(utc), Some(tz)) => utc.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        _ => String::new(),
    }
}

/// A period a ledger form chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    All,
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    /// From the first day to the last, both included.
    Days(NaiveDate, NaiveDate),
}

/// Why a period was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodError {
    /// A date that does not read as `YYYY-MM-DD`, or an end before the start.
    BadDates,
}

impl Period {
    /// The form's period: `""`/`all`, `this_week`, `last_week`, `this_month`, `last_month`,
    /// or `custom` with `from` and `to` as `YYYY-MM-DD`.
    pub fn parse(code: &str, from: &str, to: &str) -> Result<Period, PeriodError> {
        Ok(match code {
            "" | "all" => Period::All,
            "this_week" => Period::ThisWeek,
            "last_week" => Period::LastWeek,
            "this_month" => Period::ThisMonth,
            "last_month" => Period::LastMonth,
            "custom" => {
                let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d");
                let (Ok(a), Ok(b)) = (day(from), day(to)) else {
                    return Err(PeriodError::BadDates);
                };
                if b < a {
                    return Err(PeriodError::BadDates);
                }
                Period::Days(a, b)
            }
            _ => return Err(PeriodError::BadDates),
        })
    }

    /// The period as `[from, to)` in milliseconds, judged at `now`; `(None, None)` for all.
    pub fn bounds(self, now: Millis) -> (Option<Millis>, Option<Millis>) {
        let Some(tz) = shanghai() else {
            return (None, None);
        };
        let Some(today) =
            DateTime::from_timestamp_millis(now).map(|t| t.with_timezone(&tz).date_naive())
        else {
            return (None, None);
        };
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let first = today.with_day(1).unwrap_or(today);
        let (a, b) = match self {
            Period::All => return (None, None),
            Period::ThisWeek => (monday, monday + Duration::days(7)),
            Period::LastWeek => (monday - Duration::days(7), monday),
            Period::ThisMonth => (first, next_month(first)),
            Period::LastMonth => (prev_month(first), first),
            Period::Days(a, b) => (a, b + Duration::days(1)),
        };
        let start = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| tz.from_local_datetime(&t).single())
                .map(|t| t.timestamp_millis())
        };
        (start(a), start(b))
    }
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

fn prev_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 1 {
        (first.year() - 1, 12)
    } else {
        (first.year(), first.month() - 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02 (a Wednesday) 11:00 in Shanghai = 03:00 UTC.
    const NOW: Millis = 1_796_180_400_000;

    #[test]
    fn times_are_shanghai() {
        assert_eq!(time(Some(NOW)), "2026-12-02 11:00");
        assert_eq!(time(None), "");
    }

    #[test]
    fn weeks_start_on_monday_in_shanghai() {
        let (a, b) = Period::ThisWeek.bounds(NOW);
        // Monday 2026-11-30 00:00 +08:00 = 2026-11-29 16:00 UTC.
        assert_eq!(time(a), "2026-11-30 00:00");
        assert_eq!(time(b), "2026-12-07 00:00");
        assert_eq!(b.unwrap() - a.unwrap(), 7 * 86_400_000);
        let (a, _) = Period::LastWeek.bounds(NOW);
        assert_eq!(time(a), "2026-11-23 00:00");
        // Sunday evening in Shanghai (Sunday noon UTC) still belongs to that week.
        let sunday = NOW + 4 * 86_400_000 + 9 * 3_600_000;
        assert_eq!(time(Some(sunday)), "2026-12-06 20:00");
        assert_eq!(
            Period::ThisWeek.bounds(sunday).0,
            a.map(|x| x + 7 * 86_400_000)
        );
    }

    #[test]
    fn months_and_days() {
        let (a, b) = Period::LastMonth.bounds(NOW);
        assert_eq!(
            (time(a), time(b)),
            ("2026-11-01 00:00".into(), "2026-12-01 00:00".into())
        );
        let p = Period::parse("custom", "2026-01-01", "2026-01-01").unwrap();
        let (a, b) = p.bounds(NOW);
        assert_eq!(b.unwrap() - a.unwrap(), 86_400_000);
        assert_eq!(
            Period::parse("custom", "2026-02-01", "2026-01-01"),
            Err(PeriodError::BadDates)
        );
        assert_eq!(
            Period::parse("custom", "2026-13-01", "2026-14-01"),
            Err(PeriodError::BadDates)
        );
        assert_eq!(Period::parse("nope", "", ""), Err(PeriodError::BadDates));
        assert_eq!(Period::parse("", "", "").unwrap().bounds(NOW), (None, None));
    }
}

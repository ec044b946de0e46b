//! Counts for the statistics page (`console/stats.rs`) made in SQL, not by reading every
//! row into Rust: visits per grid and week.

use linli_domain::Millis;
use linli_domain::scope::Scope;
use rusqlite::{Transaction, params};

use super::board;
use super::rows::scope_params;
use crate::error::Result;

/// A week in milliseconds (Asia/Shanghai has no summer time).
const WEEK_MS: Millis = 7 * 86_400_000;

/// The visits in `scope` in the `weeks` weeks from `start` (a Monday 00:00 in Beijing), as
/// `(grid id, week index, visits)` ordered by grid and week: the range is read on
/// `register_visits_by_at`, each visit's household by its key; the week index is
/// `(at - start) / WEEK_MS`, which is `Weeks::index` since every week is 7 × 24 h.
pub(super) fn visits_per_week(
    tx: &Transaction<'_>,
    scope: &Scope,
    start: Millis,
    weeks: u32,
) -> Result<Vec<(String, u32, u32)>> {
    let [c, g, b, u] = scope_params(scope);
    let in_scope = board::in_scope(scope);
    let end = start.saturating_add(i64::from(weeks).saturating_mul(WEEK_MS));
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT h.grid_id, (v.at - ?5) / {WEEK_MS} AS week, COUNT(*) \
         FROM register_visits v JOIN register_households h ON h.doc_id = v.doc_id \
         WHERE {in_scope} AND v.at >= ?5 AND v.at < ?6 \
         GROUP BY h.grid_id, week ORDER BY h.grid_id, week"
    ))?;
    let rows = stmt
        .query_map(params![c, g, b, u, start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

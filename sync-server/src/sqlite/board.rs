//! The response board on SQLite: `incident_index` rows written in the transaction that stores
//! their document ([`put_row`], through `DocWrite::index_incident`), built once for documents
//! stored before version 6 ([`build_index`]), and read by scope and filters in the board
//! order ([`crate::board::board_order`]) with one query for the page and one for the total.

use automerge::AutoCommit;
use linli_domain::scope::Scope;
use linli_domain::{
    Department, DisputeOutcome, IncidentCategory, IncidentStatus, Level, Priority, Rating,
};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::db::SqliteStorage;
use super::rows::{load_stored, meta, scope_params, to_u64};
use super::sync::docs;
use crate::board::{BoardPage, BoardQuery, IncidentRow, level_of_rank};
use crate::error::Result;
use crate::workflow;

/// Every column of `incident_index`, in [`IncidentRow`]'s order.
pub(super) const COLUMNS: &str = "doc_id, community_id, grid_id, micro_grid_id, building_id, unit_id, \
     category, priority, status, open, level, level_rank, handler, department, reporter, \
     description, reported_at, received_at, accepted_at, resolved_at, closed_at, respond_by, \
     resolve_by, next_due, returns, reopens, rating, outcome";

/// The scope test of `rows::IN_SCOPE` (same parameters ?1..?4) with only the levels `scope`
/// grants: a scope of one level (an admin's communities, a worker's grids) then searches that
/// level's index instead of scanning every row.
pub(super) fn in_scope(scope: &Scope) -> String {
    let levels = [
        (scope.communities.is_empty(), "community_id", 1),
        (scope.grids.is_empty(), "grid_id", 2),
        (scope.buildings.is_empty(), "building_id", 3),
        (scope.units.is_empty(), "unit_id", 4),
        (scope.micro_grids.is_empty(), "micro_grid_id", 4),
    ];
    let terms: Vec<String> = levels
        .iter()
        .filter(|(empty, _, _)| !empty)
        .map(|(_, column, n)| format!("{column} IN (SELECT value FROM json_each(?{n}))"))
        .collect();
    if terms.is_empty() {
        "0".into()
    } else {
        format!("({})", terms.join(" OR "))
    }
}

/// The board's filters after the scope's ?1..?4: category ?5, status ?6, grid ?7, handler ?8,
/// department ?9, open only ?10; a department handler's orders (`BoardQuery::orders_of`):
/// their user id ?14 and department ?15. (?11..?13 are the page's; both queries bind all.)
const FILTERS: &str = "(?5 IS NULL OR category = ?5) AND (?6 IS NULL OR status = ?6) \
     AND (?7 IS NULL OR grid_id = ?7) AND (?8 IS NULL OR handler = ?8) \
     AND (?9 IS NULL OR department = ?9) AND (?10 = 0 OR open = 1) \
     AND (?14 IS NULL OR handler = ?14 OR department = ?15)";

/// The board order (see `crate::board`), overdue judged at ?11.
const ORDER: &str = "(next_due IS NOT NULL AND next_due < ?11) DESC, level_rank DESC, \
     next_due IS NULL, next_due, coalesce(received_at, reported_at), doc_id";

/// Puts (or, for `None`, removes) an incident's row.
pub(super) fn put_row(conn: &Connection, doc_id: &str, row: Option<&IncidentRow>) -> Result<()> {
    let Some(r) = row else {
        conn.prepare_cached("DELETE FROM incident_index WHERE doc_id = ?1")?
            .execute([doc_id])?;
        return Ok(());
    };
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO incident_index ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
         ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, \
         ?26, ?27, ?28)"
    ))?
    .execute(params![
        doc_id,
        r.community_id,
        r.grid_id,
        r.micro_grid_id,
        r.building_id,
        r.unit_id,
        r.category.code(),
        r.priority.code(),
        r.status.code(),
        r.open,
        r.level.code(),
        r.level_rank,
        r.handler,
        r.department.map(Department::code),
        r.reporter,
        r.description,
        r.reported_at,
        r.received_at,
        r.accepted_at,
        r.resolved_at,
        r.closed_at,
        r.respond_by,
        r.resolve_by,
        r.next_due,
        r.returns,
        r.reopens,
        r.rating.map(Rating::code),
        r.outcome.map(DisputeOutcome::code),
    ])?;
    Ok(())
}

/// Indexes every stored incident document, once: documents stored before version 6 have no
/// row. Runs in the caller's write transaction; sets `incident_index_built`.
pub(super) fn build_index(tx: &Transaction<'_>) -> Result<()> {
    if meta(tx, "incident_index_built")? != 0 {
        return Ok(());
    }
    let ids: Vec<String> = tx
        .prepare("SELECT doc_id FROM documents WHERE kind = 'incident' ORDER BY doc_id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let writer = docs(tx);
    for id in &ids {
        if let Some(stored) = load_stored(tx, id)? {
            let d = AutoCommit::load(&stored.snapshot)?;
            workflow::index_stored(&writer, id, &d)?;
        }
    }
    tx.execute(
        "UPDATE meta SET value = 1 WHERE key = 'incident_index_built'",
        [],
    )?;
    if !ids.is_empty() {
        tracing::info!(incidents = ids.len(), "incident index built");
    }
    Ok(())
}

fn code<T>(v: Option<T>, i: usize) -> rusqlite::Result<T> {
    v.ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, "unknown code".into()))
}

fn count(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u32> {
    let v: i64 = r.get(i)?;
    Ok(u32::try_from(v).unwrap_or(0))
}

/// A row of [`COLUMNS`].
pub(super) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    let rank = count(r, 11)?;
    let level = Level::from_code(&r.get::<_, String>(10)?);
    Ok(IncidentRow {
        doc_id: r.get(0)?,
        community_id: r.get(1)?,
        grid_id: r.get(2)?,
        micro_grid_id: r.get(3)?,
        building_id: r.get(4)?,
        unit_id: r.get(5)?,
        category: code(IncidentCategory::from_code(&r.get::<_, String>(6)?), 6)?,
        priority: code(Priority::from_code(&r.get::<_, String>(7)?), 7)?,
        status: code(IncidentStatus::from_code(&r.get::<_, String>(8)?), 8)?,
        open: r.get(9)?,
        level: code(level.or(level_of_rank(rank)), 10)?,
        level_rank: rank,
        handler: r.get(12)?,
        department: match r.get::<_, Option<String>>(13)? {
            Some(c) => Some(code(Department::from_code(&c), 13)?),
            None => None,
        },
        reporter: r.get(14)?,
        description: r.get(15)?,
        reported_at: r.get(16)?,
        received_at: r.get(17)?,
        accepted_at: r.get(18)?,
        resolved_at: r.get(19)?,
        closed_at: r.get(20)?,
        respond_by: r.get(21)?,
        resolve_by: r.get(22)?,
        next_due: r.get(23)?,
        returns: count(r, 24)?,
        reopens: count(r, 25)?,
        rating: match r.get::<_, Option<String>>(26)? {
            Some(c) => Some(code(Rating::from_code(&c), 26)?),
            None => None,
        },
        outcome: match r.get::<_, Option<String>>(27)? {
            Some(c) => Some(code(DisputeOutcome::from_code(&c), 27)?),
            None => None,
        },
    })
}

impl SqliteStorage {
    /// One board page: the rows in `scope` that pass `q`'s filters, in the board order, and
    /// how many there are, in one read transaction.
    pub(super) fn board_page(&self, scope: &Scope, q: &BoardQuery) -> Result<BoardPage> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = in_scope(scope);
        let category = q.category.map(IncidentCategory::code);
        let status = q.status.map(IncidentStatus::code);
        let department = q.department.map(Department::code);
        let orders_user = q.orders_of.as_ref().map(|o| o.user_id.as_str());
        let orders_department = q
            .orders_of
            .as_ref()
            .and_then(|o| o.department)
            .map(Department::code);
        self.read(|tx| {
            let rows = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM incident_index WHERE {in_scope} AND {FILTERS} \
                     ORDER BY {ORDER} LIMIT ?12 OFFSET ?13"
                ))?
                .query_map(
                    params![
                        c,
                        g,
                        b,
                        u,
                        category,
                        status,
                        q.grid_id,
                        q.handler,
                        department,
                        q.open_only,
                        q.now,
                        q.limit,
                        q.offset,
                        orders_user,
                        orders_department
                    ],
                    row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total: i64 = tx
                .prepare_cached(&format!(
                    "SELECT count(*) FROM incident_index WHERE {in_scope} AND {FILTERS}"
                ))?
                .query_row(
                    params![
                        c,
                        g,
                        b,
                        u,
                        category,
                        status,
                        q.grid_id,
                        q.handler,
                        department,
                        q.open_only,
                        q.now,
                        q.limit,
                        q.offset,
                        orders_user,
                        orders_department
                    ],
                    |r| r.get(0),
                )?;
            Ok(BoardPage {
                rows,
                total: to_u64(total),
            })
        })
    }

    pub(super) fn index_row(&self, doc_id: &str) -> Result<Option<IncidentRow>> {
        Ok(self
            .reader()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM incident_index WHERE doc_id = ?1"
            ))?
            .query_row([doc_id], row)
            .optional()?)
    }

    /// Per grid of `scope` with disputes: (grid, open, all), by grid.
    pub(super) fn disputes_by_grid(&self, scope: &Scope) -> Result<Vec<(String, u32, u32)>> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = in_scope(scope);
        let r = self.reader();
        let mut stmt = r.prepare_cached(&format!(
            "SELECT grid_id, sum(NOT (status = ?6 AND outcome IS NOT NULL)), count(*) \
             FROM incident_index WHERE category = ?5 AND {in_scope} \
             GROUP BY grid_id ORDER BY grid_id"
        ))?;
        let rows = stmt
            .query_map(
                params![
                    c,
                    g,
                    b,
                    u,
                    IncidentCategory::Dispute.code(),
                    IncidentStatus::Closed.code()
                ],
                |r| Ok((r.get(0)?, count(r, 1)?, count(r, 2)?)),
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

//! What the screens ask, answered from the query tables on the reader connection.
//! Nothing here loads a document.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::db::lock;
use crate::error::{Result, invalid};
use crate::model::*;
use crate::pinyin;
use crate::projection::{NAME_KEY_BITS, parse_tags, spaced};
use crate::store::Store;
use crate::targets::{Deadlines, Targets, deadlines};

const DAY_MS: Millis = 24 * 3600 * 1000;

/// A household as list screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSummary {
    pub id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub room: String,
    /// Building, unit and room, e.g. "3栋2单元301".
    pub address: String,
    pub head_name: Option<String>,
    pub member_count: u32,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub last_visit_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub id: String,
    pub household_id: String,
    pub visitor: String,
    pub at: Millis,
    pub purpose: VisitPurpose,
    pub needs: Vec<NeedCategory>,
    pub follow_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: String,
    pub category: IncidentCategory,
    pub status: IncidentStatus,
    pub priority: Priority,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    pub household_id: Option<String>,
    pub reporter: String,
    /// The document's assignee field (the first release's dispatch).
    pub assignee: Option<String>,
    /// The current handler, from the events: the last dispatch's, else the first accept's.
    pub handler: Option<String>,
    pub department: Option<Department>,
    /// The start of the description.
    pub summary: String,
    /// When the reporter's device recorded it (its clock): the device's record only.
    pub reported_at: Millis,
    /// When the server first received it: every clock starts here. `None` until the
    /// receipt has synced back ("not yet received", 未接收).
    pub received_at: Option<Millis>,
    pub level: Level,
    pub accepted_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    /// How a dispute ended.
    pub outcome: Option<DisputeOutcome>,
}

impl IncidentSummary {
    fn deadlines(&self) -> Option<Deadlines> {
        self.received_at
            .map(|at| deadlines(at, self.priority, &Targets::default()))
    }

    /// When the 15-minute response target runs out, counted from the server's receipt;
    /// `None` until the receipt has synced.
    pub fn response_deadline(&self) -> Option<Millis> {
        self.deadlines().map(|d| d.respond_by)
    }

    /// Received, not accepted, and the response target has passed. Never before receipt.
    pub fn response_overdue(&self, now: Millis) -> bool {
        self.accepted_at.is_none() && self.response_deadline().is_some_and(|by| now > by)
    }

    /// When it must be resolved by, by priority (24 h / 72 h / 7 days / 15 days from the
    /// receipt); `None` until the receipt has synced.
    pub fn resolve_deadline(&self) -> Option<Millis> {
        self.deadlines().map(|d| d.resolve_by)
    }

    /// Received, still open, and the resolution target has passed.
    pub fn resolve_overdue(&self, now: Millis) -> bool {
        self.status.is_open() && self.resolve_deadline().is_some_and(|by| now > by)
    }
}

/// An incident's deadlines by the default targets, from the server's receipt; `None` until
/// the receipt has synced (for screens holding the whole record).
pub fn incident_deadlines(incident: &Incident) -> Option<Deadlines> {
    incident
        .received_at
        .map(|at| deadlines(at, incident.priority, &Targets::default()))
}

/// The disputes of one grid not yet closed with an outcome (矛盾纠纷清零 when 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridDisputes {
    pub grid_id: String,
    pub open: u32,
}

/// Which incidents to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    pub statuses: Vec<IncidentStatus>,
    pub assignee: Option<String>,
    /// A grid, building or community id.
    pub place_id: Option<String>,
}

/// How often households are visited: care-tagged ones sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitPolicy {
    pub every_days: u32,
    pub care_every_days: u32,
}

impl Default for VisitPolicy {
    fn default() -> Self {
        VisitPolicy {
            every_days: 30,
            care_every_days: 7,
        }
    }
}

/// One change to a record: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub hash: String,
    /// The device (Automerge actor, hex).
    pub device: String,
    pub user_id: String,
    pub at: Millis,
    /// e.g. "visit.record", "member.update".
    pub op: String,
    /// Fields the change named, where the operation names them.
    pub fields: Vec<String>,
}

pub(crate) const HOUSEHOLD_COLUMNS: &str = "h.id, h.grid_id, h.building_id, h.unit_id, h.room, h.address, \
     h.head_name, h.member_count, h.residency, h.housing, h.tags, h.last_visit_at";

pub(crate) fn household_row(r: &Row<'_>) -> rusqlite::Result<HouseholdSummary> {
    let code_err = |i: usize| {
        rusqlite::Error::InvalidColumnType(i, "code".into(), rusqlite::types::Type::Text)
    };
    Ok(HouseholdSummary {
        id: r.get(0)?,
        grid_id: r.get(1)?,
        building_id: r.get(2)?,
        unit_id: r.get(3)?,
        room: r.get(4)?,
        address: r.get(5)?,
        head_name: r.get(6)?,
        member_count: r.get(7)?,
        residency: Residency::from_code(&r.get::<_, String>(8)?).ok_or_else(|| code_err(8))?,
        housing: Housing::from_code(&r.get::<_, String>(9)?).ok_or_else(|| code_err(9))?,
        tags: parse_tags(&r.get::<_, String>(10)?),
        last_visit_at: r.get(11)?,
    })
}

const INCIDENT_COLUMNS: &str = "id, category, status, priority, grid_id, building_id, \
     household_id, reporter, assignee, summary, reported_at, accepted_at, resolved_at, closed_at, \
     unit_id, handler, department, received_at, level, outcome";

fn incident_row(r: &Row<'_>) -> rusqlite::Result<IncidentSummary> {
    let code_err = |i: usize| {
        rusqlite::Error::InvalidColumnType(i, "code".into(), rusqlite::types::Type::Text)
    };
    Ok(IncidentSummary {
        id: r.get(0)?,
        category: IncidentCategory::from_code(&r.get::<_, String>(1)?)
            .ok_or_else(|| code_err(1))?,
        status: IncidentStatus::from_code(&r.get::<_, String>(2)?).ok_or_else(|| code_err(2))?,
        priority: Priority::from_code(&r.get::<_, String>(3)?).ok_or_else(|| code_err(3))?,
        grid_id: r.get(4)?,
        building_id: r.get(5)?,
        household_id: r.get(6)?,
        reporter: r.get(7)?,
        assignee: r.get(8)?,
        summary: r.get(9)?,
        reported_at: r.get(10)?,
        accepted_at: r.get(11)?,
        resolved_at: r.get(12)?,
        closed_at: r.get(13)?,
        unit_id: r.get(14)?,
        handler: r.get(15)?,
        department: r
            .get::<_, Option<String>>(16)?
            .and_then(|c| Department::from_code(&c)),
        received_at: r.get(17)?,
        level: Level::from_code(&r.get::<_, String>(18)?).ok_or_else(|| code_err(18))?,
        outcome: r
            .get::<_, Option<String>>(19)?
            .and_then(|c| DisputeOutcome::from_code(&c)),
    })
}

/// Building, unit, then room in natural order (room 9 before room 10).
fn address_order(h: &HouseholdSummary) -> (&Option<String>, &Option<String>, usize, &str) {
    (&h.building_id, &h.unit_id, h.room.len(), &h.room)
}

/// The `households` column that holds places of this place's kind, so a list uses the
/// index for its level instead of testing every level.
fn place_filter(conn: &rusqlite::Connection, place_id: &str) -> Result<&'static str> {
    let kind: Option<String> = conn
        .prepare_cached("SELECT kind FROM places WHERE id = ?1")?
        .query_row([place_id], |r| r.get(0))
        .optional()?;
    Ok(match kind.as_deref().and_then(PlaceKind::from_code) {
        Some(PlaceKind::Community) => "h.community_id = ?1",
        Some(PlaceKind::Grid) => "h.grid_id = ?1",
        Some(PlaceKind::Building) => "h.building_id = ?1",
        Some(PlaceKind::Unit) => "h.unit_id = ?1",
        // The projection has no micro-grid or street column: their buildings and communities
        // are their children in the tree.
        Some(PlaceKind::MicroGrid) => {
            "h.building_id IN (SELECT id FROM places WHERE parent_id = ?1 AND kind = 'building')"
        }
        Some(PlaceKind::Street) => {
            "h.community_id IN (SELECT id FROM places WHERE parent_id = ?1 AND kind = 'community')"
        }
        // Unknown here (the tree not synced yet): households may still name it.
        None => "h.grid_id = ?1",
    })
}

/// An FTS5 string literal for `term` (quotes doubled), matched as a phrase.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// How a household matched a search, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// The query spells a member's whole name.
    Exact,
    /// A member's name starts with the query.
    Prefix,
    /// Elsewhere: a name's middle or end, a phone, the address.
    Elsewhere,
}

/// Rowids of households whose search text (names, phones, address) holds every term, at
/// most `limit`. The longest term drives the query.
fn text_matches(r: &rusqlite::Connection, terms: &[&str], limit: usize) -> Result<Vec<i64>> {
    let mut terms = terms.to_vec();
    terms.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
    let mut matches: Vec<(&'static str, String)> = Vec::new();
    for term in terms {
        if term.chars().count() >= 3 {
            matches.push(("household_search", fts_phrase(term)));
        } else {
            let tokens = spaced(term);
            if !tokens.trim().is_empty() {
                matches.push(("household_search_short", fts_phrase(tokens.trim())));
            }
        }
    }
    let Some(((driver, _), rest)) = matches.split_first() else {
        return Ok(Vec::new());
    };
    let mut sql = format!("SELECT rowid FROM {driver} WHERE {driver} MATCH ?");
    for (table, _) in rest {
        sql.push_str(&format!(
            " AND rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"
        ));
    }
    sql.push_str(&format!(" LIMIT {limit}"));
    let mut stmt = r.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(matches.iter().map(|(_, m)| m)), |row| {
        row.get(0)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// The place and its direct children, by name.
    pub fn places_under(&self, parent_id: Option<&str>) -> Result<Vec<Place>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(
            "SELECT id, kind, parent_id, name FROM places WHERE parent_id IS ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([parent_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, parent_id, name) = row?;
            if let Some(kind) = PlaceKind::from_code(&kind) {
                out.push(Place {
                    id,
                    kind,
                    parent_id,
                    name,
                });
            }
        }
        Ok(out)
    }

    /// Households of a grid, building or unit, ordered by building, unit and room.
    pub fn households_in(&self, place_id: &str) -> Result<Vec<HouseholdSummary>> {
        let r = lock(&self.reader);
        let filter = place_filter(&r, place_id)?;
        let sql = format!(
            "SELECT {HOUSEHOLD_COLUMNS} FROM households h WHERE {filter} \
             ORDER BY h.building_id, h.unit_id, length(h.room), h.room"
        );
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map([place_id], household_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Households of a place carrying `tag`.
    pub fn households_tagged(&self, place_id: &str, tag: CareTag) -> Result<Vec<HouseholdSummary>> {
        let r = lock(&self.reader);
        let filter = place_filter(&r, place_id)?;
        let sql = format!(
            "SELECT {HOUSEHOLD_COLUMNS} FROM household_tags t JOIN households h ON h.id = t.household_id \
             WHERE t.tag = ?2 AND {filter} \
             ORDER BY h.building_id, h.unit_id, length(h.room), h.room"
        );
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![place_id, tag.code()], household_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Households found by a member's name, its pinyin, a phone or the address, at most
    /// `limit` (≤ 500), best first: those where the query spells a member's whole name (the
    /// name, its full pinyin, its initials, or a mix: 张秀英, `zhangxiuying`, `zxy`,
    /// `zhang xy`), then those where a name starts with it (`zhang`, `zx`, 张), then the
    /// rest (a name's middle or end, a phone, the address); by address within each. A query
    /// of letters alone is pinyin (case and spaces ignored); any other query is text whose
    /// whitespace-separated terms must all be found, and only a one-term one can spell a
    /// name. Text terms of 3+ characters use the trigram index, shorter ones (张三, 王) a
    /// per-character index, matched as a phrase; names and pinyin use `household_names`.
    /// Each kind of match stops at `limit` rows, so a common surname costs no more than a
    /// rare one (no sort of every match). Empty or overlong queries are `InvalidInput`.
    pub fn search_households(&self, query: &str, limit: u32) -> Result<Vec<HouseholdSummary>> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() {
            return Err(invalid("query", Reason::Required));
        }
        if terms.len() > 8 || query.chars().count() > 100 {
            return Err(invalid("query", Reason::TooLong));
        }
        let limit = limit.min(500) as usize;
        let letters = pinyin::query_letters(query);
        let name = match (&letters, terms.as_slice()) {
            (Some(l), _) => Some(l.clone()),
            (None, [one]) => Some(one.to_lowercase()),
            _ => None,
        };
        let r = lock(&self.reader);
        let mut found: Vec<(Rank, i64)> = Vec::new();
        let mut seen = HashSet::new();
        let mut add = |rank: Rank, rowids: Vec<i64>, found: &mut Vec<(Rank, i64)>| {
            for rowid in rowids {
                if found.len() < limit && seen.insert(rowid) {
                    found.push((rank, rowid));
                }
            }
        };
        if let Some(name) = &name {
            let upper = format!("{name}\u{10FFFF}");
            let keys = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Vec<i64>> {
                let mut stmt = r.prepare_cached(sql)?;
                let rows = stmt.query_map(args, |row| row.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            };
            let n = limit as i64;
            let exact = keys(
                "SELECT DISTINCT id >> ?1 FROM household_names WHERE whole = 1 AND key = ?2 \
                 LIMIT ?3",
                params![NAME_KEY_BITS, name, n],
            )?;
            add(Rank::Exact, exact, &mut found);
            if found.len() < limit {
                let prefix = keys(
                    "SELECT DISTINCT id >> ?1 FROM household_names \
                     WHERE whole = 1 AND key > ?2 AND key < ?3 LIMIT ?4",
                    params![NAME_KEY_BITS, name, upper, n],
                )?;
                add(Rank::Prefix, prefix, &mut found);
            }
            if letters.is_some() && found.len() < limit {
                // A later syllable starts with the query: `xiuying`, `xy` find 张秀英.
                let middle = keys(
                    "SELECT DISTINCT id >> ?1 FROM household_names \
                     WHERE whole = 0 AND key >= ?2 AND key < ?3 LIMIT ?4",
                    params![NAME_KEY_BITS, name, upper, n],
                )?;
                add(Rank::Elsewhere, middle, &mut found);
            }
        }
        if found.len() < limit {
            let text_terms = match &letters {
                Some(l) => vec![l.as_str()],
                None => terms,
            };
            let text = text_matches(&r, &text_terms, limit)?;
            add(Rank::Elsewhere, text, &mut found);
        }
        // One statement for the page: the rows and their rowids, ranked here.
        let rank_of: HashMap<i64, Rank> = found.iter().map(|&(rank, id)| (id, rank)).collect();
        let ids: Vec<String> = found.iter().map(|(_, id)| id.to_string()).collect();
        let ids = format!("[{}]", ids.join(","));
        let mut stmt = r.prepare_cached(&format!(
            "SELECT {HOUSEHOLD_COLUMNS}, h.rowid FROM households h \
             WHERE h.rowid IN (SELECT value FROM json_each(?1))"
        ))?;
        let rows = stmt.query_map([ids], |row| {
            Ok((row.get::<_, i64>(12)?, household_row(row)?))
        })?;
        let mut out = Vec::with_capacity(found.len());
        for row in rows {
            let (rowid, h) = row?;
            out.push((rank_of.get(&rowid).copied().unwrap_or(Rank::Elsewhere), h));
        }
        out.sort_by(|(ra, a), (rb, b)| (ra, address_order(a)).cmp(&(rb, address_order(b))));
        Ok(out.into_iter().map(|(_, h)| h).collect())
    }

    /// Households of a place due for a visit at `now`: not visited within the policy's days,
    /// care-tagged ones sooner. Never-visited first, then the longest unvisited.
    pub fn households_due(
        &self,
        place_id: &str,
        policy: VisitPolicy,
        now: Millis,
    ) -> Result<Vec<HouseholdSummary>> {
        let r = lock(&self.reader);
        let filter = place_filter(&r, place_id)?;
        let sql = format!(
            "SELECT {HOUSEHOLD_COLUMNS} FROM households h \
             WHERE {filter} \
             AND (h.last_visit_at IS NULL OR h.last_visit_at <= \
                  CASE WHEN h.care THEN ?3 ELSE ?2 END) \
             ORDER BY h.last_visit_at IS NOT NULL, h.last_visit_at, h.room"
        );
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                place_id,
                now - i64::from(policy.every_days) * DAY_MS,
                now - i64::from(policy.care_every_days) * DAY_MS
            ],
            household_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A household's visits, newest first.
    pub fn visits_of(&self, household_id: &str) -> Result<Vec<VisitSummary>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(
            "SELECT id, household_id, visitor, at, purpose, needs, follow_up FROM visits \
             WHERE household_id = ?1 ORDER BY at DESC, id DESC",
        )?;
        let rows = stmt.query_map([household_id], |row| {
            Ok(VisitSummary {
                id: row.get(0)?,
                household_id: row.get(1)?,
                visitor: row.get(2)?,
                at: row.get(3)?,
                purpose: VisitPurpose::from_code(&row.get::<_, String>(4)?)
                    .unwrap_or(VisitPurpose::Other),
                needs: row
                    .get::<_, String>(5)?
                    .split(',')
                    .filter_map(NeedCategory::from_code)
                    .collect(),
                follow_up: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Incidents matching the filter, newest first.
    pub fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentSummary>> {
        let mut clauses = vec!["1".to_owned()];
        let mut args: Vec<String> = Vec::new();
        if !filter.statuses.is_empty() {
            let marks = vec!["?"; filter.statuses.len()].join(",");
            clauses.push(format!("status IN ({marks})"));
            args.extend(filter.statuses.iter().map(|s| s.code().to_owned()));
        }
        if let Some(a) = &filter.assignee {
            clauses.push("assignee = ?".into());
            args.push(a.clone());
        }
        if let Some(p) = &filter.place_id {
            // A micro-grid's incidents are those of its buildings (no micro-grid column).
            clauses.push(
                "(grid_id = ? OR building_id = ? OR unit_id = ? OR community_id = ? \
                 OR building_id IN (SELECT id FROM places WHERE parent_id = ? AND kind = 'building'))"
                    .into(),
            );
            args.extend([p.clone(), p.clone(), p.clone(), p.clone(), p.clone()]);
        }
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {} ORDER BY reported_at DESC, id",
            clauses.join(" AND ")
        );
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), incident_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Incidents still not accepted past the 15-minute response target counted from the
    /// server's receipt, oldest receipt first. One not yet received is never overdue.
    pub fn overdue_incidents(&self, now: Millis) -> Result<Vec<IncidentSummary>> {
        let r = lock(&self.reader);
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status = 'reported' \
             AND received_at IS NOT NULL AND received_at < ?1 ORDER BY received_at, id"
        );
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map([now - RESPONSE_TARGET_MS], incident_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Open disputes per grid: every dispute not closed with an outcome, for each grid of
    /// the place tree (and any other grid a dispute names), by grid id. A grid at 0 has
    /// cleared its disputes (矛盾纠纷清零).
    pub fn open_disputes_by_grid(&self) -> Result<Vec<GridDisputes>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(
            "SELECT g.id, (SELECT count(*) FROM incidents i WHERE i.grid_id = g.id \
               AND i.category = 'dispute' AND NOT (i.status = 'closed' AND i.outcome IS NOT NULL)) \
             FROM (SELECT id FROM places WHERE kind = 'grid' \
                   UNION SELECT grid_id FROM incidents WHERE category = 'dispute') g \
             ORDER BY g.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(GridDisputes {
                grid_id: r.get(0)?,
                open: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Who changed a record, when, and what, oldest first.
    pub fn history(&self, doc_id: &str) -> Result<Vec<HistoryEntry>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(
            "SELECT hash, device, user_id, at, op, fields FROM change_history \
             WHERE doc_id = ?1 ORDER BY at, hash",
        )?;
        let rows = stmt.query_map([doc_id], |row| {
            Ok(HistoryEntry {
                hash: row.get(0)?,
                device: row.get(1)?,
                user_id: row.get(2)?,
                at: row.get(3)?,
                op: row.get(4)?,
                fields: row
                    .get::<_, String>(5)?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

//! The register on SQLite: the `register_*` rows of a household document written in the
//! transaction that stores it ([`project_stored`], from `sync.rs`'s store), built once for
//! documents stored before version 7 ([`build_register`]), the search and ledger reads, and
//! the export log.

use automerge::AutoCommit;
use linli_domain::codes::NeedStatus;
use linli_domain::doc::{DocKind, DocPlace};
use linli_domain::scope::Scope;
use linli_domain::{
    CareTag, Gender, IncidentCategory, Millis, NeedCategory, PersonResidence, VisitPurpose,
};
use rusqlite::{Connection, Transaction, params, params_from_iter};

use super::db::SqliteStorage;
use super::register_rows::{code, household, member, place_at};
use super::rows::{json_ids, load_stored, meta, scope_params, to_i64, to_u64};
use super::{board, counts};
use crate::board::IncidentRow;
use crate::error::Result;
use crate::register::{
    self, ExportRecord, HouseholdRow, LedgerFilter, LedgerNeed, LedgerVisit, MemberRow,
    RegisterPage, RegisterQuery, needs_of, needs_text, tag_codes,
};
use crate::storage::{RegisterStorage, now_ms};

/// The columns of `register_households`, in [`household`]'s order.
const HOUSEHOLD: &str = "h.doc_id, h.community_id, h.grid_id, h.micro_grid_id, h.building_id, \
     h.unit_id, h.room, h.residency, h.housing, h.tags, h.notes, h.created_at, h.updated_at, \
     h.moved_out";
/// The columns of `register_members`, in [`member`]'s order.
const MEMBER: &str = "m.member_id, m.name, m.relation, m.birth_year, m.gender, m.residence, \
     m.phone, m.id_number, m.tags, m.moved_out_at";
/// A place filter on ?5 (any level).
const AT_PLACE: &str = "(?5 IS NULL OR h.community_id = ?5 OR h.grid_id = ?5 \
     OR h.micro_grid_id = ?5 OR h.building_id = ?5 OR h.unit_id = ?5)";
/// The order of households: by place, then room.
const ORDER: &str = "h.community_id, h.grid_id, h.building_id, h.unit_id, h.room, h.doc_id";

/// Projects a stored document: a household's rows replaced, an incident's household link
/// put. Called in the transaction that stores the document.
pub(super) fn project_stored(
    tx: &Connection,
    doc_id: &str,
    kind: DocKind,
    place: &DocPlace,
    snapshot: &[u8],
    updated_at: i64,
) -> Result<()> {
    let d = AutoCommit::load(snapshot)?;
    match kind {
        DocKind::Household => put_household(
            tx,
            doc_id,
            // A merged household keeps its document but leaves the register.
            register::project(doc_id, &d, place, updated_at)
                .filter(|p| p.merged_into.is_none())
                .as_ref(),
        ),
        DocKind::Incident => {
            match register::incident_household(&d) {
                Some(h) => tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO register_incidents (doc_id, household_id) \
                         VALUES (?1, ?2)",
                    )?
                    .execute(params![doc_id, h])?,
                None => tx
                    .prepare_cached("DELETE FROM register_incidents WHERE doc_id = ?1")?
                    .execute([doc_id])?,
            };
            Ok(())
        }
    }
}

/// Replaces a household's rows (`None`: removes them, for a document that does not read as
/// a household).
fn put_household(tx: &Connection, doc_id: &str, p: Option<&register::Projection>) -> Result<()> {
    for table in [
        "register_members",
        "register_names",
        "register_visits",
        "register_needs",
        "register_households",
    ] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE doc_id = ?1"))?
            .execute([doc_id])?;
    }
    let Some(p) = p else {
        return Ok(());
    };
    let h = &p.household;
    tx.prepare_cached(
        "INSERT INTO register_households (doc_id, community_id, grid_id, micro_grid_id, \
         building_id, unit_id, room, residency, housing, tags, notes, created_at, updated_at, \
         moved_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        doc_id,
        h.place.community_id,
        h.place.grid_id,
        h.place.micro_grid_id,
        h.place.building_id,
        h.place.unit_id,
        h.room,
        h.residency.code(),
        h.housing.code(),
        tag_codes(&h.tags),
        h.notes,
        h.created_at,
        h.updated_at,
        h.moved_out,
    ])?;
    let mut members = tx.prepare_cached(
        "INSERT OR REPLACE INTO register_members (doc_id, member_id, position, name, relation, \
         birth_year, gender, residence, phone, id_number, tags, moved_out_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (i, m) in p.members.iter().enumerate() {
        members.execute(params![
            doc_id,
            m.member_id,
            i64::try_from(i).unwrap_or(i64::MAX),
            m.name,
            m.relation.code(),
            m.birth_year,
            m.gender.map(Gender::code),
            m.residence.map(PersonResidence::code),
            m.phone,
            m.id_number,
            tag_codes(&m.tags),
            m.moved_out_at,
        ])?;
    }
    let mut names =
        tx.prepare_cached("INSERT INTO register_names (doc_id, whole, key) VALUES (?1, ?2, ?3)")?;
    for k in &p.names {
        names.execute(params![doc_id, k.whole, k.key])?;
    }
    let mut visits = tx.prepare_cached(
        "INSERT OR REPLACE INTO register_visits (doc_id, visit_id, visitor, at, purpose, needs, \
         done_on_spot, follow_up) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for v in &p.visits {
        visits.execute(params![
            doc_id,
            v.id,
            v.visitor,
            v.at,
            v.purpose.code(),
            needs_text(&v.needs),
            v.done_on_spot,
            v.follow_up,
        ])?;
    }
    let mut needs = tx.prepare_cached(
        "INSERT OR REPLACE INTO register_needs (doc_id, need_id, category, text, raised_by, \
         raised_at, status, owner, due_at, done_at, incident_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for n in &p.needs {
        needs.execute(params![
            doc_id,
            n.id,
            n.category.code(),
            n.text,
            n.raised_by,
            n.raised_at,
            n.status.code(),
            n.owner,
            n.due_at,
            n.done_at,
            n.incident_id,
        ])?;
    }
    Ok(())
}

/// Projects every stored document, once: documents stored before version 7 have no rows.
/// Runs in the caller's write transaction; sets `register_built`.
pub(super) fn build_register(tx: &Transaction<'_>) -> Result<()> {
    if meta(tx, "register_built")? != 0 {
        return Ok(());
    }
    let docs: Vec<(String, Option<i64>)> = tx
        .prepare(
            "SELECT d.doc_id, (SELECT max(received_at) FROM changes c WHERE c.doc_id = d.doc_id) \
             FROM documents d ORDER BY d.doc_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, received) in &docs {
        if let Some(stored) = load_stored(tx, id)? {
            // Compacted away: the time of the stored snapshot is unknown; use now.
            let at = received.unwrap_or_else(now_ms);
            project_stored(tx, id, stored.kind, &stored.place, &stored.snapshot, at)?;
        }
    }
    tx.execute("UPDATE meta SET value = 1 WHERE key = 'register_built'", [])?;
    if !docs.is_empty() {
        tracing::info!(documents = docs.len(), "register built");
    }
    Ok(())
}

/// The search's condition on `h`, its terms bound from `?first` on.
fn search_sql(terms: usize, first: usize) -> String {
    (0..terms)
        .map(|i| {
            let t = first + i;
            format!(
                "(h.doc_id IN (SELECT doc_id FROM register_names WHERE key >= ?{t} \
                 AND key < ?{t} || char(1114111) AND (whole = 1 OR ?7)) \
                 OR h.doc_id IN (SELECT doc_id FROM register_members WHERE moved_out_at IS NULL \
                 AND instr(lower(name), ?{t}) > 0) \
                 OR instr(lower(coalesce((SELECT name FROM places WHERE id = h.building_id), '') \
                 || coalesce((SELECT name FROM places WHERE id = h.unit_id), '') || h.room), \
                 ?{t}) > 0)"
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Whether a code-joined tag column holds `code` (SQL on a column expression).
fn has_tag(column: &str, param: &str) -> String {
    format!("instr(',' || {column} || ',', ',' || {param} || ',') > 0")
}

impl RegisterStorage for SqliteStorage {
    fn register_page(&self, scope: &Scope, q: &RegisterQuery) -> Result<RegisterPage> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = board::in_scope(scope);
        let (terms, letters) = match &q.search {
            Some(s) => (s.terms.clone(), s.letters.is_some()),
            None => (Vec::new(), false),
        };
        let search = if terms.is_empty() {
            "1".to_owned()
        } else {
            search_sql(terms.len(), 10)
        };
        let limit = q.limit.min(register::MAX_PAGE);
        let mut args: Vec<rusqlite::types::Value> = vec![
            c.into(),
            g.into(),
            b.into(),
            u.into(),
            q.place_id.clone().into(),
            q.moved_out.into(),
            letters.into(),
            i64::from(limit).into(),
            i64::from(q.offset).into(),
        ];
        args.extend(terms.into_iter().map(rusqlite::types::Value::from));
        let filter = format!(
            "FROM register_households h WHERE {in_scope} AND {AT_PLACE} \
             AND (?6 OR h.moved_out = 0) AND {search}"
        );
        self.read(|tx| {
            let households: Vec<HouseholdRow> = tx
                .prepare(&format!(
                    "SELECT {HOUSEHOLD} {filter} ORDER BY {ORDER} LIMIT ?8 OFFSET ?9"
                ))?
                .query_map(params_from_iter(args.iter()), household)?
                .collect::<rusqlite::Result<_>>()?;
            let total: i64 = tx
                .prepare(&format!(
                    "SELECT count(*) {filter} AND ?8 IS NOT NULL AND ?9 IS NOT NULL"
                ))?
                .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
            let ids = json_ids(households.iter().map(|h| &h.doc_id));
            let mut members: Vec<(String, MemberRow)> = tx
                .prepare_cached(&format!(
                    "SELECT m.doc_id, {MEMBER} FROM register_members m \
                     WHERE m.doc_id IN (SELECT value FROM json_each(?1)) \
                     AND m.moved_out_at IS NULL ORDER BY m.doc_id, m.position"
                ))?
                .query_map([ids], |r| Ok((r.get(0)?, member(r, 1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let households = households
                .into_iter()
                .map(|h| {
                    let (mine, rest): (Vec<_>, Vec<_>) =
                        members.drain(..).partition(|(id, _)| *id == h.doc_id);
                    members = rest;
                    (h, mine.into_iter().map(|(_, m)| m).collect())
                })
                .collect();
            Ok(RegisterPage {
                households,
                total: to_u64(total),
            })
        })
    }

    fn household_document(&self, doc_id: &str) -> Result<Option<(DocPlace, Vec<u8>)>> {
        Ok(load_stored(&self.reader(), doc_id)?
            .filter(|d| d.kind == DocKind::Household)
            .map(|d| (d.place, d.snapshot)))
    }

    fn household_incidents(&self, household_id: &str) -> Result<Vec<IncidentRow>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(&format!(
            "SELECT {} FROM incident_index WHERE doc_id IN \
             (SELECT doc_id FROM register_incidents WHERE household_id = ?1) \
             ORDER BY reported_at DESC, doc_id",
            board::COLUMNS
        ))?;
        let rows = stmt
            .query_map([household_id], board::row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn ledger_households(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(HouseholdRow, Vec<MemberRow>) -> Result<()>,
    ) -> Result<u64> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = board::in_scope(scope);
        let tag = f
            .category
            .as_deref()
            .and_then(CareTag::from_code)
            .map(CareTag::code);
        let on_household = has_tag("h.tags", "?6");
        let on_member = has_tag("t.tags", "?6");
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {HOUSEHOLD}, {MEMBER} FROM register_households h \
                 LEFT JOIN register_members m ON m.doc_id = h.doc_id AND m.moved_out_at IS NULL \
                 WHERE {in_scope} AND {AT_PLACE} AND h.moved_out = 0 \
                 AND (?6 IS NULL OR {on_household} OR EXISTS (SELECT 1 FROM register_members t \
                 WHERE t.doc_id = h.doc_id AND t.moved_out_at IS NULL AND {on_member})) \
                 ORDER BY {ORDER}, m.position"
            ))?;
            let mut rows = stmt.query(params![c, g, b, u, f.place_id, tag])?;
            let mut count = 0u64;
            let mut current: Option<(HouseholdRow, Vec<MemberRow>)> = None;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                if current.as_ref().is_none_or(|(h, _)| h.doc_id != id) {
                    if let Some((h, ms)) = current.take() {
                        each(h, ms)?;
                        count += 1;
                    }
                    current = Some((household(r)?, Vec::new()));
                }
                if r.get::<_, Option<String>>(14)?.is_some()
                    && let Some((_, ms)) = current.as_mut()
                {
                    ms.push(member(r, 14)?);
                }
            }
            if let Some((h, ms)) = current.take() {
                each(h, ms)?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn ledger_visits(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(LedgerVisit) -> Result<()>,
    ) -> Result<u64> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = board::in_scope(scope);
        let purpose = f
            .category
            .as_deref()
            .and_then(VisitPurpose::from_code)
            .map(VisitPurpose::code);
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT h.doc_id, h.community_id, h.grid_id, h.micro_grid_id, h.building_id, \
                 h.unit_id, h.room, v.visit_id, v.visitor, v.at, v.purpose, v.needs, \
                 v.done_on_spot, v.follow_up FROM register_visits v \
                 JOIN register_households h ON h.doc_id = v.doc_id \
                 WHERE {in_scope} AND {AT_PLACE} AND (?6 IS NULL OR v.purpose = ?6) \
                 AND (?7 IS NULL OR v.at >= ?7) AND (?8 IS NULL OR v.at < ?8) \
                 ORDER BY v.at, v.doc_id, v.visit_id"
            ))?;
            let mut rows = stmt.query(params![c, g, b, u, f.place_id, purpose, f.from, f.to])?;
            let mut count = 0u64;
            while let Some(r) = rows.next()? {
                each(LedgerVisit {
                    doc_id: r.get(0)?,
                    place: place_at(r, 1)?,
                    room: r.get(6)?,
                    visit_id: r.get(7)?,
                    visitor: r.get(8)?,
                    at: r.get(9)?,
                    purpose: VisitPurpose::from_code(&r.get::<_, String>(10)?)
                        .unwrap_or(VisitPurpose::Other),
                    needs: needs_of(&r.get::<_, String>(11)?),
                    done_on_spot: r.get(12)?,
                    follow_up: r.get(13)?,
                })?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn visits_per_week(
        &self,
        scope: &Scope,
        start: Millis,
        weeks: u32,
    ) -> Result<Vec<(String, u32, u32)>> {
        self.read(|tx| counts::visits_per_week(tx, scope, start, weeks))
    }

    fn ledger_needs(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(LedgerNeed) -> Result<()>,
    ) -> Result<u64> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = board::in_scope(scope);
        let category = f
            .category
            .as_deref()
            .and_then(NeedCategory::from_code)
            .map(NeedCategory::code);
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT h.doc_id, h.community_id, h.grid_id, h.micro_grid_id, h.building_id, \
                 h.unit_id, h.room, n.need_id, n.category, n.text, n.raised_by, n.raised_at, \
                 n.status, n.owner, n.due_at, n.done_at, n.incident_id FROM register_needs n \
                 JOIN register_households h ON h.doc_id = n.doc_id \
                 WHERE {in_scope} AND {AT_PLACE} AND (?6 IS NULL OR n.category = ?6) \
                 AND (?7 IS NULL OR n.raised_at >= ?7) AND (?8 IS NULL OR n.raised_at < ?8) \
                 ORDER BY n.raised_at, n.doc_id, n.need_id"
            ))?;
            let mut rows = stmt.query(params![c, g, b, u, f.place_id, category, f.from, f.to])?;
            let mut count = 0u64;
            while let Some(r) = rows.next()? {
                each(LedgerNeed {
                    doc_id: r.get(0)?,
                    place: place_at(r, 1)?,
                    room: r.get(6)?,
                    need_id: r.get(7)?,
                    category: NeedCategory::from_code(&r.get::<_, String>(8)?)
                        .unwrap_or(NeedCategory::Other),
                    text: r.get(9)?,
                    raised_by: r.get(10)?,
                    raised_at: r.get(11)?,
                    status: code(r, 12, NeedStatus::from_code)?,
                    owner: r.get(13)?,
                    due_at: r.get(14)?,
                    done_at: r.get(15)?,
                    incident_id: r.get(16)?,
                })?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn ledger_incidents(
        &self,
        scope: &Scope,
        f: &LedgerFilter,
        each: &mut dyn FnMut(IncidentRow) -> Result<()>,
    ) -> Result<u64> {
        let [c, g, b, u] = scope_params(scope);
        let in_scope = board::in_scope(scope);
        let category = f
            .category
            .as_deref()
            .and_then(IncidentCategory::from_code)
            .map(IncidentCategory::code);
        let at_place = AT_PLACE.replace("h.", "");
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {} FROM incident_index WHERE {in_scope} AND {at_place} \
                 AND (?6 IS NULL OR category = ?6) AND (?7 IS NULL OR reported_at >= ?7) \
                 AND (?8 IS NULL OR reported_at < ?8) ORDER BY reported_at, doc_id",
                board::COLUMNS
            ))?;
            let mut rows = stmt.query(params![c, g, b, u, f.place_id, category, f.from, f.to])?;
            let mut count = 0u64;
            while let Some(r) = rows.next()? {
                each(board::row(r)?)?;
                count += 1;
            }
            Ok(count)
        })
    }

    fn record_export(&self, e: &ExportRecord) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO ledger_exports (user_id, communities, ledger, format, filters, \
                 rows, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    e.user_id,
                    json_ids(&e.communities),
                    e.ledger,
                    e.format,
                    e.filters,
                    to_i64(e.rows),
                    e.at
                ],
            )?;
            Ok(())
        })
    }

    fn exports(&self, communities: &[String], limit: u32) -> Result<Vec<ExportRecord>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(
            "SELECT user_id, communities, ledger, format, filters, rows, at FROM ledger_exports e \
             WHERE EXISTS (SELECT 1 FROM json_each(e.communities) \
             WHERE value IN (SELECT value FROM json_each(?1))) \
             ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![json_ids(communities), limit], |r| {
                let communities: String = r.get(1)?;
                Ok(ExportRecord {
                    user_id: r.get(0)?,
                    communities: serde_json::from_str(&communities).unwrap_or_default(),
                    ledger: r.get(2)?,
                    format: r.get(3)?,
                    filters: r.get(4)?,
                    rows: to_u64(r.get(5)?),
                    at: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

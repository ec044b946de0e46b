//! Row conversions and the small queries both halves of the SQLite storage share: numbers,
//! codes, `meta`, the log's sequence, places and stored documents, and the scope filter.

use linli_domain::doc::{DocKind, DocPlace};
use linli_domain::protocol::Role;
use linli_domain::scope::Scope;
use linli_domain::{Place, PlaceKind};
use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::merge::StoredDoc;

/// The scope test on a table with place columns; parameters ?1..?4 are JSON arrays of
/// community, grid, building, and unit and micro-grid ids (see [`scope_params`]). Units and
/// micro-grids share ?4 so every query keeps its numbering: place ids are unique across
/// kinds, so a unit id never matches a micro-grid column nor the other way round.
pub(super) const IN_SCOPE: &str = "(community_id IN (SELECT value FROM json_each(?1)) \
     OR grid_id IN (SELECT value FROM json_each(?2)) \
     OR building_id IN (SELECT value FROM json_each(?3)) \
     OR unit_id IN (SELECT value FROM json_each(?4)) \
     OR micro_grid_id IN (SELECT value FROM json_each(?4)))";

pub(super) fn json_ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    serde_json::Value::from(ids.into_iter().map(String::as_str).collect::<Vec<_>>()).to_string()
}

/// The scope as the four JSON parameters of [`IN_SCOPE`] (units and micro-grids in one).
pub(super) fn scope_params(s: &Scope) -> [String; 4] {
    [
        json_ids(&s.communities),
        json_ids(&s.grids),
        json_ids(&s.buildings),
        json_ids(s.units.iter().chain(&s.micro_grids)),
    ]
}

pub(super) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The highest change sequence ever handed out (rows may since have been compacted away).
pub(super) fn max_seq(conn: &Connection) -> Result<u64> {
    let seq: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(to_u64(seq))
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<u64> {
    let v: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))?;
    Ok(to_u64(v))
}

pub(super) fn place_kind(code: &str) -> rusqlite::Result<PlaceKind> {
    PlaceKind::from_code(code).ok_or_else(|| bad_code("place kind"))
}

pub(super) fn role(code: &str) -> rusqlite::Result<Role> {
    Role::from_code(code).ok_or_else(|| bad_code("role"))
}

fn bad_code(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

pub(super) fn load_place(conn: &Connection, id: &str) -> Result<Option<Place>> {
    Ok(conn
        .prepare_cached("SELECT id, kind, parent_id, name FROM places WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(Place {
                id: r.get(0)?,
                kind: place_kind(&r.get::<_, String>(1)?)?,
                parent_id: r.get(2)?,
                name: r.get(3)?,
            })
        })
        .optional()?)
}

pub(super) fn load_stored(conn: &Connection, doc_id: &str) -> Result<Option<StoredDoc>> {
    Ok(conn
        .prepare_cached(
            "SELECT kind, community_id, grid_id, building_id, unit_id, snapshot, micro_grid_id \
             FROM documents WHERE doc_id = ?1",
        )?
        .query_row([doc_id], |r| {
            let kind: String = r.get(0)?;
            Ok(StoredDoc {
                kind: DocKind::from_code(&kind).ok_or_else(|| bad_code("document kind"))?,
                place: DocPlace {
                    community_id: r.get(1)?,
                    grid_id: r.get(2)?,
                    micro_grid_id: r.get(6)?,
                    building_id: r.get(3)?,
                    unit_id: r.get(4)?,
                },
                snapshot: r.get(5)?,
            })
        })
        .optional()?)
}

/// A user's scope (their grants, a street's expanded to its communities) and the
/// communities whose place tree and people they receive: those of every grant, and
/// `own_community`, theirs.
pub(super) fn user_scope(
    conn: &Connection,
    user_id: &str,
    own_community: String,
) -> Result<(Scope, Vec<String>)> {
    let mut scope = Scope::default();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT p.id, p.kind FROM user_scopes s JOIN places p ON p.id = s.place_id \
             WHERE s.user_id = ?1 \
             UNION \
             SELECT c.id, c.kind FROM user_scopes s \
             JOIN places st ON st.id = s.place_id AND st.kind = 'street' \
             JOIN places c ON c.parent_id = st.id AND c.kind = 'community' \
             WHERE s.user_id = ?1",
        )?;
        let mut rows = stmt.query([user_id])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(1)?;
            scope.grant(place_kind(&kind)?, row.get::<_, String>(0)?);
        }
    }
    let mut communities: Vec<String> = conn
        .prepare_cached(
            "WITH RECURSIVE up (id, kind, parent_id) AS ( \
               SELECT p.id, p.kind, p.parent_id FROM user_scopes s \
               JOIN places p ON p.id = s.place_id WHERE s.user_id = ?1 \
               UNION \
               SELECT c.id, c.kind, c.parent_id FROM user_scopes s \
               JOIN places st ON st.id = s.place_id AND st.kind = 'street' \
               JOIN places c ON c.parent_id = st.id AND c.kind = 'community' \
               WHERE s.user_id = ?1 \
               UNION \
               SELECT p.id, p.kind, p.parent_id FROM places p JOIN up ON p.id = up.parent_id) \
             SELECT id FROM up WHERE kind = 'community'",
        )?
        .query_map([user_id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    communities.push(own_community);
    communities.sort();
    communities.dedup();
    Ok((scope, communities))
}

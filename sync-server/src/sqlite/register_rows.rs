//! Decoding the register's rows: codes, places, a household and a member as
//! `sqlite/register.rs` selects them (`HOUSEHOLD`, `MEMBER`).

use linli_domain::doc::DocPlace;
use linli_domain::{Gender, Housing, PersonResidence, Relation, Residency};
use rusqlite::types::Type;

use crate::register::{HouseholdRow, MemberRow, tags_of};

pub(super) fn bad(i: usize) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, Type::Text, "unknown code".into())
}

pub(super) fn code<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    of: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    of(&r.get::<_, String>(i)?).ok_or_else(|| bad(i))
}

pub(super) fn opt_code<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    of: fn(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    Ok(r.get::<_, Option<String>>(i)?.and_then(|c| of(&c)))
}

pub(super) fn place_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<DocPlace> {
    Ok(DocPlace {
        community_id: r.get(at)?,
        grid_id: r.get(at + 1)?,
        micro_grid_id: r.get(at + 2)?,
        building_id: r.get(at + 3)?,
        unit_id: r.get(at + 4)?,
    })
}

/// A row of `HOUSEHOLD`.
pub(super) fn household(r: &rusqlite::Row<'_>) -> rusqlite::Result<HouseholdRow> {
    Ok(HouseholdRow {
        doc_id: r.get(0)?,
        place: place_at(r, 1)?,
        room: r.get(6)?,
        residency: code(r, 7, Residency::from_code)?,
        housing: code(r, 8, Housing::from_code)?,
        tags: tags_of(&r.get::<_, String>(9)?),
        notes: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        moved_out: r.get(13)?,
    })
}

/// A row of `MEMBER` starting at column `at`.
pub(super) fn member(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<MemberRow> {
    Ok(MemberRow {
        member_id: r.get(at)?,
        name: r.get(at + 1)?,
        relation: Relation::from_code(&r.get::<_, String>(at + 2)?).unwrap_or(Relation::Other),
        birth_year: r.get(at + 3)?,
        gender: opt_code(r, at + 4, Gender::from_code)?,
        residence: opt_code(r, at + 5, PersonResidence::from_code)?,
        phone: r.get(at + 6)?,
        id_number: r.get(at + 7)?,
        tags: tags_of(&r.get::<_, String>(at + 8)?),
        moved_out_at: r.get(at + 9)?,
    })
}

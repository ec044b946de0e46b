//! Keeping the query tables in step with the documents.
//!
//! Called inside the write transaction that appended the change, so tables and document
//! bytes commit together. Local writes that know what they touched project only that
//! (a visit adds one row); imports project the whole record.

use automerge::AutoCommit;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::doc;
use crate::error::Result;
use crate::model::{CareTag, Household, Member, NeedItem, Relation, Visit};
use crate::pinyin;

/// A household's name keys (`household_names`) have the ids from its rowid shifted left by
/// this many bits: one range per household, and at most 4096 keys each.
pub const NAME_KEY_BITS: u32 = 12;

/// Text that search looks in: address, members' names and phones.
fn search_text(address: &str, members: &[Member]) -> String {
    let mut text = String::from(address);
    for m in members {
        text.push(' ');
        text.push_str(&m.name);
        if let Some(p) = &m.phone {
            text.push(' ');
            text.push_str(p);
        }
    }
    text
}

/// The same text with every character its own token, for 1–2 character phrase queries.
pub fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars().filter(|c| c.is_alphanumeric()) {
        for lower in c.to_lowercase() {
            out.push(lower);
        }
        out.push(' ');
    }
    out
}

fn place_name(tx: &Transaction<'_>, id: Option<&str>) -> Result<String> {
    let Some(id) = id else {
        return Ok(String::new());
    };
    Ok(tx
        .prepare_cached("SELECT name FROM places WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?
        .unwrap_or_default())
}

/// The household's row, its tags and its search text.
pub fn household(tx: &Transaction<'_>, h: &Household) -> Result<()> {
    let a = &h.address;
    let address = format!(
        "{}{}{}",
        place_name(tx, a.building_id.as_deref())?,
        place_name(tx, a.unit_id.as_deref())?,
        a.room
    );
    let head = h
        .members
        .iter()
        .find(|m| m.relation == Relation::Head)
        .or_else(|| h.members.first())
        .map(|m| m.name.clone());
    let tags: Vec<&str> = h.tags.iter().map(|t| t.code()).collect();
    let care = h.tags.iter().any(|t| t.needs_care());
    let last_visit: Option<i64> = tx
        .prepare_cached("SELECT max(at) FROM visits WHERE household_id = ?1")?
        .query_row([&h.id], |r| r.get(0))?;
    let rowid: i64 = tx
        .prepare_cached(
            "INSERT INTO households (id, community_id, grid_id, building_id, unit_id, room, \
             address, head_name, member_count, residency, housing, tags, care, last_visit_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
             ON CONFLICT (id) DO UPDATE SET community_id = excluded.community_id, \
             grid_id = excluded.grid_id, building_id = excluded.building_id, unit_id = excluded.unit_id, \
             room = excluded.room, address = excluded.address, head_name = excluded.head_name, \
             member_count = excluded.member_count, residency = excluded.residency, \
             housing = excluded.housing, tags = excluded.tags, care = excluded.care, \
             last_visit_at = excluded.last_visit_at \
             RETURNING rowid",
        )?
        .query_row(
            params![
                h.id,
                a.community_id,
                a.grid_id,
                a.building_id,
                a.unit_id,
                a.room,
                address,
                head,
                h.members.len() as i64,
                h.residency.code(),
                h.housing.code(),
                tags.join(","),
                care,
                last_visit,
                h.created_at
            ],
            |r| r.get(0),
        )?;
    tx.prepare_cached("DELETE FROM household_tags WHERE household_id = ?1")?
        .execute([&h.id])?;
    let mut insert_tag =
        tx.prepare_cached("INSERT INTO household_tags (tag, household_id) VALUES (?1, ?2)")?;
    for t in &h.tags {
        insert_tag.execute([t.code(), &h.id])?;
    }
    let text = search_text(&address, &h.members);
    tx.prepare_cached("INSERT OR REPLACE INTO household_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![rowid, text])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO household_search_short (rowid, text) VALUES (?1, ?2)",
    )?
    .execute(params![rowid, spaced(&text)])?;
    names(tx, rowid, &h.members)
}

/// The household's members' names and their pinyin as search keys: keys spelling a whole
/// name first, should a household ever have more than the range holds.
fn names(tx: &Transaction<'_>, rowid: i64, members: &[Member]) -> Result<()> {
    let first = rowid << NAME_KEY_BITS;
    let end = (rowid + 1) << NAME_KEY_BITS;
    tx.prepare_cached("DELETE FROM household_names WHERE id >= ?1 AND id < ?2")?
        .execute(params![first, end])?;
    let keys = pinyin::household_keys(members.iter().map(|m| m.name.as_str()));
    let ordered = keys
        .iter()
        .filter(|k| k.whole)
        .chain(keys.iter().filter(|k| !k.whole));
    let mut insert =
        tx.prepare_cached("INSERT INTO household_names (id, key, whole) VALUES (?1, ?2, ?3)")?;
    for (id, k) in (first..end).zip(ordered) {
        insert.execute(params![id, k.key, k.whole])?;
    }
    Ok(())
}

pub fn visit(tx: &Transaction<'_>, v: &Visit) -> Result<()> {
    let needs: Vec<&str> = v.needs.iter().map(|n| n.category.code()).collect();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO visits (id, household_id, visitor, at, purpose, needs, follow_up) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        v.id,
        v.household_id,
        v.visitor,
        v.at,
        v.purpose.code(),
        needs.join(","),
        v.follow_up
    ])?;
    tx.prepare_cached(
        "UPDATE households SET last_visit_at = ?2 \
         WHERE id = ?1 AND (last_visit_at IS NULL OR last_visit_at < ?2)",
    )?
    .execute(params![v.household_id, v.at])?;
    Ok(())
}

/// The rows of a household's needs (all of them: a need's events may change any column).
pub fn needs(tx: &Transaction<'_>, household_id: &str, items: &[NeedItem]) -> Result<()> {
    tx.prepare_cached("DELETE FROM needs WHERE household_id = ?1")?
        .execute([household_id])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO needs (id, household_id, visit_id, category, summary, status, \
         owner, raised_by, raised_at, due_at, incident_id, done_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for n in items {
        let summary: String = n.text.chars().take(80).collect();
        insert.execute(params![
            n.id,
            household_id,
            n.visit_id,
            n.category.code(),
            summary,
            n.status.code(),
            n.owner,
            n.raised_by,
            n.raised_at,
            n.due_at,
            n.incident_id,
            n.done_at,
        ])?;
    }
    Ok(())
}

/// The needs rows of a household document.
pub fn needs_doc(tx: &Transaction<'_>, household_id: &str, d: &AutoCommit) -> Result<()> {
    needs(tx, household_id, &doc::read_needs(d, household_id)?)
}

/// Everything of a household document: used after imports, where anything may have changed.
/// The household's row after a local edit of its head (not its visits or needs); a merged
/// household stays out of the lists.
pub fn household_head(tx: &Transaction<'_>, d: &AutoCommit) -> Result<()> {
    let h = doc::read_household_head(d)?;
    if doc::read_merged_into(d)?.is_some() {
        return remove(tx, &h.id);
    }
    household(tx, &h)
}

/// A household merged into another (`merged_into`, written by the server's console) is no
/// longer listed: its rows are removed, its document kept.
pub fn household_doc(tx: &Transaction<'_>, d: &AutoCommit) -> Result<()> {
    let h = doc::read_household(d)?;
    if doc::read_merged_into(d)?.is_some() {
        return remove(tx, &h.id);
    }
    for v in &h.visits {
        visit(tx, v)?;
    }
    household(tx, &h)?;
    needs_doc(tx, &h.id, d)
}

pub fn incident_doc(tx: &Transaction<'_>, d: &AutoCommit) -> Result<()> {
    let (i, derived) = doc::read_incident(d)?;
    let summary: String = i.description.chars().take(80).collect();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO incidents (id, category, status, priority, community_id, grid_id, \
         building_id, household_id, reporter, assignee, summary, reported_at, accepted_at, \
         resolved_at, closed_at, unit_id, received_at, level, handler, department, outcome) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21)",
    )?
    .execute(params![
        i.id,
        i.category.code(),
        i.status.code(),
        i.priority.code(),
        i.community_id,
        i.grid_id,
        i.building_id,
        i.household_id,
        i.reporter,
        i.assignee,
        summary,
        i.reported_at,
        derived.accepted_at,
        derived.resolved_at,
        derived.closed_at,
        i.unit_id,
        i.received_at,
        derived.level.code(),
        derived.handler,
        derived.department.map(|d| d.code()),
        derived.outcome.map(|o| o.code()),
    ])?;
    Ok(())
}

/// Deletes a record's rows from every query table (the record left the device, or cannot
/// be shown by this app).
pub fn remove(tx: &Transaction<'_>, doc_id: &str) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM household_names WHERE id >= (SELECT rowid FROM households WHERE id = ?1) << ?2 \
         AND id < ((SELECT rowid FROM households WHERE id = ?1) + 1) << ?2",
    )?
    .execute(params![doc_id, NAME_KEY_BITS])?;
    for sql in [
        // The search tables are keyed by the household's rowid: before the household goes.
        "DELETE FROM household_search WHERE rowid = (SELECT rowid FROM households WHERE id = ?1)",
        "DELETE FROM household_search_short WHERE rowid = \
         (SELECT rowid FROM households WHERE id = ?1)",
        "DELETE FROM household_tags WHERE household_id = ?1",
        "DELETE FROM visits WHERE household_id = ?1",
        "DELETE FROM needs WHERE household_id = ?1",
        "DELETE FROM households WHERE id = ?1",
        "DELETE FROM incidents WHERE id = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([doc_id])?;
    }
    Ok(())
}

/// Tags as stored in the `tags` column.
pub fn parse_tags(codes: &str) -> Vec<CareTag> {
    codes.split(',').filter_map(CareTag::from_code).collect()
}

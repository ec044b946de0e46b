//! Merging duplicate households (合并重复户): two household documents of the same door
//! (building, unit, room) become one. Storage-independent, as [`crate::relocate`]: two
//! server-authored Automerge changes (actor = the server, message `u` = the admin) written in
//! the caller's one write transaction:
//! - the kept household gets the other's members (a member already there, by ID number or
//!   else by name, is skipped), care tags and needs, copied with their ids (op
//!   `household.merge`);
//! - the other one gets `merged_into` = the kept id (op `household.merged`): the register
//!   drops it and phones no longer list it, but both documents and their histories stay.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use linli_domain::doc::{self, DocKind, heads_to_text};
use linli_domain::{Address, Member};

use crate::error::{Error, Result};
use crate::merge::{DocWrite, StoredDoc, Update};
use crate::workflow::{SYSTEM_DEVICE, ServerActor};

/// What a merge copied into the kept household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Merged {
    pub members: usize,
    pub tags: usize,
    pub needs: usize,
}

/// Whether two addresses are the same door: community, building, unit and room.
pub fn same_door(a: &Address, b: &Address) -> bool {
    a.community_id == b.community_id
        && a.building_id == b.building_id
        && a.unit_id == b.unit_id
        && a.room.trim() == b.room.trim()
}

const NOT_SAME_DOOR: Error = Error::Invalid {
    field: "household",
    reason: "the households are not at the same door",
};
const ALREADY_MERGED: Error = Error::Invalid {
    field: "household",
    reason: "a household was merged already",
};

fn load(tx: &dyn DocWrite, id: &str) -> Result<(StoredDoc, AutoCommit)> {
    let stored = tx
        .load_doc(id)?
        .filter(|s| s.kind == DocKind::Household)
        .ok_or(Error::NotFound { kind: "household" })?;
    let d = AutoCommit::load(&stored.snapshot)?;
    Ok((stored, d))
}

/// Copies every entry of the map `from` of `src` into the map `to` of `dst`.
fn copy_map(src: &AutoCommit, from: &ObjId, dst: &mut AutoCommit, to: &ObjId) -> Result<()> {
    for key in src.keys(from).collect::<Vec<_>>() {
        copy_entry(src, from, &key, dst, to)?;
    }
    Ok(())
}

/// Copies one entry (a scalar, or an object with everything in it) of a map.
fn copy_entry(
    src: &AutoCommit,
    from: &ObjId,
    key: &str,
    dst: &mut AutoCommit,
    to: &ObjId,
) -> Result<()> {
    match src.get(from, key)? {
        Some((Value::Scalar(s), _)) => dst.put(to, key, s.into_owned())?,
        Some((Value::Object(kind), id)) => {
            let obj = dst.put_object(to, key, kind)?;
            copy_object(src, &id, kind, dst, &obj)?;
        }
        None => {}
    }
    Ok(())
}

fn copy_object(
    src: &AutoCommit,
    from: &ObjId,
    kind: ObjType,
    dst: &mut AutoCommit,
    to: &ObjId,
) -> Result<()> {
    match kind {
        ObjType::Map | ObjType::Table => copy_map(src, from, dst, to),
        ObjType::Text => {
            let text = src.text(from)?;
            dst.splice_text(to, 0, 0, &text)?;
            Ok(())
        }
        ObjType::List => {
            for i in 0..src.length(from) {
                match src.get(from, i)? {
                    Some((Value::Scalar(s), _)) => dst.insert(to, i, s.into_owned())?,
                    Some((Value::Object(k), id)) => {
                        let obj = dst.insert_object(to, i, k)?;
                        copy_object(src, &id, k, dst, &obj)?;
                    }
                    None => {}
                }
            }
            Ok(())
        }
    }
}

fn map_of(d: &mut AutoCommit, key: &str) -> Result<ObjId> {
    match d.get(ROOT, key)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Ok(d.put_object(ROOT, key, ObjType::Map)?),
    }
}

/// Whether `m` is one of `present` already: by ID number when it has one, else by name.
fn already_there(m: &Member, present: &[Member]) -> bool {
    match m
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => present
            .iter()
            .any(|p| p.id_number.as_deref().map(str::trim) == Some(n)),
        None => present.iter().any(|p| p.name.trim() == m.name.trim()),
    }
}

fn layout(d: &AutoCommit) -> Result<i64> {
    Ok(match d.get(ROOT, "v")? {
        Some((Value::Scalar(s), _)) => s.as_i64().unwrap_or(0),
        _ => 0,
    })
}

fn commit(d: &mut AutoCommit, by: &str, op: &str, fields: &[&str], at: i64) -> bool {
    let note = serde_json::json!({ "u": by, "op": op, "f": fields });
    d.commit_with(
        CommitOptions::default()
            .with_message(note.to_string())
            .with_time(at),
    )
    .is_some()
}

fn store(
    tx: &dyn DocWrite,
    id: &str,
    stored: &StoredDoc,
    d: &mut AutoCommit,
    heads: &[automerge::ChangeHash],
) -> Result<()> {
    let update = Update {
        kind: DocKind::Household,
        place: stored.place.clone(),
        snapshot: d.save_nocompress(),
        heads: heads_to_text(&d.get_heads()),
        new_changes: d.save_after(heads),
        moved: false,
        left: None,
    };
    tx.store(SYSTEM_DEVICE, id, &update)
}

/// Merges household `other` into `kept` as server changes by `by`. Both must be households
/// at the same door, neither merged already; otherwise nothing is written.
pub fn merge(
    tx: &dyn DocWrite,
    server: &ServerActor,
    kept: &str,
    other: &str,
    by: &str,
) -> Result<Merged> {
    if kept == other {
        return Err(Error::Invalid {
            field: "household",
            reason: "a household is not merged into itself",
        });
    }
    let (kept_stored, mut k) = load(tx, kept)?;
    let (other_stored, mut o) = load(tx, other)?;
    if !same_door(&doc::read_address(&k)?, &doc::read_address(&o)?) {
        return Err(NOT_SAME_DOOR);
    }
    if doc::read_merged_into(&k)?.is_some() || doc::read_merged_into(&o)?.is_some() {
        return Err(ALREADY_MERGED);
    }
    k.set_actor(server.actor().clone());
    o.set_actor(server.actor().clone());
    let (k_heads, o_heads) = (k.get_heads(), o.get_heads());
    let mut merged = Merged::default();

    // Members: current and moved-out ones (not those removed as entered by mistake).
    let mut present = doc::read_members(&k)?;
    present.extend(doc::read_former_members(&k)?);
    let mut incoming = doc::read_members(&o)?;
    incoming.extend(doc::read_former_members(&o)?);
    let Some((Value::Object(ObjType::Map), from)) = o.get(ROOT, "members")? else {
        return Err(Error::NotFound { kind: "household" });
    };
    let to = map_of(&mut k, "members")?;
    for m in incoming {
        if already_there(&m, &present) || k.get(&to, m.id.as_str())?.is_some() {
            continue;
        }
        copy_entry(&o, &from, &m.id, &mut k, &to)?;
        merged.members += 1;
        present.push(m);
    }

    let tags = doc::read_tags(&k)?;
    for t in doc::read_tags(&o)? {
        if !tags.contains(&t) {
            doc::set_tag(&mut k, t, true)?;
            merged.tags += 1;
        }
    }

    if let Some((Value::Object(ObjType::Map), from)) = o.get(ROOT, "needs")? {
        let keys: Vec<String> = o.keys(&from).collect();
        if !keys.is_empty() {
            let to = map_of(&mut k, "needs")?;
            for key in keys {
                if k.get(&to, key.as_str())?.is_none() {
                    copy_entry(&o, &from, &key, &mut k, &to)?;
                    merged.needs += 1;
                }
            }
        }
    }
    // The kept document is read as the newer of the two layouts (its copied needs say so).
    let v = layout(&o)?;
    if v > layout(&k)? {
        k.put(ROOT, "v", v)?;
    }

    let now = server.now();
    if commit(
        &mut k,
        by,
        "household.merge",
        &["members", "tags", "needs"],
        now,
    ) {
        store(tx, kept, &kept_stored, &mut k, &k_heads)?;
    }
    o.put(ROOT, "merged_into", kept)?;
    commit(&mut o, by, "household.merged", &["merged_into"], now);
    store(tx, other, &other_stored, &mut o, &o_heads)?;
    Ok(merged)
}

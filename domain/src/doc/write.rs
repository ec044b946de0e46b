//! Writing records into their documents: one call per kind of edit, each writing only what
//! it changes, so concurrent edits of other fields survive the merge.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::read::{StoredNeed, StoredVisit, find_need, map, opt_bool, read_address};
use super::{DocKind, HOUSEHOLD_LAYOUT, INCIDENT_LAYOUT};
use crate::error::{Error, Result};
use crate::incident::*;
use crate::model::*;
use crate::needs::{NeedEvent, RaisedNeed};

fn put_opt_str(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: Option<&str>) -> Result<()> {
    match v {
        Some(s) => doc.put(obj, key, s)?,
        None => {
            if doc.get(obj, key)?.is_some() {
                doc.delete(obj, key)?;
            }
        }
    }
    Ok(())
}

pub fn write_address(doc: &mut AutoCommit, a: &Address) -> Result<()> {
    let obj = match doc.get(&ROOT, "address")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(&ROOT, "address", ObjType::Map)?,
    };
    // Write only what changed, so a concurrent edit of another address field survives.
    let current = read_address(doc).ok();
    let same = |f: fn(&Address) -> Option<&str>| current.as_ref().map(f) == Some(f(a));
    if !same(|x| Some(x.community_id.as_str())) {
        doc.put(&obj, "community_id", a.community_id.as_str())?;
    }
    if !same(|x| Some(x.grid_id.as_str())) {
        doc.put(&obj, "grid_id", a.grid_id.as_str())?;
    }
    if !same(|x| x.micro_grid_id.as_deref()) {
        // Written only when present (deleted when the household leaves a micro-grid).
        put_opt_str(doc, &obj, "micro_grid_id", a.micro_grid_id.as_deref())?;
    }
    if !same(|x| x.building_id.as_deref()) {
        put_opt_str(doc, &obj, "building_id", a.building_id.as_deref())?;
    }
    if !same(|x| x.unit_id.as_deref()) {
        put_opt_str(doc, &obj, "unit_id", a.unit_id.as_deref())?;
    }
    if !same(|x| Some(x.room.as_str())) {
        doc.put(&obj, "room", a.room.as_str())?;
    }
    Ok(())
}

/// Creates the skeleton of a household document. Runs once, on the creating device.
/// The first household layout: what a household without visits needs of a reader.
const HOUSEHOLD_BASE_LAYOUT: i64 = 1;

/// Raises the document's layout to `layout` if it is lower (never lowers it).
fn require_layout(doc: &mut AutoCommit, layout: i64) -> Result<()> {
    let current = match doc.get(&ROOT, "v")? {
        Some((Value::Scalar(s), _)) => s.as_i64().unwrap_or(0),
        _ => 0,
    };
    if current < layout {
        doc.put(&ROOT, "v", layout)?;
    }
    Ok(())
}

pub fn init_household(
    doc: &mut AutoCommit,
    id: &str,
    created_at: Millis,
    address: &Address,
    new: &NewHousehold,
) -> Result<()> {
    doc.put(&ROOT, "type", DocKind::Household.code())?;
    // A household without visits is readable by every app; the first visit raises it.
    doc.put(&ROOT, "v", HOUSEHOLD_BASE_LAYOUT)?;
    doc.put(&ROOT, "id", id)?;
    doc.put(&ROOT, "created_at", created_at)?;
    doc.put(&ROOT, "residency", new.residency.code())?;
    doc.put(&ROOT, "housing", new.housing.code())?;
    doc.put(&ROOT, "notes", new.notes.trim())?;
    write_address(doc, address)?;
    doc.put_object(&ROOT, "members", ObjType::Map)?;
    doc.put_object(&ROOT, "tags", ObjType::Map)?;
    doc.put_object(&ROOT, "visits", ObjType::Map)?;
    doc.put_object(&ROOT, "needs", ObjType::Map)?;
    for tag in &new.tags {
        set_tag(doc, *tag, true)?;
    }
    Ok(())
}

pub fn put_member(doc: &mut AutoCommit, member_id: &str, m: &NewMember) -> Result<()> {
    let members = map(doc, &ROOT, "members")?;
    let obj = doc.put_object(&members, member_id, ObjType::Map)?;
    doc.put(&obj, "name", m.name.trim())?;
    doc.put(&obj, "relation", m.relation.code())?;
    if let Some(y) = m.birth_year {
        doc.put(&obj, "birth_year", i64::from(y))?;
    }
    put_opt_str(doc, &obj, "phone", m.phone.as_deref().map(str::trim))?;
    put_opt_str(
        doc,
        &obj,
        "id_number",
        m.id_number.as_deref().map(str::trim),
    )?;
    Ok(())
}

fn live_member(doc: &AutoCommit, member_id: &str) -> Result<ObjId> {
    let members = map(doc, &ROOT, "members")?;
    let obj = map(doc, &members, member_id).map_err(|_| Error::NotFound { kind: "member" })?;
    if opt_bool(doc, &obj, "removed")? {
        return Err(Error::NotFound { kind: "member" });
    }
    Ok(obj)
}

/// Returns the names of the fields written.
pub fn patch_member(
    doc: &mut AutoCommit,
    member_id: &str,
    p: &MemberPatch,
) -> Result<Vec<&'static str>> {
    let obj = live_member(doc, member_id)?;
    let mut fields = Vec::new();
    if let Some(name) = &p.name {
        doc.put(&obj, "name", name.trim())?;
        fields.push("name");
    }
    if let Some(r) = p.relation {
        doc.put(&obj, "relation", r.code())?;
        fields.push("relation");
    }
    if let Some(y) = p.birth_year {
        match y {
            Some(y) => doc.put(&obj, "birth_year", i64::from(y))?,
            None => doc.put(&obj, "birth_year", ScalarValue::Null)?,
        }
        fields.push("birth_year");
    }
    if let Some(phone) = &p.phone {
        put_opt_str(doc, &obj, "phone", phone.as_deref().map(str::trim))?;
        fields.push("phone");
    }
    if let Some(n) = &p.id_number {
        put_opt_str(doc, &obj, "id_number", n.as_deref().map(str::trim))?;
        fields.push("id_number");
    }
    Ok(fields)
}

/// Sets a member's gender, residence status and own care tags (replacing what was set).
/// Returns the names of the fields written.
pub fn put_member_details(
    doc: &mut AutoCommit,
    member_id: &str,
    d: &MemberDetails,
) -> Result<Vec<&'static str>> {
    let obj = live_member(doc, member_id)?;
    put_opt_str(doc, &obj, "gender", d.gender.map(|g| g.code()))?;
    put_opt_str(doc, &obj, "residence", d.residence.map(|r| r.code()))?;
    let tags = match doc.get(&obj, "tags")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(&obj, "tags", ObjType::Map)?,
    };
    let had: Vec<String> = doc.keys(&tags).collect();
    for key in had {
        if !d.tags.iter().any(|t| t.code() == key) {
            doc.delete(&tags, key.as_str())?;
        }
    }
    for t in &d.tags {
        doc.put(&tags, t.code(), true)?;
    }
    Ok(vec!["gender", "residence", "tags"])
}

/// Records a move-out (迁出) on `at`: the member leaves the household's list and is kept, with
/// the date, among its former members.
pub fn move_out_member(doc: &mut AutoCommit, member_id: &str, at: Millis) -> Result<()> {
    let obj = live_member(doc, member_id)?;
    doc.put(&obj, "moved_out_at", at)?;
    doc.put(&obj, "removed", true)?;
    Ok(())
}

/// Members are marked removed rather than deleted, so a concurrent edit cannot resurrect
/// half a member and the register keeps who moved out.
pub fn remove_member(doc: &mut AutoCommit, member_id: &str) -> Result<()> {
    let obj = live_member(doc, member_id)?;
    doc.put(&obj, "removed", true)?;
    Ok(())
}

pub fn set_tag(doc: &mut AutoCommit, tag: CareTag, on: bool) -> Result<()> {
    let tags = map(doc, &ROOT, "tags")?;
    if on {
        doc.put(&tags, tag.code(), true)?;
    } else if doc.get(&tags, tag.code())?.is_some() {
        doc.delete(&tags, tag.code())?;
    }
    Ok(())
}

pub fn put_household_fields(
    doc: &mut AutoCommit,
    residency: Option<Residency>,
    housing: Option<Housing>,
    notes: Option<&str>,
) -> Result<()> {
    if let Some(r) = residency {
        doc.put(&ROOT, "residency", r.code())?;
    }
    if let Some(h) = housing {
        doc.put(&ROOT, "housing", h.code())?;
    }
    if let Some(n) = notes {
        doc.put(&ROOT, "notes", n.trim())?;
    }
    Ok(())
}

pub fn put_visit(doc: &mut AutoCommit, v: &Visit) -> Result<()> {
    let visits = map(doc, &ROOT, "visits")?;
    let stored = StoredVisit {
        visitor: v.visitor.clone(),
        at: v.at,
        purpose: v.purpose.code().to_owned(),
        needs: v
            .needs
            .iter()
            .map(|n| StoredNeed {
                category: n.category.code().to_owned(),
                text: n.text.trim().to_owned(),
            })
            .collect(),
        done_on_spot: v.done_on_spot.trim().to_owned(),
        follow_up: v.follow_up,
    };
    let json =
        serde_json::to_string(&stored).map_err(|_| Error::Corrupt("visit could not be encoded"))?;
    doc.put(&visits, v.id.as_str(), json)?;
    // A visit as one value is layout 2: a reader of layout 1 would not understand it.
    require_layout(doc, HOUSEHOLD_LAYOUT)?;
    Ok(())
}

pub fn init_incident(doc: &mut AutoCommit, i: &Incident) -> Result<()> {
    doc.put(&ROOT, "type", DocKind::Incident.code())?;
    doc.put(&ROOT, "v", INCIDENT_LAYOUT)?;
    doc.put(&ROOT, "id", i.id.as_str())?;
    doc.put(&ROOT, "category", i.category.code())?;
    doc.put(&ROOT, "description", i.description.trim())?;
    doc.put(&ROOT, "community_id", i.community_id.as_str())?;
    doc.put(&ROOT, "grid_id", i.grid_id.as_str())?;
    put_opt_str(doc, &ROOT, "micro_grid_id", i.micro_grid_id.as_deref())?;
    put_opt_str(doc, &ROOT, "building_id", i.building_id.as_deref())?;
    put_opt_str(doc, &ROOT, "unit_id", i.unit_id.as_deref())?;
    put_opt_str(doc, &ROOT, "household_id", i.household_id.as_deref())?;
    if let Some(d) = &i.dispute {
        put_dispute(doc, d)?;
    }
    doc.put(&ROOT, "reporter", i.reporter.as_str())?;
    doc.put(&ROOT, "priority", i.priority.code())?;
    put_opt_str(doc, &ROOT, "assignee", i.assignee.as_deref())?;
    doc.put(&ROOT, "reported_at", i.reported_at)?;
    doc.put_object(&ROOT, "events", ObjType::Map)?;
    Ok(())
}

pub fn put_event(doc: &mut AutoCommit, e: &LifecycleEvent) -> Result<()> {
    let events = map(doc, &ROOT, "events")?;
    let obj = doc.put_object(&events, e.id.as_str(), ObjType::Map)?;
    doc.put(&obj, "action", e.action.code())?;
    doc.put(&obj, "by", e.by.as_str())?;
    doc.put(&obj, "at", e.at)?;
    doc.put(&obj, "note", e.note.trim())?;
    put_opt_str(doc, &obj, "to", e.to.as_deref())?;
    put_opt_str(doc, &obj, "department", e.department.map(Department::code))?;
    put_opt_str(doc, &obj, "reason", e.reason.map(ReturnReason::code))?;
    put_opt_str(doc, &obj, "rating", e.rating.map(Rating::code))?;
    put_opt_str(doc, &obj, "level", e.level.map(Level::code))?;
    put_opt_str(doc, &obj, "outcome", e.outcome.map(DisputeOutcome::code))?;
    Ok(())
}

/// Records when the server first received the incident (written once, by the server).
pub fn put_received_at(doc: &mut AutoCommit, at: Millis) -> Result<()> {
    doc.put(&ROOT, "received_at", at)?;
    Ok(())
}

/// The dispute's parties and mediator.
pub fn put_dispute(doc: &mut AutoCommit, d: &DisputeInfo) -> Result<()> {
    doc.put(&ROOT, "parties", d.parties.trim())?;
    doc.put(&ROOT, "mediator", d.mediator.trim())?;
    Ok(())
}

/// Moves an incident to another place (a fix for one its author placed outside their places).
/// It no longer names a household: the household stays where it was.
pub fn put_incident_place(doc: &mut AutoCommit, place: &super::DocPlace) -> Result<()> {
    doc.put(&ROOT, "community_id", place.community_id.as_str())?;
    doc.put(&ROOT, "grid_id", place.grid_id.as_str())?;
    put_opt_str(doc, &ROOT, "micro_grid_id", place.micro_grid_id.as_deref())?;
    put_opt_str(doc, &ROOT, "building_id", place.building_id.as_deref())?;
    put_opt_str(doc, &ROOT, "unit_id", place.unit_id.as_deref())?;
    put_opt_str(doc, &ROOT, "household_id", None)
}

pub fn put_assignee(doc: &mut AutoCommit, assignee: Option<&str>) -> Result<()> {
    put_opt_str(doc, &ROOT, "assignee", assignee)
}

pub fn put_priority(doc: &mut AutoCommit, p: Priority) -> Result<()> {
    doc.put(&ROOT, "priority", p.code())?;
    Ok(())
}

/// Raises a need in the household: written once, with an empty map of its events. Creates
/// the household's `needs` map if it has none (see `read::need_maps` for two phones doing
/// that at once).
pub fn put_need(doc: &mut AutoCommit, need_id: &str, n: &RaisedNeed) -> Result<()> {
    let needs = match doc.get(&ROOT, "needs")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        None => doc.put_object(&ROOT, "needs", ObjType::Map)?,
        Some(_) => return Err(Error::Corrupt("document does not have the expected shape")),
    };
    let obj = doc.put_object(&needs, need_id, ObjType::Map)?;
    doc.put(&obj, "visit_id", n.visit_id.as_str())?;
    doc.put(&obj, "category", n.category.code())?;
    doc.put(&obj, "text", n.text.trim())?;
    doc.put(&obj, "by", n.by.as_str())?;
    doc.put(&obj, "at", n.at)?;
    doc.put(&obj, "owner", n.owner.as_str())?;
    doc.put(&obj, "due_at", n.due_at)?;
    doc.put_object(&obj, "events", ObjType::Map)?;
    Ok(())
}

/// Records a change to a need as an event.
pub fn put_need_event(doc: &mut AutoCommit, need_id: &str, e: &NeedEvent) -> Result<()> {
    let need = find_need(doc, need_id)?.ok_or(Error::NotFound { kind: "need" })?;
    let events = map(doc, &need, "events")?;
    let obj = doc.put_object(&events, e.id.as_str(), ObjType::Map)?;
    doc.put(&obj, "action", e.action.code())?;
    doc.put(&obj, "by", e.by.as_str())?;
    doc.put(&obj, "at", e.at)?;
    doc.put(&obj, "note", e.note.trim())?;
    put_opt_str(doc, &obj, "owner", e.owner.as_deref())?;
    if let Some(d) = e.due_at {
        doc.put(&obj, "due_at", d)?;
    }
    put_opt_str(doc, &obj, "incident_id", e.incident_id.as_deref())?;
    Ok(())
}

/// Records on an incident the need it was converted from (an optional field: older readers
/// ignore it).
pub fn put_incident_need(doc: &mut AutoCommit, need_id: &str) -> Result<()> {
    doc.put(&ROOT, "need_id", need_id)?;
    Ok(())
}

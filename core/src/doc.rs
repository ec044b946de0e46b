//! How households and incidents are laid out in Automerge documents.
//!
//! One document per household (its members, tags and visits inside it) and one per incident.
//! Everything that two people may add concurrently is a map keyed by a fresh id (members,
//! visits, lifecycle events) or by a stable code (tags), never a list, so concurrent adds
//! keep both sides. Scalar fields are last-writer-wins per field, resolved the same way on
//! every device by Automerge. A visit is written once and never edited, so it is one value
//! (its JSON) rather than a map of fields: one operation instead of a dozen per door knock.
//! Visits written as maps (the first layout) are still read.
//!
//! ```text
//! household: { type, v, id, created_at, residency, housing, notes,
//!              address: { community_id, grid_id, building_id?, unit_id?, room },
//!              members: { <id>: { name, relation, birth_year?, phone?, id_number?, removed } },
//!              tags:    { <tag code>: true },
//!              visits:  { <id>: "<JSON of the visit>" } }
//! incident:  { type, v, id, category, description, community_id, grid_id, building_id?,
//!              household_id?, reporter, priority, assignee?, reported_at,
//!              events: { <id>: { action, by, at, note } } }
//! ```

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::error::{Error, Result};
use crate::lifecycle;
use crate::model::*;

/// Version of the document layout, stored in each document as `v`.
pub const LAYOUT_VERSION: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Household,
    Incident,
}

impl DocKind {
    pub fn code(self) -> &'static str {
        match self {
            DocKind::Household => "household",
            DocKind::Incident => "incident",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "household" => Some(DocKind::Household),
            "incident" => Some(DocKind::Incident),
            _ => None,
        }
    }
}

const SHAPE: Error = Error::CorruptChanges("document does not have the expected shape");

// ---- reading ----------------------------------------------------------------------------

fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<ScalarValue>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => Some(s.into_owned()),
        Some((Value::Object(_), _)) => return Err(SHAPE),
        None => None,
    })
}

fn opt_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>> {
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
        Some(ScalarValue::Null) | None => Ok(None),
        Some(_) => Err(SHAPE),
    }
}

fn req_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<String> {
    opt_str(doc, obj, key)?.ok_or(SHAPE)
}

fn opt_int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<i64>> {
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Int(i)) => Ok(Some(i)),
        Some(ScalarValue::Uint(u)) => i64::try_from(u).map(Some).map_err(|_| SHAPE),
        Some(ScalarValue::Timestamp(t)) => Ok(Some(t)),
        Some(ScalarValue::Null) | None => Ok(None),
        Some(_) => Err(SHAPE),
    }
}

fn req_int(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<i64> {
    opt_int(doc, obj, key)?.ok_or(SHAPE)
}

fn opt_bool(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<bool> {
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Boolean(b)) => Ok(b),
        None | Some(ScalarValue::Null) => Ok(false),
        Some(_) => Err(SHAPE),
    }
}

fn req_code<T>(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T> {
    parse(&req_str(doc, obj, key)?).ok_or(SHAPE)
}

fn map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId> {
    match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SHAPE),
    }
}

/// The entries of a map whose values are maps, as (key, object id).
fn entries(doc: &AutoCommit, obj: &ObjId) -> Result<Vec<(String, ObjId)>> {
    doc.keys(obj)
        .map(|k| {
            let id = map(doc, obj, &k)?;
            Ok((k, id))
        })
        .collect()
}

/// Which kind of record a document holds, from its `type` field.
pub fn kind_of(doc: &AutoCommit) -> Result<DocKind> {
    let code = req_str(doc, &ROOT, "type")?;
    let kind = DocKind::from_code(&code).ok_or(SHAPE)?;
    if req_int(doc, &ROOT, "v")? > LAYOUT_VERSION {
        return Err(Error::CorruptChanges(
            "document layout is newer than this app",
        ));
    }
    Ok(kind)
}

pub fn read_address(doc: &AutoCommit) -> Result<Address> {
    let a = map(doc, &ROOT, "address")?;
    Ok(Address {
        community_id: req_str(doc, &a, "community_id")?,
        grid_id: req_str(doc, &a, "grid_id")?,
        building_id: opt_str(doc, &a, "building_id")?,
        unit_id: opt_str(doc, &a, "unit_id")?,
        room: req_str(doc, &a, "room")?,
    })
}

pub fn read_members(doc: &AutoCommit) -> Result<Vec<Member>> {
    let members = map(doc, &ROOT, "members")?;
    let mut out = Vec::new();
    for (id, m) in entries(doc, &members)? {
        if opt_bool(doc, &m, "removed")? {
            continue;
        }
        out.push(Member {
            id,
            name: req_str(doc, &m, "name")?,
            relation: req_code(doc, &m, "relation", Relation::from_code)?,
            birth_year: opt_int(doc, &m, "birth_year")?
                .map(|y| i32::try_from(y).map_err(|_| SHAPE))
                .transpose()?,
            phone: opt_str(doc, &m, "phone")?,
            id_number: opt_str(doc, &m, "id_number")?,
        });
    }
    out.sort_by(|a, b| (a.relation, &a.name, &a.id).cmp(&(b.relation, &b.name, &b.id)));
    Ok(out)
}

pub fn read_tags(doc: &AutoCommit) -> Result<Vec<CareTag>> {
    let tags = map(doc, &ROOT, "tags")?;
    // Tags from a newer app that this one does not know are skipped, not an error.
    let mut out: Vec<CareTag> = doc
        .keys(&tags)
        .filter_map(|k| CareTag::from_code(&k))
        .collect();
    out.sort();
    Ok(out)
}

/// A visit as stored: everything but its id and household, which the map key and the
/// document give.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredVisit {
    visitor: String,
    at: Millis,
    purpose: VisitPurpose,
    needs: Vec<Need>,
    done_on_spot: String,
    follow_up: bool,
}

pub fn read_visits(doc: &AutoCommit, household_id: &str) -> Result<Vec<Visit>> {
    let visits = map(doc, &ROOT, "visits")?;
    let mut out = Vec::new();
    for id in doc.keys(&visits) {
        let visit = match doc.get(&visits, &id)? {
            Some((Value::Scalar(s), _)) => {
                let json = s.as_str().ok_or(SHAPE)?;
                let v: StoredVisit = serde_json::from_str(json).map_err(|_| SHAPE)?;
                Visit {
                    id,
                    household_id: household_id.to_owned(),
                    visitor: v.visitor,
                    at: v.at,
                    purpose: v.purpose,
                    needs: v.needs,
                    done_on_spot: v.done_on_spot,
                    follow_up: v.follow_up,
                }
            }
            Some((Value::Object(ObjType::Map), obj)) => {
                read_visit_map(doc, id, &obj, household_id)?
            }
            _ => return Err(SHAPE),
        };
        out.push(visit);
    }
    out.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
    Ok(out)
}

/// A visit in the first layout: a map of fields with a map of needs.
fn read_visit_map(doc: &AutoCommit, id: String, v: &ObjId, household_id: &str) -> Result<Visit> {
    let needs_obj = map(doc, v, "needs")?;
    let mut needs: Vec<(String, Need)> = Vec::new();
    for (k, n) in entries(doc, &needs_obj)? {
        needs.push((
            k,
            Need {
                category: req_code(doc, &n, "category", NeedCategory::from_code)?,
                text: req_str(doc, &n, "text")?,
            },
        ));
    }
    needs.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
    Ok(Visit {
        id,
        household_id: household_id.to_owned(),
        visitor: req_str(doc, v, "visitor")?,
        at: req_int(doc, v, "at")?,
        purpose: req_code(doc, v, "purpose", VisitPurpose::from_code)?,
        needs: needs.into_iter().map(|(_, n)| n).collect(),
        done_on_spot: opt_str(doc, v, "done_on_spot")?.unwrap_or_default(),
        follow_up: opt_bool(doc, v, "follow_up")?,
    })
}

/// The household without its visits (they are read separately when needed).
pub fn read_household_head(doc: &AutoCommit) -> Result<Household> {
    Ok(Household {
        id: req_str(doc, &ROOT, "id")?,
        address: read_address(doc)?,
        residency: req_code(doc, &ROOT, "residency", Residency::from_code)?,
        housing: req_code(doc, &ROOT, "housing", Housing::from_code)?,
        tags: read_tags(doc)?,
        notes: opt_str(doc, &ROOT, "notes")?.unwrap_or_default(),
        members: read_members(doc)?,
        visits: Vec::new(),
        created_at: req_int(doc, &ROOT, "created_at")?,
    })
}

pub fn read_household(doc: &AutoCommit) -> Result<Household> {
    let mut h = read_household_head(doc)?;
    h.visits = read_visits(doc, &h.id)?;
    Ok(h)
}

pub fn read_events(doc: &AutoCommit) -> Result<Vec<LifecycleEvent>> {
    let events = map(doc, &ROOT, "events")?;
    entries(doc, &events)?
        .into_iter()
        .map(|(id, e)| {
            Ok(LifecycleEvent {
                id,
                action: req_code(doc, &e, "action", IncidentAction::from_code)?,
                by: req_str(doc, &e, "by")?,
                at: req_int(doc, &e, "at")?,
                note: opt_str(doc, &e, "note")?.unwrap_or_default(),
            })
        })
        .collect()
}

pub fn read_incident(doc: &AutoCommit) -> Result<(Incident, lifecycle::Derived)> {
    let events = read_events(doc)?;
    let derived = lifecycle::derive(&events);
    let incident = Incident {
        id: req_str(doc, &ROOT, "id")?,
        category: req_code(doc, &ROOT, "category", IncidentCategory::from_code)?,
        description: req_str(doc, &ROOT, "description")?,
        community_id: req_str(doc, &ROOT, "community_id")?,
        grid_id: req_str(doc, &ROOT, "grid_id")?,
        building_id: opt_str(doc, &ROOT, "building_id")?,
        household_id: opt_str(doc, &ROOT, "household_id")?,
        reporter: req_str(doc, &ROOT, "reporter")?,
        priority: req_code(doc, &ROOT, "priority", Priority::from_code)?,
        assignee: opt_str(doc, &ROOT, "assignee")?,
        reported_at: req_int(doc, &ROOT, "reported_at")?,
        status: derived.status,
        events: derived.applied.iter().map(|(e, _)| e.clone()).collect(),
    };
    Ok((incident, derived))
}

// ---- writing ----------------------------------------------------------------------------

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
pub fn init_household(
    doc: &mut AutoCommit,
    id: &str,
    created_at: Millis,
    address: &Address,
    new: &NewHousehold,
) -> Result<()> {
    doc.put(&ROOT, "type", DocKind::Household.code())?;
    doc.put(&ROOT, "v", LAYOUT_VERSION)?;
    doc.put(&ROOT, "id", id)?;
    doc.put(&ROOT, "created_at", created_at)?;
    doc.put(&ROOT, "residency", new.residency.code())?;
    doc.put(&ROOT, "housing", new.housing.code())?;
    doc.put(&ROOT, "notes", new.notes.trim())?;
    write_address(doc, address)?;
    doc.put_object(&ROOT, "members", ObjType::Map)?;
    doc.put_object(&ROOT, "tags", ObjType::Map)?;
    doc.put_object(&ROOT, "visits", ObjType::Map)?;
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
        purpose: v.purpose,
        needs: v
            .needs
            .iter()
            .map(|n| Need {
                category: n.category,
                text: n.text.trim().to_owned(),
            })
            .collect(),
        done_on_spot: v.done_on_spot.trim().to_owned(),
        follow_up: v.follow_up,
    };
    let json = serde_json::to_string(&stored)
        .map_err(|_| Error::CorruptChanges("visit could not be encoded"))?;
    doc.put(&visits, v.id.as_str(), json)?;
    Ok(())
}

pub fn init_incident(doc: &mut AutoCommit, i: &Incident) -> Result<()> {
    doc.put(&ROOT, "type", DocKind::Incident.code())?;
    doc.put(&ROOT, "v", LAYOUT_VERSION)?;
    doc.put(&ROOT, "id", i.id.as_str())?;
    doc.put(&ROOT, "category", i.category.code())?;
    doc.put(&ROOT, "description", i.description.trim())?;
    doc.put(&ROOT, "community_id", i.community_id.as_str())?;
    doc.put(&ROOT, "grid_id", i.grid_id.as_str())?;
    put_opt_str(doc, &ROOT, "building_id", i.building_id.as_deref())?;
    put_opt_str(doc, &ROOT, "household_id", i.household_id.as_deref())?;
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
    Ok(())
}

pub fn put_assignee(doc: &mut AutoCommit, assignee: Option<&str>) -> Result<()> {
    put_opt_str(doc, &ROOT, "assignee", assignee)
}

pub fn put_priority(doc: &mut AutoCommit, p: Priority) -> Result<()> {
    doc.put(&ROOT, "priority", p.code())?;
    Ok(())
}

/// Where a document's record lives in the place tree: what the server scopes it by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocPlace {
    pub community_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
}

/// The kind, id and place of a document, checking that it reads as a valid record.
pub fn describe(doc: &AutoCommit) -> Result<(DocKind, String, DocPlace)> {
    let kind = kind_of(doc)?;
    let id = req_str(doc, &ROOT, "id")?;
    let place = match kind {
        DocKind::Household => {
            let h = read_household(doc)?;
            DocPlace {
                community_id: h.address.community_id,
                grid_id: h.address.grid_id,
                building_id: h.address.building_id,
                unit_id: h.address.unit_id,
            }
        }
        DocKind::Incident => {
            let (i, _) = read_incident(doc)?;
            DocPlace {
                community_id: i.community_id,
                grid_id: i.grid_id,
                building_id: i.building_id,
                unit_id: None,
            }
        }
    };
    Ok((kind, id, place))
}

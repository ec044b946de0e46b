//! Reading records out of their documents. Every reader checks the layout version first.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::DocKind;
use crate::error::{Error, Result};
use crate::incident::*;
use crate::lifecycle;
use crate::model::*;
use crate::needs::{NeedAction, NeedEvent, NeedItem, RaisedNeed};

const SHAPE: Error = Error::Corrupt("document does not have the expected shape");

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

pub(super) fn req_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<String> {
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

pub(super) fn opt_bool(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<bool> {
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Boolean(b)) => Ok(b),
        None | Some(ScalarValue::Null) => Ok(false),
        Some(_) => Err(SHAPE),
    }
}

pub(super) fn map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId> {
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

/// Which kind of record a document holds, from its `type` field; a layout newer than this
/// code knows is [`Error::UnsupportedLayout`].
pub fn kind_of(doc: &AutoCommit) -> Result<DocKind> {
    let code = req_str(doc, &ROOT, "type")?;
    let kind = DocKind::from_code(&code).ok_or(SHAPE)?;
    let found = req_int(doc, &ROOT, "v")?;
    if found > kind.layout() {
        return Err(Error::UnsupportedLayout {
            found,
            supported: kind.layout(),
        });
    }
    Ok(kind)
}

/// Checks the document is of `kind`, in a layout this code reads.
fn expect_kind(doc: &AutoCommit, kind: DocKind) -> Result<()> {
    if kind_of(doc)? != kind {
        return Err(SHAPE);
    }
    Ok(())
}

/// A code of a closed set, where a code this reader does not know (written by a newer app)
/// reads as `other` rather than failing the document.
fn code_or<T>(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    parse: fn(&str) -> Option<T>,
    other: T,
) -> Result<T> {
    Ok(parse(&req_str(doc, obj, key)?).unwrap_or(other))
}

/// An optional code; one this reader does not know reads as absent (the move it belongs to
/// then takes no effect here, as for an unknown move).
fn opt_code<T>(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    Ok(opt_str(doc, obj, key)?.and_then(|c| parse(&c)))
}

/// A code of a closed set without an `other`: one this reader does not know means the
/// document needs a newer app.
fn known_code<T>(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T> {
    parse(&req_str(doc, obj, key)?).ok_or_else(|| newer(doc))
}

fn newer(doc: &AutoCommit) -> Error {
    let found = opt_int(doc, &ROOT, "v").ok().flatten().unwrap_or(0);
    Error::UnsupportedLayout {
        found,
        supported: found,
    }
}

pub fn read_address(doc: &AutoCommit) -> Result<Address> {
    let a = map(doc, &ROOT, "address")?;
    Ok(Address {
        community_id: req_str(doc, &a, "community_id")?,
        grid_id: req_str(doc, &a, "grid_id")?,
        micro_grid_id: opt_str(doc, &a, "micro_grid_id")?,
        building_id: opt_str(doc, &a, "building_id")?,
        unit_id: opt_str(doc, &a, "unit_id")?,
        room: req_str(doc, &a, "room")?,
    })
}

pub fn read_members(doc: &AutoCommit) -> Result<Vec<Member>> {
    members_where(doc, false)
}

/// Members who moved out (迁出), with the date; those removed without one (entered by
/// mistake) are not listed.
pub fn read_former_members(doc: &AutoCommit) -> Result<Vec<Member>> {
    Ok(members_where(doc, true)?
        .into_iter()
        .filter(|m| m.moved_out_at.is_some())
        .collect())
}

fn members_where(doc: &AutoCommit, removed: bool) -> Result<Vec<Member>> {
    let members = map(doc, &ROOT, "members")?;
    let mut out = Vec::new();
    for (id, m) in entries(doc, &members)? {
        if opt_bool(doc, &m, "removed")? != removed {
            continue;
        }
        let mut tags: Vec<CareTag> = match doc.get(&m, "tags")? {
            // Tags from a newer app that this one does not know are skipped.
            Some((Value::Object(ObjType::Map), t)) => doc
                .keys(&t)
                .filter_map(|k| CareTag::from_code(&k))
                .collect(),
            _ => Vec::new(),
        };
        tags.sort();
        out.push(Member {
            id,
            name: req_str(doc, &m, "name")?,
            relation: code_or(doc, &m, "relation", Relation::from_code, Relation::Other)?,
            birth_year: opt_int(doc, &m, "birth_year")?
                .map(|y| i32::try_from(y).map_err(|_| SHAPE))
                .transpose()?,
            phone: opt_str(doc, &m, "phone")?,
            id_number: opt_str(doc, &m, "id_number")?,
            gender: opt_str(doc, &m, "gender")?.and_then(|g| Gender::from_code(&g)),
            residence: opt_str(doc, &m, "residence")?.and_then(|r| PersonResidence::from_code(&r)),
            tags,
            moved_out_at: opt_int(doc, &m, "moved_out_at")?,
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
pub(super) struct StoredVisit {
    pub(super) visitor: String,
    pub(super) at: Millis,
    /// Codes as text, so that a code from a newer app reads as `other`.
    pub(super) purpose: String,
    pub(super) needs: Vec<StoredNeed>,
    pub(super) done_on_spot: String,
    pub(super) follow_up: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct StoredNeed {
    pub(super) category: String,
    pub(super) text: String,
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
                    purpose: VisitPurpose::from_code(&v.purpose).unwrap_or(VisitPurpose::Other),
                    needs: v
                        .needs
                        .into_iter()
                        .map(|n| Need {
                            category: NeedCategory::from_code(&n.category)
                                .unwrap_or(NeedCategory::Other),
                            text: n.text,
                        })
                        .collect(),
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
                category: code_or(
                    doc,
                    &n,
                    "category",
                    NeedCategory::from_code,
                    NeedCategory::Other,
                )?,
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
        purpose: code_or(
            doc,
            v,
            "purpose",
            VisitPurpose::from_code,
            VisitPurpose::Other,
        )?,
        needs: needs.into_iter().map(|(_, n)| n).collect(),
        done_on_spot: opt_str(doc, v, "done_on_spot")?.unwrap_or_default(),
        follow_up: opt_bool(doc, v, "follow_up")?,
    })
}

/// The household without its visits (they are read separately when needed).
pub fn read_household_head(doc: &AutoCommit) -> Result<Household> {
    expect_kind(doc, DocKind::Household)?;
    Ok(Household {
        id: req_str(doc, &ROOT, "id")?,
        address: read_address(doc)?,
        residency: known_code(doc, &ROOT, "residency", Residency::from_code)?,
        housing: known_code(doc, &ROOT, "housing", Housing::from_code)?,
        tags: read_tags(doc)?,
        notes: opt_str(doc, &ROOT, "notes")?.unwrap_or_default(),
        members: read_members(doc)?,
        visits: Vec::new(),
        created_at: req_int(doc, &ROOT, "created_at")?,
    })
}

/// The household this one was merged into (合并重复户), if any: a merged household is kept
/// with its history but no longer listed.
pub fn read_merged_into(doc: &AutoCommit) -> Result<Option<String>> {
    opt_str(doc, &ROOT, "merged_into")
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
                action: code_or(
                    doc,
                    &e,
                    "action",
                    IncidentAction::from_code,
                    IncidentAction::Other,
                )?,
                by: req_str(doc, &e, "by")?,
                at: req_int(doc, &e, "at")?,
                note: opt_str(doc, &e, "note")?.unwrap_or_default(),
                to: opt_str(doc, &e, "to")?,
                department: opt_code(doc, &e, "department", Department::from_code)?,
                reason: opt_code(doc, &e, "reason", ReturnReason::from_code)?,
                rating: opt_code(doc, &e, "rating", Rating::from_code)?,
                level: opt_code(doc, &e, "level", Level::from_code)?,
                outcome: opt_code(doc, &e, "outcome", DisputeOutcome::from_code)?,
            })
        })
        .collect()
}

pub fn read_incident(doc: &AutoCommit) -> Result<(Incident, lifecycle::Derived)> {
    expect_kind(doc, DocKind::Incident)?;
    let events = read_events(doc)?;
    let derived = lifecycle::derive(&events);
    let incident = Incident {
        id: req_str(doc, &ROOT, "id")?,
        category: code_or(
            doc,
            &ROOT,
            "category",
            IncidentCategory::from_code,
            IncidentCategory::Other,
        )?,
        description: req_str(doc, &ROOT, "description")?,
        community_id: req_str(doc, &ROOT, "community_id")?,
        grid_id: req_str(doc, &ROOT, "grid_id")?,
        micro_grid_id: opt_str(doc, &ROOT, "micro_grid_id")?,
        building_id: opt_str(doc, &ROOT, "building_id")?,
        unit_id: opt_str(doc, &ROOT, "unit_id")?,
        household_id: opt_str(doc, &ROOT, "household_id")?,
        reporter: req_str(doc, &ROOT, "reporter")?,
        priority: known_code(doc, &ROOT, "priority", Priority::from_code)?,
        // The events say who handles it; the field is what the first release wrote.
        assignee: match (&derived.handler, &derived.department) {
            (None, None) => opt_str(doc, &ROOT, "assignee")?,
            (handler, _) => handler.clone(),
        },
        department: derived.department,
        reported_at: req_int(doc, &ROOT, "reported_at")?,
        received_at: opt_int(doc, &ROOT, "received_at")?,
        status: derived.status,
        level: derived.level,
        dispute: match (
            opt_str(doc, &ROOT, "parties")?,
            opt_str(doc, &ROOT, "mediator")?,
        ) {
            (None, None) => None,
            (parties, mediator) => Some(DisputeInfo {
                parties: parties.unwrap_or_default(),
                mediator: mediator.unwrap_or_default(),
            }),
        },
        events: derived.applied.iter().map(|(e, _)| e.clone()).collect(),
    };
    Ok((incident, derived))
}

/// Every `needs` map of the household: usually one, but a household that had none may get
/// one from two phones at once, and then both are kept (as a conflict) and both are read.
pub(super) fn need_maps(doc: &AutoCommit) -> Result<Vec<ObjId>> {
    doc.get_all(&ROOT, "needs")?
        .into_iter()
        .map(|(v, id)| match v {
            Value::Object(ObjType::Map) => Ok(id),
            _ => Err(SHAPE),
        })
        .collect()
}

/// The need's map, in whichever `needs` map holds it.
pub(super) fn find_need(doc: &AutoCommit, need_id: &str) -> Result<Option<ObjId>> {
    for needs in need_maps(doc)? {
        if doc.get(&needs, need_id)?.is_some() {
            return map(doc, &needs, need_id).map(Some);
        }
    }
    Ok(None)
}

fn read_need_events(doc: &AutoCommit, need: &ObjId) -> Result<Vec<NeedEvent>> {
    let events = map(doc, need, "events")?;
    entries(doc, &events)?
        .into_iter()
        .map(|(id, e)| {
            Ok(NeedEvent {
                id,
                action: code_or(doc, &e, "action", NeedAction::from_code, NeedAction::Other)?,
                by: req_str(doc, &e, "by")?,
                at: req_int(doc, &e, "at")?,
                note: opt_str(doc, &e, "note")?.unwrap_or_default(),
                owner: opt_str(doc, &e, "owner")?,
                due_at: opt_int(doc, &e, "due_at")?,
                incident_id: opt_str(doc, &e, "incident_id")?,
            })
        })
        .collect()
}

fn read_need(doc: &AutoCommit, id: String, need: &ObjId, household_id: &str) -> Result<NeedItem> {
    let raised = RaisedNeed {
        visit_id: req_str(doc, need, "visit_id")?,
        category: code_or(
            doc,
            need,
            "category",
            NeedCategory::from_code,
            NeedCategory::Other,
        )?,
        text: req_str(doc, need, "text")?,
        by: req_str(doc, need, "by")?,
        at: req_int(doc, need, "at")?,
        owner: req_str(doc, need, "owner")?,
        due_at: req_int(doc, need, "due_at")?,
    };
    let events = read_need_events(doc, need)?;
    Ok(crate::needs::item(
        id,
        household_id.to_owned(),
        raised,
        &events,
    ))
}

/// The household's needs raised on visits, oldest raised first. A household without a
/// `needs` map (written before needs were followed up) has none.
pub fn read_needs(doc: &AutoCommit, household_id: &str) -> Result<Vec<NeedItem>> {
    let mut out = Vec::new();
    for needs in need_maps(doc)? {
        for (id, n) in entries(doc, &needs)? {
            if out.iter().any(|x: &NeedItem| x.id == id) {
                continue;
            }
            out.push(read_need(doc, id, &n, household_id)?);
        }
    }
    out.sort_by(|a, b| (a.raised_at, &a.id).cmp(&(b.raised_at, &b.id)));
    Ok(out)
}

/// One need of the household.
pub fn read_need_item(doc: &AutoCommit, household_id: &str, need_id: &str) -> Result<NeedItem> {
    let need = find_need(doc, need_id)?.ok_or(Error::NotFound { kind: "need" })?;
    read_need(doc, need_id.to_owned(), &need, household_id)
}

/// The need an incident was converted from (转事件), if any.
pub fn read_incident_need(doc: &AutoCommit) -> Result<Option<String>> {
    expect_kind(doc, DocKind::Incident)?;
    opt_str(doc, &ROOT, "need_id")
}

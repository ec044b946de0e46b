//! Needs raised on door-knock visits, followed up (issue 10): raising one on a visit (a
//! visit's own needs are raised with it, `visits.rs`), its moves (take, done, reopen, a new
//! owner, a new due date), converting one to an incident (转事件), and the two lists, open
//! needs and follow-ups due, which read the `needs` query table only.
//!
//! A need lives in its household's document (`linli_domain::needs`): its status, owner and
//! due date are folded from its events, so changes made on two phones offline both count.
//! Every move is checked before it is written: an illegal one is `IllegalNeedTransition`,
//! details that do not fit it `InvalidInput`; neither writes anything.

use rusqlite::{OptionalExtension, Row, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::db::lock;
use crate::doc::{self, DocKind};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::projection;
use crate::store::{Store, new_id};

/// A need as the lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedSummary {
    pub id: String,
    pub household_id: String,
    /// The household's address (building, unit, room), for the list.
    pub address: String,
    pub visit_id: String,
    pub category: NeedCategory,
    /// The need's text, cut to 80 characters.
    pub summary: String,
    pub status: NeedStatus,
    pub owner: String,
    pub raised_by: String,
    pub raised_at: Millis,
    pub due_at: Millis,
    pub incident_id: Option<String>,
}

/// What converting a need to an incident needs beyond the need: the incident's category
/// and priority; an empty description takes the need's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNeedIncident {
    pub category: IncidentCategory,
    pub priority: Priority,
    pub description: String,
}

const NEED_COLUMNS: &str = "n.id, n.household_id, coalesce(h.address, ''), n.visit_id, \
     n.category, n.summary, n.status, n.owner, n.raised_by, n.raised_at, n.due_at, n.incident_id";

fn need_row(r: &Row<'_>) -> rusqlite::Result<NeedSummary> {
    let category: String = r.get(4)?;
    let status: String = r.get(6)?;
    Ok(NeedSummary {
        id: r.get(0)?,
        household_id: r.get(1)?,
        address: r.get(2)?,
        visit_id: r.get(3)?,
        category: NeedCategory::from_code(&category).unwrap_or(NeedCategory::Other),
        summary: r.get(5)?,
        // Rows are written by this code: an unknown status cannot be there, and reads as open.
        status: NeedStatus::from_code(&status).unwrap_or(NeedStatus::Open),
        owner: r.get(7)?,
        raised_by: r.get(8)?,
        raised_at: r.get(9)?,
        due_at: r.get(10)?,
        incident_id: r.get(11)?,
    })
}

/// A place filter on the household of a need: any level of the tree (a micro-grid's
/// households are those of its buildings).
const PLACE_CLAUSE: &str = "(h.grid_id = ?1 OR h.building_id = ?1 OR h.unit_id = ?1 \
     OR h.community_id = ?1 \
     OR h.building_id IN (SELECT id FROM places WHERE parent_id = ?1 AND kind = 'building'))";

impl Store {
    /// Raises a need on a visit already recorded; returns the need's id. The owner defaults
    /// to the visit's author, the due date to the category's default from now.
    pub fn raise_need(&self, new: NewNeed) -> Result<String> {
        new.validate()?;
        let (household_id, visitor): (String, String) = lock(&self.reader)
            .prepare_cached("SELECT household_id, visitor FROM visits WHERE id = ?1")?
            .query_row([&new.visit_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(Error::NotFound { kind: "visit" })?;
        let now = self.now();
        let id = new_id();
        let raised = RaisedNeed {
            visit_id: new.visit_id.clone(),
            category: new.category,
            text: new.text.trim().to_owned(),
            by: self.identity().user_id.clone(),
            at: now,
            owner: new.owner.clone().unwrap_or(visitor),
            due_at: new.due_at.unwrap_or_else(|| default_due(new.category, now)),
        };
        self.write(
            &household_id,
            DocKind::Household,
            false,
            "need.raise",
            |d, _| {
                doc::put_need(d, &id, &raised)?;
                Ok(((), vec!["needs"]))
            },
            |tx, d, _| projection::needs_doc(tx, &household_id, d),
        )?;
        Ok(id)
    }

    /// The household a need belongs to, from the query table.
    fn household_of_need(&self, need_id: &str) -> Result<String> {
        lock(&self.reader)
            .prepare_cached("SELECT household_id FROM needs WHERE id = ?1")?
            .query_row([need_id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound { kind: "need" })
    }

    /// One need, with its events.
    pub fn need(&self, need_id: &str) -> Result<NeedItem> {
        let household_id = self.household_of_need(need_id)?;
        self.read_doc(&household_id, DocKind::Household, |d| {
            Ok(doc::read_need_item(d, &household_id, need_id)?)
        })
    }

    /// Every need of a household, oldest raised first.
    pub fn needs_of(&self, household_id: &str) -> Result<Vec<NeedItem>> {
        self.read_doc(household_id, DocKind::Household, |d| {
            Ok(doc::read_needs(d, household_id)?)
        })
    }

    /// Moves a need (take, done, reopen, assign, reschedule); returns its new status. Refer
    /// is [`Store::need_to_incident`]. An illegal move is `IllegalNeedTransition`, details
    /// that do not fit it `InvalidInput`; neither writes anything.
    pub fn move_need(
        &self,
        need_id: &str,
        action: NeedAction,
        detail: NeedMoveDetail,
    ) -> Result<NeedStatus> {
        if action == NeedAction::Refer {
            return Err(invalid("action", Reason::NotAllowedHere));
        }
        self.need_event(need_id, action, detail)
    }

    /// Hands the need to another owner.
    pub fn assign_need(&self, need_id: &str, owner: &str) -> Result<NeedStatus> {
        self.move_need(
            need_id,
            NeedAction::Assign,
            NeedMoveDetail {
                owner: Some(owner.trim().to_owned()),
                ..NeedMoveDetail::default()
            },
        )
    }

    /// Sets a new due date.
    pub fn reschedule_need(&self, need_id: &str, due_at: Millis) -> Result<NeedStatus> {
        self.move_need(
            need_id,
            NeedAction::Reschedule,
            NeedMoveDetail {
                due_at: Some(due_at),
                ..NeedMoveDetail::default()
            },
        )
    }

    fn need_event(
        &self,
        need_id: &str,
        action: NeedAction,
        detail: NeedMoveDetail,
    ) -> Result<NeedStatus> {
        check_move(action, &detail)?;
        let household_id = self.household_of_need(need_id)?;
        let event = NeedEvent {
            id: new_id(),
            action,
            by: self.identity().user_id.clone(),
            at: self.now(),
            note: detail.note.trim().to_owned(),
            owner: detail.owner,
            due_at: detail.due_at,
            incident_id: detail.incident_id,
        };
        self.write(
            &household_id,
            DocKind::Household,
            false,
            &format!("need.{}", action.code()),
            |d, _| {
                let before = doc::read_need_item(d, &household_id, need_id)?;
                let after = check_transition(before.status, action)?;
                doc::put_need_event(d, need_id, &event)?;
                Ok((after, vec!["needs"]))
            },
            |tx, d, _| projection::needs_doc(tx, &household_id, d),
        )
    }

    /// Converts a need to an incident (转事件): reports the incident at the need's household
    /// through the usual path (judged the same), naming the need, then marks the need
    /// referred with the incident's id. Returns the incident's id. A need already done or
    /// referred is refused before anything is written.
    pub fn need_to_incident(&self, need_id: &str, new: NewNeedIncident) -> Result<String> {
        let need = self.need(need_id)?;
        check_transition(need.status, NeedAction::Refer)?;
        let description = if new.description.trim().is_empty() {
            need.text.clone()
        } else {
            new.description
        };
        let incident = self.report_incident_from(
            NewIncident {
                category: new.category,
                description,
                place_id: None,
                household_id: Some(need.household_id.clone()),
                priority: new.priority,
                assignee: None,
                dispute: None,
            },
            Some(need_id),
        )?;
        self.need_event(
            need_id,
            NeedAction::Refer,
            NeedMoveDetail {
                incident_id: Some(incident.clone()),
                ..NeedMoveDetail::default()
            },
        )?;
        Ok(incident)
    }

    /// Needs still to follow up (open or in hand), in the place given (any level) or all on
    /// the device (the device holds only its user's places), the earliest due first.
    pub fn open_needs(&self, place_id: Option<&str>) -> Result<Vec<NeedSummary>> {
        let place = match place_id {
            Some(_) => PLACE_CLAUSE,
            None => "?1 IS NULL",
        };
        let sql = format!(
            "SELECT {NEED_COLUMNS} FROM needs n LEFT JOIN households h ON h.id = n.household_id \
             WHERE n.status IN ('open', 'in_hand') AND {place} ORDER BY n.due_at, n.id"
        );
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter([place_id]), need_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Follow-ups due: needs open or in hand whose due date is at or before `at`, the
    /// earliest due first.
    pub fn needs_due(&self, at: Millis) -> Result<Vec<NeedSummary>> {
        let sql = format!(
            "SELECT {NEED_COLUMNS} FROM needs n LEFT JOIN households h ON h.id = n.household_id \
             WHERE n.status IN ('open', 'in_hand') AND n.due_at <= ?1 ORDER BY n.due_at, n.id"
        );
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map([at], need_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The moves the need allows now, in menu order (refer is the conversion).
    pub fn need_moves(&self, need_id: &str) -> Result<Vec<NeedAction>> {
        Ok(self.need(need_id)?.status.allowed_actions())
    }
}

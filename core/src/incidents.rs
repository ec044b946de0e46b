//! Incidents (事件): reporting, moving along the lifecycle, dispatching, priority, and
//! reading one whole.

use rusqlite::OptionalExtension;

use crate::doc::{self, DocKind};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::store::{Store, new_id};
use crate::{places, projection};

impl Store {
    pub fn report_incident(&self, new: NewIncident) -> Result<String> {
        new.validate()?;
        let now = self.now();
        let id = new_id();
        self.write(
            &id,
            DocKind::Incident,
            true,
            "incident.report",
            |d, tx| {
                let (community_id, grid_id, building_id) = match (&new.place_id, &new.household_id) {
                    (Some(place), _) => places::place_scope(tx, place)?,
                    (None, Some(hh)) => tx
                        .prepare_cached(
                            "SELECT community_id, grid_id, building_id FROM households WHERE id = ?1",
                        )?
                        .query_row([hh], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()?
                        .ok_or(Error::NotFound { kind: "household" })?,
                    (None, None) => return Err(invalid("place", "an incident needs a place")),
                };
                if let Some(hh) = &new.household_id {
                    let known: bool = tx
                        .prepare_cached("SELECT EXISTS (SELECT 1 FROM households WHERE id = ?1)")?
                        .query_row([hh], |r| r.get(0))?;
                    if !known {
                        return Err(Error::NotFound { kind: "household" });
                    }
                }
                let incident = Incident {
                    id: id.clone(),
                    category: new.category,
                    description: new.description.clone(),
                    community_id,
                    grid_id,
                    building_id,
                    unit_id: None,
                    household_id: new.household_id.clone(),
                    reporter: self.identity().user_id.clone(),
                    priority: new.priority,
                    assignee: new.assignee.clone(),
                    department: None,
                    reported_at: now,
                    received_at: None,
                    status: IncidentStatus::Reported,
                    level: Level::Grid,
                    dispute: new.dispute.clone(),
                    events: vec![],
                };
                doc::init_incident(d, &incident)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )?;
        Ok(id)
    }

    /// Moves an incident along its lifecycle; returns the new status. An illegal move is
    /// an error and records nothing.
    pub fn move_incident(
        &self,
        id: &str,
        action: IncidentAction,
        note: &str,
    ) -> Result<IncidentStatus> {
        check_text("note", note, false)?;
        let event = LifecycleEvent::new(
            new_id(),
            action,
            self.identity().user_id.clone(),
            self.now(),
            note.to_owned(),
        );
        self.write(
            id,
            DocKind::Incident,
            false,
            &format!("incident.{}", action.code()),
            |d, _| Ok((linli_domain::moves::apply(d, &event)?, vec![])),
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    /// Dispatches (派单) an incident to someone, or clears the assignee.
    pub fn assign_incident(&self, id: &str, assignee: Option<&str>) -> Result<()> {
        if let Some(a) = assignee {
            check_short("assignee", a, true)?;
        }
        self.write(
            id,
            DocKind::Incident,
            false,
            "incident.assign",
            |d, _| {
                doc::put_assignee(d, assignee)?;
                Ok(((), vec!["assignee"]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    pub fn set_incident_priority(&self, id: &str, priority: Priority) -> Result<()> {
        self.write(
            id,
            DocKind::Incident,
            false,
            "incident.priority",
            |d, _| {
                doc::put_priority(d, priority)?;
                Ok(((), vec!["priority"]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    pub fn incident(&self, id: &str) -> Result<Incident> {
        self.read_doc(id, DocKind::Incident, |d| Ok(doc::read_incident(d)?.0))
    }
}

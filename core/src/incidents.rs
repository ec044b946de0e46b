//! Incidents (事件): reporting, moving along the lifecycle (each move judged by the role
//! table first, `judge.rs`), dispatching, priority, the action menu, and reading one whole.

use rusqlite::OptionalExtension;

use crate::db::lock;
use crate::doc::{self, DocKind};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::store::{Store, new_id};
use crate::{judge, places, projection};

impl Store {
    pub fn report_incident(&self, new: NewIncident) -> Result<String> {
        self.report_incident_from(new, None)
    }

    /// Reports an incident, naming the need it was converted from (转事件), if any.
    pub(crate) fn report_incident_from(
        &self,
        new: NewIncident,
        need_id: Option<&str>,
    ) -> Result<String> {
        new.validate()?;
        let now = self.now();
        let id = new_id();
        self.write(
            &id,
            DocKind::Incident,
            true,
            "incident.report",
            |d, tx| {
                judge::check_report(tx, &self.identity().user_id)?;
                // The place given wins; a household alone places it at its address, so a unit
                // leader receives the incidents of their unit's households.
                let at = match (&new.place_id, &new.household_id) {
                    (Some(place), _) => places::place_scope(tx, place)?,
                    (None, Some(hh)) => {
                        let (community_id, grid_id, building_id, unit_id): (String, String, Option<String>, Option<String>) = tx
                            .prepare_cached(
                                "SELECT community_id, grid_id, building_id, unit_id FROM households WHERE id = ?1",
                            )?
                            .query_row([hh], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                            .optional()?
                            .ok_or(Error::NotFound { kind: "household" })?;
                        // The micro-grid is the building's parent, when it is one.
                        let micro_grid_id = match &building_id {
                            Some(b) => places::micro_grid_of(tx, b)?,
                            None => None,
                        };
                        places::PlaceScope { community_id, grid_id, micro_grid_id, building_id, unit_id }
                    }
                    (None, None) => return Err(invalid("place", Reason::Required)),
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
                    community_id: at.community_id,
                    grid_id: at.grid_id,
                    micro_grid_id: at.micro_grid_id,
                    building_id: at.building_id,
                    unit_id: at.unit_id,
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
                if let Some(need) = need_id {
                    doc::put_incident_need(d, need)?;
                }
                Ok(((), vec![]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )?;
        Ok(id)
    }

    /// Moves an incident along its lifecycle with only a note; see
    /// [`Store::move_incident_with`].
    pub fn move_incident(
        &self,
        id: &str,
        action: IncidentAction,
        note: &str,
    ) -> Result<IncidentStatus> {
        self.move_incident_with(
            id,
            action,
            MoveDetail {
                note: note.to_owned(),
                ..MoveDetail::default()
            },
        )
    }

    /// Makes a move with its details (a dispatch's handler, a return's reason, feedback's
    /// rating, an escalation's level, a dispute's outcome); returns the new status. An
    /// illegal move is `IllegalTransition`, a move the user's role may not make
    /// `NotAllowed`, missing or stray details `InvalidInput`; none of them records anything.
    pub fn move_incident_with(
        &self,
        id: &str,
        action: IncidentAction,
        detail: MoveDetail,
    ) -> Result<IncidentStatus> {
        check_text("note", &detail.note, false)?;
        let user = self.identity().user_id.clone();
        let event =
            linli_domain::moves::event(new_id(), action, user.clone(), self.now(), detail.clone());
        self.write(
            id,
            DocKind::Incident,
            false,
            &format!("incident.{}", action.code()),
            |d, tx| {
                let before = linli_domain::moves::current(d)?;
                // An illegal move says so before who makes it is judged.
                if before.status.after(action).is_none() {
                    return Err(Error::IllegalTransition {
                        from: before.status,
                        action,
                    });
                }
                judge::check_move(tx, &user, action, &before, &detail)?;
                Ok((linli_domain::moves::apply(d, &event)?, vec![]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    /// Dispatches (派单) an incident to a person, a department, or both, as a dispatch event
    /// judged like any move.
    pub fn dispatch_incident(
        &self,
        id: &str,
        to: Option<&str>,
        department: Option<Department>,
        note: &str,
    ) -> Result<IncidentStatus> {
        self.move_incident_with(
            id,
            IncidentAction::Dispatch,
            MoveDetail {
                note: note.to_owned(),
                to: to.map(str::to_owned),
                department,
                ..MoveDetail::default()
            },
        )
    }

    /// The moves the signed-in user may make on the incident now, in menu order: what the
    /// action menu offers. Before the device has its user's reference row, every move the
    /// status allows (the server judges).
    pub fn incident_moves(&self, id: &str) -> Result<Vec<IncidentAction>> {
        let user = &self.identity().user_id;
        let role = judge::role_of(&lock(&self.reader), user)?;
        self.read_doc(id, DocKind::Incident, |d| {
            let derived = linli_domain::moves::current(d)?;
            Ok(judge::menu(role, user, &derived))
        })
    }

    /// Sets or clears the assignee field alone (the first release's dispatch), without an
    /// event: kept for old callers; [`Store::dispatch_incident`] records a dispatch.
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

    /// Moves an incident to another place (a grid, micro-grid, building or unit): the fix for
    /// one the server refused as outside the user's places. It no longer names a household.
    /// A place outside the user's places is refused like any write (`OutsideMyPlaces`).
    pub fn set_incident_place(&self, id: &str, place_id: &str) -> Result<()> {
        self.write(
            id,
            DocKind::Incident,
            false,
            "incident.place",
            |d, tx| {
                let at = places::place_scope(tx, place_id)?;
                doc::put_incident_place(
                    d,
                    &doc::DocPlace {
                        community_id: at.community_id,
                        grid_id: at.grid_id,
                        micro_grid_id: at.micro_grid_id,
                        building_id: at.building_id,
                        unit_id: at.unit_id,
                    },
                )?;
                Ok(((), vec!["place"]))
            },
            |tx, d, _| projection::incident_doc(tx, d),
        )
    }

    /// The need the incident was converted from (转事件), if any.
    pub fn incident_need(&self, id: &str) -> Result<Option<String>> {
        self.read_doc(id, DocKind::Incident, |d| Ok(doc::read_incident_need(d)?))
    }

    pub fn incident(&self, id: &str) -> Result<Incident> {
        self.read_doc(id, DocKind::Incident, |d| Ok(doc::read_incident(d)?.0))
    }
}

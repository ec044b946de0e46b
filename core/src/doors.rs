//! Households at one door (issue 10, "duplicates warn first"): before registering a
//! household, the apps list those already at the same address and room, and the user
//! confirms. Two households may share a door (tenants, a split family), so this warns and
//! never refuses.

use rusqlite::OptionalExtension;

use crate::db::lock;
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::query::{HOUSEHOLD_COLUMNS, HouseholdSummary, household_row};
use crate::store::Store;

impl Store {
    /// The households already registered at `place_id` (a building or a unit) with `room`
    /// (compared trimmed), in address order. At a unit, a household registered at its
    /// building with no unit counts too; at a building, those of any of its units do (the
    /// address does not say which). A blank room matches nothing. An unknown place is
    /// `NotFound`, a place that holds no households (a grid, …) `InvalidInput { field:
    /// "place", reason: wrong_place }`.
    pub fn households_at_door(&self, place_id: &str, room: &str) -> Result<Vec<HouseholdSummary>> {
        let room = room.trim();
        let r = lock(&self.reader);
        let kind: Option<String> = r
            .prepare_cached("SELECT kind FROM places WHERE id = ?1")?
            .query_row([place_id], |row| row.get(0))
            .optional()?;
        let kind = kind.ok_or(Error::NotFound { kind: "place" })?;
        if !matches!(
            PlaceKind::from_code(&kind),
            Some(PlaceKind::Building | PlaceKind::Unit)
        ) {
            return Err(invalid("place", Reason::WrongPlace));
        }
        if room.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {HOUSEHOLD_COLUMNS} FROM households h WHERE trim(h.room) = ?2 AND ( \
               h.unit_id = ?1 OR h.building_id = ?1 \
               OR (h.unit_id IS NULL AND h.building_id = \
                   (SELECT parent_id FROM places WHERE id = ?1 AND kind = 'unit'))) \
             ORDER BY h.building_id, h.unit_id, h.created_at, h.id"
        );
        let mut stmt = r.prepare_cached(&sql)?;
        let rows = stmt.query_map([place_id, room], household_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

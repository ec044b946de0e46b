//! The place tree on the device (reference data from the server): storing it, and resolving
//! a place to the address or scope a record is written with.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::store::Store;

impl Store {
    /// Stores places of the tree (reference data from the server), replacing those with
    /// the same id.
    pub fn put_places(&self, places: &[Place]) -> Result<()> {
        for p in places {
            check_short("place.id", &p.id, true)?;
            check_short("place.name", &p.name, true)?;
        }
        self.transaction(|tx| put_places(tx, places))
    }
}

/// Stores places in the caller's transaction (validated by the caller).
pub(crate) fn put_places(tx: &Transaction<'_>, places: &[Place]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO places (id, kind, parent_id, name) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for p in places {
        stmt.execute(params![p.id, p.kind.code(), p.parent_id, p.name.trim()])?;
    }
    Ok(())
}

/// Resolves a building or unit to a full address.
pub(crate) fn resolve_address(tx: &Transaction<'_>, place_id: &str, room: &str) -> Result<Address> {
    let mut address = Address {
        room: room.trim().to_owned(),
        ..Address::default()
    };
    let mut next = Some(place_id.to_owned());
    let mut first = true;
    while let Some(id) = next.take() {
        let row: Option<(String, Option<String>)> = tx
            .prepare_cached("SELECT kind, parent_id FROM places WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (kind, parent) = row.ok_or(Error::NotFound { kind: "place" })?;
        match PlaceKind::from_code(&kind) {
            Some(PlaceKind::Unit) if first => address.unit_id = Some(id),
            Some(PlaceKind::Building) if address.building_id.is_none() => {
                address.building_id = Some(id)
            }
            Some(PlaceKind::Grid) if !first => {
                address.grid_id = id;
            }
            Some(PlaceKind::Community) if !first => {
                address.community_id = id;
                break;
            }
            _ => return Err(invalid("place", "must be a building or unit under a grid")),
        }
        first = false;
        next = parent;
    }
    if address.grid_id.is_empty() || address.community_id.is_empty() {
        return Err(invalid("place", "must be a building or unit under a grid"));
    }
    Ok(address)
}

/// (community, grid, building, unit) of any place at or below a grid.
pub(crate) fn place_scope(
    tx: &Transaction<'_>,
    place_id: &str,
) -> Result<(String, String, Option<String>, Option<String>)> {
    let mut community = None;
    let mut unit = None;
    let mut grid = None;
    let mut building = None;
    let mut next = Some(place_id.to_owned());
    while let Some(id) = next.take() {
        let (kind, parent): (String, Option<String>) = tx
            .prepare_cached("SELECT kind, parent_id FROM places WHERE id = ?1")?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or(Error::NotFound { kind: "place" })?;
        match PlaceKind::from_code(&kind) {
            Some(PlaceKind::Unit) => unit = unit.or(Some(id)),
            Some(PlaceKind::Building) => building = Some(id),
            Some(PlaceKind::Grid) => grid = grid.or(Some(id)),
            Some(PlaceKind::Community) => {
                community = Some(id);
                break;
            }
            _ => {}
        }
        next = parent;
    }
    match (community, grid) {
        (Some(c), Some(g)) => Ok((c, g, building, unit)),
        _ => Err(invalid("place", "must be at or below a grid")),
    }
}

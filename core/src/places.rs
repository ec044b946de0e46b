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

/// Resolves a building or unit to a full address, walking unit → building → micro-grid (if
/// any) → grid → community.
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
            Some(PlaceKind::MicroGrid) if address.building_id.is_some() && !first => {
                address.micro_grid_id = Some(id)
            }
            Some(PlaceKind::Grid) if !first => {
                address.grid_id = id;
            }
            // The street above the community is not part of an address: stop there.
            Some(PlaceKind::Community) if !first => {
                address.community_id = id;
                break;
            }
            _ => return Err(invalid("place", Reason::WrongPlace)),
        }
        first = false;
        next = parent;
    }
    if address.grid_id.is_empty() || address.community_id.is_empty() {
        return Err(invalid("place", Reason::WrongPlace));
    }
    Ok(address)
}

/// Where a record at a place lies: its community, grid, micro-grid, building and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlaceScope {
    pub community_id: String,
    pub grid_id: String,
    pub micro_grid_id: Option<String>,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
}

/// The [`PlaceScope`] of any place at or below a grid.
pub(crate) fn place_scope(tx: &Transaction<'_>, place_id: &str) -> Result<PlaceScope> {
    let mut community = None;
    let mut unit = None;
    let mut grid = None;
    let mut micro_grid = None;
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
            Some(PlaceKind::MicroGrid) => micro_grid = micro_grid.or(Some(id)),
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
        (Some(community_id), Some(grid_id)) => Ok(PlaceScope {
            community_id,
            grid_id,
            micro_grid_id: micro_grid,
            building_id: building,
            unit_id: unit,
        }),
        _ => Err(invalid("place", Reason::WrongPlace)),
    }
}

/// The micro-grid a building stands in (its parent, when that is a micro-grid).
pub(crate) fn micro_grid_of(tx: &Transaction<'_>, building_id: &str) -> Result<Option<String>> {
    let parent: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT p.id, p.kind FROM places b JOIN places p ON p.id = b.parent_id WHERE b.id = ?1",
        )?
        .query_row([building_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(parent
        .filter(|(_, kind)| kind.as_str() == PlaceKind::MicroGrid.code())
        .map(|(id, _)| id))
}

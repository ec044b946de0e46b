//! Which places a user may see and write: the places they were granted, by level. The
//! server filters pulls and judges pushes by it; the phone will check writes against it.
//!
//! There is no street level here: documents do not name their street, so the server expands
//! a street grant to the communities under it when it builds a device's scope
//! (`sync-server`'s `Storage::authenticate`, which builds the `Device`). A street admin then
//! sees every community of their street, and receives those communities' trees.

use std::collections::BTreeSet;

use crate::doc::DocPlace;
use crate::model::PlaceKind;

/// The places a device's user was granted, by kind. A document is in scope when its
/// community, grid, micro-grid, building or unit is one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub communities: BTreeSet<String>,
    pub grids: BTreeSet<String>,
    /// Micro-grids (微网格): a micro-grid worker's grant.
    pub micro_grids: BTreeSet<String>,
    pub buildings: BTreeSet<String>,
    pub units: BTreeSet<String>,
}

impl Scope {
    /// Adds a granted place. A street is not kept (see the module doc): the caller grants
    /// the street's communities instead.
    pub fn grant(&mut self, kind: PlaceKind, place_id: impl Into<String>) {
        let id = place_id.into();
        match kind {
            PlaceKind::Community => self.communities.insert(id),
            PlaceKind::Grid => self.grids.insert(id),
            PlaceKind::Building => self.buildings.insert(id),
            PlaceKind::Unit => self.units.insert(id),
            PlaceKind::MicroGrid => self.micro_grids.insert(id),
            PlaceKind::Street => false,
        };
    }

    pub fn is_empty(&self) -> bool {
        self.communities.is_empty()
            && self.grids.is_empty()
            && self.micro_grids.is_empty()
            && self.buildings.is_empty()
            && self.units.is_empty()
    }

    /// Whether a document at `place` is in this scope.
    pub fn covers(&self, place: &DocPlace) -> bool {
        let opt = |set: &BTreeSet<String>, id: &Option<String>| {
            id.as_ref().is_some_and(|id| set.contains(id))
        };
        self.communities.contains(&place.community_id)
            || self.grids.contains(&place.grid_id)
            || opt(&self.micro_grids, &place.micro_grid_id)
            || opt(&self.buildings, &place.building_id)
            || opt(&self.units, &place.unit_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(grid: &str, building: Option<&str>, unit: Option<&str>) -> DocPlace {
        DocPlace {
            community_id: "c".into(),
            grid_id: grid.into(),
            micro_grid_id: None,
            building_id: building.map(Into::into),
            unit_id: unit.map(Into::into),
        }
    }

    #[test]
    fn scope_matches_each_level() {
        let mut s = Scope::default();
        assert!(s.is_empty());
        s.grant(PlaceKind::Building, "b1");
        assert!(s.covers(&place("g1", Some("b1"), None)));
        assert!(s.covers(&place("g1", Some("b1"), Some("u1"))));
        assert!(!s.covers(&place("g1", Some("b2"), None)));
        assert!(!s.covers(&place("g1", None, None)));
        let mut unit = Scope::default();
        unit.grant(PlaceKind::Unit, "u1");
        assert!(unit.covers(&place("g1", Some("b1"), Some("u1"))));
        assert!(!unit.covers(&place("g1", Some("b1"), None)));
        let mut admin = Scope::default();
        admin.grant(PlaceKind::Community, "c");
        assert!(admin.covers(&place("g2", None, None)));
    }

    #[test]
    fn a_micro_grid_grant_covers_its_documents_only() {
        let mut s = Scope::default();
        s.grant(PlaceKind::MicroGrid, "m1");
        assert!(!s.is_empty());
        let at = |m: Option<&str>| DocPlace {
            micro_grid_id: m.map(Into::into),
            ..place("g1", Some("b1"), None)
        };
        assert!(s.covers(&at(Some("m1"))));
        assert!(!s.covers(&at(Some("m2"))));
        assert!(!s.covers(&at(None)));
        // The grid's worker still sees the micro-grid's documents.
        let mut grid = Scope::default();
        grid.grant(PlaceKind::Grid, "g1");
        assert!(grid.covers(&at(Some("m1"))));
        // A street grant alone is nothing here: the server grants its communities.
        let mut street = Scope::default();
        street.grant(PlaceKind::Street, "s");
        assert!(street.is_empty());
    }
}

//! Which places a user may see and write: the places they were granted, by level. The
//! server filters pulls and judges pushes by it; the phone will check writes against it.

use std::collections::BTreeSet;

use crate::doc::DocPlace;
use crate::model::PlaceKind;

/// The places a device's user was granted, by kind. A document is in scope when its
/// community, grid, building or unit is one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub communities: BTreeSet<String>,
    pub grids: BTreeSet<String>,
    pub buildings: BTreeSet<String>,
    pub units: BTreeSet<String>,
}

impl Scope {
    /// Adds a granted place.
    pub fn grant(&mut self, kind: PlaceKind, place_id: impl Into<String>) {
        let id = place_id.into();
        match kind {
            PlaceKind::Community => self.communities.insert(id),
            PlaceKind::Grid => self.grids.insert(id),
            PlaceKind::Building => self.buildings.insert(id),
            PlaceKind::Unit => self.units.insert(id),
        };
    }

    pub fn is_empty(&self) -> bool {
        self.communities.is_empty()
            && self.grids.is_empty()
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
}

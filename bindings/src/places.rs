//! The user's places and the records the server refused (issue 10): pickers start from
//! [`LinliStore::my_places`]; a write outside them fails with `LinliError::OutsideMyPlaces`;
//! refused records are listed with why, and leave by a fix (any write: a household's new
//! address, an incident's new place, in the user's places) or
//! [`LinliStore::discard_local_changes`].

use linli_core::doc::DocKind;
use linli_core::protocol::{Grant, PushOutcome};
use linli_core::*;

use crate::{LinliStore, Result};

#[uniffi::remote(Enum)]
pub enum DocKind {
    Household,
    Incident,
}

#[uniffi::remote(Record)]
pub struct Grant {
    pub place_id: String,
    pub kind: PlaceKind,
}

#[uniffi::remote(Record)]
pub struct RefusedDocument {
    pub doc_id: String,
    pub kind: DocKind,
    pub outcome: PushOutcome,
    pub label: String,
    pub changed_since: bool,
}

#[uniffi::remote(Enum)]
pub enum Discarded {
    Nothing,
    Reverted,
    Deleted,
}

#[uniffi::export]
impl LinliStore {
    /// The granted places and every place under them, parents first; before the first sync
    /// brought grants, every place held. What pickers offer.
    pub fn my_places(&self) -> Result<Vec<Place>> {
        Ok(self.store.my_places()?)
    }

    /// The user's grants (`None` before the first sync brought any).
    pub fn my_grants(&self) -> Result<Option<Vec<Grant>>> {
        Ok(self.store.my_grants()?)
    }

    /// Moves an incident to another place (the fix for one refused as outside the user's
    /// places); it no longer names a household.
    pub fn set_incident_place(&self, id: String, place_id: String) -> Result<()> {
        Ok(self.store.set_incident_place(&id, &place_id)?)
    }

    /// Records the server refused, kept on the device, with why.
    pub fn refused_documents(&self) -> Result<Vec<RefusedDocument>> {
        Ok(self.store.refused_documents()?)
    }

    /// Drops a record's local changes the server never acknowledged: back to the server's
    /// version, or deleted if the server never had it.
    pub fn discard_local_changes(&self, doc_id: String) -> Result<Discarded> {
        Ok(self.store.discard_local_changes(&doc_id)?)
    }
}

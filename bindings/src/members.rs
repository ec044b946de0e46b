//! The register's per-person types: gender, residence status (户籍 / 常住 / 流动) and a
//! member's own details, as the core defines them; and the register forms' two questions:
//! may the user see sensitive fields, and who is already at this door.

use linli_core::*;

use crate::{LinliStore, Result};

#[uniffi::remote(Enum)]
pub enum Gender {
    Male,
    Female,
}

#[uniffi::remote(Enum)]
pub enum PersonResidence {
    Registered,
    Resident,
    Floating,
}

#[uniffi::remote(Record)]
pub struct MemberDetails {
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
    pub tags: Vec<CareTag>,
}

/// The register's forms: what the user's role may see, and the duplicate warning.
#[uniffi::export]
impl LinliStore {
    /// Whether the signed-in user sees phones, ID numbers and sensitive care tags (grid and
    /// micro-grid workers, admins); false for leaders, and before the role is known.
    pub fn sees_sensitive(&self) -> Result<bool> {
        Ok(self.store.sees_sensitive()?)
    }

    /// The households already at `place_id` (building or unit) with `room`: the warning
    /// shown before registering another there.
    pub fn households_at_door(
        &self,
        place_id: String,
        room: String,
    ) -> Result<Vec<HouseholdSummary>> {
        Ok(self.store.households_at_door(&place_id, &room)?)
    }
}

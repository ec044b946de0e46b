//! The register's per-person types: gender, residence status (户籍 / 常住 / 流动) and a
//! member's own details, as the core defines them.

use linli_core::*;

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

//! The domain: places, households and their members, visits. Incidents are `incident.rs`.
//!
//! Plain data plus validation. How these live in Automerge documents is `doc.rs`;
//! how they are stored and queried is `store.rs` and `query.rs`.

use serde::{Deserialize, Serialize};

pub use crate::codes::{
    CareTag, Gender, Housing, NeedCategory, PersonResidence, PlaceKind, Reason, Relation,
    Residency, VisitPurpose,
};
use crate::error::{Result, invalid};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A node of the place tree (reference data: it reaches the device from the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub id: String,
    pub kind: PlaceKind,
    pub parent_id: Option<String>,
    pub name: String,
}

/// Where a household lives, resolved against the place tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub community_id: String,
    pub grid_id: String,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
    /// Room or door number, e.g. "301".
    pub room: String,
    /// The micro-grid (微网格) between the grid and the building, if the building has one.
    /// Last, so positional constructors in the apps keep working.
    #[serde(default)]
    pub micro_grid_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub relation: Relation,
    pub birth_year: Option<i32>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    /// Set with [`MemberDetails`]; none for members registered before them.
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub residence: Option<PersonResidence>,
    /// The person's own care tags (who is disabled, under community correction, …), sorted.
    #[serde(default)]
    pub tags: Vec<CareTag>,
    /// When they moved out (迁出); only former members have it.
    #[serde(default)]
    pub moved_out_at: Option<Millis>,
}

/// A member's details beyond the form's first fields, set as a whole: gender, residence
/// status and their own care tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDetails {
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
    pub tags: Vec<CareTag>,
}

/// A member to add to a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub name: String,
    pub relation: Relation,
    pub birth_year: Option<i32>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Fields of a member to change; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub relation: Option<Relation>,
    pub birth_year: Option<Option<i32>>,
    pub phone: Option<Option<String>>,
    pub id_number: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub id: String,
    pub address: Address,
    pub residency: Residency,
    pub housing: Housing,
    /// Sorted by tag.
    pub tags: Vec<CareTag>,
    pub notes: String,
    /// Sorted by relation then name.
    pub members: Vec<Member>,
    /// Newest first.
    pub visits: Vec<Visit>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHousehold {
    /// A building or unit of the place tree.
    pub place_id: String,
    pub room: String,
    pub residency: Residency,
    pub housing: Housing,
    pub tags: Vec<CareTag>,
    pub notes: String,
    pub members: Vec<NewMember>,
}

/// Household fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdPatch {
    /// Move the household to another building or unit.
    pub place_id: Option<String>,
    pub room: Option<String>,
    pub residency: Option<Residency>,
    pub housing: Option<Housing>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub category: NeedCategory,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: String,
    pub household_id: String,
    pub visitor: String,
    pub at: Millis,
    pub purpose: VisitPurpose,
    pub needs: Vec<Need>,
    pub done_on_spot: String,
    pub follow_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub household_id: String,
    /// When the door was knocked; `None` means now.
    pub at: Option<Millis>,
    pub purpose: VisitPurpose,
    pub needs: Vec<Need>,
    pub done_on_spot: String,
    pub follow_up: bool,
}

// ---- validation -------------------------------------------------------------------------

const MAX_NAME_CHARS: usize = 50;
const MAX_TEXT_CHARS: usize = 4000;
const MAX_SHORT_CHARS: usize = 100;

pub fn check_name(name: &str) -> Result<()> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(invalid("name", Reason::Required));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(invalid("name", Reason::TooLong));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid("name", Reason::ControlCharacters));
    }
    Ok(())
}

pub fn check_text(field: &'static str, text: &str, required: bool) -> Result<()> {
    if required && text.trim().is_empty() {
        return Err(invalid(field, Reason::Required));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(field, Reason::TooLong));
    }
    Ok(())
}

pub fn check_short(field: &'static str, text: &str, required: bool) -> Result<()> {
    if required && text.trim().is_empty() {
        return Err(invalid(field, Reason::Required));
    }
    if text.chars().count() > MAX_SHORT_CHARS || text.chars().any(char::is_control) {
        return Err(invalid(field, Reason::TooLong));
    }
    Ok(())
}

/// A mainland mobile number (11 digits starting 1[3-9]) or a landline with an optional
/// area code (0 + 2–3 digits, optional '-') and 7–8 digits.
pub fn check_phone(phone: &str) -> Result<()> {
    let p = phone.trim();
    let bytes = p.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let mobile = bytes.len() == 11 && digits(bytes) && bytes[0] == b'1' && bytes[1] >= b'3';
    let landline = match p.split_once('-') {
        Some((area, local)) => {
            area.len() >= 3
                && area.len() <= 4
                && area.starts_with('0')
                && digits(area.as_bytes())
                && (7..=8).contains(&local.len())
                && digits(local.as_bytes())
        }
        None => {
            digits(bytes)
                && ((7..=8).contains(&bytes.len())
                    || (bytes[0] == b'0' && (10..=12).contains(&bytes.len())))
        }
    };
    if mobile || landline {
        Ok(())
    } else {
        Err(invalid("phone", Reason::BadFormat))
    }
}

/// An 18-character resident ID number (GB 11643-1999) with a valid check character.
pub fn check_id_number(id: &str) -> Result<()> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.trim().as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(invalid("id_number", Reason::BadFormat));
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if b[17].to_ascii_uppercase() != expected {
        return Err(invalid("id_number", Reason::CheckCharacter));
    }
    Ok(())
}

pub fn check_birth_year(year: i32, now: Millis) -> Result<()> {
    // Milliseconds in a mean Gregorian year (365.2425 days).
    const YEAR_MS: i64 = 3_652_425 * 8_640;
    let this_year = 1970 + (now / YEAR_MS) as i32;
    if year < 1900 || year > this_year {
        return Err(invalid("birth_year", Reason::OutOfRange));
    }
    Ok(())
}

impl NewMember {
    pub fn validate(&self, now: Millis) -> Result<()> {
        check_name(&self.name)?;
        if let Some(y) = self.birth_year {
            check_birth_year(y, now)?;
        }
        if let Some(p) = &self.phone {
            check_phone(p)?;
        }
        if let Some(n) = &self.id_number {
            check_id_number(n)?;
        }
        Ok(())
    }
}

impl MemberPatch {
    pub fn validate(&self, now: Millis) -> Result<()> {
        if let Some(n) = &self.name {
            check_name(n)?;
        }
        if let Some(Some(y)) = self.birth_year {
            check_birth_year(y, now)?;
        }
        if let Some(Some(p)) = &self.phone {
            check_phone(p)?;
        }
        if let Some(Some(n)) = &self.id_number {
            check_id_number(n)?;
        }
        Ok(())
    }
}

impl NewHousehold {
    pub fn validate(&self, now: Millis) -> Result<()> {
        check_short("room", &self.room, true)?;
        check_text("notes", &self.notes, false)?;
        for m in &self.members {
            m.validate(now)?;
        }
        Ok(())
    }
}

impl HouseholdPatch {
    pub fn validate(&self) -> Result<()> {
        if let Some(r) = &self.room {
            check_short("room", r, true)?;
        }
        if let Some(n) = &self.notes {
            check_text("notes", n, false)?;
        }
        Ok(())
    }
}

impl NewVisit {
    pub fn validate(&self, now: Millis) -> Result<()> {
        for need in &self.needs {
            check_text("need", &need.text, true)?;
        }
        check_text("done_on_spot", &self.done_on_spot, false)?;
        if let Some(at) = self.at {
            // A visit may be entered afterwards, but not from the future (allowing clock skew).
            if at > now + 24 * 3600 * 1000 || at < 0 {
                return Err(invalid("at", Reason::OutOfRange));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for ok in ["13812345678", "0838-1234567", "02812345678", "1234567"] {
            assert!(check_phone(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1381234567",
            "12812345678",
            "138-1234-5678",
            "abc",
            "0838-12",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_numbers() {
        // A well-known sample number with a valid check digit.
        assert!(check_id_number("11010519491231002X").is_ok());
        assert!(check_id_number("11010519491231002x").is_ok());
        assert!(check_id_number("110105194912310021").is_err());
        assert!(check_id_number("1101051949123100").is_err());
    }

    #[test]
    fn birth_years() {
        // 2026-11-21 in milliseconds.
        let now = 1_795_305_600_000;
        assert!(check_birth_year(2026, now).is_ok());
        assert!(check_birth_year(2015, now).is_ok());
        assert!(check_birth_year(1900, now).is_ok());
        assert!(check_birth_year(2027, now).is_err());
        assert!(check_birth_year(1899, now).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for t in CareTag::ALL {
            assert_eq!(CareTag::from_code(t.code()), Some(*t));
        }
        assert_eq!(Residency::from_code("nope"), None);
    }
}

//! Households and their members and tags: every write of one (each one change through
//! [`Store::write`]) and reading one whole.

use crate::doc::{self, DocKind};
use crate::error::{Error, Result, invalid};
use crate::model::*;
use crate::store::{Store, new_id};
use crate::{places, projection};

impl Store {
    pub fn create_household(&self, new: NewHousehold) -> Result<String> {
        let now = self.now();
        new.validate(now)?;
        let id = new_id();
        let members: Vec<(String, NewMember)> =
            new.members.iter().map(|m| (new_id(), m.clone())).collect();
        self.write(
            &id,
            DocKind::Household,
            true,
            "household.create",
            |d, tx| {
                let address = places::resolve_address(tx, &new.place_id, &new.room)?;
                doc::init_household(d, &id, now, &address, &new)?;
                for (mid, m) in &members {
                    doc::put_member(d, mid, m)?;
                }
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household_head(tx, d),
        )?;
        Ok(id)
    }

    pub fn update_household(&self, id: &str, patch: HouseholdPatch) -> Result<()> {
        patch.validate()?;
        self.write(
            id,
            DocKind::Household,
            false,
            "household.update",
            |d, tx| {
                let mut fields = Vec::new();
                if patch.place_id.is_some() || patch.room.is_some() {
                    let current = doc::read_address(d)?;
                    let place = patch
                        .place_id
                        .clone()
                        .or(current.unit_id.clone())
                        .or(current.building_id.clone())
                        .ok_or(invalid("place", Reason::WrongPlace))?;
                    let room = patch.room.clone().unwrap_or(current.room);
                    doc::write_address(d, &places::resolve_address(tx, &place, &room)?)?;
                    fields.push("address");
                }
                doc::put_household_fields(
                    d,
                    patch.residency,
                    patch.housing,
                    patch.notes.as_deref(),
                )?;
                if patch.residency.is_some() {
                    fields.push("residency");
                }
                if patch.housing.is_some() {
                    fields.push("housing");
                }
                if patch.notes.is_some() {
                    fields.push("notes");
                }
                Ok(((), fields))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    pub fn add_member(&self, household_id: &str, member: NewMember) -> Result<String> {
        member.validate(self.now())?;
        let mid = new_id();
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.add",
            |d, _| {
                doc::put_member(d, &mid, &member)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household_head(tx, d),
        )?;
        Ok(mid)
    }

    pub fn update_member(
        &self,
        household_id: &str,
        member_id: &str,
        patch: MemberPatch,
    ) -> Result<()> {
        patch.validate(self.now())?;
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.update",
            |d, _| Ok(((), doc::patch_member(d, member_id, &patch)?)),
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    /// Saves a member edited as a whole form: only the fields that differ from what the
    /// device holds are written, so a concurrent edit of another field elsewhere survives.
    pub fn edit_member(&self, household_id: &str, member_id: &str, form: NewMember) -> Result<()> {
        form.validate(self.now())?;
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.update",
            |d, _| {
                let current = doc::read_members(d)?
                    .into_iter()
                    .find(|m| m.id == member_id)
                    .ok_or(Error::NotFound { kind: "member" })?;
                let differs = |a: &Option<String>, b: &Option<String>| {
                    a.as_deref().map(str::trim) != b.as_deref().map(str::trim)
                };
                let patch = MemberPatch {
                    name: (current.name != form.name.trim()).then(|| form.name.clone()),
                    relation: (current.relation != form.relation).then_some(form.relation),
                    birth_year: (current.birth_year != form.birth_year).then_some(form.birth_year),
                    phone: differs(&current.phone, &form.phone).then(|| form.phone.clone()),
                    id_number: differs(&current.id_number, &form.id_number)
                        .then(|| form.id_number.clone()),
                };
                Ok(((), doc::patch_member(d, member_id, &patch)?))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    pub fn remove_member(&self, household_id: &str, member_id: &str) -> Result<()> {
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.remove",
            |d, _| {
                doc::remove_member(d, member_id)?;
                Ok(((), vec![]))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    /// Sets a member's gender, residence status (户籍 / 常住 / 流动) and own care tags.
    pub fn set_member_details(
        &self,
        household_id: &str,
        member_id: &str,
        details: &MemberDetails,
    ) -> Result<()> {
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.details",
            |d, _| {
                let fields = doc::put_member_details(d, member_id, details)?;
                Ok(((), fields))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    /// Records a member's move-out (迁出) on `at` (milliseconds, the day they left): they leave
    /// the household's list and stay among its former members with the date. A date in the
    /// future (beyond a day) or before 1900 is refused, and nothing is written.
    pub fn move_out_member(&self, household_id: &str, member_id: &str, at: Millis) -> Result<()> {
        const DAY: Millis = 86_400_000;
        const YEAR_1900: Millis = -2_208_988_800_000;
        if at > self.now() + DAY || at < YEAR_1900 {
            return Err(invalid("moved_out_at", Reason::OutOfRange));
        }
        self.write(
            household_id,
            DocKind::Household,
            false,
            "member.move_out",
            |d, _| {
                doc::move_out_member(d, member_id, at)?;
                Ok(((), vec!["moved_out_at"]))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    /// Members who moved out of the household, with their dates.
    pub fn former_members(&self, household_id: &str) -> Result<Vec<Member>> {
        self.read_doc(household_id, DocKind::Household, |d| {
            Ok(doc::read_former_members(d)?)
        })
    }

    pub fn set_tag(&self, household_id: &str, tag: CareTag, on: bool) -> Result<()> {
        self.write(
            household_id,
            DocKind::Household,
            false,
            if on { "tag.add" } else { "tag.remove" },
            |d, _| {
                doc::set_tag(d, tag, on)?;
                Ok(((), vec![tag.code()]))
            },
            |tx, d, _| projection::household_head(tx, d),
        )
    }

    /// The full household with members and visits (loads its document).
    pub fn household(&self, id: &str) -> Result<Household> {
        self.read_doc(id, DocKind::Household, |d| Ok(doc::read_household(d)?))
    }
}

//! A plan's households written as server changes: the server's actor, message `u` = the
//! admin who imported (`op` = `household.import`), stored as [`SYSTEM_DEVICE`]'s so every
//! device whose scope holds the household pulls it. Storage-independent: within the
//! caller's write transaction ([`DocWrite`]).

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use linli_domain::doc::{self, DocKind, DocPlace, heads_to_text};
use linli_domain::model::{MemberDetails, NewHousehold};
use uuid::Uuid;

use super::plan::{HouseholdAction, HouseholdPlan, MemberAction, MemberPlan};
use crate::error::Result;
use crate::merge::{DocWrite, Update};
use crate::workflow::{self, SYSTEM_DEVICE, ServerActor};

/// The operation named in the history of what an import writes.
pub const OP: &str = "household.import";

fn place_of(h: &HouseholdPlan) -> DocPlace {
    let a = &h.address;
    DocPlace {
        community_id: a.community_id.clone(),
        grid_id: a.grid_id.clone(),
        micro_grid_id: a.micro_grid_id.clone(),
        building_id: a.building_id.clone(),
        unit_id: a.unit_id.clone(),
    }
}

fn put_new_member(d: &mut AutoCommit, m: &MemberPlan) -> Result<()> {
    let id = Uuid::now_v7().to_string();
    doc::put_member(d, &id, &m.member)?;
    if m.details_change {
        doc::put_member_details(
            d,
            &id,
            &MemberDetails {
                gender: m.gender,
                residence: m.residence,
                tags: m.tags.clone(),
            },
        )?;
    }
    Ok(())
}

/// Writes one planned household (nothing for one that stays the same); returns its id.
pub fn write_household(
    tx: &dyn DocWrite,
    server: &ServerActor,
    user: &str,
    h: &HouseholdPlan,
) -> Result<Option<String>> {
    match (h.action, &h.existing_id) {
        (HouseholdAction::Same, _) => Ok(None),
        (HouseholdAction::Create, _) | (HouseholdAction::Update, None) => {
            create(tx, server, user, h).map(Some)
        }
        (HouseholdAction::Update, Some(id)) => {
            let Some(stored) = tx.load_doc(id)? else {
                return Err(crate::Error::NotFound { kind: "household" });
            };
            workflow::write_as_server(tx, server, id, &stored, user, OP, &mut |d| {
                doc::put_household_fields(d, h.residency, h.housing, h.notes.as_deref())?;
                for t in &h.add_tags {
                    doc::set_tag(d, *t, true)?;
                }
                for m in &h.members {
                    match (m.action, &m.existing_id) {
                        (MemberAction::Same, _) => {}
                        (MemberAction::Create, _) | (MemberAction::Update, None) => {
                            put_new_member(d, m)?
                        }
                        (MemberAction::Update, Some(mid)) => {
                            doc::patch_member(d, mid, &m.patch)?;
                            if m.details_change {
                                doc::put_member_details(
                                    d,
                                    mid,
                                    &MemberDetails {
                                        gender: m.gender,
                                        residence: m.residence,
                                        tags: m.tags.clone(),
                                    },
                                )?;
                            }
                        }
                    }
                }
                Ok(())
            })?;
            Ok(Some(id.clone()))
        }
    }
}

fn create(
    tx: &dyn DocWrite,
    server: &ServerActor,
    user: &str,
    h: &HouseholdPlan,
) -> Result<String> {
    let id = Uuid::now_v7().to_string();
    let now = server.now();
    let mut d = AutoCommit::new();
    d.set_actor(server.actor().clone());
    let new = NewHousehold {
        place_id: h
            .address
            .unit_id
            .clone()
            .or(h.address.building_id.clone())
            .unwrap_or_default(),
        room: h.address.room.clone(),
        residency: h.residency.unwrap_or(linli_domain::Residency::Resident),
        housing: h.housing.unwrap_or(linli_domain::Housing::Owned),
        tags: h.add_tags.clone(),
        notes: h.notes.clone().unwrap_or_default(),
        members: Vec::new(),
    };
    doc::init_household(&mut d, &id, now, &h.address, &new)?;
    for m in &h.members {
        put_new_member(&mut d, m)?;
    }
    let message = serde_json::json!({ "u": user, "op": OP, "f": [] }).to_string();
    d.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(now),
    );
    let update = Update {
        kind: DocKind::Household,
        place: place_of(h),
        snapshot: d.save_nocompress(),
        heads: heads_to_text(&d.get_heads()),
        new_changes: d.save_after(&[]),
        moved: false,
        left: None,
    };
    tx.store(SYSTEM_DEVICE, &id, &update)?;
    Ok(id)
}

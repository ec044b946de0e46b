//! Members' own details (gender, residence status 户籍 / 常住 / 流动, their care tags) and
//! move-outs (迁出) with their date: written, read back, merged from two phones, and refused
//! with a typed error and nothing written when the date makes no sense.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use linli_core::*;

#[test]
fn details_are_the_persons_own_and_merge() {
    let a = open(1, "worker-li");
    let b = open(2, "worker-li");
    let id = a
        .store
        .create_household(household(
            UNIT_1_1,
            "301",
            vec![
                member("王秀兰", Relation::Head, None),
                member("李建国", Relation::Child, None),
            ],
        ))
        .unwrap();
    let members = a.store.household(&id).unwrap().members;
    let (mother, son) = (&members[0].id, &members[1].id);
    assert_eq!(members[0].gender, None);
    assert!(members[0].tags.is_empty());

    a.store
        .set_member_details(
            &id,
            son,
            &MemberDetails {
                gender: Some(Gender::Male),
                residence: Some(PersonResidence::Floating),
                tags: vec![CareTag::Disabled],
            },
        )
        .unwrap();
    // The other phone, offline, sets the mother's details.
    b.store
        .import_changes(&id, &a.store.changes_since(&id, &[]).unwrap())
        .unwrap();
    b.store
        .set_member_details(
            &id,
            mother,
            &MemberDetails {
                gender: Some(Gender::Female),
                residence: Some(PersonResidence::Registered),
                tags: vec![CareTag::ElderlyAlone, CareTag::Correction],
            },
        )
        .unwrap();
    // Both edits kept on both phones.
    a.store
        .import_changes(&id, &b.store.changes_since(&id, &[]).unwrap())
        .unwrap();
    for s in [&a.store, &b.store] {
        let m = s.household(&id).unwrap().members;
        let son_now = m.iter().find(|x| &x.id == son).unwrap();
        let mother_now = m.iter().find(|x| &x.id == mother).unwrap();
        assert_eq!(son_now.gender, Some(Gender::Male));
        assert_eq!(son_now.residence, Some(PersonResidence::Floating));
        assert_eq!(son_now.tags, vec![CareTag::Disabled]);
        assert_eq!(mother_now.residence, Some(PersonResidence::Registered));
        assert_eq!(
            mother_now.tags,
            vec![CareTag::ElderlyAlone, CareTag::Correction]
        );
    }
    // Setting again replaces: a tag taken off is gone.
    a.store
        .set_member_details(
            &id,
            son,
            &MemberDetails {
                gender: Some(Gender::Male),
                residence: None,
                tags: vec![],
            },
        )
        .unwrap();
    let son_now = a
        .store
        .household(&id)
        .unwrap()
        .members
        .into_iter()
        .find(|x| &x.id == son)
        .unwrap();
    assert_eq!(son_now.residence, None);
    assert!(son_now.tags.is_empty());
}

#[test]
fn a_move_out_keeps_the_person_with_the_date() {
    let t = open(1, "worker-li");
    let s = &t.store;
    let id = s
        .create_household(household(
            UNIT_1_1,
            "302",
            vec![
                member("赵大", Relation::Head, None),
                member("赵二", Relation::Child, None),
            ],
        ))
        .unwrap();
    let leaving = s.household(&id).unwrap().members[1].id.clone();
    let before = fingerprint(s);

    // Bad dates: refused with a typed error naming the field, nothing written.
    for at in [s.now() + 3 * 86_400_000, -3_000_000_000_000] {
        assert!(matches!(
            s.move_out_member(&id, &leaving, at),
            Err(Error::InvalidInput {
                field: "moved_out_at",
                reason: Reason::OutOfRange
            })
        ));
    }
    assert!(matches!(
        s.move_out_member(&id, "no-such-member", s.now()),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(fingerprint(s), before);

    let left_on = s.now() - 10 * 86_400_000;
    s.move_out_member(&id, &leaving, left_on).unwrap();
    let h = s.household(&id).unwrap();
    assert_eq!(h.members.len(), 1);
    let former = s.former_members(&id).unwrap();
    assert_eq!(former.len(), 1);
    assert_eq!(former[0].name, "赵二");
    assert_eq!(former[0].moved_out_at, Some(left_on));
    // Removed by mistake (not a move-out): not among the former members.
    let head = h.members[0].id.clone();
    s.remove_member(&id, &head).unwrap();
    assert_eq!(s.former_members(&id).unwrap().len(), 1);
}

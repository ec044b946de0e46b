//! Erasure (issue 12): a household erased is gone from every read, its tombstone refuses any
//! later push (nothing stored), devices whose scope covered it are told once, others not,
//! and the erasure is an audit row.

use linli_domain::protocol::{Cursor, PushOutcome};
use linli_sync_server::Storage;
use linli_sync_server::erase::{AuditAction, EraseReason, Erased, Erasure};
use linli_testkit::demo;

use super::{b1, demo as seeded, edit, household, max_seq, pull_all, push_one};

fn erasure(id: &str) -> Erasure {
    Erasure {
        doc_id: id.into(),
        by_user: demo::USER_ADMIN.into(),
        reason: EraseReason::ResidentRequest,
        note: String::new(),
        at: 5,
    }
}

pub fn an_erased_household_is_gone_refused_and_told(s: &dyn Storage) {
    let d = seeded(s);
    let mut hh = household(&d.li, "hh-1", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-1", hh.save_after(&[])),
        PushOutcome::Stored
    );
    let mut other = household(&d.li, "hh-2", &b1());
    assert_eq!(
        push_one(s, &d.li, "hh-2", other.save_after(&[])),
        PushOutcome::Stored
    );
    let zhao = pull_all(s, &d.zhao, &Cursor::default(), 100);
    assert_eq!(zhao.ids(), ["hh-1", "hh-2"]);
    let wang = pull_all(s, &d.wang, &Cursor::default(), 100);

    let before = max_seq(s);
    assert_eq!(
        s.erase_household(&erasure("hh-1")).unwrap(),
        Erased::Done { changes: 1 }
    );
    assert!(max_seq(s) > before, "the erasure takes a number of the log");
    assert_eq!(
        s.erase_household(&erasure("hh-1")).unwrap(),
        Erased::Already
    );
    assert_eq!(
        s.erase_household(&erasure("hh-none")).unwrap(),
        Erased::NotFound
    );
    let t = s.tombstone("hh-1").unwrap().unwrap();
    assert_eq!(t.reason, EraseReason::ResidentRequest);
    assert_eq!(t.erased_by, demo::USER_ADMIN);
    assert_eq!(t.place.building_id.as_deref(), Some(demo::BUILDING_1));
    assert!(s.tombstone("hh-2").unwrap().is_none());

    // Gone from every read; the other household stays.
    assert!(s.household_document("hh-1").unwrap().is_none());
    assert!(s.stored_doc("hh-1").unwrap().is_none());
    assert!(s.household_document("hh-2").unwrap().is_some());
    assert_eq!(
        pull_all(s, &d.admin, &Cursor::default(), 100).ids(),
        ["hh-2"]
    );

    // Zhao's device is told, once; grid 2's worker never held it and is not.
    let (changed, _) = s.changed_since(&d.zhao, zhao.cursor.seq).unwrap();
    assert!(changed, "the long poll hears an erasure");
    let told = pull_all(s, &d.zhao, &zhao.cursor, 100);
    assert_eq!(told.erased, ["hh-1"]);
    assert!(told.docs.is_empty());
    assert!(pull_all(s, &d.zhao, &told.cursor, 100).erased.is_empty());
    assert!(pull_all(s, &d.wang, &wang.cursor, 100).erased.is_empty());

    // A later push, of a change or the whole document, is refused and stores nothing.
    let seq = max_seq(s);
    assert_eq!(
        push_one(s, &d.li, "hh-1", edit(&d.li, &mut hh, "回来了")),
        PushOutcome::Erased
    );
    assert_eq!(push_one(s, &d.li, "hh-1", hh.save()), PushOutcome::Erased);
    assert_eq!(max_seq(s), seq);
    assert!(s.household_document("hh-1").unwrap().is_none());

    let audit = s.privacy_audit(&[demo::COMMUNITY.into()], 10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, AuditAction::Erase);
    assert_eq!(audit[0].doc_id.as_deref(), Some("hh-1"));
    assert_eq!(audit[0].detail, "resident_request");
}

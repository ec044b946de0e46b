//! A push as the server judges it (`merge_push`, storage-free): as a new document and onto
//! the household the server holds, by 李梅's device. A verdict, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use linli_domain::scope::Scope;
use linli_domain::{PlaceKind, Role, doc};
use linli_sync_server::merge::{Pusher, StoredDoc, merge_push};
use linli_testkit::demo;

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    static HELD: OnceLock<(StoredDoc, Scope)> = OnceLock::new();
    let (held, scope) = HELD.get_or_init(|| {
        let mut d = linli_fuzz::household_doc();
        let (kind, _, place) = doc::describe(&d).unwrap();
        let mut scope = Scope::default();
        scope.grant(PlaceKind::Grid, demo::GRID_1);
        let stored = StoredDoc {
            kind,
            place,
            snapshot: d.save_nocompress(),
        };
        (stored, scope)
    });
    let phone = linli_fuzz::phone();
    let who = Pusher {
        device_id: &phone.device_id,
        user_id: demo::USER_LI_MEI,
        role: Role::GridWorker,
        scope,
    };
    let places = demo::places();
    let mut place_of = |id: &str| Ok(places.iter().find(|p| p.id == id).cloned());
    let mut staff_of = |_: &str| Ok(None);
    for (doc_id, stored) in [
        ("0190aaaa-0000-7000-8000-00000000f022", None),
        (phone.household_id.as_str(), Some(held)),
    ] {
        merge_push(&who, doc_id, stored, data, &mut place_of, &mut staff_of).unwrap();
    }
});

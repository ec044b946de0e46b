//! Bytes from elsewhere as the phone and the server take them: the strict parse, then
//! applied to an empty document and to a household the peer holds, then read back.
#![no_main]

use std::sync::OnceLock;

use automerge::AutoCommit;
use libfuzzer_sys::fuzz_target;
use linli_domain::{changes, doc};

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    static HELD: OnceLock<AutoCommit> = OnceLock::new();
    let held = HELD.get_or_init(linli_fuzz::household_doc);
    let Ok(parsed) = changes::parse(data) else {
        return;
    };
    for base in [AutoCommit::new(), held.clone()] {
        let mut d = base;
        if changes::apply(&mut d, parsed.clone()).is_ok() && d.get_missing_deps(&[]).is_empty()
        {
            let _ = doc::describe(&d);
            let _ = doc::read_household(&d);
            let _ = doc::read_incident(&d);
            // What `apply` checked: the document saves and loads again.
            AutoCommit::load(&d.save_nocompress()).unwrap();
        }
    }
});

//! Document loading as a peer does it, on whole document chunks whose body is the input
//! and whose checksum is right, so that Automerge's column reader meets the bytes.
#![no_main]

use automerge::AutoCommit;
use libfuzzer_sys::fuzz_target;
use linli_domain::{changes, doc};

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    let sealed = linli_fuzz::seal_document(data);
    let Ok(parsed) = changes::parse(&sealed) else {
        return;
    };
    let mut d = AutoCommit::new();
    if changes::apply(&mut d, parsed).is_ok() {
        let _ = doc::describe(&d);
        let _ = doc::read_household(&d);
        let _ = doc::read_incident(&d);
        let _ = doc::read_events(&d);
    }
});

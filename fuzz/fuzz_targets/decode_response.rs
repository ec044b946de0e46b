//! The phone's decoding of a sync response: an error or a message that encodes back to
//! itself, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linli_domain::protocol::{self, SyncResponse};

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    if let Ok(r) = protocol::decode::<SyncResponse>(data) {
        let again: SyncResponse = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
        assert_eq!(again, r);
    }
});

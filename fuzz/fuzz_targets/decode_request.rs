//! The server's decoding of a sync request: an error or a message that encodes back to
//! itself, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linli_domain::protocol::{self, SyncRequest};

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    if let Ok(r) = protocol::decode::<SyncRequest>(data) {
        let again: SyncRequest = protocol::decode(&protocol::encode(&r).unwrap()).unwrap();
        assert_eq!(again, r);
    }
});

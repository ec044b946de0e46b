//! A pulled page into a real device store (SQLite on tmpfs): as a new document and onto
//! the household the store holds. A typed error or an import, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: linli_fuzz::keep_caught_panics(), |data: &[u8]| {
    let phone = linli_fuzz::phone();
    let _ = phone
        .store
        .import_changes("0190aaaa-0000-7000-8000-00000000f022", data);
    let _ = phone.store.import_changes(&phone.household_id, data);
    // The held household still reads.
    phone.store.household(&phone.household_id).unwrap();
});

//! What the fuzz targets share: a household document written through a real device store
//! (the test kit's builders), held by the phone and the server alike, and sealing arbitrary
//! bytes as a whole document chunk with a valid checksum.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use automerge::AutoCommit;
use linli_core::{Identity, Relation, Store};
use linli_testkit::demo;
use linli_testkit::records::{household, member};
use sha2::{Digest, Sha256};

/// Puts the default panic hook back. libfuzzer-sys installs one that aborts on every panic,
/// even one `linli_domain::changes` catches on purpose; a panic nobody catches still reaches
/// libfuzzer-sys's own `catch_unwind`, which aborts, so crashes are still found.
pub fn keep_caught_panics() {
    drop(std::panic::take_hook());
}

/// A device store on tmpfs holding one household of building 1, written by 李梅's phone.
pub struct Phone {
    pub store: Store,
    pub household_id: String,
    pub device_id: String,
    _dir: tempfile::TempDir,
}

/// The one phone of this fuzz process.
pub fn phone() -> &'static Phone {
    static PHONE: OnceLock<Phone> = OnceLock::new();
    PHONE.get_or_init(|| {
        let dir = linli_testkit::temp_dir().expect("temp dir");
        let device_id = "0190aaaa-0000-7000-8000-00000000fa22".to_owned();
        let store = Store::open(
            dir.path().join("phone.db"),
            Identity {
                device_id: device_id.clone(),
                user_id: demo::USER_LI_MEI.into(),
            },
            &linli_testkit::DB_KEY,
        )
        .expect("store");
        store.put_places(&demo::places()).expect("places");
        let household_id = store
            .create_household(household(
                demo::BUILDING_1,
                "101",
                vec![member("张秀英", Relation::Head, Some("13812345678"))],
            ))
            .expect("household");
        store
            .record_visit(linli_testkit::records::visit(&household_id))
            .expect("visit");
        Phone {
            store,
            household_id,
            device_id,
            _dir: dir,
        }
    })
}

/// The phone's household as a document.
pub fn household_doc() -> AutoCommit {
    let p = phone();
    let bytes = p.store.changes_since(&p.household_id, &[]).expect("changes");
    AutoCommit::load(&bytes).expect("load")
}

/// A document chunk around `body`, its length and checksum right.
pub fn seal_document(body: &[u8]) -> Vec<u8> {
    let mut typed = vec![0u8];
    let mut len = body.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            typed.push(byte);
            break;
        }
        typed.push(byte | 0x80);
    }
    typed.extend_from_slice(body);
    let hash = Sha256::digest(&typed);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&typed);
    out
}

//! `uniffi-bindgen generate --library …`: generates Kotlin, Swift and Python from the
//! compiled `liblinli` (see `bindings/generate.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}

//! Linli's test kit: what the tests, the benchmarks and the demo share, so that no two of
//! them keep their own copy.
//!
//! - `demo.rs`: the demo community (幸福社区): its ids, place tree and people
//! - `records.rs`: builders of households, members, visits and incidents as the forms make them
//! - `seed.rs`: the demo community seeded into a server's storage, with a device each
//!
//! It depends on the domain and on the server's administration (never on the device core),
//! so the core's tests can use it too.

pub mod demo;
pub mod records;
mod seed;

pub use seed::{
    DEMO_PASSWORD, DemoAccount, DemoDevice, print_demo_accounts, print_demo_devices, seed_console,
    seed_demo,
};

/// The device database key the tests, the benchmarks and the demo open stores with (a real
/// app generates a random one and keeps it in the platform's key store).
pub const DB_KEY: [u8; 32] = [
    0x4c, 0x69, 0x6e, 0x6c, 0x69, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x6b, 0x65, 0x79, 0x21, 0x00,
    0x9e, 0x37, 0x79, 0xb9, 0x7f, 0x4a, 0x7c, 0x15, 0xf3, 0x9c, 0xc0, 0x60, 0x5c, 0xed, 0xc8, 0x34,
];

/// A temporary directory for databases, on tmpfs (`/dev/shm`) where there is one. For tests
/// about what crosses the wire rather than the disk: on a small shared machine the fsync of
/// every `synchronous = FULL` commit would otherwise dominate their run time. A SIGKILLed
/// process loses nothing it committed on tmpfs either (the page cache survives it). `TMPDIR`
/// still wins if set.
pub fn temp_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    if std::env::var_os("TMPDIR").is_none()
        && shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::tempdir()
}

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

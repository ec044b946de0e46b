//! Linli's test kit: what the tests, the benchmarks and the demo share, so that no two of
//! them keep their own copy.
//!
//! - `demo.rs`: the demo community (幸福社区): its ids, place tree and people
//! - `records.rs`: builders of households, members, visits and incidents as the forms make them
//!
//! It depends on the domain only, so every crate of the workspace can use it.

pub mod demo;
pub mod records;

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

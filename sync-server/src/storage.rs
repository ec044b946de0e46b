//! The storage trait every server database implements, and the types it speaks.
//!
//! All SQL (and all other blocking work on the database) lives behind [`Storage`]; the HTTP
//! layer calls it from `tokio::task::spawn_blocking`, never on an async worker. Methods are
//! coarse (one push of a whole request, one page of a pull) so that an implementation can
//! make each one transaction. The judging of pushed documents is shared by all
//! implementations in [`crate::merge`]. [`crate::sqlite::SqliteStorage`] is the embedded
//! implementation; PostgreSQL is to follow.

use linli_domain::protocol::{Cursor, DocChanges, DocPush, PushAck, ReferenceData, Role};
use linli_domain::{Millis, Place};
use sha2::{Digest, Sha256};

use crate::error::Result;
use linli_domain::scope::Scope;

/// Largest page a device may ask for, in changes or documents.
pub const MAX_PAGE_LIMIT: u32 = 1000;
/// A page stops growing past this many bytes of changes (one item is always sent, however
/// large, so a big document cannot stall a device).
pub const PAGE_BYTES: usize = 1024 * 1024;

/// A person known to the server (the reference data devices receive names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The community the user belongs to; their devices receive its place tree and people.
    pub community_id: String,
}

/// An authenticated, unrevoked device and what it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub user_id: String,
    pub role: Role,
    pub scope: Scope,
    /// The communities whose place tree and people the device receives: the user's own and
    /// those of every granted place.
    pub communities: Vec<String>,
    /// The server sequence when the user's grants last changed. A device whose cursor is
    /// before it is sent a snapshot pass, since documents of newly granted places were
    /// never in its change feed.
    pub scope_seq: u64,
}

/// The result of looking up a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Unknown,
    Revoked,
    Device(Box<Device>),
}

/// A device as listed by the admin command (ids only: no names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: String,
    pub user_id: String,
    pub role: Role,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub docs: Vec<DocChanges>,
    /// Documents that left the device's scope within the page's range of the log.
    pub gone: Vec<String>,
    pub cursor: Cursor,
    pub more: bool,
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub deleted: u64,
    /// Changes up to this sequence are gone; devices behind it get a snapshot pass.
    pub compacted_upto: u64,
}

/// The server's database.
pub trait Storage: Send + Sync + 'static {
    /// A trivial query, for `/health`.
    fn health(&self) -> Result<()>;

    /// Looks up the device holding `token`.
    fn authenticate(&self, token: &str) -> Result<Auth>;

    /// Judges and stores every pushed document in one transaction, so two requests cannot
    /// interleave a load-apply-write of the same document. One acknowledgement per push, in
    /// order; a refused document writes nothing and does not stop the others.
    fn push(&self, device: &Device, pushes: &[DocPush]) -> Result<Vec<PushAck>>;

    /// One page of what the device's scope holds after `cursor` (see `linli_domain::protocol`
    /// for the cursor's meaning). `page_limit` is clamped to `1..=MAX_PAGE_LIMIT`.
    fn pull(&self, device: &Device, cursor: &Cursor, page_limit: u32) -> Result<Page>;

    /// The device's places and people, unless it already holds `known_version`.
    fn reference(&self, device: &Device, known_version: u64) -> Result<Option<ReferenceData>>;

    // ---- administration -----------------------------------------------------------------

    fn place(&self, id: &str) -> Result<Option<Place>>;
    /// Creates or replaces a place; true if anything changed.
    fn put_place(&self, place: &Place) -> Result<bool>;
    fn user(&self, id: &str) -> Result<Option<User>>;
    /// Creates or replaces a user; true if anything changed.
    fn put_user(&self, user: &User) -> Result<bool>;
    /// Grants a user a place; true if it was not granted before.
    fn grant(&self, user_id: &str, place_id: &str) -> Result<bool>;
    /// Registers a device of a user with the hash of its token. An existing device of the
    /// same user gets the new token and is unrevoked; one of another user is an error.
    fn enroll(&self, device_id: &str, user_id: &str, token_hash: &[u8]) -> Result<()>;
    /// Revokes a device; false if it was already revoked.
    fn revoke(&self, device_id: &str) -> Result<bool>;
    fn devices(&self) -> Result<Vec<DeviceInfo>>;
    /// Deletes change rows with `seq <= max_seq - keep_last`. Documents keep their full
    /// snapshots, so nothing is lost: devices behind the horizon get a snapshot pass.
    fn compact(&self, keep_last: u64) -> Result<Compaction>;
    /// Bumped on every change to places, people or grants.
    fn reference_version(&self) -> Result<u64>;
}

/// How a token is stored: its SHA-256, never the token itself.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A fresh device token: 244 bits of OS randomness as 64 hex characters.
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}

//! The embedded SQLite implementation of [`Storage`].
//!
//! One writer connection behind a mutex (every push and admin change is one `BEGIN
//! IMMEDIATE` transaction on it, so load-apply-write of a document never interleaves) and a
//! few read-only connections for authentication and pulls, which WAL lets run beside the
//! writer. `synchronous = FULL`: a push is acknowledged only once it is durable.
//!
//! The change log is `changes`, numbered by `seq` (`AUTOINCREMENT`, so a number is never
//! reused, even after compaction deletes rows). Each row carries the document's place after
//! the change, so a pull filters by scope with an index per level. `documents` holds each
//! document's full snapshot, which snapshot passes send.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use linli_domain::doc::{DocKind, DocPlace};
use linli_domain::protocol::{
    Cursor, DocChanges, DocPush, Person, PushAck, PushOutcome, ReferenceData, Role, SnapshotCursor,
};
use linli_domain::{Place, PlaceKind};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::error::{Error, Result};
use crate::merge::{self, Merge, StoredDoc};
use crate::storage::{
    Auth, Compaction, Device, DeviceInfo, MAX_PAGE_LIMIT, PAGE_BYTES, Page, Storage, User, now_ms,
    token_hash,
};
use linli_domain::scope::Scope;

/// Version of the schema below, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 2;

const READERS: usize = 3;

const SCHEMA_V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
-- reference_version starts at 1 so a device holding none (0) always receives it.
INSERT INTO meta (key, value) VALUES ('reference_version', 1), ('compacted_upto', 0);

CREATE TABLE places (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('community', 'grid', 'building', 'unit')),
    parent_id TEXT REFERENCES places (id),
    name      TEXT NOT NULL
) STRICT;
CREATE INDEX places_by_parent ON places (parent_id);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL
                 CHECK (role IN ('grid_worker', 'building_leader', 'unit_leader', 'admin')),
    community_id TEXT NOT NULL REFERENCES places (id),
    -- The change sequence when the user's grants last changed (see Device::scope_seq).
    scope_seq    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX users_by_community ON users (community_id);

CREATE TABLE user_scopes (
    user_id  TEXT NOT NULL REFERENCES users (id),
    place_id TEXT NOT NULL REFERENCES places (id),
    PRIMARY KEY (user_id, place_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX devices_by_user ON devices (user_id);

CREATE TABLE documents (
    doc_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT,
    unit_id      TEXT,
    snapshot     BLOB NOT NULL,
    heads        TEXT NOT NULL,
    last_seq     INTEGER NOT NULL
) STRICT;
CREATE INDEX documents_by_community ON documents (community_id, doc_id);
CREATE INDEX documents_by_grid ON documents (grid_id, doc_id);
CREATE INDEX documents_by_building ON documents (building_id, doc_id);
CREATE INDEX documents_by_unit ON documents (unit_id, doc_id);

CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id       TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT,
    unit_id      TEXT,
    -- 1 when this change moved the document to another place (see merge::Update::moved).
    moved        INTEGER NOT NULL DEFAULT 0,
    bytes        BLOB NOT NULL,
    received_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX changes_by_community ON changes (community_id, seq);
CREATE INDEX changes_by_grid ON changes (grid_id, seq);
CREATE INDEX changes_by_building ON changes (building_id, seq);
CREATE INDEX changes_by_unit ON changes (unit_id, seq);
";

/// The scope test on a table with place columns; parameters ?1..?4 are JSON arrays of
/// community, grid, building and unit ids.
const IN_SCOPE: &str = "(community_id IN (SELECT value FROM json_each(?1)) \
     OR grid_id IN (SELECT value FROM json_each(?2)) \
     OR building_id IN (SELECT value FROM json_each(?3)) \
     OR unit_id IN (SELECT value FROM json_each(?4)))";

pub struct SqliteStorage {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection cannot leave SQLite half-written (an open
    // transaction rolls back on drop), so a poisoned lock is safe to take over.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Version 2: where documents moved from, so devices covering only the old place forget them.
const SCHEMA_V2: &str = "
CREATE TABLE departures (
    seq          INTEGER PRIMARY KEY,
    doc_id       TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT,
    unit_id      TEXT
) STRICT;
";

fn migrate(tx: &Transaction<'_>) -> Result<()> {
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match version {
        0 => tx.execute_batch(&format!("{SCHEMA_V1}{SCHEMA_V2}"))?,
        1 => tx.execute_batch(SCHEMA_V2)?,
        SCHEMA_VERSION => return Ok(()),
        found => {
            return Err(Error::IncompatibleSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

fn json_ids<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    serde_json::Value::from(ids.into_iter().map(String::as_str).collect::<Vec<_>>()).to_string()
}

/// The scope as the four JSON parameters of [`IN_SCOPE`].
fn scope_params(s: &Scope) -> [String; 4] {
    [
        json_ids(&s.communities),
        json_ids(&s.grids),
        json_ids(&s.buildings),
        json_ids(&s.units),
    ]
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The highest change sequence ever handed out (rows may since have been compacted away).
fn max_seq(conn: &Connection) -> Result<u64> {
    let seq: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(to_u64(seq))
}

/// Uses up one change sequence number without a change, to mark a point in the log.
fn advance_seq(tx: &Transaction<'_>) -> Result<u64> {
    let n = tx.execute(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'changes'",
        [],
    )?;
    if n == 0 {
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', 1)",
            [],
        )?;
    }
    max_seq(tx)
}

fn meta(conn: &Connection, key: &str) -> Result<u64> {
    let v: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))?;
    Ok(to_u64(v))
}

fn bump_reference_version(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'reference_version'")?
        .execute([])?;
    Ok(())
}

fn place_kind(code: &str) -> rusqlite::Result<PlaceKind> {
    PlaceKind::from_code(code).ok_or_else(|| bad_code("place kind"))
}

fn role(code: &str) -> rusqlite::Result<Role> {
    Role::from_code(code).ok_or_else(|| bad_code("role"))
}

fn bad_code(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

fn load_place(conn: &Connection, id: &str) -> Result<Option<Place>> {
    Ok(conn
        .prepare_cached("SELECT id, kind, parent_id, name FROM places WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(Place {
                id: r.get(0)?,
                kind: place_kind(&r.get::<_, String>(1)?)?,
                parent_id: r.get(2)?,
                name: r.get(3)?,
            })
        })
        .optional()?)
}

fn load_stored(conn: &Connection, doc_id: &str) -> Result<Option<StoredDoc>> {
    Ok(conn
        .prepare_cached(
            "SELECT kind, community_id, grid_id, building_id, unit_id, snapshot \
             FROM documents WHERE doc_id = ?1",
        )?
        .query_row([doc_id], |r| {
            let kind: String = r.get(0)?;
            Ok(StoredDoc {
                kind: DocKind::from_code(&kind).ok_or_else(|| bad_code("document kind"))?,
                place: DocPlace {
                    community_id: r.get(1)?,
                    grid_id: r.get(2)?,
                    building_id: r.get(3)?,
                    unit_id: r.get(4)?,
                },
                snapshot: r.get(5)?,
            })
        })
        .optional()?)
}

fn store_update(
    tx: &Transaction<'_>,
    device: &Device,
    doc_id: &str,
    u: &merge::Update,
) -> Result<()> {
    let p = &u.place;
    tx.prepare_cached(
        "INSERT INTO changes (doc_id, device_id, community_id, grid_id, building_id, unit_id, \
         moved, bytes, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        doc_id,
        device.device_id,
        p.community_id,
        p.grid_id,
        p.building_id,
        p.unit_id,
        u.moved,
        u.new_changes,
        now_ms()
    ])?;
    let seq = tx.last_insert_rowid();
    if let Some(from) = &u.left {
        tx.prepare_cached(
            "INSERT INTO departures (seq, doc_id, community_id, grid_id, building_id, unit_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            seq,
            doc_id,
            from.community_id,
            from.grid_id,
            from.building_id,
            from.unit_id
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO documents (doc_id, kind, community_id, grid_id, building_id, unit_id, \
         snapshot, heads, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, \
         community_id = excluded.community_id, grid_id = excluded.grid_id, \
         building_id = excluded.building_id, unit_id = excluded.unit_id, \
         snapshot = excluded.snapshot, heads = excluded.heads, last_seq = excluded.last_seq",
    )?
    .execute(params![
        doc_id,
        u.kind.code(),
        p.community_id,
        p.grid_id,
        p.building_id,
        p.unit_id,
        u.snapshot,
        u.heads,
        seq
    ])?;
    Ok(())
}

/// How much of a page is left.
struct Budget {
    items: usize,
    bytes: usize,
    used_bytes: usize,
}

impl Budget {
    fn new(page_limit: u32) -> Budget {
        let items = page_limit.clamp(1, MAX_PAGE_LIMIT) as usize;
        Budget {
            items,
            bytes: PAGE_BYTES,
            used_bytes: 0,
        }
    }

    /// Takes an item of `len` bytes if it fits; the first item always fits.
    fn take(&mut self, len: usize) -> bool {
        if self.items == 0 || (self.used_bytes > 0 && self.used_bytes + len > self.bytes) {
            return false;
        }
        self.items -= 1;
        self.used_bytes += len;
        true
    }
}

impl SqliteStorage {
    /// Opens (creating or upgrading) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage> {
        let path = path.as_ref();
        let mut writer = Connection::open(path)?;
        // journal_mode answers with a row, so it is read rather than updated.
        let _mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        configure(&writer)?;
        {
            let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
            migrate(&tx)?;
            tx.commit()?;
        }
        let readers = (0..READERS)
            .map(|_| {
                let r = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&r)?;
                Ok(Mutex::new(r))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SqliteStorage {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// A free reader if there is one, else waits for the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[i])
    }

    /// Runs `f` in one immediate transaction on the writer.
    fn write<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut w = lock(&self.writer);
        let tx = w.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    }

    /// The snapshot phase: documents in scope after `after_doc`, in id order.
    /// Returns the id of the last document taken and whether the pass was cut short.
    fn snapshot_page(
        tx: &Transaction<'_>,
        scope: &[String; 4],
        after_doc: &str,
        budget: &mut Budget,
        out: &mut Vec<DocChanges>,
    ) -> Result<(Option<String>, bool)> {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT doc_id, snapshot FROM documents WHERE doc_id > ?5 AND {IN_SCOPE} \
             ORDER BY doc_id LIMIT ?6"
        ))?;
        let mut rows = stmt.query(params![
            scope[0],
            scope[1],
            scope[2],
            scope[3],
            after_doc,
            to_i64(budget.items as u64 + 1)
        ])?;
        let mut last = None;
        while let Some(row) = rows.next()? {
            let snapshot: Vec<u8> = row.get(1)?;
            if !budget.take(snapshot.len()) {
                return Ok((last, true));
            }
            let doc_id: String = row.get(0)?;
            last = Some(doc_id.clone());
            out.push(DocChanges {
                doc_id,
                changes: snapshot,
            });
        }
        Ok((last, false))
    }

    /// Documents that moved away from a place in scope within `(after, upto]` and are not in
    /// scope now.
    fn departures(
        tx: &Transaction<'_>,
        device: &Device,
        scope: &[String; 4],
        after: u64,
        upto: u64,
    ) -> Result<Vec<String>> {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT DISTINCT doc_id FROM departures \
             WHERE seq > ?5 AND seq <= ?6 AND {IN_SCOPE} ORDER BY doc_id"
        ))?;
        let ids: Vec<String> = stmt
            .query_map(
                params![
                    scope[0],
                    scope[1],
                    scope[2],
                    scope[3],
                    to_i64(after),
                    to_i64(upto)
                ],
                |row| row.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut gone = Vec::new();
        for id in ids {
            match load_stored(tx, &id)? {
                Some(doc) if device.scope.covers(&doc.place) => {}
                _ => gone.push(id),
            }
        }
        Ok(gone)
    }

    /// The changes phase: rows in scope in `(after, upto]` by other devices, in order.
    /// Returns the last sequence taken and whether the page was cut short.
    fn changes_page(
        tx: &Transaction<'_>,
        device: &Device,
        scope: &[String; 4],
        after: u64,
        upto: u64,
        budget: &mut Budget,
        out: &mut Vec<DocChanges>,
    ) -> Result<(Option<u64>, bool)> {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT seq, doc_id, moved, bytes FROM changes \
             WHERE seq > ?5 AND seq <= ?6 AND device_id != ?7 AND {IN_SCOPE} \
             ORDER BY seq LIMIT ?8"
        ))?;
        let mut rows = stmt.query(params![
            scope[0],
            scope[1],
            scope[2],
            scope[3],
            to_i64(after),
            to_i64(upto),
            device.device_id,
            to_i64(budget.items as u64 + 1)
        ])?;
        let mut last_seq = None;
        // Whether the last entry of `out` is a whole document that subsumes later rows.
        let mut last_is_whole = false;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let doc_id: String = row.get(1)?;
            let moved: bool = row.get(2)?;
            let mut bytes: Vec<u8> = row.get(3)?;
            let mut whole = false;
            if moved
                && let Some(doc) = load_stored(tx, &doc_id)?
                && device.scope.covers(&doc.place)
            {
                // Moved into this scope: the device may never have had the document.
                bytes = doc.snapshot;
                whole = true;
            }
            if !budget.take(bytes.len()) {
                return Ok((last_seq, true));
            }
            last_seq = Some(to_u64(seq));
            match out.last_mut() {
                // Consecutive changes of one document travel together: concatenated change
                // chunks are valid input for `load_incremental`.
                Some(prev) if prev.doc_id == doc_id => {
                    if whole {
                        prev.changes = bytes;
                        last_is_whole = true;
                    } else if !last_is_whole {
                        prev.changes.extend_from_slice(&bytes);
                    }
                }
                _ => {
                    out.push(DocChanges {
                        doc_id,
                        changes: bytes,
                    });
                    last_is_whole = whole;
                }
            }
        }
        Ok((last_seq, false))
    }
}

impl Storage for SqliteStorage {
    fn health(&self) -> Result<()> {
        let r = self.reader();
        r.query_row("SELECT count(*) FROM meta", [], |row| row.get::<_, i64>(0))?;
        Ok(())
    }

    fn authenticate(&self, token: &str) -> Result<Auth> {
        let hash = token_hash(token);
        let r = self.reader();
        let row: Option<(String, String, Option<i64>, String, String, i64)> = r
            .prepare_cached(
                "SELECT d.id, d.user_id, d.revoked_at, u.role, u.community_id, u.scope_seq \
                 FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?1",
            )?
            .query_row([&hash], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            })
            .optional()?;
        let Some((device_id, user_id, revoked_at, role_code, community_id, scope_seq)) = row else {
            return Ok(Auth::Unknown);
        };
        if revoked_at.is_some() {
            return Ok(Auth::Revoked);
        }
        let mut scope = Scope::default();
        {
            let mut stmt = r.prepare_cached(
                "SELECT p.id, p.kind FROM user_scopes s JOIN places p ON p.id = s.place_id \
                 WHERE s.user_id = ?1",
            )?;
            let mut rows = stmt.query([&user_id])?;
            while let Some(row) = rows.next()? {
                let kind: String = row.get(1)?;
                scope.grant(place_kind(&kind)?, row.get::<_, String>(0)?);
            }
        }
        let mut communities: Vec<String> = r
            .prepare_cached(
                "WITH RECURSIVE up (id, kind, parent_id) AS ( \
                   SELECT p.id, p.kind, p.parent_id FROM user_scopes s \
                   JOIN places p ON p.id = s.place_id WHERE s.user_id = ?1 \
                   UNION \
                   SELECT p.id, p.kind, p.parent_id FROM places p JOIN up ON p.id = up.parent_id) \
                 SELECT id FROM up WHERE kind = 'community'",
            )?
            .query_map([&user_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        communities.push(community_id);
        communities.sort();
        communities.dedup();
        Ok(Auth::Device(Box::new(Device {
            device_id,
            user_id,
            role: role(&role_code)?,
            scope,
            communities,
            scope_seq: to_u64(scope_seq),
        })))
    }

    fn push(&self, device: &Device, pushes: &[DocPush]) -> Result<Vec<PushAck>> {
        if pushes.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut acks = Vec::with_capacity(pushes.len());
            for p in pushes {
                let stored = load_stored(tx, &p.doc_id)?;
                let verdict = merge::merge_push(
                    &p.doc_id,
                    stored.as_ref(),
                    &p.changes,
                    &device.scope,
                    &mut |id| load_place(tx, id),
                )?;
                let outcome = match verdict {
                    Merge::Unchanged => PushOutcome::Stored,
                    Merge::Changed(update) => {
                        store_update(tx, device, &p.doc_id, &update)?;
                        PushOutcome::Stored
                    }
                    Merge::Refused(outcome) => {
                        tracing::info!(device = %device.device_id, outcome = ?outcome, "push refused");
                        outcome
                    }
                };
                acks.push(PushAck {
                    doc_id: p.doc_id.clone(),
                    outcome,
                });
            }
            Ok(acks)
        })
    }

    fn pull(&self, device: &Device, cursor: &Cursor, page_limit: u32) -> Result<Page> {
        let mut budget = Budget::new(page_limit);
        let scope = scope_params(&device.scope);
        let mut r = self.reader();
        // One read transaction: every query below sees the same state of the log.
        let tx = r.transaction()?;
        let max = max_seq(&tx)?;
        let compacted = meta(&tx, "compacted_upto")?;
        let mut docs = Vec::new();

        let mut snapshot = cursor.snapshot.clone();
        // A pass (or a cursor) ahead of the log means the server was restored from a
        // backup: start a pass again.
        let restart = snapshot.as_ref().is_some_and(|s| s.upto > max);
        if restart {
            snapshot = None;
        }
        let needs_pass = restart
            || cursor.seq == 0
            || cursor.seq < compacted
            || cursor.seq < device.scope_seq
            || cursor.seq > max;
        let mut seq = cursor.seq.min(max);
        if snapshot.is_none() && needs_pass {
            snapshot = Some(SnapshotCursor {
                upto: max,
                after_doc: String::new(),
            });
        }
        if let Some(s) = snapshot {
            let (last, cut) =
                Self::snapshot_page(&tx, &scope, &s.after_doc, &mut budget, &mut docs)?;
            if cut {
                return Ok(Page {
                    docs,
                    gone: Vec::new(),
                    cursor: Cursor {
                        seq,
                        snapshot: Some(SnapshotCursor {
                            upto: s.upto,
                            after_doc: last.unwrap_or(s.after_doc),
                        }),
                    },
                    more: true,
                });
            }
            // The pass is done; carry on with changes after it in the same page, which also
            // keeps a device of an empty log from being told `more` forever.
            seq = s.upto;
        }
        let (last, cut) =
            Self::changes_page(&tx, device, &scope, seq, max, &mut budget, &mut docs)?;
        // Uncut, every row up to `max` was seen, whether in scope or not.
        let upto = if cut { last.unwrap_or(seq) } else { max };
        let gone = Self::departures(&tx, device, &scope, seq, upto)?;
        Ok(Page {
            docs,
            gone,
            cursor: Cursor {
                seq: upto,
                snapshot: None,
            },
            more: cut,
        })
    }

    fn reference(&self, device: &Device, known_version: u64) -> Result<Option<ReferenceData>> {
        let mut r = self.reader();
        let tx = r.transaction()?;
        let version = meta(&tx, "reference_version")?;
        if version == known_version {
            return Ok(None);
        }
        let communities = json_ids(&device.communities);
        // Parents before children, so a device can insert them in order.
        let places = tx
            .prepare_cached(
                "WITH RECURSIVE tree (id, depth) AS ( \
                   SELECT p.id, 0 FROM places p \
                   WHERE p.id IN (SELECT value FROM json_each(?1)) AND p.kind = 'community' \
                   UNION \
                   SELECT p.id, tree.depth + 1 FROM places p JOIN tree ON p.parent_id = tree.id) \
                 SELECT p.id, p.kind, p.parent_id, p.name FROM places p JOIN tree USING (id) \
                 ORDER BY tree.depth, p.id",
            )?
            .query_map([&communities], |row| {
                Ok(Place {
                    id: row.get(0)?,
                    kind: place_kind(&row.get::<_, String>(1)?)?,
                    parent_id: row.get(2)?,
                    name: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let people = tx
            .prepare_cached(
                "SELECT id, name, role FROM users \
                 WHERE community_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            )?
            .query_map([&communities], |row| {
                Ok(Person {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    role: role(&row.get::<_, String>(2)?)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(ReferenceData {
            version,
            places,
            people,
        }))
    }

    fn place(&self, id: &str) -> Result<Option<Place>> {
        load_place(&self.reader(), id)
    }

    fn put_place(&self, place: &Place) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO places (id, kind, parent_id, name) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
                     parent_id = excluded.parent_id, name = excluded.name \
                     WHERE (kind, parent_id, name) IS NOT \
                           (excluded.kind, excluded.parent_id, excluded.name)",
                )?
                .execute(params![
                    place.id,
                    place.kind.code(),
                    place.parent_id,
                    place.name
                ])?;
            if n > 0 {
                bump_reference_version(tx)?;
            }
            Ok(n > 0)
        })
    }

    fn user(&self, id: &str) -> Result<Option<User>> {
        Ok(self
            .reader()
            .prepare_cached("SELECT id, name, role, community_id FROM users WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: role(&r.get::<_, String>(2)?)?,
                    community_id: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn put_user(&self, user: &User) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO users (id, name, role, community_id) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, \
                     community_id = excluded.community_id \
                     WHERE (name, role, community_id) IS NOT \
                           (excluded.name, excluded.role, excluded.community_id)",
                )?
                .execute(params![
                    user.id,
                    user.name,
                    user.role.code(),
                    user.community_id
                ])?;
            if n > 0 {
                bump_reference_version(tx)?;
            }
            Ok(n > 0)
        })
    }

    fn grant(&self, user_id: &str, place_id: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO user_scopes (user_id, place_id) VALUES (?1, ?2)",
                )?
                .execute(params![user_id, place_id])?;
            if n > 0 {
                // Mark the log: the user's devices re-read their (wider) scope in a snapshot
                // pass, since the new place's documents were never in their change feed.
                let seq = advance_seq(tx)?;
                tx.prepare_cached("UPDATE users SET scope_seq = ?2 WHERE id = ?1")?
                    .execute(params![user_id, to_i64(seq)])?;
                bump_reference_version(tx)?;
            }
            Ok(n > 0)
        })
    }

    fn enroll(&self, device_id: &str, user_id: &str, token_hash: &[u8]) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO devices (id, user_id, token_hash, created_at) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, \
                     revoked_at = NULL WHERE devices.user_id = excluded.user_id",
                )?
                .execute(params![device_id, user_id, token_hash, now_ms()])?;
            if n == 0 {
                return Err(Error::Invalid {
                    field: "device",
                    reason: "is enrolled for another user",
                });
            }
            Ok(())
        })
    }

    fn revoke(&self, device_id: &str) -> Result<bool> {
        self.write(|tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)")?
                .query_row([device_id], |r| r.get(0))?;
            if !exists {
                return Err(Error::NotFound { kind: "device" });
            }
            let n = tx
                .prepare_cached(
                    "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![device_id, now_ms()])?;
            Ok(n > 0)
        })
    }

    fn devices(&self) -> Result<Vec<DeviceInfo>> {
        let r = self.reader();
        let mut stmt = r.prepare_cached(
            "SELECT d.id, d.user_id, u.role, d.created_at, d.revoked_at \
             FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.user_id, d.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceInfo {
                device_id: r.get(0)?,
                user_id: r.get(1)?,
                role: role(&r.get::<_, String>(2)?)?,
                created_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn compact(&self, keep_last: u64) -> Result<Compaction> {
        self.write(|tx| {
            let horizon = max_seq(tx)?.saturating_sub(keep_last);
            let deleted = tx
                .prepare_cached("DELETE FROM changes WHERE seq <= ?1")?
                .execute([to_i64(horizon)])?;
            tx.prepare_cached(
                "UPDATE meta SET value = max(value, ?1) WHERE key = 'compacted_upto'",
            )?
            .execute([to_i64(horizon)])?;
            Ok(Compaction {
                deleted: deleted as u64,
                compacted_upto: meta(tx, "compacted_upto")?,
            })
        })
    }

    fn reference_version(&self) -> Result<u64> {
        meta(&self.reader(), "reference_version")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopens_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let s = SqliteStorage::open(&path).unwrap();
        assert_eq!(s.reference_version().unwrap(), 1);
        drop(s);
        SqliteStorage::open(&path).unwrap();
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        assert!(matches!(
            SqliteStorage::open(&path),
            Err(Error::IncompatibleSchema { .. })
        ));
    }

    #[test]
    fn budget_always_takes_one_item() {
        let mut b = Budget::new(0);
        assert!(b.take(PAGE_BYTES * 3));
        assert!(!b.take(1));
        let mut b = Budget::new(10);
        assert!(b.take(PAGE_BYTES - 10));
        assert!(!b.take(11));
        assert!(b.take(10));
    }
}

//! The device database schema and its migrations.
//!
//! Documents are the truth: `documents` + `doc_changes` hold the Automerge bytes (a snapshot
//! plus the changes appended since). Every other table is a projection of the documents,
//! kept in the same transaction as the change that produced it, so listing screens never
//! load a document. `PRAGMA user_version` is the schema version. Every shipped schema is
//! frozen under `core/tests/fixtures/` and a test upgrades it.

use rusqlite::Transaction;

use crate::error::{Error, Result};

pub const VERSION: i64 = 6;

/// Version 1: the records and their query tables.
const CREATE_V1: &str = r#"
CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('household', 'incident')),
    -- Compacted state; NULL until the first compaction.
    snapshot    BLOB,
    -- Current heads: hex change hashes joined by ','.
    heads       TEXT NOT NULL,
    -- Rows in doc_changes not yet folded into the snapshot.
    change_rows INTEGER NOT NULL DEFAULT 0,
    -- Store-wide write counter at this document's last change (local or imported).
    local_seq   INTEGER NOT NULL
) STRICT;
CREATE INDEX documents_by_seq ON documents (local_seq);

-- Changes appended since the snapshot, in order. Compaction deletes exactly what it folded.
CREATE TABLE doc_changes (
    id     INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    bytes  BLOB NOT NULL
) STRICT;
CREATE INDEX doc_changes_by_doc ON doc_changes (doc_id, id);

-- Who changed what and when, one row per Automerge change, local or imported.
CREATE TABLE change_history (
    doc_id  TEXT NOT NULL,
    hash    TEXT NOT NULL,
    device  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at      INTEGER NOT NULL,
    op      TEXT NOT NULL,
    fields  TEXT NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX change_history_by_time ON change_history (doc_id, at);

-- The place tree: reference data from the server.
CREATE TABLE places (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    parent_id TEXT,
    name      TEXT NOT NULL
) STRICT;
CREATE INDEX places_by_parent ON places (parent_id);

CREATE TABLE households (
    rowid         INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    community_id  TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    building_id   TEXT,
    unit_id       TEXT,
    room          TEXT NOT NULL,
    address       TEXT NOT NULL,
    head_name     TEXT,
    member_count  INTEGER NOT NULL,
    residency     TEXT NOT NULL,
    housing       TEXT NOT NULL,
    -- Tag codes joined by ',' (sorted), for list screens.
    tags          TEXT NOT NULL,
    -- 1 if any tag needs care (decides visit frequency).
    care          INTEGER NOT NULL,
    last_visit_at INTEGER,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX households_by_grid ON households (grid_id, building_id, unit_id, room);
CREATE INDEX households_by_building ON households (building_id, unit_id, room);
CREATE INDEX households_by_unit ON households (unit_id, room);

CREATE TABLE household_tags (
    tag          TEXT NOT NULL,
    household_id TEXT NOT NULL,
    PRIMARY KEY (tag, household_id)
) STRICT, WITHOUT ROWID;

-- Search text (names, phones, address) of each household, rowid = households.rowid.
-- Trigram for queries of 3+ characters; the second table holds the same text with every
-- character a token, so 1–2 character queries (张三, 王) are a phrase match, not a scan.
CREATE VIRTUAL TABLE household_search USING fts5 (text, tokenize = 'trigram');
CREATE VIRTUAL TABLE household_search_short USING fts5 (text, tokenize = 'unicode61');

CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visitor      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    purpose      TEXT NOT NULL,
    -- Need category codes joined by ','.
    needs        TEXT NOT NULL,
    follow_up    INTEGER NOT NULL
) STRICT;
CREATE INDEX visits_by_household ON visits (household_id, at);
CREATE INDEX visits_by_visitor ON visits (visitor, at);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    category     TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT,
    household_id TEXT,
    reporter     TEXT NOT NULL,
    assignee     TEXT,
    summary      TEXT NOT NULL,
    reported_at  INTEGER NOT NULL,
    accepted_at  INTEGER,
    resolved_at  INTEGER,
    closed_at    INTEGER
) STRICT;
CREATE INDEX incidents_by_status ON incidents (status, reported_at);
CREATE INDEX incidents_by_assignee ON incidents (assignee, status);
CREATE INDEX incidents_by_grid ON incidents (grid_id, status);
"#;

/// Version 2: sync state and the people of the device's scope.
const V2: &str = r#"
-- Per document: the heads the server is known to hold, and the document's local_seq when
-- that was true. A document is pending push while documents.local_seq > synced_seq.
CREATE TABLE sync_docs (
    doc_id       TEXT PRIMARY KEY,
    server_heads TEXT NOT NULL,
    synced_seq   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Cursor, reference data version, clock offset, last successful sync.
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- People of the device's scope (reference data from the server): names and assignees.
CREATE TABLE people (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL
) STRICT;
"#;

/// Version 3: records kept without being shown, in a layout newer than the app reads.
const V3: &str = r#"
-- Documents in a layout newer than this app reads. Their bytes are in `documents` as any
-- other's (so nothing is lost and they sync), but not in the query tables; on open, an app
-- that knows their layout builds their rows and removes them from here.
CREATE TABLE unread_docs (
    doc_id TEXT PRIMARY KEY,
    -- The layout (`v`) the document had when it was set aside.
    layout INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
"#;

/// Version 4: what the incident workflow's lists need (issue 8). The new columns of the
/// rows already there are filled from their documents: every incident is listed as unread,
/// and opening the store projects it again (`documents::project_unread`).
const V4: &str = r#"
ALTER TABLE incidents ADD COLUMN unit_id TEXT;
-- The server's first receipt: every clock starts here. NULL until it has synced back.
ALTER TABLE incidents ADD COLUMN received_at INTEGER;
ALTER TABLE incidents ADD COLUMN level TEXT NOT NULL DEFAULT 'grid';
-- The current handler and department, from the events (assignee is the document's field).
ALTER TABLE incidents ADD COLUMN handler TEXT;
ALTER TABLE incidents ADD COLUMN department TEXT;
-- How a dispute ended (矛盾纠纷: 调解成功 / 调解未成功 / 转办).
ALTER TABLE incidents ADD COLUMN outcome TEXT;
CREATE INDEX incidents_by_unit ON incidents (unit_id, status);
CREATE INDEX incidents_by_handler ON incidents (handler, status);
CREATE INDEX incidents_by_category ON incidents (category, grid_id, status);
INSERT OR IGNORE INTO unread_docs (doc_id, layout)
    SELECT id, 1 FROM documents WHERE kind = 'incident';
"#;

/// Version 5: needs raised on visits, followed up (issue 10). One row per need, kept by the
/// projection of its household. Households written by an older app may already hold needs
/// (pulled from a newer phone): every household is listed as unread, and opening the store
/// projects it again (`documents::project_unread`).
const V5: &str = r#"
CREATE TABLE needs (
    id           TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    visit_id     TEXT NOT NULL,
    category     TEXT NOT NULL,
    summary      TEXT NOT NULL,
    -- open / in_hand / done / referred, folded from the need's events.
    status       TEXT NOT NULL,
    owner        TEXT NOT NULL,
    raised_by    TEXT NOT NULL,
    raised_at    INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    -- The incident it became (转事件).
    incident_id  TEXT,
    done_at      INTEGER
) STRICT;
CREATE INDEX needs_by_status_due ON needs (status, due_at);
CREATE INDEX needs_by_household ON needs (household_id);
CREATE INDEX needs_by_owner ON needs (owner, status, due_at);
INSERT OR IGNORE INTO unread_docs (doc_id, layout)
    SELECT id, 2 FROM documents WHERE kind = 'household';
"#;

/// Version 6: members' names as search keys, so households are found by pinyin (issue 10).
/// The rows of households already there are built from their documents: every household is
/// listed as unread, and opening the store projects it again (`documents::project_unread`).
const V6: &str = r#"
-- Each member's name and its pinyin keys (core/src/pinyin.rs): the name lowercased, its
-- full pinyin, initials and their mixes (zhangxiuying, zxy, zhangxy). id = the household's
-- rowid * 4096 + n, so a household's keys are one range of ids.
CREATE TABLE household_names (
    id    INTEGER PRIMARY KEY,
    key   TEXT NOT NULL,
    -- 1: the key spells the name from its first character (the surname); 0: from a later one.
    whole INTEGER NOT NULL
) STRICT;
CREATE INDEX household_names_by_key ON household_names (whole, key);
INSERT OR IGNORE INTO unread_docs (doc_id, layout)
    SELECT id, 1 FROM documents WHERE kind = 'household';
"#;

/// Brings a database to `VERSION`: creates it if empty, upgrades it if older.
pub fn init(tx: &Transaction<'_>) -> Result<()> {
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == VERSION {
        return Ok(());
    }
    if version > VERSION {
        return Err(Error::IncompatibleSchema {
            found: version,
            supported: VERSION,
        });
    }
    // A new database is built by the same steps that upgrade an old one.
    if version == 0 {
        tx.execute_batch(CREATE_V1)?;
    }
    for from in version.max(1)..VERSION {
        upgrade_from(tx, from)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

/// Upgrades a database of version `from` to `from + 1`.
fn upgrade_from(tx: &Transaction<'_>, from: i64) -> Result<()> {
    match from {
        1 => tx.execute_batch(V2)?,
        2 => tx.execute_batch(V3)?,
        3 => tx.execute_batch(V4)?,
        4 => tx.execute_batch(V5)?,
        5 => tx.execute_batch(V6)?,
        _ => {
            return Err(Error::IncompatibleSchema {
                found: from,
                supported: VERSION,
            });
        }
    }
    Ok(())
}

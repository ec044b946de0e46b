-- Version 1: places, people, grants, devices, documents and the change log.
-- Frozen: this file is what version 1 shipped; a change to the schema is a new migration.
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

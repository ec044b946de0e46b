-- Version 3: the incident workflow kept by the server (issue 8): every role of the role
-- table, per-community targets, the escalation sweep's deadlines, and notifications.
-- Frozen once shipped: a change to the schema is a new migration.

-- The role CHECK of version 1 knew four roles; SQLite cannot alter a CHECK, so the table is
-- rebuilt (foreign keys are off while migrations run, and checked before they commit).
CREATE TABLE users_v3 (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL
                 CHECK (role IN ('grid_worker', 'building_leader', 'unit_leader', 'admin',
                                 'street_admin', 'department_handler', 'micro_grid_worker')),
    community_id TEXT NOT NULL REFERENCES places (id),
    -- The change sequence when the user's grants last changed (see Device::scope_seq).
    scope_seq    INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO users_v3 (id, name, role, community_id, scope_seq)
    SELECT id, name, role, community_id, scope_seq FROM users;
DROP TABLE users;
ALTER TABLE users_v3 RENAME TO users;
CREATE INDEX users_by_community ON users (community_id);

-- A community's targets (linli_domain::targets::Targets); a community without a row has the
-- defaults.
CREATE TABLE targets (
    community_id      TEXT PRIMARY KEY REFERENCES places (id),
    response_ms       INTEGER NOT NULL,
    resolve_urgent_ms INTEGER NOT NULL,
    resolve_high_ms   INTEGER NOT NULL,
    resolve_normal_ms INTEGER NOT NULL,
    resolve_low_ms    INTEGER NOT NULL
) STRICT;

-- When the sweep next looks at each open incident (targets::next_check), kept in step with
-- the incident's document in the transaction that changes it. No row: nothing is owed.
CREATE TABLE deadlines (
    doc_id       TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    next_check   INTEGER NOT NULL
) STRICT;
CREATE INDEX deadlines_by_time ON deadlines (next_check);

-- What the console shows: one row per escalation the sweep made.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id       TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    level        TEXT,
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX notifications_by_community ON notifications (community_id, id);

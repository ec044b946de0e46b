-- Version 8: people, devices and places in the console (issue 11): the audit trail,
-- deactivated users, device names, single-use enrolment codes, and the departures a
-- withdrawn grant leaves. Frozen once shipped: a change to the schema is a new migration.

-- Append-only: one row per administrative action, written in the transaction of the action.
-- Ids and codes only (`action` and `reason` are codes of `directory::Action` and
-- `directory::Reason`): no names, no free text, so no personal data.
CREATE TABLE admin_actions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor_id      TEXT NOT NULL,
    action        TEXT NOT NULL,
    -- The community the action concerns (a community admin sees its rows); NULL: a street.
    community_id  TEXT,
    target_user   TEXT,
    target_device TEXT,
    target_place  TEXT,
    reason        TEXT
) STRICT;
CREATE INDEX admin_actions_by_community ON admin_actions (community_id, id);
CREATE INDEX admin_actions_by_action ON admin_actions (action, id);
CREATE TRIGGER admin_actions_no_update BEFORE UPDATE ON admin_actions
BEGIN SELECT RAISE (ABORT, 'admin_actions is append-only'); END;
CREATE TRIGGER admin_actions_no_delete BEFORE DELETE ON admin_actions
BEGIN SELECT RAISE (ABORT, 'admin_actions is append-only'); END;

-- A deactivated user's devices are refused (403). `final_sync` 1: each unrevoked device may
-- sync once more (its last changes reach the server), and is revoked by that sync.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
ALTER TABLE users ADD COLUMN final_sync INTEGER NOT NULL DEFAULT 0;

-- What the phone called itself when it enrolled (shown to admins; NULL before version 7).
ALTER TABLE devices ADD COLUMN name TEXT;

-- A single-use code (its SHA-256, never the code) that a phone exchanges for a device token
-- (`POST /v1/enrol`), valid 10 minutes.
CREATE TABLE enrol_codes (
    code_hash  BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  TEXT
) STRICT;
CREATE INDEX enrol_codes_by_user ON enrol_codes (user_id);

-- Failed enrolments by client address: too many, and the address is refused for a while.
CREATE TABLE enrol_failures (
    address TEXT NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX enrol_failures_by_address ON enrol_failures (address, at);

-- Documents that left one user's scope when a grant was withdrawn (the place-based
-- `departures` cannot say it: the place did not move, the user's scope shrank). `seq` is a
-- change sequence used up for the withdrawal.
CREATE TABLE user_departures (
    user_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    doc_id  TEXT NOT NULL,
    PRIMARY KEY (user_id, seq, doc_id)
) STRICT, WITHOUT ROWID;

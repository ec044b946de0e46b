-- Version 6: the admin console (issue 9): console accounts and their sessions, sign-in
-- throttling, invitations, and the incident index the response board reads.
-- Frozen once shipped: a change to the schema is a new migration.

-- A user who may sign in to the console. The password is an argon2id PHC string; no row or
-- a NULL hash: the user cannot sign in (yet). `department`: a department handler's
-- department (a linli_domain::Department code).
CREATE TABLE accounts (
    user_id         TEXT PRIMARY KEY REFERENCES users (id),
    password_hash   TEXT,
    department      TEXT,
    password_set_at INTEGER
) STRICT;

-- A console session: the SHA-256 of its cookie token, never the token. `csrf` is the
-- session's anti-forgery token, which every form carries.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins, by client address and the account tried (NULL: no such account). Too
-- many from one address slow that address down; too many against an account from one
-- address lock that account for that address only, so a stranger never locks its owner out.
CREATE TABLE sign_in_failures (
    address TEXT NOT NULL,
    user_id TEXT,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);
CREATE INDEX sign_in_failures_by_user ON sign_in_failures (user_id, address, at);

-- A single-use link that sets a user's first (or a reset) password.
CREATE TABLE invitations (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- One row per incident document, kept in step with the document in the transaction that
-- stores it (workflow::refresh_deadline): what the board filters, sorts and pages without
-- loading documents. Codes are those of linli_domain; `level_rank` orders levels;
-- `next_due` is the deadline pending now (response until accepted, then resolution), NULL
-- when none is.
CREATE TABLE incident_index (
    doc_id         TEXT PRIMARY KEY,
    community_id   TEXT NOT NULL,
    grid_id        TEXT NOT NULL,
    micro_grid_id  TEXT,
    building_id    TEXT,
    unit_id        TEXT,
    category       TEXT NOT NULL,
    priority       TEXT NOT NULL,
    status         TEXT NOT NULL,
    open           INTEGER NOT NULL,
    level          TEXT NOT NULL,
    level_rank     INTEGER NOT NULL,
    handler        TEXT,
    department     TEXT,
    reporter       TEXT NOT NULL,
    description    TEXT NOT NULL,
    reported_at    INTEGER NOT NULL,
    received_at    INTEGER,
    accepted_at    INTEGER,
    resolved_at    INTEGER,
    closed_at      INTEGER,
    respond_by     INTEGER,
    resolve_by     INTEGER,
    next_due       INTEGER,
    returns        INTEGER NOT NULL,
    reopens        INTEGER NOT NULL,
    rating         TEXT,
    outcome        TEXT
) STRICT;
CREATE INDEX incident_index_board ON incident_index (community_id, open, next_due);
CREATE INDEX incident_index_by_grid ON incident_index (grid_id, open);
CREATE INDEX incident_index_by_department ON incident_index (department, open);
-- Set to 1 once every stored incident has its row (documents stored before version 6 are
-- indexed when the server first opens the database).
INSERT INTO meta (key, value) VALUES ('incident_index_built', 0);

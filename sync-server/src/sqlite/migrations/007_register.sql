-- Version 7: the register in the console and ledgers (issue 11): query rows of household
-- documents (households, members, their name keys, visits, needs), the household an
-- incident names, and the export log. Rows are kept in step with documents in the
-- transaction that stores them (sqlite/register.rs); documents stored before version 7 are
-- projected once when the server opens the database (`register_built`).
-- Frozen once shipped: a change to the schema is a new migration.

-- One row per household document. Codes are those of linli_domain; `tags` the household's
-- care tag codes joined by ','; `updated_at` when the server last stored the document;
-- `moved_out` 1 when every member has moved out (整户迁出).
CREATE TABLE register_households (
    doc_id        TEXT PRIMARY KEY,
    community_id  TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    micro_grid_id TEXT,
    building_id   TEXT,
    unit_id       TEXT,
    room          TEXT NOT NULL,
    residency     TEXT NOT NULL,
    housing       TEXT NOT NULL,
    tags          TEXT NOT NULL,
    notes         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    moved_out     INTEGER NOT NULL
) STRICT;
CREATE INDEX register_households_by_community ON register_households (community_id, building_id, room);
CREATE INDEX register_households_by_grid ON register_households (grid_id);
CREATE INDEX register_households_by_building ON register_households (building_id);

-- The members of a household, current and moved out (`moved_out_at`), in the document's
-- order (`position`: relation, then name). `tags`: their own care tag codes joined by ','.
CREATE TABLE register_members (
    doc_id       TEXT NOT NULL REFERENCES register_households (doc_id) ON DELETE CASCADE,
    member_id    TEXT NOT NULL,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    relation     TEXT NOT NULL,
    birth_year   INTEGER,
    gender       TEXT,
    residence    TEXT,
    phone        TEXT,
    id_number    TEXT,
    tags         TEXT NOT NULL,
    moved_out_at INTEGER,
    PRIMARY KEY (doc_id, member_id)
) STRICT;
CREATE INDEX register_members_by_id_number ON register_members (id_number);

-- The search keys of current members' names (linli_domain::pinyin::name_keys).
CREATE TABLE register_names (
    doc_id TEXT NOT NULL REFERENCES register_households (doc_id) ON DELETE CASCADE,
    whole  INTEGER NOT NULL,
    key    TEXT NOT NULL
) STRICT;
CREATE INDEX register_names_by_key ON register_names (whole, key);
CREATE INDEX register_names_by_doc ON register_names (doc_id);

-- The visits recorded in household documents. `needs`: the needs raised, as
-- "category code:text" lines.
CREATE TABLE register_visits (
    doc_id       TEXT NOT NULL REFERENCES register_households (doc_id) ON DELETE CASCADE,
    visit_id     TEXT NOT NULL,
    visitor      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    purpose      TEXT NOT NULL,
    needs        TEXT NOT NULL,
    done_on_spot TEXT NOT NULL,
    follow_up    INTEGER NOT NULL,
    PRIMARY KEY (doc_id, visit_id)
) STRICT;
CREATE INDEX register_visits_by_at ON register_visits (at);

-- The needs raised on visits and their follow-up (跟进).
CREATE TABLE register_needs (
    doc_id      TEXT NOT NULL REFERENCES register_households (doc_id) ON DELETE CASCADE,
    need_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    text        TEXT NOT NULL,
    raised_by   TEXT NOT NULL,
    raised_at   INTEGER NOT NULL,
    status      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    done_at     INTEGER,
    incident_id TEXT,
    PRIMARY KEY (doc_id, need_id)
) STRICT;
CREATE INDEX register_needs_by_raised ON register_needs (raised_at);

-- The household an incident document names (most name none: no row).
CREATE TABLE register_incidents (
    doc_id       TEXT PRIMARY KEY,
    household_id TEXT NOT NULL
) STRICT;
CREATE INDEX register_incidents_by_household ON register_incidents (household_id);

-- Every ledger exported: who, which ledger, its filters (JSON), how many rows, when.
-- `communities`: the communities the exported rows could come from (a JSON array): the
-- filtered place's, or every community of the exporter's scope.
CREATE TABLE ledger_exports (
    id           INTEGER PRIMARY KEY,
    user_id      TEXT NOT NULL,
    communities  TEXT NOT NULL,
    ledger       TEXT NOT NULL,
    format       TEXT NOT NULL,
    filters      TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_exports_by_at ON ledger_exports (at);

INSERT INTO meta (key, value) VALUES ('register_built', 0);

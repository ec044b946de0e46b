-- Version 9: erasure and the privacy audit (issue 12).
-- Frozen once shipped: a change to the schema is a new migration.

-- One tombstone per erased document: every change, snapshot and query row of it is gone,
-- and a later push of it is refused (PushOutcome::Erased). `seq` is a number of the change
-- log (taken from `changes`' sequence) so pulls tell devices in scope within their cursor
-- range; the place columns are where the document was, to scope that. `reason` is a code
-- (erase::EraseReason), never free text: the optional note lives only in the audit row.
CREATE TABLE erasures (
    doc_id        TEXT PRIMARY KEY,
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    community_id  TEXT NOT NULL,
    grid_id       TEXT NOT NULL,
    micro_grid_id TEXT,
    building_id   TEXT,
    unit_id       TEXT,
    erased_at     INTEGER NOT NULL,
    erased_by     TEXT NOT NULL,
    reason        TEXT NOT NULL
) STRICT;
CREATE INDEX erasures_by_seq ON erasures (seq);

-- Append-only: who viewed a household's sensitive fields on the console, who erased what
-- (ledger exports are in `ledger_exports`). `action` a code (erase::AuditAction); `doc_id`
-- the record; `community_id` whose admins may read the row; `detail` codes only, and the
-- erasure's note. Never a name, an ID number or a phone.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    user_id      TEXT NOT NULL,
    action       TEXT NOT NULL,
    doc_id       TEXT,
    community_id TEXT NOT NULL,
    detail       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_community ON audit_log (community_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

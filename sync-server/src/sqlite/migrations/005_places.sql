-- Version 5: the place tree gains streets (街道) above communities and micro-grids (微网格)
-- between grids and buildings; documents, changes and departures carry their micro-grid.
-- Frozen once shipped: a change to the schema is a new migration.

-- The kind CHECK of version 1 knew four kinds; SQLite cannot alter a CHECK, so the table is
-- rebuilt as 003 rebuilt users (foreign keys are off while migrations run, and checked
-- before they commit).
CREATE TABLE places_v4 (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL
              CHECK (kind IN ('community', 'grid', 'building', 'unit', 'street', 'micro_grid')),
    parent_id TEXT REFERENCES places (id),
    name      TEXT NOT NULL
) STRICT;
INSERT INTO places_v4 (id, kind, parent_id, name)
    SELECT id, kind, parent_id, name FROM places;
DROP TABLE places;
ALTER TABLE places_v4 RENAME TO places;
CREATE INDEX places_by_parent ON places (parent_id);

-- NULL for every record of a building without a micro-grid (all of them before this).
ALTER TABLE documents ADD COLUMN micro_grid_id TEXT;
CREATE INDEX documents_by_micro_grid ON documents (micro_grid_id, doc_id);
ALTER TABLE changes ADD COLUMN micro_grid_id TEXT;
CREATE INDEX changes_by_micro_grid ON changes (micro_grid_id, seq);
ALTER TABLE departures ADD COLUMN micro_grid_id TEXT;

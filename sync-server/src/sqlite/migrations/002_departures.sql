-- Where documents moved from, so devices covering only the old place forget them.
CREATE TABLE departures (
    seq          INTEGER PRIMARY KEY,
    doc_id       TEXT NOT NULL,
    community_id TEXT NOT NULL,
    grid_id      TEXT NOT NULL,
    building_id  TEXT,
    unit_id      TEXT
) STRICT;

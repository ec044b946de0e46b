-- Version 4: a community's targets may differ by category of incident
-- (linli_domain::targets::CategoryTargets): one row replaces the community's whole set of
-- targets for incidents of that category.
CREATE TABLE category_targets (
    community_id      TEXT NOT NULL REFERENCES places (id),
    category          TEXT NOT NULL,
    response_ms       INTEGER NOT NULL,
    resolve_urgent_ms INTEGER NOT NULL,
    resolve_high_ms   INTEGER NOT NULL,
    resolve_normal_ms INTEGER NOT NULL,
    resolve_low_ms    INTEGER NOT NULL,
    PRIMARY KEY (community_id, category)
) STRICT, WITHOUT ROWID;

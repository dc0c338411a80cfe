DELETE FROM fact_packs WHERE kind = 4;
DELETE FROM fact_packs_dirty WHERE kind = 4;
ALTER TABLE incident_facts DROP COLUMN moves;
-- The version before reads packs of version 2: rebuild the rest.
INSERT OR IGNORE INTO fact_packs_dirty (kind, day) SELECT kind, day FROM fact_packs;

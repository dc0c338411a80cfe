-- Packed report facts: per kind and UTC day, the facts of every incident whose moment of that
-- kind falls on the day, as one compact binary array (src/db/reports/pack_codec.rs), so that
-- a 90-day report reads a few hundred rows instead of hundreds of thousands. Kinds:
--   0 created (created_s), 1 first resolved (first_resolved_s),
--   2 SLA outcome (fr_outcome_s, res_outcome_s), 3 done since (done_since_s).
-- Writing facts marks the packs of the old and new moments dirty in the same transaction; a
-- report rebuilds the dirty packs of its days before it reads them, the job the rest.
CREATE TABLE fact_packs (
    kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    facts BLOB NOT NULL,
    PRIMARY KEY (kind, day)
);
CREATE TABLE fact_packs_dirty (
    kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    PRIMARY KEY (kind, day)
);
INSERT INTO fact_packs_dirty (kind, day)
SELECT DISTINCT 0, created_s / 86400 FROM incident_facts
UNION SELECT DISTINCT 1, first_resolved_s / 86400 FROM incident_facts WHERE first_resolved_s IS NOT NULL
UNION SELECT DISTINCT 2, fr_outcome_s / 86400 FROM incident_facts WHERE fr_outcome_s IS NOT NULL
UNION SELECT DISTINCT 2, res_outcome_s / 86400 FROM incident_facts WHERE res_outcome_s IS NOT NULL
UNION SELECT DISTINCT 3, done_since_s / 86400 FROM incident_facts WHERE done_since_s IS NOT NULL;
-- The incidents open now, with what the backlog reads of them, from the index alone.
CREATE INDEX incident_facts_open_now ON incident_facts
    (created_s, incident_id, service_id, organization_id, tier_id, severity, done_spans, done_since_s)
    WHERE done_since_s IS NULL;
-- Done incidents only: the open ones are the index above's.
DROP INDEX incident_facts_done_since;
CREATE INDEX incident_facts_done_since ON incident_facts (done_since_s) WHERE done_since_s IS NOT NULL;

-- Version 2 packs are not readable by the version before: rebuild them all.
DELETE FROM fact_packs;
DELETE FROM fact_packs_dirty;
INSERT INTO fact_packs_dirty (kind, day)
SELECT DISTINCT 0, created_s / 86400 FROM incident_facts
UNION SELECT DISTINCT 1, first_resolved_s / 86400 FROM incident_facts WHERE first_resolved_s IS NOT NULL
UNION SELECT DISTINCT 2, fr_outcome_s / 86400 FROM incident_facts WHERE fr_outcome_s IS NOT NULL
UNION SELECT DISTINCT 2, res_outcome_s / 86400 FROM incident_facts WHERE res_outcome_s IS NOT NULL
UNION SELECT DISTINCT 3, done_since_s / 86400 FROM incident_facts WHERE done_since_s IS NOT NULL;

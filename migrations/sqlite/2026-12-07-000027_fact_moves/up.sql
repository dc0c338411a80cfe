-- Each incident's tier moves are kept in its facts ("at:from:to:automatic:reason;…"), and the
-- facts are packed by the day of each move too (kind 4), so the escalation report reads the
-- moves of a period from a few hundred packs instead of looking up each move's incident.
ALTER TABLE incident_facts ADD COLUMN moves TEXT NOT NULL DEFAULT '';
-- The facts of every incident that moved are computed again (the job, or a report for up to
-- its bound of them), which fills the column and marks the packs of its move days.
INSERT OR IGNORE INTO report_dirty (incident_id) SELECT DISTINCT incident_id FROM escalations;
-- Version 3 packs (with the moves column) are not readable by the version before: rebuild all.
DELETE FROM fact_packs;
DELETE FROM fact_packs_dirty;
INSERT INTO fact_packs_dirty (kind, day)
SELECT DISTINCT 0, created_s / 86400 FROM incident_facts
UNION SELECT DISTINCT 1, first_resolved_s / 86400 FROM incident_facts WHERE first_resolved_s IS NOT NULL
UNION SELECT DISTINCT 2, fr_outcome_s / 86400 FROM incident_facts WHERE fr_outcome_s IS NOT NULL
UNION SELECT DISTINCT 2, res_outcome_s / 86400 FROM incident_facts WHERE res_outcome_s IS NOT NULL
UNION SELECT DISTINCT 3, done_since_s / 86400 FROM incident_facts WHERE done_since_s IS NOT NULL
UNION SELECT DISTINCT 4, CAST(strftime('%s', at) AS INTEGER) / 86400 FROM escalations;

-- SLA and escalation outcomes in the report facts, so that the SLA and escalation reports read
-- narrow rows instead of rerunning every clock over every timeline. Per target (fr: first
-- response, res: resolution), as the clock stood when the facts were computed:
--   met_s      when it was met (first reply; start of the final run of resolved/closed);
--   breach_s   when it was breached, if it was;
--   due_s      when a running clock will reach its target (it breaches then unless it stops);
--   warn_s     when a running clock reaches 80 % of its target;
--   outcome_s  the moment the report counts it at: breach_s, else met_s, else due_s.
-- A status or reply change marks the incident dirty, so a stored running clock stays right
-- until its due moment, when the report reads it as breached.
ALTER TABLE incident_facts ADD COLUMN fr_met_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN fr_breach_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN fr_due_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN fr_warn_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN fr_outcome_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN res_met_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN res_breach_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN res_due_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN res_warn_s BIGINT;
ALTER TABLE incident_facts ADD COLUMN res_outcome_s BIGINT;
-- Waiting on the customer: finished stretches in total, and the start of the current one.
ALTER TABLE incident_facts ADD COLUMN paused_s BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incident_facts ADD COLUMN waiting_since_s BIGINT;
-- The tier the incident started in, the highest tier an upward move took it to (NULL: never
-- escalated) and the time spent in each tier up to the first resolution ("tier:secs;...").
ALTER TABLE incident_facts ADD COLUMN start_tier_id BIGINT;
ALTER TABLE incident_facts ADD COLUMN top_tier_id BIGINT;
ALTER TABLE incident_facts ADD COLUMN tier_stints TEXT NOT NULL DEFAULT '';
CREATE INDEX incident_facts_fr_outcome ON incident_facts (fr_outcome_s);
CREATE INDEX incident_facts_res_outcome ON incident_facts (res_outcome_s);
INSERT INTO report_dirty (incident_id) SELECT id FROM incidents ON CONFLICT DO NOTHING;
CREATE TRIGGER report_dirty_escalation AFTER INSERT ON escalations
    FOR EACH ROW EXECUTE FUNCTION report_dirty_event();

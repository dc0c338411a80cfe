-- One row of report facts per incident, so that a report over a period reads narrow rows with
-- integer times (Unix seconds) instead of every timeline. Triggers mark an incident dirty on any
-- change of it or of its status; reports and a job recompute dirty rows before they read.
CREATE TABLE incident_facts (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    created_s BIGINT NOT NULL,
    acknowledged_s BIGINT,
    first_resolved_s BIGINT,
    -- The first move from resolved back to work after the first resolution.
    reopened_s BIGINT,
    -- Start of the current run of resolved/closed; NULL while open.
    done_since_s BIGINT,
    -- Every run of resolved/closed as "start-end;start-" (the last open-ended while done).
    done_spans TEXT NOT NULL DEFAULT '',
    service_id BIGINT NOT NULL,
    organization_id BIGINT,
    assignee_id BIGINT,
    tier_id BIGINT NOT NULL,
    severity TEXT NOT NULL,
    -- First resolution in business hours, when the incident's SLA calendar counts them.
    business_mttr_s BIGINT
);
CREATE INDEX incident_facts_created ON incident_facts (created_s);
CREATE INDEX incident_facts_resolved ON incident_facts (first_resolved_s);
CREATE INDEX incident_facts_done_since ON incident_facts (done_since_s);

CREATE TABLE report_dirty (incident_id INTEGER PRIMARY KEY);
INSERT INTO report_dirty (incident_id) SELECT id FROM incidents;

CREATE TRIGGER report_dirty_incident_insert AFTER INSERT ON incidents
BEGIN
    INSERT OR IGNORE INTO report_dirty (incident_id) VALUES (NEW.id);
END;
CREATE TRIGGER report_dirty_incident_update AFTER UPDATE ON incidents
BEGIN
    INSERT OR IGNORE INTO report_dirty (incident_id) VALUES (NEW.id);
END;
CREATE TRIGGER report_dirty_status AFTER INSERT ON incident_events WHEN NEW.kind = 'status_changed'
BEGIN
    INSERT OR IGNORE INTO report_dirty (incident_id) VALUES (NEW.incident_id);
END;

CREATE TABLE sla_calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    always BOOLEAN NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    -- Seven entries, Monday first, each "HH:MM-HH:MM" or empty for closed, separated by ';'.
    week TEXT NOT NULL DEFAULT '',
    -- Dates YYYY-MM-DD separated by ','.
    holidays TEXT NOT NULL DEFAULT ''
);
INSERT INTO sla_calendars (id, name, always, time_zone, week, holidays) VALUES
    (1, '24×7', 1, 'UTC', '', ''),
    (2, 'Business hours', 0, 'UTC', '09:00-17:00;09:00-17:00;09:00-17:00;09:00-17:00;09:00-17:00;;', '');

CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    severity TEXT NOT NULL CHECK (severity IN ('SEV1','SEV2','SEV3','SEV4')),
    organization_id INTEGER REFERENCES organizations (id) ON DELETE CASCADE,
    first_response_minutes INTEGER NOT NULL CHECK (first_response_minutes > 0),
    resolution_minutes INTEGER NOT NULL CHECK (resolution_minutes > 0),
    calendar_id INTEGER NOT NULL REFERENCES sla_calendars (id),
    auto_escalate BOOLEAN NOT NULL DEFAULT 1
);
CREATE INDEX sla_policies_lookup ON sla_policies (severity, organization_id);
INSERT INTO sla_policies (severity, organization_id, first_response_minutes, resolution_minutes, calendar_id, auto_escalate) VALUES
    ('SEV1', NULL, 15, 240, 1, 1),
    ('SEV2', NULL, 30, 480, 1, 1),
    ('SEV3', NULL, 240, 1440, 2, 1),
    ('SEV4', NULL, 480, 4800, 2, 1);

ALTER TABLE incidents ADD COLUMN first_response_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN response_due_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolution_due_at TIMESTAMP;
-- When 80 % of each target is reached, and when the job acted on the warning and the breach.
ALTER TABLE incidents ADD COLUMN response_warn_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolution_warn_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN response_warned_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolution_warned_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN response_breached_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolution_breached_at TIMESTAMP;
CREATE INDEX incidents_resolution_due ON incidents (is_open, resolution_due_at, id);
CREATE INDEX incidents_response_warn ON incidents (response_warn_at);
CREATE INDEX incidents_resolution_warn ON incidents (resolution_warn_at);
CREATE INDEX incidents_response_due ON incidents (response_due_at);

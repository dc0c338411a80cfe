DROP INDEX incidents_resolution_due;
ALTER TABLE incidents DROP COLUMN resolution_due_at;
ALTER TABLE incidents DROP COLUMN response_due_at;
ALTER TABLE incidents DROP COLUMN first_response_at;
DROP TABLE sla_policies;
DROP TABLE sla_calendars;

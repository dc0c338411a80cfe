-- Status page fixes: the public maintenance notice of a release, the state log of shown
-- incidents, editable and retractable public updates, maintenance announcements, and mail to
-- subscribers fanned out by a job instead of inside the posting transaction.

-- The customer-safe text the status page shows for a release's scheduled window (empty: a
-- generic "Scheduled maintenance"). The release's own title and notes never leave Firewatch.
ALTER TABLE releases ADD COLUMN maintenance_notice TEXT NOT NULL DEFAULT '';

-- What a shown incident put its service in, from when: one row at publication and one at every
-- change of override, severity or service. History and mails read what was true at the time.
CREATE TABLE status_states (
    id BIGSERIAL PRIMARY KEY,
    status_incident_id BIGINT NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('operational','degraded','partial_outage','major_outage')),
    at TIMESTAMP NOT NULL
);
CREATE INDEX status_states_incident ON status_states (status_incident_id, at, id);

INSERT INTO status_states (status_incident_id, service_id, state, at)
SELECT si.id, i.service_id,
       COALESCE(si.state_override,
                CASE i.severity WHEN 'SEV1' THEN 'major_outage' WHEN 'SEV2' THEN 'partial_outage' ELSE 'degraded' END),
       si.published_at
FROM status_incidents si JOIN incidents i ON i.id = si.incident_id;

-- Each update keeps the state its service was in when it was posted, the timeline event that
-- shows it to the incident's customers, and its edit and retraction.
ALTER TABLE status_updates ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE status_updates ADD COLUMN event_id BIGINT REFERENCES incident_events (id) ON DELETE SET NULL;
ALTER TABLE status_updates ADD COLUMN edited_at TIMESTAMP;
ALTER TABLE status_updates ADD COLUMN retracted_at TIMESTAMP;
ALTER TABLE status_updates ADD COLUMN retracted_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE status_updates ADD COLUMN retract_reason TEXT NOT NULL DEFAULT '';

UPDATE status_updates SET state = (
    SELECT COALESCE(si.state_override,
                    CASE i.severity WHEN 'SEV1' THEN 'major_outage' WHEN 'SEV2' THEN 'partial_outage' ELSE 'degraded' END)
    FROM status_incidents si JOIN incidents i ON i.id = si.incident_id
    WHERE si.id = status_updates.status_incident_id
);
UPDATE status_updates SET event_id = (
    SELECT MIN(e.id) FROM incident_events e JOIN status_incidents si ON si.incident_id = e.incident_id
    WHERE si.id = status_updates.status_incident_id AND e.kind = 'status_update'
      AND e.at = status_updates.created_at AND e.field = status_updates.phase AND e.new_value = status_updates.body
);

-- Every edit of a public update: the text before and after, who, when.
CREATE TABLE status_update_edits (
    id BIGSERIAL PRIMARY KEY,
    status_update_id BIGINT NOT NULL REFERENCES status_updates (id) ON DELETE CASCADE,
    old_body TEXT NOT NULL,
    new_body TEXT NOT NULL,
    editor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX status_update_edits_update ON status_update_edits (status_update_id, id);

-- Scheduled maintenance as announced (the feed's maintenance entries and the mails' source):
-- the public notice, the services and the window as they stood then.
CREATE TABLE status_announcements (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('scheduled','rescheduled','updated','cancelled')),
    notice TEXT NOT NULL,
    services TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX status_announcements_created ON status_announcements (created_at, id);

-- One row per mail to all subscribers, written in the transaction of the change; the
-- status_mail job copies it into the outbox for every subscriber confirmed by then, a batch per
-- transaction, `last_subscriber_id` moving with each batch (never lost, never twice).
CREATE TABLE status_mailings (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    status_update_id BIGINT REFERENCES status_updates (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    marker TEXT NOT NULL,
    thread TEXT NOT NULL,
    message_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_subscriber_id BIGINT NOT NULL DEFAULT 0,
    done_at TIMESTAMP
);
CREATE INDEX status_mailings_pending ON status_mailings (done_at, id);

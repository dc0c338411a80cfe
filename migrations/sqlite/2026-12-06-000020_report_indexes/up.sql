-- Reports find status changes by kind, value and time (first resolutions, reopenings).
CREATE INDEX incident_events_status_changes ON incident_events (kind, new_value, at);
CREATE INDEX incident_events_status_left ON incident_events (kind, old_value, incident_id);

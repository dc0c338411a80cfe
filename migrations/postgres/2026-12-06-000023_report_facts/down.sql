DROP TRIGGER report_dirty_status ON incident_events;
DROP TRIGGER report_dirty_incident ON incidents;
DROP FUNCTION report_dirty_event();
DROP FUNCTION report_dirty_incident();
DROP TABLE report_dirty;
DROP TABLE incident_facts;

DROP TRIGGER report_dirty_status;
DROP TRIGGER report_dirty_incident_update;
DROP TRIGGER report_dirty_incident_insert;
DROP TABLE report_dirty;
DROP TABLE incident_facts;

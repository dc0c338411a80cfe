DROP INDEX problems_fix_released;
ALTER TABLE problems DROP COLUMN watch_days;
DROP INDEX bugs_release;
ALTER TABLE bugs DROP COLUMN release_id;
DROP TABLE release_suspects;
DROP TABLE release_checks;
DROP TABLE checklist_items;
DROP TABLE release_services;
DROP TABLE releases;

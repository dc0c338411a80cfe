DROP INDEX incident_facts_done_since;
CREATE INDEX incident_facts_done_since ON incident_facts (done_since_s);
DROP INDEX incident_facts_open_now;
DROP TABLE fact_packs_dirty;
DROP TABLE fact_packs;

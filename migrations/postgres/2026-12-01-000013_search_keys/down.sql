CREATE INDEX IF NOT EXISTS search_docs_incident ON search_docs (incident_id);

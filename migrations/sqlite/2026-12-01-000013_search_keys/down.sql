-- The numbered ids stay valid document ids; only the incident index is put back.
CREATE INDEX IF NOT EXISTS search_docs_incident ON search_docs (incident_id);

-- The open SEV1/SEV2 incidents an approval's override reason covers: the gate lets those pass,
-- and blocks again on any opened later.
CREATE TABLE release_overrides (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, incident_id)
);

-- Overrides recorded before this covered whatever blocked; keep what blocks now covered.
INSERT INTO release_overrides (release_id, incident_id)
SELECT DISTINCT r.id, i.id
FROM releases r
JOIN release_services rs ON rs.release_id = r.id
JOIN incidents i ON i.service_id = rs.service_id
WHERE r.override_reason <> '' AND r.status IN ('planned', 'ready')
  AND i.is_open AND i.severity IN ('SEV1', 'SEV2');

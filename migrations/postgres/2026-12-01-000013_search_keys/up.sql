-- Search documents are numbered by their incident: id = incident_id * 2^20 + slot * 2 + internal,
-- slot 0 the incident's own title and description, slots 1.. its comments in order (see the
-- SQLite migration of the same name).
ALTER TABLE search_docs ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE IF EXISTS search_docs_id_seq;
UPDATE search_docs SET id = -id;
UPDATE search_docs d SET id = k.key
FROM (
    SELECT id,
           CASE WHEN comment_id IS NULL THEN incident_id * 1048576
                ELSE incident_id * 1048576
                     + 2 * ROW_NUMBER() OVER (PARTITION BY incident_id, comment_id IS NULL ORDER BY comment_id)
                     + (CASE WHEN internal THEN 1 ELSE 0 END) END AS key
    FROM search_docs
) k
WHERE d.id = k.id;
DROP INDEX IF EXISTS search_docs_incident;

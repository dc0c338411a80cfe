-- Search documents are numbered by their incident: id = incident_id * 2^20 + slot * 2 + internal,
-- slot 0 the incident's own title and description, slots 1.. its comments in order. The
-- full-text index then yields the newest incidents first, tells internal documents apart and
-- names each hit's incident from the index alone, without a lookup per matching document.
DROP TRIGGER search_docs_ai;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_au;
DROP TABLE search_fts;

CREATE TABLE search_docs_keyed (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    comment_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    internal BOOLEAN NOT NULL DEFAULT 0,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT ''
);
INSERT INTO search_docs_keyed (id, incident_id, comment_id, internal, title, body)
SELECT CASE WHEN comment_id IS NULL THEN incident_id * 1048576
            ELSE incident_id * 1048576 + 2 * slot + (CASE WHEN internal THEN 1 ELSE 0 END) END,
       incident_id, comment_id, internal, title, body
FROM (
    SELECT d.*, ROW_NUMBER() OVER (PARTITION BY incident_id, comment_id IS NULL ORDER BY comment_id) AS slot
    FROM search_docs d
);
DROP TABLE search_docs;
ALTER TABLE search_docs_keyed RENAME TO search_docs;
CREATE UNIQUE INDEX search_docs_comment ON search_docs (comment_id);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    title, body, content='search_docs', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
INSERT INTO search_fts (search_fts) VALUES ('rebuild');
-- 'rebuild' leaves many segments, and every query pays for each: merge them into one.
INSERT INTO search_fts (search_fts) VALUES ('optimize');

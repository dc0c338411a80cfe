DROP INDEX help_votes_ip;
ALTER TABLE help_votes DROP COLUMN ip_hash;
DROP TABLE help_old_slugs;
DROP TRIGGER help_articles_ai;
DROP TRIGGER help_articles_ad;
DROP TRIGGER help_articles_au;
DROP TABLE help_fts;
ALTER TABLE help_articles DROP COLUMN excerpt;
ALTER TABLE help_articles DROP COLUMN body_text;
CREATE VIRTUAL TABLE help_fts USING fts5 (
    title, summary, body, content='help_articles', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER help_articles_ai AFTER INSERT ON help_articles BEGIN
    INSERT INTO help_fts (rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
END;
CREATE TRIGGER help_articles_ad AFTER DELETE ON help_articles BEGIN
    INSERT INTO help_fts (help_fts, rowid, title, summary, body) VALUES ('delete', old.id, old.title, old.summary, old.body);
END;
CREATE TRIGGER help_articles_au AFTER UPDATE OF title, summary, body ON help_articles BEGIN
    INSERT INTO help_fts (help_fts, rowid, title, summary, body) VALUES ('delete', old.id, old.title, old.summary, old.body);
    INSERT INTO help_fts (rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
END;
INSERT INTO help_fts (help_fts) VALUES ('rebuild');

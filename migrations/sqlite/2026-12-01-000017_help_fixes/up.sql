-- Help center fixes: plain text derived from the rendered body (search, snippets, summaries,
-- meta descriptions), the old addresses of renamed articles and categories, and the hashed IP of
-- anonymous votes (a per-IP limit on top of the per-visitor rule).

-- NULL until Firewatch has rendered the body (done at startup, `service::help::derive_texts`).
ALTER TABLE help_articles ADD COLUMN body_text TEXT;
ALTER TABLE help_articles ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';

-- Full text over the title, the summary and the plain text (never raw Markdown: link targets and
-- HTML comments are not words of the article).
DROP TRIGGER help_articles_ai;
DROP TRIGGER help_articles_ad;
DROP TRIGGER help_articles_au;
DROP TABLE help_fts;
CREATE VIRTUAL TABLE help_fts USING fts5 (
    title, summary, body_text, content='help_articles', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER help_articles_ai AFTER INSERT ON help_articles BEGIN
    INSERT INTO help_fts (rowid, title, summary, body_text) VALUES (new.id, new.title, new.summary, new.body_text);
END;
CREATE TRIGGER help_articles_ad AFTER DELETE ON help_articles BEGIN
    INSERT INTO help_fts (help_fts, rowid, title, summary, body_text) VALUES ('delete', old.id, old.title, old.summary, old.body_text);
END;
CREATE TRIGGER help_articles_au AFTER UPDATE OF title, summary, body_text ON help_articles BEGIN
    INSERT INTO help_fts (help_fts, rowid, title, summary, body_text) VALUES ('delete', old.id, old.title, old.summary, old.body_text);
    INSERT INTO help_fts (rowid, title, summary, body_text) VALUES (new.id, new.title, new.summary, new.body_text);
END;
INSERT INTO help_fts (help_fts) VALUES ('rebuild');

-- An address an article or category had before: answered with a 301 to the current one.
CREATE TABLE help_old_slugs (
    kind TEXT NOT NULL CHECK (kind IN ('article', 'category')),
    slug TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, slug)
);
CREATE INDEX help_old_slugs_target ON help_old_slugs (kind, target_id);

-- HMAC of the voter's IP address (anonymous votes only), for the per-IP daily limit.
ALTER TABLE help_votes ADD COLUMN ip_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX help_votes_ip ON help_votes (article_id, ip_hash, created_at);

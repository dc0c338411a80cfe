-- Help center fixes: plain text derived from the rendered body (search, snippets, summaries,
-- meta descriptions), the old addresses of renamed articles and categories, and the hashed IP of
-- anonymous votes (a per-IP limit on top of the per-visitor rule).

-- NULL until Firewatch has rendered the body (done at startup, `service::help::derive_texts`).
ALTER TABLE help_articles ADD COLUMN body_text TEXT;
ALTER TABLE help_articles ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';

-- Full text over the title, the summary and the plain text (never raw Markdown).
DROP INDEX help_articles_tsv;
ALTER TABLE help_articles DROP COLUMN tsv;
ALTER TABLE help_articles ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B')
    || setweight(to_tsvector('english', COALESCE(body_text, '')), 'C')
) STORED;
CREATE INDEX help_articles_tsv ON help_articles USING GIN (tsv);

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

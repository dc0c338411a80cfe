DROP INDEX help_votes_ip;
ALTER TABLE help_votes DROP COLUMN ip_hash;
DROP TABLE help_old_slugs;
DROP INDEX help_articles_tsv;
ALTER TABLE help_articles DROP COLUMN tsv;
ALTER TABLE help_articles DROP COLUMN excerpt;
ALTER TABLE help_articles DROP COLUMN body_text;
ALTER TABLE help_articles ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B')
    || setweight(to_tsvector('english', body), 'C')
) STORED;
CREATE INDEX help_articles_tsv ON help_articles USING GIN (tsv);

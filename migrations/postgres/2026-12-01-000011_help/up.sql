-- The help center: categories (one level of nesting), articles with their revisions, tags,
-- related articles, images, helpful votes, suggestion opens (deflection) and a few events.
CREATE TABLE help_categories (
    id BIGSERIAL PRIMARY KEY,
    parent_id BIGINT REFERENCES help_categories (id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX help_categories_parent ON help_categories (parent_id, position, name);

CREATE TABLE help_articles (
    id BIGSERIAL PRIMARY KEY,
    category_id BIGINT REFERENCES help_categories (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL CHECK (visibility IN ('public','customers','internal')),
    status TEXT NOT NULL CHECK (status IN ('draft','published','archived')),
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    revision INTEGER NOT NULL DEFAULT 1,
    problem_id BIGINT REFERENCES problems (id) ON DELETE SET NULL,
    fixed_in_release TEXT NOT NULL DEFAULT '',
    review_reason TEXT NOT NULL DEFAULT '',
    review_flagged_at TIMESTAMP
);
CREATE INDEX help_articles_listing ON help_articles (status, visibility, updated_at, id);
CREATE INDEX help_articles_updated ON help_articles (updated_at, id);
CREATE INDEX help_articles_category ON help_articles (category_id, status, title);
CREATE INDEX help_articles_problem ON help_articles (problem_id);

CREATE TABLE help_article_tags (
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX help_article_tags_tag ON help_article_tags (tag, article_id);

CREATE TABLE help_related (
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    related_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, related_id)
);

-- Every save: the whole article as it was saved.
CREATE TABLE help_revisions (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    category_id BIGINT,
    tags TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, number)
);

CREATE TABLE help_images (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX help_images_article ON help_images (article_id, id);

-- One vote per visitor per article: `voter` is "user:<id>", or "visitor:" and the SHA-256 of
-- the anonymous visitor cookie.
CREATE TABLE help_votes (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    helpful BOOLEAN NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, voter)
);
CREATE INDEX help_votes_recent ON help_votes (helpful, updated_at, id);

-- A suggestion opened from the new-incident form. incident_id is set when the same user files
-- an incident within the deflection window; an open without one, once the window has passed,
-- is a deflection.
CREATE TABLE help_suggestion_opens (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_at TIMESTAMP NOT NULL,
    incident_id BIGINT REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE INDEX help_opens_user ON help_suggestion_opens (user_id, opened_at);
CREATE INDEX help_opens_article ON help_suggestion_opens (article_id, opened_at);

-- What happened to an article besides saves: flagged for review, reviewed, fix released.
CREATE TABLE help_events (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX help_events_article ON help_events (article_id, at, id);

-- Full text over title, summary and body: a generated tsvector (title weighs most) and a GIN
-- index, written by PostgreSQL in the same statement as the article.
ALTER TABLE help_articles ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B')
    || setweight(to_tsvector('english', body), 'C')
) STORED;
CREATE INDEX help_articles_tsv ON help_articles USING GIN (tsv);

-- The help center: categories (one level of nesting), articles with their revisions, tags,
-- related articles, images, helpful votes, suggestion opens (deflection) and a few events.
CREATE TABLE help_categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER REFERENCES help_categories (id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX help_categories_parent ON help_categories (parent_id, position, name);

CREATE TABLE help_articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id INTEGER REFERENCES help_categories (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL CHECK (visibility IN ('public','customers','internal')),
    status TEXT NOT NULL CHECK (status IN ('draft','published','archived')),
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    revision INTEGER NOT NULL DEFAULT 1,
    problem_id INTEGER REFERENCES problems (id) ON DELETE SET NULL,
    fixed_in_release TEXT NOT NULL DEFAULT '',
    review_reason TEXT NOT NULL DEFAULT '',
    review_flagged_at TIMESTAMP
);
CREATE INDEX help_articles_listing ON help_articles (status, visibility, updated_at, id);
CREATE INDEX help_articles_updated ON help_articles (updated_at, id);
CREATE INDEX help_articles_category ON help_articles (category_id, status, title);
CREATE INDEX help_articles_problem ON help_articles (problem_id);

CREATE TABLE help_article_tags (
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX help_article_tags_tag ON help_article_tags (tag, article_id);

CREATE TABLE help_related (
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    related_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, related_id)
);

-- Every save: the whole article as it was saved.
CREATE TABLE help_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    slug TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    category_id INTEGER,
    tags TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (article_id, number)
);

CREATE TABLE help_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX help_images_article ON help_images (article_id, id);

-- One vote per visitor per article: `voter` is "user:<id>", or "visitor:" and the SHA-256 of
-- the anonymous visitor cookie.
CREATE TABLE help_votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    opened_at TIMESTAMP NOT NULL,
    incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL
);
CREATE INDEX help_opens_user ON help_suggestion_opens (user_id, opened_at);
CREATE INDEX help_opens_article ON help_suggestion_opens (article_id, opened_at);

-- What happened to an article besides saves: flagged for review, reviewed, fix released.
CREATE TABLE help_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES help_articles (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX help_events_article ON help_events (article_id, at, id);

-- Full text over title, summary and body, kept in step by triggers inside the writing
-- transaction.
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

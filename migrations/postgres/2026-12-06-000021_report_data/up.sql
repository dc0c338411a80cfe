-- Help searches, for the self-service report's "searches with no result" (the words only: no
-- user, no address).
CREATE TABLE help_searches (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    query TEXT NOT NULL,
    results INTEGER NOT NULL
);
CREATE INDEX help_searches_at ON help_searches (at);
-- Reports read these by time.
CREATE INDEX help_votes_updated ON help_votes (updated_at);
CREATE INDEX releases_deployed ON releases (deployed_at);
CREATE INDEX problems_fix_released_at ON problems (fix_released_at);

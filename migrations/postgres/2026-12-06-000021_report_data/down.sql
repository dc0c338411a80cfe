DROP INDEX problems_fix_released_at;
DROP INDEX releases_deployed;
DROP INDEX help_votes_updated;
DROP TABLE help_searches;

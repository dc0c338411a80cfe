-- PostgreSQL's search statistics (see its tree); SQLite's FTS5 index needs nothing here.
SELECT 1;

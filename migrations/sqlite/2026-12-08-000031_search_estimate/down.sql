-- PostgreSQL's search estimate (see its tree); SQLite counts its FTS5 index directly.
SELECT 1;

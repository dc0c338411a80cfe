-- The planner's picture of the search words. With the default statistics target it keeps the
-- frequencies of a few hundred lexemes and guesses every other word (rare or absent) at a fixed
-- share of the documents, high enough that it walks every document newest first looking for a
-- rare word (90 ms at 100k incidents, seconds at 1M). A larger sample keeps thousands of
-- lexemes, and words outside it are then known to be rare: the GIN index answers them.
ALTER TABLE search_docs ALTER COLUMN tsv SET STATISTICS 1000;
-- Every search reads the GIN index's list of not yet merged entries; by default it grows to
-- 4 MB between vacuums (about 1 ms a search). 256 kB keeps inserts batched and reads short.
ALTER INDEX search_docs_tsv SET (gin_pending_list_limit = 256);
ANALYZE search_docs;

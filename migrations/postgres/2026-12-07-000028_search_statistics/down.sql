ALTER INDEX search_docs_tsv RESET (gin_pending_list_limit);
ALTER TABLE search_docs ALTER COLUMN tsv SET STATISTICS -1;

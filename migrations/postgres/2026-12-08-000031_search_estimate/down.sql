DROP FUNCTION search_docs_estimate(TEXT);

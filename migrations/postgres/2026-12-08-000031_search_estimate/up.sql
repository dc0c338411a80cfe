-- How many search documents the planner expects a search to match, from the statistics of
-- migration 000028 (no document is read). The count above the search results asks it first: a
-- word it knows to be in a hundred thousand documents is in more than the 10,000 incidents the
-- count shows, and counting them was the slowest part of a search for a common word.
CREATE FUNCTION search_docs_estimate(words TEXT) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    plan JSON;
BEGIN
    EXECUTE format(
        'EXPLAIN (FORMAT JSON) SELECT 1 FROM search_docs WHERE tsv @@ plainto_tsquery(''english'', %L)', words
    ) INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::BIGINT;
END
$$;

//! Help search: the articles a reader may see that match the words (FTS5 or tsvector).

use super::*;

// ---------- search ----------

#[derive(QueryableByName)]
struct HitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Full-text search over title, summary and body: the best `limit` articles the reader may
/// see that hold every word, best first, each with a snippet whose matches sit between
/// `MARK_START` and `MARK_END` (see `snippets::snippet_html`). The words are quoted for FTS5 and
/// passed through `plainto_tsquery` on PostgreSQL, so no user text is read as query syntax.
pub fn search(conn: &mut DbConnection, words: &[String], r: &Readable, limit: i64) -> DbResult<Vec<(i64, String)>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let filter = r.sql();
    let rows: Vec<HitRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT a.id AS id, snippet(help_fts, -1, char(1), char(2), '…', 24) AS snippet \
             FROM help_fts JOIN help_articles a ON a.id = help_fts.rowid \
             WHERE help_fts MATCH ? AND {filter} \
             ORDER BY bm25(help_fts, 10.0, 4.0, 1.0), a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(fts5_query(words))
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT a.id, ts_headline('english', a.summary || ' ' || COALESCE(a.body_text, ''), plainto_tsquery('english', $1), \
               'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet \
             FROM help_articles a \
             WHERE a.tsv @@ plainto_tsquery('english', $1) AND {filter} \
             ORDER BY ts_rank(a.tsv, plainto_tsquery('english', $1)) DESC, a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(pg_query(words))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|h| (h.id, h.snippet)).collect())
}

/// Articles holding ANY of the words (the new-incident form's suggestions and the incident
/// page's article picker), best first.
pub fn matching_any(conn: &mut DbConnection, words: &[String], r: &Readable, limit: i64) -> DbResult<Vec<i64>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let filter = r.sql();
    let rows: Vec<IdRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT a.id AS id FROM help_fts JOIN help_articles a ON a.id = help_fts.rowid \
             WHERE help_fts MATCH ? AND {filter} ORDER BY bm25(help_fts, 10.0, 4.0, 1.0), a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(fts5_any(words))
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT a.id FROM help_articles a WHERE a.tsv @@ to_tsquery('english', $1) AND {filter} \
             ORDER BY ts_rank(a.tsv, to_tsquery('english', $1)) DESC, a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(pg_any(words))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

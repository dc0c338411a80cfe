//! Full-text search over incidents and comments. SQLite uses FTS5 (kept in step by triggers),
//! PostgreSQL a generated tsvector with a GIN index. Everything backend-specific about search
//! lives in this file.

use super::models::Comment;
use super::queue::Visibility;
use super::schema::search_docs;
use super::{DbConnection, DbResult};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// Markers put around matched words by the engines; never present in stored text after
/// `clean_snippet` (control characters are dropped).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

/// How many matching documents relevance ranking looks at, at most.
pub const RANK_CANDIDATES: i64 = 1000;

/// How many of the newest matching documents a text filter considers. A common word matches
/// hundreds of thousands of documents; materializing them all on every page view is what makes
/// search slow, and nobody pages past the newest ten thousand (the count shows "10,000+").
pub const SEARCH_WINDOW: i64 = 10_001;

/// (Re)writes the incident's own document: title and description.
pub fn index_incident(conn: &mut DbConnection, incident_id: i64, title: &str, description: &str) -> DbResult<()> {
    diesel::delete(
        search_docs::table.filter(search_docs::incident_id.eq(incident_id)).filter(search_docs::comment_id.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(search_docs::table)
        .values((
            search_docs::incident_id.eq(incident_id),
            search_docs::internal.eq(false),
            search_docs::title.eq(title),
            search_docs::body.eq(description),
        ))
        .execute(conn)?;
    Ok(())
}

/// (Re)writes a comment's document, carrying its visibility.
pub fn index_comment(conn: &mut DbConnection, c: &Comment) -> DbResult<()> {
    diesel::delete(search_docs::table.filter(search_docs::comment_id.eq(c.id))).execute(conn)?;
    diesel::insert_into(search_docs::table)
        .values((
            search_docs::incident_id.eq(c.incident_id),
            search_docs::comment_id.eq(Some(c.id)),
            search_docs::internal.eq(c.internal),
            search_docs::title.eq(""),
            search_docs::body.eq(&c.body),
        ))
        .execute(conn)?;
    Ok(())
}

/// The words of a user's query: letters and digits only, at most 12, lowercased. Every word
/// must match (AND), on both engines.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| w.chars().take(60).collect::<String>().to_lowercase())
        .collect()
}

/// An FTS5 query of quoted words: the user's text can never be read as FTS5 syntax.
fn fts5_query(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")
}

fn pg_query(words: &[String]) -> String {
    words.join(" ")
}

/// Runs an incident-id query written once per engine. The SQL holds `{join}` and `{filters}`
/// where the viewer's visibility and the internal-notes condition go; the words are the first
/// parameter, the viewer's user and organization ids the next two when there is a viewer.
fn matching_ids(
    conn: &mut DbConnection,
    words: &[String],
    include_internal: bool,
    visibility: &Visibility,
    sqlite_sql: &str,
    pg_sql: &str,
) -> DbResult<Vec<i64>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let viewer = match visibility {
        Visibility::Everything => None,
        Visibility::Reporter { user_id, shared_org } => Some((*user_id, shared_org.unwrap_or(-1))),
    };
    let join = if viewer.is_some() { "JOIN incidents vi ON vi.id = d.incident_id" } else { "" };
    let rows: Vec<RankRow> = match conn {
        DbConnection::Sqlite(c) => {
            let filters = format!(
                "{} {}",
                if include_internal { "" } else { "AND d.internal = 0" },
                if viewer.is_some() { "AND (vi.reporter_id = ? OR vi.organization_id = ?)" } else { "" }
            );
            let q = diesel::sql_query(sqlite_sql.replace("{join}", join).replace("{filters}", &filters))
                .bind::<Text, _>(fts5_query(words));
            match viewer {
                Some((u, o)) => q.bind::<BigInt, _>(u).bind::<BigInt, _>(o).load(c)?,
                None => q.load(c)?,
            }
        }
        DbConnection::Pg(c) => {
            let filters = format!(
                "{} {}",
                if include_internal { "" } else { "AND NOT d.internal" },
                if viewer.is_some() { "AND (vi.reporter_id = $2 OR vi.organization_id = $3)" } else { "" }
            );
            let q = diesel::sql_query(pg_sql.replace("{join}", join).replace("{filters}", &filters))
                .bind::<Text, _>(pg_query(words));
            match viewer {
                Some((u, o)) => q.bind::<BigInt, _>(u).bind::<BigInt, _>(o).load(c)?,
                None => q.load(c)?,
            }
        }
    };
    Ok(rows.into_iter().map(|r| r.incident_id).collect())
}

/// The incidents behind the newest `SEARCH_WINDOW` matching documents the viewer may see,
/// newest match first, each once. `include_internal = false` keeps internal notes out of the
/// match (what customers search); the visibility condition sits inside the window so that a
/// customer's own older incidents do not fall out behind newer matches of other organizations.
pub fn window_incident_ids(
    conn: &mut DbConnection,
    words: &[String],
    include_internal: bool,
    visibility: &Visibility,
) -> DbResult<Vec<i64>> {
    let ids = matching_ids(
        conn,
        words,
        include_internal,
        visibility,
        &format!(
            "SELECT d.incident_id AS incident_id FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid {{join}} \
             WHERE search_fts MATCH ? {{filters}} ORDER BY search_fts.rowid DESC LIMIT {SEARCH_WINDOW}"
        ),
        &format!(
            "SELECT d.incident_id FROM search_docs d {{join}} \
             WHERE d.tsv @@ plainto_tsquery('english', $1) {{filters}} ORDER BY d.id DESC LIMIT {SEARCH_WINDOW}"
        ),
    )?;
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    Ok(ids.into_iter().filter(|id| seen.insert(*id)).collect())
}

#[derive(QueryableByName)]
struct SnippetRow {
    #[diesel(sql_type = BigInt)]
    incident_id: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
}

#[derive(QueryableByName)]
struct RankRow {
    #[diesel(sql_type = BigInt)]
    incident_id: i64,
}

/// One highlighted snippet per incident (for the given incidents), as HTML: the text escaped,
/// matches in `<mark>`.
pub fn snippets(
    conn: &mut DbConnection,
    words: &[String],
    incident_ids: &[i64],
    include_internal: bool,
) -> DbResult<Vec<(i64, String)>> {
    if words.is_empty() || incident_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids_json = serde_json::to_string(incident_ids).unwrap_or_else(|_| "[]".into());
    let rows: Vec<SnippetRow> = match conn {
        // One rowid-bound MATCH per document of the page's incidents: FTS5 seeks each instead
        // of walking every hit of a common word.
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT incident_id, snippet FROM ( \
               SELECT d.incident_id AS incident_id, d.comment_id IS NOT NULL AS is_comment, d.id AS doc, \
                 (SELECT snippet(search_fts, -1, char(1), char(2), '…', 16) FROM search_fts \
                   WHERE search_fts MATCH ? AND search_fts.rowid = d.id) AS snippet \
               FROM search_docs d WHERE d.incident_id IN (SELECT value FROM json_each(?)) {} \
             ) WHERE snippet IS NOT NULL ORDER BY incident_id, is_comment, doc",
            if include_internal { "" } else { "AND d.internal = 0" }
        ))
        .bind::<Text, _>(fts5_query(words))
        .bind::<Text, _>(ids_json)
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT d.incident_id AS incident_id, \
             ts_headline('english', d.title || ' ' || d.body, plainto_tsquery('english', $1), \
               'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet \
             FROM search_docs d \
             WHERE d.tsv @@ plainto_tsquery('english', $1) \
               AND d.incident_id IN (SELECT (jsonb_array_elements_text($2::jsonb))::bigint) {} \
             ORDER BY d.incident_id, d.comment_id IS NOT NULL, d.id",
            if include_internal { "" } else { "AND NOT d.internal" }
        ))
        .bind::<Text, _>(pg_query(words))
        .bind::<Text, _>(ids_json)
        .load(c)?,
    };
    let mut out: Vec<(i64, String)> = Vec::new();
    for r in rows {
        if out.last().is_some_and(|(id, _)| *id == r.incident_id) {
            continue;
        }
        out.push((r.incident_id, snippet_html(&r.snippet)));
    }
    Ok(out)
}

/// Escapes the engine's snippet and turns its markers into `<mark>`.
pub fn snippet_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    for ch in raw.chars() {
        match ch {
            MARK_START => out.push_str("<mark>"),
            MARK_END => out.push_str("</mark>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// The best-ranked matching incidents the viewer may see, best first, looking at no more than
/// `RANK_CANDIDATES` matching documents (ranking every hit of a common word is what makes
/// relevance search slow).
pub fn ranked_incident_ids(
    conn: &mut DbConnection,
    words: &[String],
    include_internal: bool,
    visibility: &Visibility,
) -> DbResult<Vec<i64>> {
    matching_ids(
        conn,
        words,
        include_internal,
        visibility,
        &format!(
            "SELECT incident_id FROM ( \
               SELECT d.incident_id AS incident_id, bm25(search_fts, 4.0, 1.0) AS score \
               FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid {{join}} \
               WHERE search_fts MATCH ? {{filters}} ORDER BY search_fts.rowid DESC LIMIT {RANK_CANDIDATES} \
             ) GROUP BY incident_id ORDER BY min(score), incident_id DESC"
        ),
        &format!(
            "SELECT incident_id FROM ( \
               SELECT d.incident_id, ts_rank(d.tsv, plainto_tsquery('english', $1)) AS score \
               FROM search_docs d {{join}} WHERE d.tsv @@ plainto_tsquery('english', $1) {{filters}} \
               ORDER BY d.id DESC LIMIT {RANK_CANDIDATES} \
             ) m GROUP BY incident_id ORDER BY max(score) DESC, incident_id DESC"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_cannot_inject_fts_syntax() {
        let w = words("disk\" OR title:* NEAR(x) -- full");
        assert_eq!(w, vec!["disk", "or", "title", "near", "x", "full"]);
        assert_eq!(fts5_query(&w[..2]), "\"disk\" \"or\"");
    }

    #[test]
    fn snippets_are_escaped_and_marked() {
        assert_eq!(snippet_html("a \u{1}<disk>\u{2} & b"), "a <mark>&lt;disk&gt;</mark> &amp; b");
    }
}

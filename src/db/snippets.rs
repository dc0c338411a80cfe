//! Highlighted snippets of search hits: the matched document's text cut around the first match
//! in Rust (reading only as much as it shows), escaped, matches marked.

use super::raw::{Bind, Raw};
use super::schema::search_docs;
use super::search::{MARK_END, MARK_START, doc_key, fts5_query, incident_of, pg_query, same_word, stem};
use super::{DbConnection, DbResult};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct SnippetRow {
    #[diesel(sql_type = BigInt)]
    incident_id: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    internal: bool,
}

/// Marks a snippet cut from an internal note, as the timeline does (only staff get those).
fn labelled(html: String, internal: bool) -> String {
    if internal { format!("<span class=\"badge badge-internal\">Internal note</span> {html}") } else { html }
}

/// One highlighted snippet per incident (for the given incidents), as HTML: the text escaped,
/// matches in `<mark>`. The incident's own document comes first, then its comments in order.
pub fn snippets(
    conn: &mut DbConnection,
    words: &[String],
    incident_ids: &[i64],
    include_internal: bool,
) -> DbResult<Vec<(i64, String)>> {
    let (Some(low), Some(high)) = (incident_ids.iter().min(), incident_ids.iter().max()) else {
        return Ok(Vec::new());
    };
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let (from, to) = (doc_key(*low, 0, false), doc_key(*high + 1, 0, false));
    let ids_json = serde_json::to_string(incident_ids).unwrap_or_else(|_| "[]".into());
    let rows: Vec<SnippetRow> = match conn {
        // One walk over the page's stretch of document ids; snippets are made only for the
        // documents of the page's incidents.
        DbConnection::Sqlite(c) => Raw::sqlite(format!(
            "SELECT search_fts.rowid >> 20 AS incident_id, \
               snippet(search_fts, -1, char(1), char(2), '…', 16) AS snippet, \
               (search_fts.rowid & 1) = 1 AS internal \
             FROM search_fts WHERE search_fts MATCH ? AND search_fts.rowid >= ? AND search_fts.rowid < ? \
               AND (search_fts.rowid >> 20) IN (SELECT value FROM json_each(?)) {} \
             ORDER BY search_fts.rowid",
            if include_internal { "" } else { "AND (search_fts.rowid & 1) = 0" }
        ))
        .bind(Bind::Text(fts5_query(words)))
        .bind(Bind::BigInt(from))
        .bind(Bind::BigInt(to))
        .bind(Bind::Text(ids_json))
        .load(c)?,
        DbConnection::Pg(c) => Raw::pg(format!(
            "SELECT d.incident_id AS incident_id, \
             ts_headline('english', d.title || ' ' || d.body, plainto_tsquery('english', $1), \
               'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet, \
             d.internal AS internal \
             FROM search_docs d \
             WHERE d.tsv @@ plainto_tsquery('english', $1) AND d.id >= $2 AND d.id < $3 \
               AND d.incident_id IN (SELECT (jsonb_array_elements_text($4::jsonb))::bigint) {} \
             ORDER BY d.id",
            if include_internal { "" } else { "AND NOT d.internal" }
        ))
        .bind(Bind::Text(pg_query(words)))
        .bind(Bind::BigInt(from))
        .bind(Bind::BigInt(to))
        .bind(Bind::Text(ids_json))
        .load(c)?,
    };
    let mut out: Vec<(i64, String)> = Vec::new();
    for r in rows {
        if out.iter().any(|(id, _)| *id == r.incident_id) {
            continue;
        }
        out.push((r.incident_id, labelled(snippet_html(&r.snippet), r.internal)));
    }
    Ok(out)
}

/// A highlighted snippet of each of these matching documents, as (incident id, HTML). The
/// snippet is cut here rather than by the engine: FTS5's `snippet()` needs the MATCH again and
/// seeks the word's whole posting list once per document, which cost more than the rest of a
/// search page for common words; reading a page's documents by id is cheap on both engines.
pub fn snippets_of_docs(conn: &mut DbConnection, words: &[String], keys: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if words.is_empty() || keys.is_empty() {
        return Ok(Vec::new());
    }
    let docs: Vec<(i64, String, String)> = search_docs::table
        .filter(super::in_ids(conn, "search_docs.id", keys))
        .select((search_docs::id, search_docs::title, search_docs::body))
        .load(conn)?;
    Ok(docs
        .into_iter()
        .map(|(key, title, body)| (incident_of(key), labelled(highlight(words, &title, &body), key & 1 == 1)))
        .collect())
}

/// How many words a snippet shows.
const SNIPPET_WORDS: usize = 16;

/// A stretch of about `SNIPPET_WORDS` words around the first word of the title or body that
/// matches a query word (loosely stemmed, as the engines match), the matches marked;
/// HTML-escaped. Only as much of the text is read as the stretch needs.
fn highlight(words: &[String], title: &str, body: &str) -> String {
    const BEFORE: usize = SNIPPET_WORDS / 3;
    let stems: Vec<String> = words.iter().map(|w| stem(w).to_string()).collect();
    let parts = [title, body];
    let mut lower = String::new();
    let mut hit = |&(p, a, b): &(usize, usize, usize)| {
        lower.clear();
        lower.extend(parts[p][a..b].chars().flat_map(char::to_lowercase));
        let s = stem(&lower);
        stems.iter().any(|q| same_word(q, s))
    };
    let spans = || parts.iter().enumerate().flat_map(|(p, t)| WordSpans::new(t).map(move |(a, b)| (p, a, b)));
    let mut earlier: std::collections::VecDeque<(usize, usize, usize)> = std::collections::VecDeque::new();
    let mut skipped = false;
    let mut window: Vec<(usize, usize, usize)> = Vec::new();
    let mut rest = false;
    for sp in spans() {
        if window.is_empty() {
            if hit(&sp) {
                window.extend(earlier.drain(..));
                window.push(sp);
            } else {
                earlier.push_back(sp);
                if earlier.len() > BEFORE {
                    earlier.pop_front();
                    skipped = true;
                }
            }
        } else if window.len() < SNIPPET_WORDS {
            window.push(sp);
        } else {
            rest = true;
            break;
        }
    }
    if window.is_empty() {
        // No word matched as written here (the engine's stemmer is subtler): show the start.
        skipped = false;
        let mut all = spans();
        window = all.by_ref().take(SNIPPET_WORDS).collect();
        rest = all.next().is_some();
    }
    let mut raw = String::new();
    if skipped {
        raw.push('…');
    }
    let mut prev: Option<(usize, usize)> = None;
    for t in &window {
        let (p, a, b) = *t;
        match prev {
            Some((pp, end)) if pp == p => raw.push_str(&parts[p][end..a]),
            Some(_) => raw.push_str(" — "),
            None => {}
        }
        let word = &parts[p][a..b];
        if hit(t) {
            raw.push(MARK_START);
            raw.push_str(word);
            raw.push(MARK_END);
        } else {
            raw.push_str(word);
        }
        prev = Some((p, b));
    }
    if rest {
        raw.push('…');
    }
    snippet_html(&raw)
}

/// Byte ranges of the words (runs of letters and digits) of a text, in order.
struct WordSpans<'a> {
    chars: std::str::CharIndices<'a>,
    len: usize,
}

impl<'a> WordSpans<'a> {
    fn new(text: &'a str) -> Self {
        WordSpans { chars: text.char_indices(), len: text.len() }
    }
}

impl Iterator for WordSpans<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = loop {
            let (i, c) = self.chars.next()?;
            if c.is_alphanumeric() {
                break i;
            }
        };
        for (i, c) in self.chars.by_ref() {
            if !c.is_alphanumeric() {
                return Some((start, i));
            }
        }
        Some((start, self.len))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_mark_stemmed_matches_around_the_first_one() {
        let words = vec!["certificate".to_string(), "expired".to_string()];
        let body = "Long preamble about many unrelated things that go on and on before the payments gateway \
                    certificates <expire> tonight, and the certificate expired yesterday as well, more text follows here";
        let h = highlight(&words, "Gateway down", body);
        assert!(h.starts_with('…') && h.ends_with('…'), "{h}");
        assert!(h.contains("<mark>certificates</mark>"), "{h}");
        assert!(h.contains("&lt;<mark>expire</mark>&gt;"), "escaped, stem matched: {h}");
        assert!(!h.contains("preamble"), "{h}");
        assert_eq!(highlight(&words, "", "Printer jammed"), "Printer jammed");
    }

    #[test]
    fn snippets_are_escaped_and_marked() {
        assert_eq!(snippet_html("a \u{1}<disk>\u{2} & b"), "a <mark>&lt;disk&gt;</mark> &amp; b");
    }
}

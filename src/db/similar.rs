//! Similar incidents and problems for the incident page and the new-incident form: the
//! significant words of a text, an ANY-word query over the description documents, and scoring
//! in Rust (so both backends agree).

use super::queue::Visibility;
use super::raw::{Bind, Raw};
use super::schema::search_docs;
use super::search::{doc_key, fts5_any, pg_any, same_word, stem};
use super::{DbConnection, DbResult};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// How many words a similarity query is built from, at most.
pub const SIMILAR_WORDS: usize = 12;

/// How many of the newest matching incident descriptions similarity ranks, at most: an OR of a
/// dozen words matches a large share of a big database, and ranking every hit is what would make
/// the incident page slow. Recent recurrences are the useful ones anyway.
pub const SIMILAR_CANDIDATES: i64 = 200;

/// How many open problems (most recently updated first) similarity reads, at most.
pub const SIMILAR_PROBLEM_CANDIDATES: i64 = 1000;

/// Words that say nothing about what an incident is about: English function words (a superset
/// of PostgreSQL's `english` stop list, so both engines see the same query) and the filler of
/// support requests. Sorted, for `binary_search`.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "and", "any", "anyone", "are", "because", "been",
    "before", "being", "below", "between", "both", "but", "can", "cannot", "could", "did", "does", "doing", "don",
    "down", "during", "each", "few", "for", "from", "further", "get", "gets", "getting", "got", "had", "has", "have",
    "having", "hello", "help", "her", "here", "hers", "herself", "him", "himself", "his", "how", "into", "issue",
    "its", "itself", "just", "let", "like", "more", "most", "much", "myself", "nor", "not", "now", "off", "once",
    "only", "other", "our", "ours", "ourselves", "out", "over", "own", "please", "same", "see", "seems", "she",
    "should", "since", "some", "still", "such", "than", "thank", "thanks", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "today", "too", "under", "until",
    "very", "was", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "yesterday", "you", "your", "yours", "yourself", "yourselves",
];

fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.binary_search(&w).is_ok()
}

/// The significant words of one text, longest first (ties in order of appearance), each once.
fn significant(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        let len = w.chars().count();
        // Two-letter words are noise; very long tokens are hashes and pasted ids that no other
        // incident shares; bare numbers are times, dates and counts.
        if !(3..=40).contains(&len) || w.chars().all(char::is_numeric) {
            continue;
        }
        let w = w.to_lowercase();
        if !is_stop_word(&w) && !words.contains(&w) {
            words.push(w);
        }
    }
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words
}

/// The words a similarity query uses: letters and digits only (never FTS or tsquery syntax),
/// lowercased, no stop words, short words or bare numbers, each once, at most `SIMILAR_WORDS`.
/// The title's words come first because a title says what the incident is about; within each
/// text the longest words come first as the cheap stand-in for the most distinctive.
pub fn similar_words(title: &str, body: &str) -> Vec<String> {
    let mut out = significant(title);
    out.truncate(SIMILAR_WORDS);
    for w in significant(body) {
        if out.len() >= SIMILAR_WORDS {
            break;
        }
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

#[derive(QueryableByName)]
struct SimilarRow {
    #[diesel(sql_type = BigInt)]
    incident_id: i64,
    #[diesel(sql_type = BigInt)]
    service_id: i64,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    body: String,
}

/// Scores as whole percentages of `reference` (the best possible match), at least 1.
fn percent(score: f64, reference: f64) -> u8 {
    if reference <= 0.0 || !score.is_finite() {
        return 1;
    }
    (100.0 * score / reference).round().clamp(1.0, 100.0) as u8
}

/// Incidents whose description documents (title + description: never comments, never internal
/// notes) match ANY of `words`, among the newest `SIMILAR_CANDIDATES` such documents the viewer
/// may see. Same service first, then the others, each best first (`Scorer`: rarer words weigh
/// more, the title four times the description); at most `limit`, skipping the ids in `skip`. `of` is the
/// incident the words come from: it is never suggested, and its own document's score is the
/// 100 % mark (without it, the best candidate is). Returns (incident id, score 1–100).
pub fn similar_incidents(
    conn: &mut DbConnection,
    words: &[String],
    of: Option<i64>,
    service_id: Option<i64>,
    visibility: &Visibility,
    skip: &[i64],
    limit: usize,
) -> DbResult<Vec<(i64, u8)>> {
    if words.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let viewer = match visibility {
        Visibility::Everything => None,
        Visibility::Reporter { user_id, shared_org } => Some((*user_id, shared_org.unwrap_or(-1))),
    };
    // Only the newest window of matching documents is read (cheap on both engines, newest
    // first by document id); ranking happens here, because FTS5's bm25 reads every matching
    // document of each word to weigh it, which cost ~100 ms per page at a million incidents.
    let window = SIMILAR_CANDIDATES;
    let rows: Vec<SimilarRow> = match conn {
        DbConnection::Sqlite(c) => {
            let sql = format!(
                "SELECT d.incident_id AS incident_id, i.service_id AS service_id, d.title AS title, \
                   substr(d.body, 1, {BODY_CHARS}) AS body \
                 FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid JOIN incidents i ON i.id = d.incident_id \
                 WHERE search_fts MATCH ? AND (search_fts.rowid & 1048575) = 0 {} \
                 ORDER BY search_fts.rowid DESC LIMIT {window}",
                if viewer.is_some() { "AND (i.reporter_id = ? OR i.organization_id = ?)" } else { "" }
            );
            let q = Raw::sqlite(sql).bind(Bind::Text(fts5_any(words)));
            match viewer {
                Some((u, o)) => q.bind(Bind::BigInt(u)).bind(Bind::BigInt(o)).load(c)?,
                None => q.load(c)?,
            }
        }
        DbConnection::Pg(c) => {
            let sql = format!(
                "SELECT d.incident_id, i.service_id, d.title, substr(d.body, 1, {BODY_CHARS}) AS body \
                 FROM search_docs d JOIN incidents i ON i.id = d.incident_id \
                 WHERE d.tsv @@ to_tsquery('english', $1) AND d.comment_id IS NULL AND NOT d.internal {} \
                 ORDER BY d.id DESC LIMIT {window}",
                if viewer.is_some() { "AND (i.reporter_id = $2 OR i.organization_id = $3)" } else { "" }
            );
            let q = Raw::pg(sql).bind(Bind::Text(pg_any(words)));
            match viewer {
                Some((u, o)) => q.bind(Bind::BigInt(u)).bind(Bind::BigInt(o)).load(c)?,
                None => q.load(c)?,
            }
        }
    };
    let own_text = match of {
        Some(id) => own_text(conn, id)?,
        None => None,
    };
    let scorer = Scorer::new(words, rows.iter().map(|r| (r.title.as_str(), r.body.as_str())));
    let mut scored: Vec<(i64, i64, f64)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| Some(r.incident_id) != of && !skip.contains(&r.incident_id))
        .map(|(i, r)| (r.incident_id, r.service_id, scorer.score(i)))
        .filter(|(_, _, score)| *score > 0.0)
        .collect();
    let best = scored.iter().map(|r| r.2).fold(0.0_f64, f64::max);
    let reference = own_text.map(|(t, b)| scorer.score_text(&t, &b)).filter(|s| *s > 0.0).unwrap_or(best);
    scored.sort_by(|a, b| {
        let same = |r: &(i64, i64, f64)| Some(r.1) == service_id;
        same(b).cmp(&same(a)).then(b.2.total_cmp(&a.2)).then(b.0.cmp(&a.0))
    });
    let mut seen = std::collections::HashSet::new();
    Ok(scored
        .into_iter()
        .filter(|r| seen.insert(r.0))
        .take(limit)
        .map(|(id, _, score)| (id, percent(score, reference)))
        .collect())
}

/// How much of a description is read for scoring: its start carries the gist, and a thousand
/// candidates of this size tokenize in a few milliseconds.
const BODY_CHARS: usize = 600;

/// The incident's own title and description, the 100 % mark.
fn own_text(conn: &mut DbConnection, incident_id: i64) -> DbResult<Option<(String, String)>> {
    Ok(search_docs::table
        .find(doc_key(incident_id, 0, false))
        .select((search_docs::title, search_docs::body))
        .first::<(String, String)>(conn)
        .optional()?)
}

/// A bm25-like score computed over the candidate window: each query word counts by how rare it
/// is among the candidates (so a word every candidate has weighs little), four times in the
/// title, once in the description. Each document is tokenized once.
struct Scorer {
    stems: Vec<String>,
    weights: Vec<f64>,
    /// Per candidate, per query word: (in the title, in the description).
    hits: Vec<Vec<(bool, bool)>>,
}

impl Scorer {
    fn new<'a>(words: &[String], docs: impl Iterator<Item = (&'a str, &'a str)>) -> Scorer {
        let stems: Vec<String> = words.iter().map(|w| stem(w).to_string()).collect();
        let hits: Vec<Vec<(bool, bool)>> = docs.map(|(title, body)| word_hits(&stems, title, body)).collect();
        let n = hits.len() as f64;
        let weights = (0..stems.len())
            .map(|i| {
                let df = hits.iter().filter(|h| h[i].0 || h[i].1).count() as f64;
                (1.0 + (n + 1.0) / (df + 1.0)).ln()
            })
            .collect();
        Scorer { stems, weights, hits }
    }

    fn score_hits(&self, hits: &[(bool, bool)]) -> f64 {
        hits.iter()
            .zip(&self.weights)
            .map(|((t, b), w)| w * (if *t { 4.0 } else { 0.0 } + if *b { 1.0 } else { 0.0 }))
            .sum()
    }

    /// The score of the i-th candidate.
    fn score(&self, i: usize) -> f64 {
        self.hits.get(i).map(|h| self.score_hits(h)).unwrap_or(0.0)
    }

    /// The score of a text outside the candidates (the incident's own).
    fn score_text(&self, title: &str, body: &str) -> f64 {
        self.score_hits(&word_hits(&self.stems, title, body))
    }
}

/// For each query stem: whether the title, and the description, hold it.
/// The distinct stems of a lowercased text's words of three letters or more.
fn stems_of(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3).map(stem).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn word_hits(stems: &[String], title: &str, body: &str) -> Vec<(bool, bool)> {
    let (title, body) = (title.to_lowercase(), body.to_lowercase());
    let (t, b) = (stems_of(&title), stems_of(&body));
    stems.iter().map(|s| (t.iter().any(|h| same_word(s, h)), b.iter().any(|h| same_word(s, h)))).collect()
}

/// How well a problem's title and statement cover the words, 0–100: a word found in the title
/// counts twice, one found only in the statement once, out of twice the smaller of the two
/// word counts (a short problem fully covered scores 100).
fn overlap_score(words: &[String], title: &str, statement: &str) -> u8 {
    let title_words: Vec<String> = significant(title);
    let mut all_words = title_words.clone();
    all_words.extend(significant(statement).into_iter().filter(|w| !title_words.contains(w)));
    let title_stems: Vec<&str> = title_words.iter().map(|w| stem(w)).collect();
    let all_stems: Vec<&str> = all_words.iter().map(|w| stem(w)).collect();
    let mut points = 0usize;
    for w in words {
        let s = stem(w);
        if title_stems.iter().any(|t| same_word(s, t)) {
            points += 2;
        } else if all_stems.iter().any(|t| same_word(s, t)) {
            points += 1;
        }
    }
    let out_of = 2 * words.len().min(all_words.len());
    if points == 0 || out_of == 0 {
        return 0;
    }
    u8::try_from((100 * points / out_of).min(100)).unwrap_or(100)
}

/// Open problems (any status but closed) whose title and statement share words with `words`:
/// those listing `service_id` first, then the others, each best first; at most `limit`,
/// skipping the ids in `skip`. Scored in Rust by word overlap, so both backends agree; problems
/// are few, and at most `SIMILAR_PROBLEM_CANDIDATES` of them are read. Returns (problem id,
/// score 1–100).
pub fn similar_problems(
    conn: &mut DbConnection,
    words: &[String],
    service_id: Option<i64>,
    skip: &[i64],
    limit: usize,
) -> DbResult<Vec<(i64, u8)>> {
    use super::schema::{problem_services, problems};
    if words.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let open: Vec<(i64, String, String)> = problems::table
        .filter(problems::status.ne("closed"))
        .order((problems::updated_at.desc(), problems::id.desc()))
        .limit(SIMILAR_PROBLEM_CANDIDATES)
        .select((problems::id, problems::title, problems::statement))
        .load(conn)?;
    let of_service: Vec<i64> = match service_id {
        Some(s) => problem_services::table
            .filter(problem_services::service_id.eq(s))
            .select(problem_services::problem_id)
            .load(conn)?,
        None => Vec::new(),
    };
    let mut scored: Vec<(i64, bool, u8)> = open
        .into_iter()
        .filter(|(id, _, _)| !skip.contains(id))
        .map(|(id, title, statement)| (id, of_service.contains(&id), overlap_score(words, &title, &statement)))
        .filter(|(_, _, score)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(b.0.cmp(&a.0)));
    Ok(scored.into_iter().take(limit).map(|(id, _, score)| (id, score)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "STOP_WORDS must be sorted and unique");
    }

    #[test]
    fn similar_words_drop_stop_words_short_words_and_numbers() {
        let w = similar_words("The VPN is down at 09:30 again", "");
        assert_eq!(w, vec!["vpn"]);
        assert!(similar_words("it is at on", "a an of the and for with 2026").is_empty());
    }

    #[test]
    fn similar_words_put_the_title_first_then_the_longest_description_words() {
        let w = similar_words("Disk full", "Nightly database backups fail because the disk fills up quickly");
        assert_eq!(&w[..2], &["disk", "full"], "title words lead, whatever their length");
        assert_eq!(&w[2..5], &["database", "nightly", "backups"], "then the longest description words");
        assert_eq!(w.iter().filter(|x| *x == "disk").count(), 1, "each word once");
        assert!(!w.contains(&"because".to_string()) && !w.contains(&"the".to_string()));
    }

    #[test]
    fn similar_words_are_capped_and_lowercased() {
        let title = "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November";
        let w = similar_words(title, "zulu yankee xray");
        assert_eq!(w.len(), SIMILAR_WORDS);
        assert!(w.iter().all(|x| x.chars().all(|c| c.is_lowercase())));
        assert_eq!(w[0], "november", "longest first");
        assert!(!w.contains(&"zulu".to_string()), "a full title leaves no room");
        let long = "x".repeat(41);
        assert_eq!(similar_words(&format!("{long} outage"), ""), vec!["outage"], "hash-like tokens are dropped");
    }

    #[test]
    fn similar_queries_match_any_word_and_cannot_inject_syntax() {
        let w = similar_words("disk\" OR title:* NEAR(x) -- full | !pg & 'quote'", "");
        assert!(w.iter().all(|x| x.chars().all(char::is_alphanumeric)));
        assert_eq!(fts5_any(&["disk".into(), "full".into()]), "\"disk\" OR \"full\"");
        assert_eq!(pg_any(&["disk".into(), "full".into()]), "'disk' | 'full'");
    }

    #[test]
    fn problem_overlap_counts_title_twice_and_stems_loosely() {
        let w = similar_words("Card payments fail: gateway certificate expired", "");
        let s = overlap_score(&w, "Expired gateway certificate", "Payments fail when the gateway certificate expires.");
        assert!((50..=100).contains(&s), "{s}");
        assert_eq!(overlap_score(&w, "Printer jammed", "Paper stuck in tray two."), 0);
        assert!(overlap_score(&w, "Gateway", "") > overlap_score(&w, "Unrelated", "gateway"));
        assert_eq!(percent(5.0, 10.0), 50);
        assert_eq!(percent(20.0, 10.0), 100);
        assert_eq!(percent(0.0001, 10.0), 1);
    }
}

//! Full-text search over incidents and comments. SQLite uses FTS5 (kept in step by triggers),
//! PostgreSQL a generated tsvector with a GIN index. Everything backend-specific about search
//! lives in this file.

use super::models::Comment;
use super::queue::Visibility;
use super::raw::{Bind, Raw};
use super::schema::search_docs;
use super::{DbConnection, DbResult};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// Markers put around matched words by the engines; never present in stored text after
/// `clean_snippet` (control characters are dropped).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

/// How many matching documents relevance ranking looks at, at most.
pub const RANK_CANDIDATES: i64 = 1000;

/// How many of the newest matching incidents a text search considers. A common word matches
/// hundreds of thousands of documents, and nobody pages past the newest ten thousand (the
/// count shows "10,000+").
pub const SEARCH_WINDOW: i64 = 10_001;

/// Search documents are numbered by their incident: `incident_id << KEY_BITS | slot << 1 |
/// internal`, slot 0 being the incident's title and description and slots 1.. its comments.
/// The full-text index then hands back the newest incidents first, tells internal documents
/// apart and names each hit's incident from the rowid alone.
pub const KEY_BITS: u32 = 20;
const KEY_SPAN: i64 = 1 << KEY_BITS;

/// The id of an incident's document in `slot` (0: title and description).
pub fn doc_key(incident_id: i64, slot: i64, internal: bool) -> i64 {
    (incident_id << KEY_BITS) + 2 * slot + i64::from(internal)
}

/// The incident a document id belongs to.
pub fn incident_of(key: i64) -> i64 {
    key >> KEY_BITS
}

/// (Re)writes the incident's own document: title and description.
pub fn index_incident(conn: &mut DbConnection, incident_id: i64, title: &str, description: &str) -> DbResult<()> {
    let key = doc_key(incident_id, 0, false);
    let updated = diesel::update(search_docs::table.find(key))
        .set((search_docs::title.eq(title), search_docs::body.eq(description)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(search_docs::table)
            .values((
                search_docs::id.eq(key),
                search_docs::incident_id.eq(incident_id),
                search_docs::internal.eq(false),
                search_docs::title.eq(title),
                search_docs::body.eq(description),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// (Re)writes a comment's document, carrying its visibility in its id.
pub fn index_comment(conn: &mut DbConnection, c: &Comment) -> DbResult<()> {
    use super::schema::incidents;
    let existing: Option<i64> =
        search_docs::table.filter(search_docs::comment_id.eq(c.id)).select(search_docs::id).first(conn).optional()?;
    if let Some(key) = existing
        && (key & 1 == 1) == c.internal
    {
        diesel::update(search_docs::table.find(key)).set(search_docs::body.eq(&c.body)).execute(conn)?;
        return Ok(());
    }
    let key = match existing {
        Some(key) => {
            diesel::delete(search_docs::table.find(key)).execute(conn)?;
            (key & !1) + i64::from(c.internal)
        }
        None => {
            // Two comments on one incident at once must not take the same slot: the incident's
            // row lock orders them on PostgreSQL (SQLite writes one transaction at a time).
            diesel::update(incidents::table.find(c.incident_id))
                .set(incidents::updated_at.eq(incidents::updated_at))
                .execute(conn)?;
            let first = doc_key(c.incident_id, 0, false);
            let last: Option<i64> = search_docs::table
                .filter(search_docs::id.ge(first).and(search_docs::id.lt(first + KEY_SPAN)))
                .select(diesel::dsl::max(search_docs::id))
                .first(conn)?;
            let slot = last.map(|k| ((k - first) >> 1) + 1).unwrap_or(1);
            if slot >= KEY_SPAN / 2 {
                tracing::warn!(incident = c.incident_id, comment = c.id, "too many comments to index this one");
                return Ok(());
            }
            doc_key(c.incident_id, slot, c.internal)
        }
    };
    diesel::insert_into(search_docs::table)
        .values((
            search_docs::id.eq(key),
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
pub(super) fn fts5_query(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")
}

pub(super) fn pg_query(words: &[String]) -> String {
    words.join(" ")
}

/// Which documents a viewer's search may match: internal notes or not, and, for a customer,
/// only their own incidents or their organization's.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub include_internal: bool,
    /// (user id, shared organization id or -1) of a customer.
    viewer: Option<(i64, i64)>,
}

impl Scope {
    pub fn new(include_internal: bool, visibility: &Visibility) -> Scope {
        let viewer = match visibility {
            Visibility::Everything => None,
            Visibility::Reporter { user_id, shared_org } => Some((*user_id, shared_org.unwrap_or(-1))),
        };
        Scope { include_internal, viewer }
    }

    /// The join and conditions for SQLite, where the FTS5 table is `search_fts`.
    fn sqlite_sql(&self) -> (&'static str, String) {
        let join = if self.viewer.is_some() { "JOIN incidents vi ON vi.id = (search_fts.rowid >> 20)" } else { "" };
        let filters = format!(
            "{} {}",
            if self.include_internal { "" } else { "AND (search_fts.rowid & 1) = 0" },
            if self.viewer.is_some() { "AND (vi.reporter_id = ? OR vi.organization_id = ?)" } else { "" }
        );
        (join, filters)
    }

    /// The join and conditions for PostgreSQL, where the documents are `d`; the viewer's two
    /// ids are `$first` and `$first + 1`.
    fn pg_sql(&self, first: usize) -> (&'static str, String) {
        let join = if self.viewer.is_some() { "JOIN incidents vi ON vi.id = d.incident_id" } else { "" };
        let filters = format!(
            "{} {}",
            if self.include_internal { "" } else { "AND NOT d.internal" },
            if self.viewer.is_some() {
                format!("AND (vi.reporter_id = ${first} OR vi.organization_id = ${})", first + 1)
            } else {
                String::new()
            }
        );
        (join, filters)
    }
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = BigInt)]
    key: i64,
}

/// Runs a query written once per engine whose parameters are the words, then optionally a
/// document id bound, then the viewer's ids when the scope has a viewer.
macro_rules! scoped_query {
    ($conn:expr, $words:expr, $before:expr, $scope:expr, $sqlite:expr, $pg:expr) => {{
        let scope: &Scope = $scope;
        let before: Option<i64> = $before;
        let pg = matches!($conn, DbConnection::Pg(_));
        let mut q = if pg {
            Raw::pg($pg).bind(Bind::Text(pg_query($words)))
        } else {
            Raw::sqlite($sqlite).bind(Bind::Text(fts5_query($words)))
        };
        if let Some(b) = before {
            q = q.bind(Bind::BigInt(b));
        }
        if let Some((u, o)) = scope.viewer {
            q = q.bind(Bind::BigInt(u)).bind(Bind::BigInt(o));
        }
        match $conn {
            DbConnection::Sqlite(c) => q.load(c)?,
            DbConnection::Pg(c) => q.load(c)?,
        }
    }};
}

/// The ids of the newest `limit` matching documents the scope allows, below the document id
/// `before`, newest first.
pub fn match_keys(
    conn: &mut DbConnection,
    words: &[String],
    scope: &Scope,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<i64>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let (join, filters) = scope.sqlite_sql();
    let sqlite = format!(
        "SELECT search_fts.rowid AS key FROM search_fts {join} WHERE search_fts MATCH ? {} {filters} \
         ORDER BY search_fts.rowid DESC LIMIT {limit}",
        if before.is_some() { "AND search_fts.rowid < ?" } else { "" }
    );
    let pg = pg_match_sql(scope, before.is_some(), words.len() > 1, limit);
    let rows: Vec<KeyRow> = scoped_query!(conn, words, before, scope, sqlite, pg);
    Ok(rows.into_iter().map(|r| r.key).collect())
}

/// How many of the newest incidents' documents a search of several words reads in key order
/// before it asks the index for the rest (PostgreSQL).
const RECENT_INCIDENTS: i64 = 1024;

/// PostgreSQL's query for `match_keys`: `$1` the words, `$2` the document bound when `before`,
/// then the viewer's ids. One word: the planner chooses between the GIN index (a rare word:
/// gather its few documents, keep the newest) and the primary key newest first (a common word:
/// the first few hundred documents hold enough), and with the statistics of migration 000028
/// it knows which words are which. Several words: it multiplies their frequencies, so words
/// that go together ("replication lag") look rare and it would gather thousands of documents
/// from the index to keep the newest 50. So the newest `RECENT_INCIDENTS` incidents' documents
/// are read in key order first (the `||` keeps the index out of that bounded stretch); when
/// they hold at least a quarter of what is wanted the words go together often and the walk goes
/// on newest first, otherwise the index is asked for what lies below the stretch.
pub fn pg_match_sql(scope: &Scope, before: bool, several_words: bool, limit: i64) -> String {
    let (join, filters) = scope.pg_sql(if before { 3 } else { 2 });
    let query = "plainto_tsquery('english', $1)";
    if !several_words {
        return format!(
            "SELECT d.id AS key FROM search_docs d {join} WHERE d.tsv @@ {query} {} {filters} \
             ORDER BY d.id DESC LIMIT {limit}",
            if before { "AND d.id < $2" } else { "" }
        );
    }
    let top = if before { "$2" } else { "(SELECT COALESCE(max(id), 0) + 1 FROM search_docs)" };
    let floor = format!("({top} - {})", RECENT_INCIDENTS * KEY_SPAN);
    let walked = "(d.tsv || ''::tsvector)";
    let below = |gate: &str, matched: &str| {
        format!(
            "(SELECT d.id FROM search_docs d {join} \
               WHERE {gate} AND {matched} @@ {query} AND d.id < {floor} {filters} \
               ORDER BY d.id DESC LIMIT {limit})"
        )
    };
    format!(
        "WITH recent AS MATERIALIZED (\
           SELECT d.id FROM search_docs d {join} \
           WHERE d.id >= {floor} AND d.id < {top} AND {walked} @@ {query} {filters} \
           ORDER BY d.id DESC LIMIT {limit}), \
         found AS MATERIALIZED (SELECT count(*) AS n FROM recent) \
         SELECT id AS key FROM recent UNION ALL {} UNION ALL {} \
         ORDER BY key DESC LIMIT {limit}",
        below(&format!("(SELECT n FROM found) < {limit} AND (SELECT n FROM found) * 4 >= {limit}"), walked),
        below(&format!("(SELECT n FROM found) * 4 < {limit}"), "d.tsv"),
    )
}

/// Matching documents PostgreSQL's count reads at most (about four times the incidents of the
/// window, at two to three documents an incident).
const COUNT_DOCUMENTS: i64 = 4 * SEARCH_WINDOW;

#[derive(QueryableByName)]
struct DocCountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    docs: i64,
}

/// How many incidents have a matching document the scope allows, counting no further than
/// `SEARCH_WINDOW`; true when there may be more than counted. SQLite walks its index in key
/// order and stops at the window. PostgreSQL cannot stop a DISTINCT early (it gathered every
/// match of a common word first: 2 s at 1M), so it counts the incidents of the first
/// `COUNT_DOCUMENTS` matching documents and says "at least" when it read that many.
pub fn count_matching(conn: &mut DbConnection, words: &[String], scope: &Scope) -> DbResult<(i64, bool)> {
    if words.is_empty() {
        return Ok((0, false));
    }
    // A customer's few incidents are counted; staff's count of a word the statistics know to be
    // in `COMMON_DOCUMENTS` documents is "more than the window" without reading them.
    if scope.viewer.is_none() && estimated_documents(conn, words)? >= COMMON_DOCUMENTS {
        return Ok((SEARCH_WINDOW, true));
    }
    let (join, filters) = scope.sqlite_sql();
    let sqlite = format!(
        "SELECT count(*) AS n, 0 AS docs FROM (SELECT DISTINCT search_fts.rowid >> 20 FROM search_fts {join} \
         WHERE search_fts MATCH ? {filters} LIMIT {SEARCH_WINDOW})"
    );
    let (join, filters) = scope.pg_sql(2);
    let pg = format!(
        "SELECT count(DISTINCT m.incident_id) AS n, count(*) AS docs FROM (SELECT d.incident_id FROM search_docs d {join} \
         WHERE d.tsv @@ plainto_tsquery('english', $1) {filters} LIMIT {COUNT_DOCUMENTS}) m"
    );
    let rows: Vec<DocCountRow> = scoped_query!(conn, words, None, scope, sqlite, pg);
    Ok(rows.first().map(|r| (r.n.min(SEARCH_WINDOW), r.docs >= COUNT_DOCUMENTS)).unwrap_or((0, false)))
}

/// Documents a word must be estimated to be in before the count stops reading them: as many
/// as the count would read before it says "at least" anyway.
pub const COMMON_DOCUMENTS: i64 = COUNT_DOCUMENTS;

#[derive(QueryableByName)]
struct Estimate {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    n: Option<i64>,
}

/// The planner's estimate of the documents matching the words (PostgreSQL, from the column's
/// statistics; nothing is read). SQLite has no such estimate: 0, which means "count them".
pub fn estimated_documents(conn: &mut DbConnection, words: &[String]) -> DbResult<i64> {
    let DbConnection::Pg(c) = conn else { return Ok(0) };
    let rows: Vec<Estimate> =
        Raw::pg("SELECT search_docs_estimate($1) AS n".into()).bind(Bind::Text(pg_query(words))).load(c)?;
    Ok(rows.first().and_then(|r| r.n).unwrap_or(0))
}

/// Walks the matching documents newest first, chunk by chunk, handing each chunk's incidents
/// (newest first, each once, with the oldest of its matching documents in the chunk) to `take`
/// until it says stop, the matches run out, or `SEARCH_WINDOW` incidents were seen. The scope
/// sits inside the walk, so that a customer's own older incidents do not fall out behind newer
/// matches of other organizations. `first_chunk` is how many documents the first step reads.
pub fn walk_matches(
    conn: &mut DbConnection,
    words: &[String],
    scope: &Scope,
    before_incident: Option<i64>,
    first_chunk: i64,
    mut take: impl FnMut(&mut DbConnection, &[(i64, i64)]) -> DbResult<bool>,
) -> DbResult<()> {
    let mut before = before_incident.map(|id| doc_key(id, 0, false));
    let mut chunk = first_chunk.clamp(16, 16_384);
    let mut seen = 0i64;
    let mut last: Option<i64> = None;
    loop {
        let keys = match_keys(conn, words, scope, before, chunk)?;
        let exhausted = (keys.len() as i64) < chunk;
        before = keys.last().copied();
        let mut found: Vec<(i64, i64)> = Vec::new();
        for k in keys {
            let id = incident_of(k);
            match found.last_mut() {
                Some(f) if f.0 == id => f.1 = k,
                _ if last == Some(id) => {}
                _ => found.push((id, k)),
            }
            last = Some(id);
        }
        found.truncate((SEARCH_WINDOW - seen).max(0) as usize);
        seen += found.len() as i64;
        let more = !found.is_empty() && take(conn, &found)?;
        if !more || exhausted || seen >= SEARCH_WINDOW {
            return Ok(());
        }
        chunk = (chunk * 4).min(16_384);
    }
}

/// The newest `SEARCH_WINDOW` incidents with a matching document the scope allows, newest
/// first.
pub fn window_incident_ids(conn: &mut DbConnection, words: &[String], scope: &Scope) -> DbResult<Vec<i64>> {
    let mut out = Vec::new();
    walk_matches(conn, words, scope, None, 4096, |_, found| {
        out.extend(found.iter().map(|(id, _)| *id));
        Ok(true)
    })?;
    Ok(out)
}

#[derive(QueryableByName)]
struct RankRow {
    #[diesel(sql_type = BigInt)]
    incident_id: i64,
}

/// The best-ranked matching incidents the viewer may see, best first, looking at no more than
/// `RANK_CANDIDATES` matching documents (ranking every hit of a common word is what makes
/// relevance search slow).
pub fn ranked_incident_ids(conn: &mut DbConnection, words: &[String], scope: &Scope) -> DbResult<Vec<i64>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let (join, filters) = scope.sqlite_sql();
    let sqlite = format!(
        "SELECT incident_id FROM ( \
           SELECT search_fts.rowid >> 20 AS incident_id, bm25(search_fts, 4.0, 1.0) AS score \
           FROM search_fts {join} WHERE search_fts MATCH ? {filters} \
           ORDER BY search_fts.rowid DESC LIMIT {RANK_CANDIDATES} \
         ) GROUP BY incident_id ORDER BY min(score), incident_id DESC"
    );
    let (join, filters) = scope.pg_sql(2);
    let pg = format!(
        "SELECT incident_id FROM ( \
           SELECT d.incident_id, ts_rank(d.tsv, plainto_tsquery('english', $1)) AS score \
           FROM search_docs d {join} WHERE d.tsv @@ plainto_tsquery('english', $1) {filters} \
           ORDER BY d.id DESC LIMIT {RANK_CANDIDATES} \
         ) m GROUP BY incident_id ORDER BY max(score) DESC, incident_id DESC"
    );
    let rows: Vec<RankRow> = scoped_query!(conn, words, None, scope, sqlite, pg);
    Ok(rows.into_iter().map(|r| r.incident_id).collect())
}

// ---------- query builders and stems shared with `similar` and help search ----------

/// An FTS5 query matching ANY of the quoted words.
pub(super) fn fts5_any(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR ")
}

/// A tsquery matching ANY of the words; each is quoted, and holds no quote (letters and digits
/// only), so none can be read as an operator.
pub(super) fn pg_any(words: &[String]) -> String {
    words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" | ")
}

/// A crude English stem for word overlap: plurals and -ed/-ing endings dropped.
pub(super) fn stem(w: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.chars().count() >= 3
        {
            return s;
        }
    }
    w
}

/// Two stems name the same thing: equal, or the shorter (four letters or more) starts the
/// longer ("fail" / "failure", "certificat" / "certificate").
pub(super) fn same_word(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (long.starts_with(short) && short.chars().count() >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_keys_name_their_incident_and_internal_flag() {
        assert_eq!(doc_key(3, 2, true) >> KEY_BITS, 3);
        assert_eq!(incident_of(doc_key(7, 0, false)), 7);
        assert_eq!(doc_key(7, 1, true) & 1, 1);
    }

    #[test]
    fn words_cannot_inject_fts_syntax() {
        let w = words("disk\" OR title:* NEAR(x) -- full");
        assert_eq!(w, vec!["disk", "or", "title", "near", "x", "full"]);
        assert_eq!(fts5_query(&w[..2]), "\"disk\" \"or\"");
    }
}

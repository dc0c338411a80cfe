//! PostgreSQL search plans: a rare word goes through the GIN index, a common one walks the
//! newest documents, and no search reads every document. SQLite's FTS5 index has one plan and
//! is measured by the benchmark instead.

use crate::both;
use crate::support::PASSWORD;
use diesel::prelude::*;
use firewatch::db::queue::Visibility;
use firewatch::db::search::{Scope, match_keys, pg_match_sql};
use firewatch::db::{DbConnection, analyze};

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

fn plan(conn: &mut DbConnection, words: &str, several: bool, limit: i64) -> String {
    let DbConnection::Pg(c) = conn else { return String::new() };
    let scope = Scope::new(true, &Visibility::Everything);
    let sql = format!("EXPLAIN {}", pg_match_sql(&scope, false, several, limit));
    let lines: Vec<PlanLine> =
        diesel::sql_query(sql).bind::<diesel::sql_types::Text, _>(words).load(c).expect("explain");
    lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n")
}

/// The newest `limit` matching documents below `before`, the plain way.
fn newest(conn: &mut DbConnection, words: &str, before: i64, limit: i64) -> Vec<i64> {
    let DbConnection::Pg(c) = conn else { return Vec::new() };
    let rows: Vec<Key> = diesel::sql_query(
        "SELECT id FROM search_docs WHERE tsv @@ plainto_tsquery('english', $1) AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind::<diesel::sql_types::Text, _>(words)
    .bind::<diesel::sql_types::BigInt, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(c)
    .expect("newest");
    rows.into_iter().map(|k| k.id).collect()
}

both!(postgres_search_plans_use_the_index_for_rare_words_and_never_read_every_document, |app| {
    if app.state.db.backend != firewatch::db::Backend::Postgres {
        return;
    }
    let state = app.state.clone();
    let opts = firewatch::demo::DemoOptions { incidents: 4000, seed: 11, password: Some(PASSWORD.into()) };
    let state2 = state.clone();
    tokio::task::spawn_blocking(move || firewatch::demo::load(&state2, &opts).expect("demo data")).await.expect("join");
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let conn = &mut *conn;
        analyze(conn).expect("analyze");
        // A word no document has, a rare one, a common one, and common words that go together.
        let cases = [
            ("zyxwvut", false, "search_docs_tsv"),
            ("e4242", false, "search_docs_tsv"),
            ("error", false, "Index Scan Backward using search_docs_pkey"),
            ("replication lag", true, "Index Scan Backward using search_docs_pkey"),
        ];
        for (words, several, uses) in cases {
            let p = plan(conn, words, several, 5);
            assert!(!p.contains("Seq Scan on search_docs"), "{words}: reads every document:\n{p}");
            assert!(p.contains(uses), "{words}: expected {uses}:\n{p}");
        }
        // The count above the results asks the statistics first: they know a common word's
        // documents within a factor of two and a missing word as next to none.
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let real = |conn: &mut DbConnection, w: &str| -> i64 {
            let DbConnection::Pg(c) = conn else { return 0 };
            let r: N =
                diesel::sql_query("SELECT count(*) AS n FROM search_docs WHERE tsv @@ plainto_tsquery('english', $1)")
                    .bind::<diesel::sql_types::Text, _>(w)
                    .get_result(c)
                    .expect("count");
            r.n
        };
        let (common, missing) = (real(conn, "error"), real(conn, "zyxwvut"));
        let estimated =
            firewatch::db::search::estimated_documents(conn, &firewatch::db::search::words("error")).expect("estimate");
        assert!(common > 500 && estimated * 2 >= common && estimated <= common * 2, "{estimated} for {common}");
        let none = firewatch::db::search::estimated_documents(conn, &firewatch::db::search::words("zyxwvut"))
            .expect("estimate");
        assert!(missing == 0 && none < 50, "{none} for a missing word");

        // Whichever way the words are found, the keys are the newest matching documents.
        let scope = Scope::new(true, &Visibility::Everything);
        for words in ["replication lag", "pool exhausted", "e4242 error", "certificate expired", "zyxwvut error"] {
            let ws = firewatch::db::search::words(words);
            for limit in [5, 51, 400, 5000] {
                for before in [None, Some(3000i64 << 20), Some(900i64 << 20)] {
                    let got = match_keys(conn, &ws, &scope, before, limit).expect("match keys");
                    let want = newest(conn, words, before.unwrap_or(i64::MAX), limit);
                    assert_eq!(got, want, "{words}, {limit} below {before:?}");
                }
            }
        }
    })
    .await
    .expect("plans");
});

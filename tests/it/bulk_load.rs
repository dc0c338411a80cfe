//! The demo loader's bulk path: on PostgreSQL it drops the loaded tables' indexes and foreign
//! keys, COPYs the rows with ids taken from the sequences, and builds the indexes and checks
//! the keys again in the same transaction. The schema must come out exactly as it went in
//! (also when a load fails half-way), ids must carry on after the loaded ones, and the report
//! facts of every loaded incident must be current.

use crate::both;
use crate::support::PASSWORD;
use diesel::prelude::*;
use firewatch::db::{DbConnection, bulk};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Every index, constraint and trigger of the database, one per line (SQLite: every schema
/// object, less the statistics tables ANALYZE adds).
fn schema(conn: &mut DbConnection) -> Vec<String> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_stat%' ORDER BY 1"
        }
        DbConnection::Pg(_) => {
            "SELECT 'index ' || indexname || ': ' || indexdef AS line FROM pg_indexes WHERE schemaname = current_schema() \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ': ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
             UNION ALL SELECT 'trigger ' || tgname || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal \
             ORDER BY 1"
        }
    };
    let lines: Vec<Line> = diesel::sql_query(sql).load(conn).expect("schema");
    lines.into_iter().map(|l| l.line).collect()
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).expect(sql).n
}

both!(a_bulk_load_leaves_the_schema_as_it_was_and_every_fact_current, |app| {
    let state = app.state.clone();
    let before = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let before = schema(&mut conn);
        // A load that fails after its first rows: nothing of it stays, the schema included.
        let failed: Result<(), diesel::result::Error> = bulk::load(&mut conn, |c| {
            bulk::tags(c, &[]).map_err(|_| diesel::result::Error::RollbackTransaction)?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(failed.is_err());
        assert!(schema(&mut conn) == before, "a failed load leaves the schema as it was");
        before
    })
    .await
    .expect("join");
    assert!(!before.is_empty());

    let state = app.state.clone();
    let opts = firewatch::demo::DemoOptions { incidents: 2500, seed: 3, password: Some(PASSWORD.into()) };
    let r = tokio::task::spawn_blocking(move || firewatch::demo::load(&state, &opts).expect("demo data"))
        .await
        .expect("join");
    assert_eq!(r.incidents, 2500);

    let state = app.state.clone();
    let (after, incidents, top, facts, forgotten, orphans) = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let c = &mut *conn;
        (
            schema(c),
            count(c, "SELECT COUNT(*) AS n FROM incidents"),
            count(c, "SELECT MAX(id) AS n FROM incidents"),
            count(c, "SELECT COUNT(*) AS n FROM incident_facts"),
            count(
                c,
                "SELECT COUNT(*) AS n FROM incidents i WHERE NOT EXISTS \
                 (SELECT 1 FROM incident_facts f WHERE f.incident_id = i.id) \
                 AND NOT EXISTS (SELECT 1 FROM report_dirty d WHERE d.incident_id = i.id)",
            ),
            count(
                c,
                "SELECT COUNT(*) AS n FROM incident_events e LEFT JOIN comments k ON k.id = e.comment_id \
                 WHERE e.comment_id IS NOT NULL AND (k.id IS NULL OR k.incident_id <> e.incident_id)",
            ),
        )
    })
    .await
    .expect("join");
    let gone: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
    let added: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    assert!(gone.is_empty() && added.is_empty(), "indexes, keys and triggers are back: gone {gone:?}, added {added:?}");
    assert!(incidents >= 2500 && top == incidents, "ids are dense: {incidents} incidents, highest {top}");
    // The demo's mail, filed after the load, waits for the report job like any new incident.
    assert!(facts >= 2500, "the loaded incidents have facts: {facts}");
    assert_eq!(forgotten, 0, "no incident is without facts and not queued for them");
    assert_eq!(orphans, 0, "each comment event names a comment of its own incident");

    // The loader computes the facts from what it writes; the facts job, reading the stored
    // rows back, must come to the same facts and the same packs.
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        use firewatch::db::schema::{fact_packs, incident_facts};
        let mut conn = state.db.get().expect("conn");
        let c = &mut *conn;
        let facts = |c: &mut DbConnection| -> Vec<firewatch::db::reports::FactRow> {
            incident_facts::table
                .order(incident_facts::incident_id)
                .select(firewatch::db::reports::FactRow::as_select())
                .load(c)
                .expect("facts")
        };
        let packs = |c: &mut DbConnection| -> Vec<(i32, i64, Vec<u8>)> {
            fact_packs::table.order((fact_packs::kind, fact_packs::day)).load(c).expect("packs")
        };
        let now = state.clock.now_naive();
        // The demo's mail, filed after the load, waits for the job: done first, as it would be.
        while firewatch::service::reports::facts::refresh(c, None, now).expect("refresh") > 0 {}
        while firewatch::service::reports::facts::pack(c, 500).expect("pack") > 0 {}
        let (loaded, loaded_packs) = (facts(c), packs(c));
        diesel::sql_query("INSERT INTO report_dirty (incident_id) SELECT id FROM incidents WHERE id NOT IN (SELECT incident_id FROM report_dirty)")
            .execute(c)
            .expect("mark");
        while firewatch::service::reports::facts::refresh(c, None, now).expect("refresh") > 0 {}
        while firewatch::service::reports::facts::pack(c, 500).expect("pack") > 0 {}
        let (recomputed, recomputed_packs) = (facts(c), packs(c));
        assert_eq!(loaded.len(), recomputed.len());
        for (a, b) in loaded.iter().zip(&recomputed) {
            assert_eq!(a, b, "the loader's facts of incident {} are the job's", a.incident_id);
        }
        assert!(loaded_packs == recomputed_packs, "the packs of the loaded facts are the job's");
    })
    .await
    .expect("join");

    // The app goes on from there: a loaded incident's page shows its replies, and a new
    // incident takes the next id.
    let admin = app.browser();
    assert_eq!(admin.login("admin1@firewatch.example", PASSWORD).await.status, 303);
    let page = admin.get(&format!("/incidents/INC-{top}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let service = crate::incidents::service(&admin, "After the load").await;
    let next = crate::incidents::report(
        &admin,
        &[
            ("title", "After the load"),
            ("description", "Filed once the demo data is in."),
            ("service_id", &service),
            ("impact", "low"),
            ("urgency", "low"),
        ],
    )
    .await;
    assert_eq!(next, format!("INC-{}", top + 1));
});

both!(postgres_works_through_a_large_backlog_of_facts_by_key, |app| {
    if app.state.db.backend != firewatch::db::Backend::Postgres {
        return;
    }
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let c = &mut *conn;
        // The queue table as statistics usually find it (nearly empty), then a backlog of
        // 100,000 (an SLA policy changed: every incident's facts are out of date).
        for sql in [
            "DELETE FROM report_dirty",
            "INSERT INTO report_dirty (incident_id) VALUES (1), (2)",
            "ANALYZE report_dirty",
            "INSERT INTO report_dirty (incident_id) SELECT g FROM generate_series(3, 100000) g",
        ] {
            diesel::sql_query(sql).execute(c).expect(sql);
        }
        firewatch::db::reports::note_backlog(c).expect("note");
        let ids: Vec<i64> = (1..=2000).collect();
        let DbConnection::Pg(pg) = c else { return };
        let plan: Vec<PlanLine> = diesel::sql_query(
            "EXPLAIN DELETE FROM report_dirty WHERE incident_id IN \
             (SELECT (jsonb_array_elements_text(CAST($1 AS jsonb)))::bigint)",
        )
        .bind::<diesel::sql_types::Text, _>(serde_json::to_string(&ids).expect("json"))
        .load(pg)
        .expect("explain");
        let plan = plan.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n");
        assert!(plan.contains("report_dirty_pkey"), "a batch is deleted by key, not compared with every row:\n{plan}");
    })
    .await
    .expect("join");
});

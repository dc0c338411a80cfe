//! Many writers at once: on SQLite they queue behind the busy timeout instead of failing.

use crate::both;
use crate::incidents::{incident, post_values, quick, reply, service, triage_values};
use crate::support::*;

both!(concurrent_writers_all_succeed, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let mut writers = Vec::new();
    for i in 0..8 {
        writers.push(login_writer(&app, i).await);
    }
    let key = quick(&writers[0], &svc, "Checkout slow").await;
    let mut tasks = Vec::new();
    for (i, b) in writers.iter().enumerate() {
        let (b, key, svc) = (b.clone(), key.clone(), svc.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..5 {
                // A reply on the shared incident and a new incident of one's own, interleaved.
                statuses.push(reply(&b, &key, &format!("writer {i} update {n}")).await.status);
                let r = b
                    .post_raw(
                        "/incidents",
                        &[
                            ("csrf_token", &b.get("/incidents/new").await.csrf()),
                            ("title", &format!("Writer {i} incident {n}")),
                            ("description", ""),
                            ("service_id", &svc),
                            ("impact", "medium"),
                            ("urgency", "medium"),
                        ],
                    )
                    .await;
                statuses.push(r.status);
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("writer task"));
    }
    assert_eq!(all.len(), 80);
    assert!(all.iter().all(|s| *s == 303), "every write succeeded: {all:?}");
    let page = incident(&writers[0], &key).await;
    for i in 0..8 {
        assert!(page.contains(&format!("writer {i} update 4")), "writer {i}'s last reply is on the page");
    }
});

both!(edit_races_give_one_conflict_each, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let first = app.signed_in("support").await;
    let second = app.signed_in("devops").await;
    let key = quick(&first, &svc, "Checkout slow").await;
    let path = format!("/incidents/{key}/fields");
    for round in 0..50 {
        let (a, b) = (incident(&first, &key).await, incident(&second, &key).await);
        let mine = triage_values(&a, &[("title", &format!("Round {round} by support"))]);
        let theirs = triage_values(&b, &[("title", &format!("Round {round} by devops"))]);
        let (x, y) = tokio::join!(post_values(&first, &path, &mine), post_values(&second, &path, &theirs));
        let mut got = [x.status, y.status];
        got.sort();
        assert_eq!(got, [303, 409], "round {round}: one save wins, the other gets the conflict page");
    }
});

async fn login_writer(app: &TestApp, i: usize) -> Browser {
    let email = format!("writer{i}@example.test");
    app.user("support", &email).await;
    let b = app.browser();
    assert_eq!(b.login(&email, PASSWORD).await.status, 303);
    b
}

both!(parallel_incoming_mail_is_all_filed, |app| {
    let app = crate::inbound::with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Payments API").await;
    let acme = crate::incidents::organization(&admin, "Acme", false).await;
    let _ = crate::incidents::customer_in(&app, &admin, "Cora", "cora@acme.example", &acme).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let raw = crate::inbound::mail(
            "cora@acme.example",
            &format!("Outage {i}"),
            &format!("par-{i}@x.example"),
            "",
            "Down.",
        );
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(format!("{base}/mail/inbound"))
                .header("authorization", format!("Bearer {}", crate::inbound::TOKEN))
                .body(raw)
                .send()
                .await
                .expect("post");
            resp.status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200, "every message is filed, none answers 500");
    }
});

/// The journal mode is switched once, before the pool opens its connections side by side: a
/// fresh database never fails its first start with "database is locked".
#[test]
fn a_fresh_sqlite_database_starts_cleanly_every_time() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("fw.db").to_string_lossy().into_owned();
        let db = firewatch::db::Database::connect(&url, 8).expect("connect");
        db.migrate().expect("migrate");
        use diesel::prelude::*;
        #[derive(diesel::QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Text)]
            journal_mode: String,
        }
        let mut conn = db.get().expect("conn");
        let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(&mut *conn).expect("pragma");
        assert_eq!(mode.journal_mode, "wal");
    }
}

// The server drops every connection of the pool (a restart, an administrator's
// `pg_terminate_backend`): the next request may fail, the ones after it are served on fresh
// connections. Connections are not pinged before each use, so without the pool noticing the
// loss every dead connection would fail a request in turn.
both!(pool_recovers_after_the_server_drops_its_connections, |app| {
    let staff = app.signed_in("support").await;
    // Every pooled connection has been used recently.
    let warm: Vec<_> = (0..12).map(|_| staff.get("/incidents")).collect();
    for page in futures_util::future::join_all(warm).await {
        assert_eq!(page.status, 200);
    }
    if app.db == Db::Postgres {
        use diesel::prelude::*;
        let url = app.state.config.effective_database_url();
        let mut killer = diesel::PgConnection::establish(&url).expect("connect");
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut killer)
        .expect("terminate");
    }
    let mut failed = 0;
    for _ in 0..15 {
        let page = staff.get("/incidents").await;
        if page.status != 200 || !page.contains("Incidents") {
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} of 15 requests failed after the connections were dropped");
    let last = staff.get("/incidents").await;
    assert_eq!(last.status, 200);
});

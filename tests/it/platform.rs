use crate::both;
use crate::support::*;

#[test]
fn migration_trees_hold_the_same_migrations() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
    let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for name in &sqlite {
        for tree in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let p = format!("{}/migrations/{tree}/{name}/{file}", env!("CARGO_MANIFEST_DIR"));
                assert!(std::path::Path::new(&p).exists(), "{p}");
            }
        }
    }
}

/// Every `.rs` file under `src/{dir}`, with its text.
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(format!("{}/src/{dir}", env!("CARGO_MANIFEST_DIR")))];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("source dir").filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).expect("source")));
            }
        }
    }
    out
}

#[test]
fn mail_sits_below_the_services() {
    // Services tell mail what to send; mail composes and queues with the shared state
    // (`crate::state`) and never calls back up.
    let offenders: Vec<String> =
        sources("mail").into_iter().filter(|(_, text)| text.contains("crate::service")).map(|(p, _)| p).collect();
    assert!(offenders.is_empty(), "mail/ reaches into service/: {offenders:?}");
}

#[test]
fn web_handlers_go_through_the_services() {
    // Pages call services (permission, validation, the read or write); only service/ and below
    // know the database.
    let offenders: Vec<String> =
        sources("web").into_iter().filter(|(_, text)| text.contains("crate::db")).map(|(p, _)| p).collect();
    assert!(offenders.is_empty(), "web/ reaches into db/: {offenders:?}");
}

both!(health_and_readiness_answer_json, |app| {
    let b = app.browser();
    let h = b.get("/healthz").await;
    assert_eq!(h.status, 200);
    assert!(h.header("content-type").starts_with("application/json"));
    assert!(h.contains("\"ok\""));
    let r = b.get("/readyz").await;
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["status"], "ready");
    assert_eq!(v["migrations"], "current");
    let expected = match app.db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    };
    assert_eq!(v["database"], expected);
});

both!(readiness_reports_pending_migrations, |app| {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let mut conn = state.db.get().expect("conn");
        diesel::sql_query("DELETE FROM __diesel_schema_migrations").execute(&mut *conn).expect("forget");
    })
    .await
    .expect("join");
    let r = app.browser().get("/readyz").await;
    assert_eq!(r.status, 503);
    assert!(r.contains("pending"));
});

both!(the_secret_key_persists_so_restarts_keep_forms_valid, |app| {
    let key = std::fs::read_to_string(app.dir.path().join("secret.key")).expect("secret.key written");
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.dir.path().join("secret.key")).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = firewatch::app::load_or_create_secret(&app.state.config).expect("load");
    assert_eq!(again, key.trim().as_bytes());
});

both!(wrong_method_gets_405_page_and_bad_form_encoding_a_400_page, |app| {
    let b = app.browser();
    let p = b.post_raw("/healthz", &[]).await;
    assert!(p.status == 405 || p.status == 403, "{}", p.status);
    let admin = app.signed_in("admin").await;
    let token = admin.get("/account").await.csrf();
    let r = admin
        .client
        .post(admin.url("/account/profile"))
        .header("origin", &admin.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&display_name=%ZZ&time_zone=UTC"))
        .send()
        .await
        .expect("post");
    assert!(r.status().as_u16() < 500);
});

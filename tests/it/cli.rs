//! The binary itself: `firewatch --help`, `migrate`, `user create`, `check-config`.

use crate::both;
use crate::support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn firewatch(dir: &std::path::Path, db_url: &str, args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_firewatch"))
        .args(args)
        .env("FIREWATCH_DATA_DIR", dir)
        .env("FIREWATCH_DATABASE_URL", db_url)
        .env_remove("FIREWATCH_BASE_URL")
        .env_remove("FIREWATCH_BIND")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn firewatch");
    if let Some(mut s) = child.stdin.take() {
        let _ = s.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn db_url(app: &TestApp) -> String {
    app.state.config.effective_database_url()
}

#[test]
fn help_lists_every_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, out) = firewatch(dir.path(), "", &["--help"], "");
    assert_eq!(code, 0);
    for cmd in ["serve", "migrate", "user", "check-config"] {
        assert!(out.contains(cmd), "{cmd} in {out}");
    }
    let (code, out) = firewatch(dir.path(), "", &["user", "create", "--help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("--email") && out.contains("--role"));
}

both!(cli_migrate_and_create_user, |app| {
    let url = db_url(&app);
    let (code, out) = firewatch(app.dir.path(), &url, &["migrate"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 migration(s) applied"), "already current: {out}");

    let (code, out) = firewatch(
        app.dir.path(),
        &url,
        &["user", "create", "--email", "Ops@Example.com", "--name", "Ops Person", "--role", "devops"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ops@example.com"));
    assert_eq!(app.browser().login("ops@example.com", PASSWORD).await.status, 303);

    let (code, out) = firewatch(
        app.dir.path(),
        &url,
        &["user", "create", "--email", "weak@example.com", "--name", "Weak", "--role", "support"],
        "password1234\n",
    );
    assert_eq!(code, 1);
    assert!(out.contains("too common"), "{out}");
    let (code, out) = firewatch(
        app.dir.path(),
        &url,
        &["user", "create", "--email", "x@example.com", "--name", "X", "--role", "root"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 1);
    assert!(out.contains("role"), "{out}");
    let (code, _) = firewatch(
        app.dir.path(),
        &url,
        &["user", "create", "--email", "e@example.com", "--name", "E", "--role", "support"],
        "\n",
    );
    assert_eq!(code, 1, "an empty password is refused");
    let (code, out) = firewatch(app.dir.path(), &url, &["jobs", "run-once"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SLA warnings 0, breaches 0, escalations 0, auto-closed 0; mail sent 0"), "{out}");
});

both!(check_config_prints_a_checklist_and_fails_on_errors, |app| {
    let url = db_url(&app);
    let (code, out) = firewatch(app.dir.path(), &url, &["check-config"], "");
    assert_eq!(code, 0, "{out}");
    for item in ["base URL", "secret key", "SMTP", "database", "migrations", "backup location"] {
        assert!(out.contains(item), "{item} in {out}");
    }
    assert!(out.contains("WARN"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_firewatch"));
    let out = cmd
        .args(["check-config"])
        .env("FIREWATCH_DATA_DIR", app.dir.path())
        .env("FIREWATCH_DATABASE_URL", &url)
        .env("FIREWATCH_BASE_URL", "http://help.example.com")
        .env("FIREWATCH_BACKUP_DIR", "/nonexistent/backups")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ERROR"), "{text}");
});

#[test]
fn a_bad_database_url_reports_the_real_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, out) = firewatch(dir.path(), "postgres://nobody@127.0.0.1:1/none", &["migrate"], "");
    assert_eq!(code, 1);
    assert!(out.contains("PostgreSQL"), "{out}");
    assert!(!out.contains("Invalid connection url for multiconnection"), "{out}");
}

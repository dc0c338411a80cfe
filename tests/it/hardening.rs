//! Issue 12, web hardening: one section per item.

use crate::both;
use crate::incidents::{act, incident, login_as, quick, report, row_keys, service};
use crate::support::*;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration as StdDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------- 1. severity and priority are staff's ----------

/// Reports an incident with this impact and urgency.
async fn report_at(b: &Browser, svc: &str, level: &str, title: &str) -> String {
    report(b, &[("title", title), ("description", ""), ("service_id", svc), ("impact", level), ("urgency", level)])
        .await
}

both!(customers_neither_see_nor_filter_nor_sort_by_severity_or_priority, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let cust = login_as(&app, "customer", "cleo@example.com").await;
    let urgent = report_at(&cust, &svc, "high", "Invoices are all wrong").await;
    app.advance(chrono::Duration::minutes(5));
    let minor = report_at(&cust, &svc, "low", "A typo on the invoice").await;

    let staff = app.signed_in("support").await;
    let staff_queue = staff.get("/incidents?severity=SEV4").await;
    assert_eq!(row_keys(&staff_queue.body), vec![minor.clone()], "staff filter by severity");
    assert!(staff_queue.contains("<legend>Severity</legend>") && staff_queue.contains("<legend>Priority</legend>"));
    assert!(staff_queue.contains("<th scope=\"col\">Severity</th>") && staff_queue.contains("value=\"priority\""));
    let by_priority = staff.get("/incidents?sort=priority").await;
    assert_eq!(row_keys(&by_priority.body), vec![urgent.clone(), minor.clone()], "staff sort by priority");
    let dash = staff.get("/").await;
    assert!(dash.contains("<th scope=\"col\">Severity</th>") && dash.contains("/incidents?severity="));

    for path in ["/incidents", "/incidents?severity=SEV4", "/incidents?priority=P1", "/incidents?sort=priority"] {
        let q = cust.get(path).await;
        assert_eq!(q.status, 200, "{path}");
        assert_eq!(row_keys(&q.body), vec![minor.clone(), urgent.clone()], "{path}: ignored, newest first");
        for hidden in
            ["Severity", "Priority", "SEV1", "SEV4", ">P1<", ">P4<", "sev-", "name=\"severity\"", "\"priority\""]
        {
            assert!(!q.contains(hidden), "{path} shows {hidden}");
        }
    }
    let home = cust.get("/").await;
    assert_eq!(row_keys(&home.body), vec![minor.clone(), urgent.clone()]);
    for hidden in ["Severity", "Priority", "SEV1", "SEV4", ">P1<", "sev-"] {
        assert!(!home.contains(hidden), "the dashboard shows {hidden}");
    }
});

// ---------- 2. one-time tokens stay out of the log ----------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Only the lines this test looks at: the whole binary logs through here.
        let line = String::from_utf8_lossy(buf);
        if line.contains("password-reset") || line.contains("status/confirm") {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of every server in this test binary, from the first call on.
fn captured_log() -> Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
    .clone()
}

both!(one_time_tokens_in_paths_are_not_written_to_the_log, |app| {
    let log = captured_log();
    let b = app.browser();
    let reset = firewatch::crypto::random_token(32);
    let confirm = firewatch::crypto::random_token(32);
    assert_eq!(b.get(&format!("/password-reset/{reset}")).await.status, 404);
    assert_eq!(b.get(&format!("/status/confirm/{confirm}")).await.status, 404);
    // Refused by the CSRF check, which logs the path too.
    assert_eq!(b.post_raw(&format!("/password-reset/{reset}"), &[("password", "x")]).await.status, 403);
    let text = String::from_utf8_lossy(&log.0.lock().unwrap_or_else(|e| e.into_inner())).to_string();
    assert!(text.contains("path=/password-reset/[redacted]"), "the request is logged: {text}");
    assert!(text.contains("path=/status/confirm/[redacted]"), "{text}");
    assert!(!text.contains(&reset) && !text.contains(&confirm), "a token reached the log: {text}");
});

// ---------- 3. the gate answers before the body is read ----------

/// Sends the head of a 64 MiB upload and only its first bytes, then waits for the answer's
/// status line. `None`: no answer within the time (the server is waiting for the body).
async fn upload_head_only(app: &TestApp, cookie: Option<&str>) -> Option<String> {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let mut head = format!(
        "POST /help/manage/articles/1/images HTTP/1.1\r\nHost: {addr}\r\nOrigin: {}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n",
        app.base,
        64 * 1024 * 1024
    );
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    head.push_str("\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&vec![0u8; 256 * 1024]).await.expect("write some of the body");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(StdDuration::from_secs(3), async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()?;
    Some(String::from_utf8_lossy(&answer).to_string())
}

both!(a_refused_upload_is_answered_without_reading_its_body, |app| {
    let anon = upload_head_only(&app, None).await.expect("an anonymous upload is answered at once");
    assert!(anon.starts_with("HTTP/1.1 303"), "{anon}");
    assert!(anon.to_lowercase().contains("location: /login?next="), "{anon}");

    app.user("customer", "cy@example.com").await;
    let login = app.browser().login("cy@example.com", PASSWORD).await;
    let session = login
        .header("set-cookie")
        .lines()
        .find(|l| l.starts_with("fw_session="))
        .and_then(|l| l.split(';').next())
        .unwrap_or_default()
        .to_string();
    assert!(!session.is_empty(), "{:?}", login.headers);
    let customer = upload_head_only(&app, Some(&session)).await.expect("a customer's upload is answered at once");
    assert!(customer.starts_with("HTTP/1.1 403"), "{customer}");
});

// ---------- 4. a duplicate's original, only for those who may see it ----------

both!(a_customer_reads_a_duplicates_original_only_if_they_may_see_it, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Printing").await;
    let cleo = login_as(&app, "customer", "cleo@example.com").await;
    let dan = login_as(&app, "customer", "dan@example.com").await;
    let staff = app.signed_in("support").await;
    let mine = quick(&cleo, &svc, "The printer is on fire").await;
    let theirs = quick(&dan, &svc, "Printers are on fire").await;
    let again = quick(&cleo, &svc, "Still on fire").await;

    assert_eq!(act(&staff, &mine, "/links", &[("kind", "duplicate_of"), ("other", &theirs)]).await.status, 303);
    assert_eq!(act(&staff, &again, "/links", &[("kind", "duplicate_of"), ("other", &mine)]).await.status, 303);
    assert!(incident(&staff, &mine).await.contains(&format!("Duplicate of {theirs}.")), "staff see the key");

    let page = incident(&cleo, &mine).await;
    assert!(page.contains("Closed as a duplicate."), "{}", page.body);
    assert!(!page.contains(&format!("{theirs}.")) && !page.contains(&format!("/incidents/{theirs}\"")));
    let own = incident(&cleo, &again).await;
    assert!(own.contains(&format!("Duplicate of {mine}.")), "her own original is named");

    // The closed mail to the reporter reads the same.
    let state = app.state.clone();
    let mails = tokio::task::spawn_blocking(move || {
        let mut conn = state.conn().expect("conn");
        firewatch::db::outbox::list(&mut conn, None, None, 100).expect("outbox")
    })
    .await
    .expect("join");
    let closed: Vec<_> = mails.iter().filter(|m| m.kind == "closed" && m.to_address == "cleo@example.com").collect();
    assert_eq!(closed.len(), 2, "{:?}", mails.iter().map(|m| (&m.kind, &m.to_address)).collect::<Vec<_>>());
    for m in closed {
        assert!(!m.body_text.contains(&theirs) && !m.body_html.contains(&theirs), "{}", m.body_text);
    }
});

// ---------- 5. the inbound token ----------

const INBOUND_TOKEN: &str = "hardening-inbound-token-0123456789abcdef";

both!(wrong_inbound_tokens_are_throttled_per_address, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| c.inbound_token = Some(INBOUND_TOKEN.into())).await;
    let post = |token: &'static str| {
        let url = format!("{}/mail/inbound", app.base);
        async move {
            let raw = "From: Ann <ann@example.com>\r\nTo: help@example.com\r\nSubject: Hello\r\n\
                       Message-ID: <throttle-1@example.com>\r\n\r\nHello there.\r\n";
            let resp = reqwest::Client::new()
                .post(url)
                .header("authorization", format!("Bearer {token}"))
                .body(raw)
                .send()
                .await
                .expect("POST /mail/inbound");
            (resp.status().as_u16(), resp.headers().get("retry-after").is_some())
        }
    };
    for _ in 0..10 {
        assert_eq!(post("a-guess-at-the-token").await.0, 401);
    }
    assert_eq!(post(INBOUND_TOKEN).await, (429, true), "refused unheard, even the right token");
    app.advance(chrono::Duration::minutes(16));
    assert_eq!(post(INBOUND_TOKEN).await.0, 200, "the window has passed");
});

#[test]
fn a_short_inbound_token_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_firewatch"))
        .arg("serve")
        .env("FIREWATCH_DATA_DIR", dir.path())
        .env("FIREWATCH_DATABASE_URL", dir.path().join("fw.db"))
        .env("FIREWATCH_BIND", "127.0.0.1:0")
        .env_remove("FIREWATCH_BASE_URL")
        .env("FIREWATCH_INBOUND_TOKEN", "inbound-secret-for-tests-2026")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn firewatch");
    let deadline = std::time::Instant::now() + StdDuration::from_secs(20);
    while child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(StdDuration::from_millis(100));
    }
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("firewatch serve started with a 28-character inbound token");
    }
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("FIREWATCH_INBOUND_TOKEN") && err.contains("at least 32 characters"), "{err}");
}

// ---------- 6. hashing only when it is due; the account page counts towards the lockout ----------

fn hashes(app: &TestApp) -> u64 {
    app.state.hasher.computed()
}

fn setup_fields(token: &str) -> [(&str, &str); 5] {
    [
        ("token", token),
        ("display_name", "Ada Admin"),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ]
}

both!(setup_refuses_a_wrong_token_before_hashing, |app| {
    let state = app.state.clone();
    let link = tokio::task::spawn_blocking(move || firewatch::service::setup::issue_link_if_needed(&state))
        .await
        .expect("join")
        .expect("issue")
        .expect("no users yet: a link");
    let token = link.rsplit("token=").next().unwrap_or_default().to_string();
    let b = app.browser();
    let before = hashes(&app);
    let wrong = b.submit("/login", "/setup", &setup_fields("0123456789abcdef0123456789abcdef")).await;
    assert_eq!(wrong.status, 404);
    assert_eq!(hashes(&app), before, "a wrong token costs no hash");
    let ok = b.submit("/login", "/setup", &setup_fields(&token)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(hashes(&app) > before);
});

both!(a_throttled_sign_in_hashes_nothing, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| c.login_ip_limit = 3).await;
    app.user("support", "sam@example.com").await;
    let b = app.browser();
    for _ in 0..3 {
        assert_eq!(b.login("sam@example.com", "not the password at all").await.status, 422);
    }
    let before = hashes(&app);
    assert_eq!(b.login("sam@example.com", PASSWORD).await.status, 429);
    assert_eq!(hashes(&app), before, "the address is throttled: no hash");
});

both!(a_locked_account_is_refused_without_hashing, |app| {
    app.user("sales", "lea@example.com").await;
    let b = app.browser();
    for _ in 0..10 {
        assert_eq!(b.login("lea@example.com", "not the password at all").await.status, 422);
    }
    let before = hashes(&app);
    let locked = b.login("lea@example.com", PASSWORD).await;
    assert_eq!(locked.status, 422);
    assert!(locked.contains("Email or password is incorrect."), "the same answer as a wrong password");
    assert_eq!(hashes(&app), before, "the account is locked: no hash");
});

both!(wrong_current_passwords_on_the_account_page_lock_the_account, |app| {
    let b = login_as(&app, "support", "ivo@example.com").await;
    let change = [
        ("current_password", "a wrong guess at it"),
        ("password", "new tractor harbour 43"),
        ("password_confirm", "new tractor harbour 43"),
    ];
    for _ in 0..10 {
        let r = b.submit("/account", "/account/password", &change).await;
        assert_eq!(r.status, 422);
        assert!(r.contains("That is not your current password."));
    }
    let before = hashes(&app);
    let right = [
        ("current_password", PASSWORD),
        ("password", "new tractor harbour 43"),
        ("password_confirm", "new tractor harbour 43"),
    ];
    let r = b.submit("/account", "/account/password", &right).await;
    assert_eq!(r.status, 422, "locked, even with the right password");
    assert!(r.contains("Too many wrong passwords"), "{}", r.body);
    assert_eq!(hashes(&app), before, "no hash while locked");
    let fresh = app.browser().login("ivo@example.com", PASSWORD).await;
    assert_eq!(fresh.status, 422, "sign-in is locked too");
    app.advance(chrono::Duration::minutes(16));
    assert_eq!(app.browser().login("ivo@example.com", PASSWORD).await.status, 303);
});

// ---------- 7. the flash cookie under https ----------

both!(the_flash_cookie_is_secure_under_https, |app| {
    let db = app.db;
    drop(app);
    let origin = "https://help.example.com";
    let app = TestApp::spawn_with(db, |c| c.base_url = origin.into()).await;
    app.user("support", "tls@example.com").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let cookie_of = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let pair = |set: &str| set.split(';').next().unwrap_or_default().to_string();
    let csrf_of = |body: &str| form_value(body, "csrf_token").unwrap_or_default();

    let login_page = client.get(format!("{}/login", app.base)).send().await.expect("get");
    let anon = pair(&cookie_of(&login_page, "__Host-fw_anon"));
    let token = csrf_of(&login_page.text().await.unwrap_or_default());
    let signed = client
        .post(format!("{}/login", app.base))
        .header("cookie", anon)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf_token", &token), ("email", "tls@example.com"), ("password", PASSWORD)]))
        .send()
        .await
        .expect("post");
    assert_eq!(signed.status().as_u16(), 303);
    let session = pair(&cookie_of(&signed, "__Host-fw_session"));
    let account = client.get(format!("{}/account", app.base)).header("cookie", &session).send().await.expect("get");
    let token = csrf_of(&account.text().await.unwrap_or_default());
    let out = client
        .post(format!("{}/logout", app.base))
        .header("cookie", &session)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf_token", &token)]))
        .send()
        .await
        .expect("post");
    assert_eq!(out.status().as_u16(), 303);
    let flash = cookie_of(&out, "fw_flash");
    assert!(flash.contains("Secure") && flash.contains("HttpOnly"), "{flash}");
    let next = client.get(format!("{}/login", app.base)).header("cookie", pair(&flash)).send().await.expect("get");
    let gone = cookie_of(&next, "fw_flash");
    assert!(gone.contains("Max-Age=0") && gone.contains("Secure"), "{gone}");
});

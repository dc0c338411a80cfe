//! Outgoing mail through a real SMTP conversation on 127.0.0.1: queued in the outbox, retried
//! while the server is down, delivered once it is back, threaded, and never leaking internal
//! notes to customers.

use crate::both;
use crate::incidents::{act, login_as, quick, service};
use crate::support::*;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A minimal SMTP server that accepts everything and keeps each message's DATA.
pub(crate) async fn smtp_sink(port: u16) -> Arc<Mutex<Vec<String>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind smtp sink");
    let store = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        if let Ok(mut g) = store.lock() {
                            g.push(data);
                        }
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    got
}

pub(crate) async fn run_jobs(app: &TestApp) -> firewatch::jobs::JobReport {
    app.run_jobs().await
}

/// Turns off the reporter's acknowledgement mail (on by default), for tests that count mails.
pub(crate) async fn without_acknowledgements(admin: &Browser) {
    assert_eq!(admin.submit("/admin/outbox", "/admin/outbox/settings", &[]).await.status, 303);
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(2525)
}

both!(mail_waits_for_the_server_arrives_once_threaded_and_without_internal_notes, |app| {
    let db = app.db;
    drop(app);
    let port = free_port();
    let app = TestApp::spawn_with(db, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = firewatch::config::SmtpTls::None;
        c.mail_from = "Firewatch <help@example.com>".into();
    })
    .await;
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    let colleague = login_as(&app, "devops", "dee@example.com").await;
    assert_eq!(
        act(
            &colleague,
            &key,
            "/comments",
            &[("body", "zebracorn: the cache node is sick"), ("visibility", "internal")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        act(&agent, &key, "/comments", &[("body", "We are on it, sorry for the trouble."), ("visibility", "public")])
            .await
            .status,
        303
    );

    // The server is down: nothing is lost, everything waits in the outbox.
    let r = run_jobs(&app).await;
    assert_eq!(r.mails_sent, 0);
    assert!(r.mail_failures >= 2, "{r:?}");
    let outbox = admin.get("/admin/outbox?status=queued").await;
    assert!(outbox.contains("cora@example.com"), "{}", outbox.body);
    assert!(outbox.contains("Connection refused") || outbox.contains("onnection"), "the last error is shown");

    // Back up: after the backoff, every message goes out exactly once.
    let got = smtp_sink(port).await;
    app.advance(chrono::Duration::minutes(2));
    let r = run_jobs(&app).await;
    assert_eq!(r.mail_failures, 0, "{r:?}");
    assert!(r.mails_sent >= 2);
    assert_eq!(run_jobs(&app).await.mails_sent, 0, "sent once");
    let mails = got.lock().map(|g| g.clone()).unwrap_or_default();
    assert_eq!(mails.len(), r.mails_sent);

    let to_customer: Vec<&String> =
        mails.iter().filter(|m| m.contains("To: cora@example.com") || m.contains("<cora@example.com>")).collect();
    assert_eq!(to_customer.len(), 1, "the customer gets the public reply only: {mails:#?}");
    let reply = to_customer[0];
    assert!(reply.contains(&format!("[{key}]")), "{reply}");
    assert!(reply.contains("We are on it"));
    assert!(
        reply.contains("In-Reply-To: <incident-1@127.0.0.1>") && reply.contains("References: <incident-1@127.0.0.1>"),
        "{reply}"
    );
    assert!(reply.contains("Message-ID: <incident-1."), "{reply}");
    for m in &mails {
        if m.contains("cora@example.com") {
            assert!(!m.contains("zebracorn"), "internal notes never reach customers");
        }
    }
    let to_agent: Vec<&String> = mails.iter().filter(|m| m.contains("sam@example.com")).collect();
    assert!(to_agent.iter().any(|m| m.contains("zebracorn")), "the assignee hears about the internal note");
    let sent = admin.get("/admin/outbox?status=sent").await;
    assert!(sent.contains("public_reply") && sent.contains("internal_note"));
});

both!(without_smtp_mail_becomes_files, |app| {
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Billing").await;
    let customer = login_as(&app, "customer", "fred@example.com").await;
    let key = quick(&customer, &svc, "Invoice missing").await;
    let agent = login_as(&app, "support", "sue@example.com").await;
    assert_eq!(
        act(&agent, &key, "/comments", &[("body", "Resent the invoice."), ("visibility", "public")]).await.status,
        303
    );
    assert_eq!(run_jobs(&app).await.mails_sent, 1);
    let dir = app.dir.path().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir).expect("mail dir").filter_map(|e| e.ok()).collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).expect("eml");
    assert!(text.contains("Resent the invoice."));
    assert!(text.contains("fred@example.com"));
});

both!(failed_mail_can_be_retried_by_an_admin, |app| {
    let db = app.db;
    drop(app);
    let port = free_port();
    let app = TestApp::spawn_with(db, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = firewatch::config::SmtpTls::None;
    })
    .await;
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "gil@example.com").await;
    let key = quick(&customer, &svc, "Search broken").await;
    let agent = login_as(&app, "support", "ann@example.com").await;
    assert_eq!(act(&agent, &key, "/comments", &[("body", "Looking."), ("visibility", "public")]).await.status, 303);
    run_jobs(&app).await;
    // A day of refused connections: the message is given up on.
    app.advance(chrono::Duration::hours(25));
    run_jobs(&app).await;
    let admin = app.signed_in("admin").await;
    let failed = admin.get("/admin/outbox?status=failed").await;
    assert!(failed.contains("gil@example.com"), "{}", failed.body);
    let id = failed
        .body
        .split("/retry\"")
        .next()
        .and_then(|s| s.rsplit("/admin/outbox/").next())
        .expect("retry form")
        .to_string();
    let got = smtp_sink(port).await;
    let r = admin.submit("/admin/outbox?status=failed", &format!("/admin/outbox/{id}/retry"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(run_jobs(&app).await.mails_sent, 1);
    assert_eq!(got.lock().map(|g| g.len()).unwrap_or(0), 1);
    assert_eq!(admin.get("/admin/outbox?status=failed").await.body.matches("gil@example.com").count(), 0);
});

both!(asvs_2_2_3_users_get_mail_about_their_password, |app| {
    let admin = app.signed_in("admin").await;
    app.user("customer", "pia@example.com").await;
    let list = admin.get("/admin/users?q=pia").await;
    let id = list
        .body
        .split("/admin/users/")
        .find_map(|s| s.split('"').next().filter(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())))
        .expect("id")
        .to_string();
    let made = admin.submit(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/reset-link"), &[]).await;
    assert_eq!(made.status, 200);
    let pia = app.browser();
    pia.login("pia@example.com", PASSWORD).await;
    let new_pw = "granite orchard lantern 5";
    let changed = pia
        .submit(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("password", new_pw), ("password_confirm", new_pw)],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(run_jobs(&app).await.mails_sent, 2);
    let mut texts: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .expect("mail dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    texts.sort();
    assert!(texts.iter().any(|t| t.contains("Set your Firewatch password") && t.contains("/password-reset/")));
    assert!(texts.iter().any(|t| t.contains("Your Firewatch password was changed")));
    assert!(texts.iter().all(|t| t.contains("pia@example.com")));
    assert!(texts.iter().all(|t| !t.contains(new_pw) && !t.contains(PASSWORD)), "never a password in mail");
});

both!(notifications_can_be_held_for_a_daily_digest_or_turned_off, |app| {
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Reports").await;
    let customer = login_as(&app, "customer", "dora@example.com").await;
    let page = customer.get("/account/notifications").await;
    assert!(page.contains("Daily digest"));
    // A customer is offered only the mail that can reach a customer.
    for kind in ["received", "public_reply", "resolved", "closed"] {
        assert!(page.contains(&format!("name=\"{kind}\"")), "{kind}");
    }
    for kind in ["incident_created", "assigned", "escalated", "internal_note", "sla_breach"] {
        assert!(!page.contains(&format!("name=\"{kind}\"")), "{kind} is staff mail");
    }
    let staff_page = app.signed_in("support").await.get("/account/notifications").await;
    assert!(staff_page.contains("name=\"internal_note\"") && staff_page.contains("name=\"assigned\""));
    let saved = customer
        .submit(
            "/account/notifications",
            "/account/notifications",
            &[("public_reply", "digest"), ("resolved", "off"), ("bogus", "digest")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(customer.get("/account/notifications").await.contains("name=\"public_reply\" value=\"digest\" checked"));

    let key = quick(&customer, &svc, "Report empty").await;
    let agent = login_as(&app, "support", "ron@example.com").await;
    for text in ["First look done.", "Fix is building."] {
        assert_eq!(act(&agent, &key, "/comments", &[("body", text), ("visibility", "public")]).await.status, 303);
    }
    for s in ["in_progress", "resolved"] {
        assert_eq!(
            act(&agent, &key, "/status", &[("status", s), ("resolution", "Rebuilt the report")]).await.status,
            303
        );
    }
    // Nothing goes out right away: replies wait for the digest, the resolution mail is off.
    let r = run_jobs(&app).await;
    assert_eq!((r.mails_sent, r.digests), (0, 0), "{r:?}");
    // They were held after today's 08:00, so tomorrow morning's digest carries them.
    app.advance(chrono::Duration::hours(22));
    assert_eq!(run_jobs(&app).await.digests, 0, "07:00 next day: not yet");
    app.advance(chrono::Duration::hours(1));
    let r = run_jobs(&app).await;
    assert_eq!((r.digests, r.mails_sent), (1, 1), "{r:?}");
    let files: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .expect("mail dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].contains("Your Firewatch digest for 2026-03-03"));
    assert!(files[0].matches("New reply: Report empty").count() >= 2, "{}", files[0]);
    assert!(!files[0].contains("Resolved:"), "turned off");
    // Later the same day: no second digest; the new reply waits for the next morning.
    let agent = login_as(&app, "support", "ron2@example.com").await;
    assert_eq!(
        act(&agent, &key, "/comments", &[("body", "One more thing."), ("visibility", "public")]).await.status,
        303
    );
    assert_eq!(run_jobs(&app).await.digests, 0);
    app.advance(chrono::Duration::days(1));
    assert_eq!(run_jobs(&app).await.digests, 1, "the next morning");
});

both!(asvs_2_5_5_an_email_change_is_mailed_to_both_addresses, |app| {
    let admin = app.signed_in("admin").await;
    app.user("support", "old.address@example.com").await;
    let list = admin.get("/admin/users?q=old.address").await;
    let id = list
        .body
        .split("/admin/users/")
        .find_map(|s| s.split('"').next().filter(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())))
        .expect("id")
        .to_string();
    let path = format!("/admin/users/{id}");
    let r = admin
        .submit(
            &path,
            &path,
            &[
                ("display_name", "Test support"),
                ("email", "new.address@example.com"),
                ("role", "support"),
                ("time_zone", "UTC"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(run_jobs(&app).await.mails_sent, 2);
    let texts: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .expect("mail dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(texts.iter().any(
        |t| t.contains("To: \"Test support\" <old.address@example.com>") || t.contains("<old.address@example.com>")
    ));
    assert!(texts.iter().all(|t| t.contains("Your Firewatch email address was changed")));
});

both!(mail_is_still_delivered_when_an_earlier_job_fails, |app| {
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Billing").await;
    let customer = login_as(&app, "customer", "hal@example.com").await;
    let key = quick(&customer, &svc, "Invoice twice").await;
    let agent = login_as(&app, "support", "ida@example.com").await;
    assert_eq!(
        act(&agent, &key, "/comments", &[("body", "Refunded one."), ("visibility", "public")]).await.status,
        303
    );
    // The overdue-action job runs before delivery; without its table it fails on every tick.
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let mut conn = state.db.get().expect("conn");
        diesel::sql_query("ALTER TABLE problem_actions RENAME TO problem_actions_gone")
            .execute(&mut *conn)
            .expect("rename");
    })
    .await
    .expect("join");
    let state = app.state.clone();
    let r = tokio::task::spawn_blocking(move || firewatch::jobs::run_once(&state)).await.expect("join");
    assert_eq!(r.failed, vec!["overdue_actions"], "{r:?}");
    assert_eq!(r.mails_sent, 1, "delivery ran after the failed job: {r:?}");
    let files: Vec<_> =
        std::fs::read_dir(app.dir.path().join("mail")).expect("mail dir").filter_map(|e| e.ok()).collect();
    assert_eq!(files.len(), 1);
});

both!(a_delivery_claim_outlasts_a_slow_batch_and_keeps_the_message_id, |app| {
    let admin = app.signed_in("admin").await;
    without_acknowledgements(&admin).await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "jo@example.com").await;
    let key = quick(&customer, &svc, "Portal slow").await;
    let agent = login_as(&app, "support", "kim@example.com").await;
    assert_eq!(act(&agent, &key, "/comments", &[("body", "Looking."), ("visibility", "public")]).await.status, 303);
    let (state, clock) = (app.state.clone(), app.clock.clone());
    tokio::task::spawn_blocking(move || {
        use firewatch::db::outbox;
        let mut conn = state.db.get().expect("conn");
        let conn = &mut *conn;
        let now = || state.clock.now_naive();
        let first = outbox::claim_due(conn, now(), 50).expect("claim");
        assert_eq!(first.len(), 1);
        let (id, message_id, mut held) = (first[0].id, first[0].message_id.clone(), first[0].next_attempt_at);
        // Eleven minutes into a slow batch, another instance finds nothing to take.
        clock.advance(chrono::Duration::minutes(11));
        assert!(outbox::claim_due(conn, now(), 50).expect("claim").is_empty(), "the claim still holds");
        // The run renews what is left of its batch before each message, so it keeps holding.
        for _ in 0..3 {
            let until = outbox::claim_until(now());
            assert_eq!(outbox::renew_claims(conn, &[id], held, until).expect("renew"), vec![id]);
            held = until;
            clock.advance(chrono::Duration::minutes(14));
            assert!(outbox::claim_due(conn, now(), 50).expect("claim").is_empty(), "renewed, still held");
        }
        // The run died: once its claim runs out the message is taken again, with the same Message-ID.
        clock.advance(chrono::Duration::minutes(2));
        let again = outbox::claim_due(conn, now(), 50).expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].message_id, message_id);
        // Had the first run only been slow, its renewal now finds the claim gone and leaves it.
        assert!(outbox::renew_claims(conn, &[id], held, outbox::claim_until(now())).expect("renew").is_empty());
    })
    .await
    .expect("join");
});

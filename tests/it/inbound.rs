//! Incoming mail end to end: messages posted to /mail/inbound (as `firewatch mailgate` does)
//! become incidents and threaded replies; automatic mail, loops and duplicates are refused; what
//! cannot be matched safely waits at /admin/inbound.

use crate::both;
use crate::incidents::{act, incident, login_as, quick, reply, service};
use crate::support::*;
use serde_json::Value;

pub(crate) const TOKEN: &str = "inbound-secret-for-tests-2026-a1b2c3d4";

pub(crate) async fn with_token(app: TestApp, tweak: impl FnOnce(&mut firewatch::config::Config)) -> TestApp {
    let db = app.db;
    drop(app);
    TestApp::spawn_with(db, |c| {
        c.inbound_token = Some(TOKEN.into());
        c.mail_from = "Firewatch <help@firewatch.test>".into();
        tweak(c);
    })
    .await
}

pub(crate) async fn post_mail_with(app: &TestApp, token: Option<&str>, raw: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/mail/inbound", app.base)).body(raw.to_string());
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.send().await.expect("POST /mail/inbound");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn post_mail(app: &TestApp, raw: &str) -> Value {
    let (status, v) = post_mail_with(app, Some(TOKEN), raw).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// A plain-text message.
pub(crate) fn mail(from: &str, subject: &str, id: &str, headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: help@firewatch.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

pub(crate) fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

async fn queue_count(b: &Browser) -> String {
    let q = b.get("/incidents?status=new&status=triaged&status=in_progress&status=waiting_on_customer&status=resolved&status=closed").await;
    q.body
        .split("<p class=\"count\" role=\"status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The Message-ID of the newest outgoing mail to `to` (as our MTA would have sent it).
pub(crate) async fn last_mail_id_to(app: &TestApp, to: &str) -> String {
    let state = app.state.clone();
    let to = to.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let all = firewatch::db::outbox::list(&mut conn, None, None, 200).expect("outbox");
        all.into_iter().find(|m| m.to_address == to).map(|m| m.message_id).expect("a mail to the address")
    })
    .await
    .expect("join")
}

both!(a_new_mail_opens_an_incident_with_its_decoded_text_and_attachment, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Webshop").await;
    let customer = login_as(&app, "customer", "juergen@example.com").await;
    let raw = concat!(
        "From: =?UTF-8?Q?J=C3=BCrgen?= <Juergen@Example.com>\r\n",
        "To: help@firewatch.test\r\n",
        "Subject: =?ISO-8859-1?Q?Kasse_gest=F6rt?=\r\n",
        "Message-ID: <first@mail.example.com>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=\"outer\"\r\n",
        "\r\n",
        "--outer\r\n",
        "Content-Type: multipart/alternative; boundary=\"alt\"\r\n",
        "\r\n",
        "--alt\r\n",
        "Content-Type: text/plain; charset=iso-8859-1\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "\r\n",
        "Die Kasse zeigt einen Fehler, sch=F6ne Gr=FC=DFe.\r\n",
        "--alt\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "\r\n",
        "<p>HTML twin that must not be used</p>\r\n",
        "--alt--\r\n",
        "--outer\r\n",
        "Content-Type: text/plain; name=\"kasse.log\"\r\n",
        "Content-Disposition: attachment; filename=\"../../kasse.log\"\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "\r\n",
        "RVJST1IgNDA0IHRpbGwgb2ZmbGluZQo=\r\n",
        "--outer--\r\n",
    );
    let v = post_mail(&app, raw).await;
    assert_eq!(
        (field(&v, "status"), field(&v, "outcome"), field(&v, "incident")),
        ("accepted", "created", "INC-1"),
        "{v}"
    );

    let page = incident(&customer, "INC-1").await;
    assert!(page.contains("Kasse gestört"), "the subject is decoded: {}", page.body);
    assert!(page.contains("Die Kasse zeigt einen Fehler, schöne Grüße."), "the text part is decoded");
    assert!(!page.contains("HTML twin"), "text/plain is preferred");
    assert!(page.contains("reported by email"));
    let href = "/incidents/INC-1/attachments/1";
    assert!(page.contains(href) && page.contains("kasse.log"), "{}", page.body);

    let file = customer.get(href).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body, "ERROR 404 till offline\n");
    assert!(file.header("content-disposition").starts_with("attachment"), "{:?}", file.headers);
    assert!(file.header("content-disposition").contains("kasse.log"));
    assert_eq!(file.header("x-content-type-options"), "nosniff");

    let stranger = login_as(&app, "customer", "stranger@example.net").await;
    assert_eq!(stranger.get(href).await.status, 404, "other customers cannot fetch it");
    assert_eq!(customer.get("/incidents/INC-1/attachments/99").await.status, 404);
});

both!(replies_thread_by_message_id_or_subject_tag_and_lose_the_quoted_history, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    assert_eq!(reply(&agent, &key, "Which browser do you use?").await.status, 303);
    for s in ["in_progress", "waiting_on_customer"] {
        let r = act(&agent, &key, "/status", &[("status", s), ("resolution", "")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }

    let ours = last_mail_id_to(&app, "cora@example.com").await;
    let answer = mail(
        "Cora <cora@example.com>",
        "Re: something unrelated",
        "answer-1@example.com",
        &format!("In-Reply-To: {ours}\r\nReferences: {ours}\r\n"),
        "Firefox 140 on Linux.\r\n\r\nOn Mon, 2 Mar 2026 at 09:00, Firewatch <help@firewatch.test> wrote:\r\n> PREVIOUS-QUOTED-TEXT\r\n",
    );
    let v = post_mail(&app, &answer).await;
    assert_eq!(
        (field(&v, "status"), field(&v, "outcome"), field(&v, "incident")),
        ("accepted", "replied", key.as_str()),
        "{v}"
    );
    let page = incident(&agent, &key).await;
    assert!(page.contains("Firefox 140 on Linux."));
    assert!(!page.contains("PREVIOUS-QUOTED-TEXT"), "quoted history is stripped");
    assert!(page.contains("status-in_progress"), "the customer's answer puts it back in progress: {}", page.body);

    // Staff answer by mail too, found by the [INC-n] tag alone: nothing shows which thread they
    // answer, so it stays internal.
    let staff_mail = mail(
        "sam@example.com",
        &format!("RE: [{key}] Portal shows an error"),
        "answer-2@example.com",
        "",
        "Please clear the cache.",
    );
    let v = post_mail(&app, &staff_mail).await;
    assert_eq!(field(&v, "outcome"), "noted", "{v}");
    assert!(incident(&agent, &key).await.contains("Please clear the cache."));
    assert!(
        !incident(&customer, &key).await.contains("Please clear the cache."),
        "a subject-only staff mail is internal"
    );

    // A reply to a reply that arrived by mail threads through that message too.
    let again = mail(
        "cora@example.com",
        "Re: Re:",
        "answer-3@example.com",
        "In-Reply-To: <answer-1@example.com>\r\n",
        "Cleared; fine now.",
    );
    assert_eq!(field(&post_mail(&app, &again).await, "incident"), key);
    assert!(incident(&agent, &key).await.contains("Cleared; fine now."));
});

both!(automatic_mail_loops_and_duplicates_are_refused_and_listed, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let _customer = login_as(&app, "customer", "cora@example.com").await;

    let cases = [
        mail(
            "cora@example.com",
            "Out of office",
            "auto-1@example.com",
            "Auto-Submitted: auto-replied\r\n",
            "I am away.",
        ),
        mail("cora@example.com", "Newsletter", "bulk-1@example.com", "Precedence: bulk\r\n", "News."),
        mail("MAILER-DAEMON@mx.example.com", "Undelivered Mail", "bounce-1@example.com", "", "Bounce."),
        mail("Firewatch <help@firewatch.test>", "Loop", "loop-1@example.com", "", "Our own mail."),
    ];
    for raw in &cases {
        let v = post_mail(&app, raw).await;
        assert_eq!(field(&v, "status"), "refused", "{v}");
    }
    assert_eq!(queue_count(&admin).await, "0 incidents", "nothing was filed");
    assert!(admin.get("/admin/inbound/1").await.contains("Create a new incident from it"), "still actionable");
    let refused = admin.get("/admin/inbound?status=refused").await;
    assert_eq!(refused.status, 200);
    for reason in ["Auto-Submitted: auto-replied", "Precedence: bulk", "delivery report", "mail loop"] {
        assert!(refused.contains(reason), "{reason} listed: {}", refused.body);
    }

    // The same Message-ID twice is taken once; a message without one is recognized by its bytes.
    let real = mail("cora@example.com", "Login fails", "real-1@example.com", "", "Cannot sign in.");
    assert_eq!(field(&post_mail(&app, &real).await, "status"), "accepted");
    let v = post_mail(&app, &real).await;
    assert_eq!(field(&v, "status"), "duplicate", "{v}");
    let no_id = "From: cora@example.com\r\nSubject: No id\r\n\r\nBody without a Message-ID.\r\n";
    assert_eq!(field(&post_mail(&app, no_id).await, "status"), "accepted");
    assert_eq!(field(&post_mail(&app, no_id).await, "status"), "duplicate");
    assert_eq!(queue_count(&admin).await, "2 incidents");

    // A month later the refused messages' raw bytes are gone; their record stays.
    app.advance(chrono::Duration::days(31));
    let report = app.run_jobs().await;
    assert_eq!(report.inbound_pruned, 4, "{report:?}");
    let admin = login_as(&app, "admin", "second-admin@example.com").await;
    let old = admin.get("/admin/inbound/1").await;
    assert!(old.contains("Auto-Submitted") && !old.contains("Create a new incident from it"), "{}", old.body);
});

both!(the_endpoint_wants_its_token_and_nothing_else, |app| {
    let plain = mail("cora@example.com", "Hi", "t-1@example.com", "", "x");
    let (status, v) = post_mail_with(&app, Some(TOKEN), &plain).await;
    assert_eq!(status, 404, "inbound mail is off without a configured token: {v}");
    let app = with_token(app, |_| {}).await;
    let (status, v) = post_mail_with(&app, None, &plain).await;
    assert_eq!(status, 401, "{v}");
    assert!(field(&v, "error").contains("token"));
    let (status, _) = post_mail_with(&app, Some("wrong-token"), &plain).await;
    assert_eq!(status, 401);
    // No session, no CSRF token: the token alone is enough.
    let (status, _) = post_mail_with(&app, Some(TOKEN), &plain).await;
    assert_eq!(status, 200);
});

both!(unknown_senders_follow_the_admins_setting, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let r = admin
        .submit(
            "/admin/organizations/new",
            "/admin/organizations",
            &[("name", "Acme"), ("email_domains", "acme.example")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let v =
        post_mail(&app, &mail("Nina New <nina@acme.example>", "Printer jam", "u-1@acme.example", "", "Jammed.")).await;
    assert_eq!((field(&v, "status"), field(&v, "outcome")), ("accepted", "created"), "{v}");
    let users = admin.get("/admin/users?q=nina").await;
    assert!(users.contains("nina@acme.example") && users.contains("Nina New"), "a customer is created: {}", users.body);
    let page = incident(&admin, "INC-1").await;
    assert!(page.contains("Acme"), "in the organization of the domain");

    let v = post_mail(&app, &mail("x@elsewhere.example", "Hello", "u-2@elsewhere.example", "", "Hi.")).await;
    assert_eq!(field(&v, "status"), "refused");
    assert!(field(&v, "reason").contains("no organization has the domain elsewhere.example"), "{v}");

    // The admin switches to refusing unknown senders; a bad value comes back with a message.
    let bad = admin
        .submit(
            "/admin/inbound",
            "/admin/inbound/settings",
            &[("unknown_sender", "whatever"), ("closed_reply", "reopen"), ("service_id", "")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Choose what happens to mail from unknown senders."));
    let ok = admin
        .submit(
            "/admin/inbound",
            "/admin/inbound/settings",
            &[("unknown_sender", "reject"), ("closed_reply", "reopen"), ("service_id", "")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let v = post_mail(&app, &mail("olga@acme.example", "Printer again", "u-3@acme.example", "", "Jammed again.")).await;
    assert_eq!(field(&v, "status"), "refused");
    assert!(field(&v, "reason").contains("unknown senders is refused"), "{v}");
    assert!(admin.get("/admin/inbound?status=refused").await.contains("olga@acme.example"));
    assert!(!admin.get("/admin/users?q=olga").await.contains("olga@acme.example"), "no account is created");
});

both!(replies_to_closed_incidents_reopen_or_start_a_follow_up, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Export is slow").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    let close = |agent: Browser, key: String| async move {
        for (s, res) in [("in_progress", ""), ("resolved", "Added an index."), ("closed", "")] {
            let r = act(&agent, &key, "/status", &[("status", s), ("resolution", res)]).await;
            assert_eq!(r.status, 303, "{s}: {}", r.body);
        }
        agent
    };
    let agent = close(agent, key.clone()).await;

    let v = post_mail(
        &app,
        &mail("cora@example.com", &format!("Re: [{key}] Export is slow"), "c-1@example.com", "", "Slow again today."),
    )
    .await;
    assert_eq!((field(&v, "outcome"), field(&v, "incident")), ("reopened", key.as_str()), "{v}");
    let page = incident(&agent, &key).await;
    assert!(page.contains("status-in_progress") && page.contains("Slow again today."), "{}", page.body);

    let ok = admin
        .submit(
            "/admin/inbound",
            "/admin/inbound/settings",
            &[("unknown_sender", "create_customer"), ("closed_reply", "follow_up"), ("service_id", "")],
        )
        .await;
    assert_eq!(ok.status, 303);
    let r = act(&agent, &key, "/status", &[("status", "resolved"), ("resolution", "Bigger index.")]).await;
    assert_eq!(r.status, 303);
    let r = act(&agent, &key, "/status", &[("status", "closed"), ("resolution", "")]).await;
    assert_eq!(r.status, 303);
    let v = post_mail(
        &app,
        &mail("cora@example.com", &format!("Re: [{key}] Export is slow"), "c-2@example.com", "", "And again."),
    )
    .await;
    assert_eq!((field(&v, "outcome"), field(&v, "incident")), ("follow_up", "INC-2"), "{v}");
    let follow = incident(&customer, "INC-2").await;
    assert!(follow.contains(&format!("Follow-up to {key}")) && follow.contains("And again."), "{}", follow.body);
    assert!(incident(&agent, "INC-2").await.contains(&key), "linked to the closed one");
    assert!(incident(&agent, &key).await.contains("status-closed"), "the closed one stays closed");
});

both!(messages_that_cannot_be_matched_safely_wait_for_review, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let _other = login_as(&app, "customer", "otto@example.org").await;

    let v =
        post_mail(&app, &mail("otto@example.org", &format!("Re: [{key}] Portal"), "r-1@example.org", "", "Me too!"))
            .await;
    assert_eq!(field(&v, "status"), "review", "another customer may not reply there: {v}");
    let v = post_mail(&app, &mail("cora@example.com", "Re: [INC-99] gone", "r-2@example.com", "", "Hello?")).await;
    assert_eq!(field(&v, "status"), "review");
    assert!(field(&v, "reason").contains("INC-99"), "{v}");

    let queue = admin.get("/admin/inbound?status=review").await;
    assert!(queue.contains("In review (2)") && queue.contains("otto@example.org may not reply"), "{}", queue.body);
    // Otto's message (the first received): added to the incident by the admin, quoting him.
    let path = "/admin/inbound/1".to_string();
    let detail = admin.get(&path).await;
    assert_eq!(detail.status, 200);
    assert!(detail.contains("Me too!") && detail.contains("otto@example.org"), "{}", detail.body);
    let bad = admin.submit(&path, &path, &[("action", "add"), ("key", "INC-4242")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("There is no incident with that key.") && bad.contains("INC-4242"), "{}", bad.body);
    let ok = admin.submit(&path, &path, &[("action", "add"), ("key", &key)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = incident(&customer, &key).await;
    assert!(page.contains("Me too!") && page.contains("Mail from"), "{}", page.body);
    let again = admin.submit(&path, &path, &[("action", "dismiss")]).await;
    assert_eq!(again.status, 409, "handled once");
    assert!(admin.get("/admin/inbound?status=review").await.contains("In review (1)"));

    // Customers and agents do not reach the review queue.
    assert_eq!(customer.get("/admin/inbound").await.status, 403);
});

both!(big_attachments_are_refused_with_a_note, |app| {
    let app = with_token(app, |c| c.attachment_max_bytes = 1024).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let big = "QUFB".repeat(600); // 1,800 bytes once decoded
    let raw = format!(
        "From: cora@example.com\r\nSubject: Dump\r\nMessage-ID: <big-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHere is the dump.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=dump.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{big}\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=small.txt\r\n\r\nsmall\r\n--b--\r\n"
    );
    assert_eq!(field(&post_mail(&app, &raw).await, "status"), "accepted");
    let page = incident(&customer, "INC-1").await;
    assert!(page.contains("dump.bin") && page.contains("was not kept"), "{}", page.body);
    assert!(page.contains("small.txt") && page.contains("/incidents/INC-1/attachments/1"));
    assert!(!page.contains("/incidents/INC-1/attachments/2"), "only the small file is stored");
});

both!(mailgate_exit_codes_tell_the_mta_what_to_do, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let _customer = login_as(&app, "customer", "cora@example.com").await;
    let gate = |url: String, token: &'static str, input: String| {
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_firewatch"))
                .args(["mailgate", "--url", &url, "--token", token])
                .env_remove("FIREWATCH_INBOUND_TOKEN")
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run firewatch mailgate");
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(input.as_bytes());
            }
            child.wait_with_output().expect("wait").status.code()
        })
    };
    let m = mail("cora@example.com", "Via the gate", "gate-1@example.com", "", "Delivered by mailgate.");
    assert_eq!(gate(app.base.clone(), TOKEN, m.clone()).await.expect("join"), Some(0));
    assert!(incident(&admin, "INC-1").await.contains("Delivered by mailgate."));
    assert_eq!(gate(app.base.clone(), TOKEN, m.clone()).await.expect("join"), Some(0), "a duplicate is still accepted");
    assert_eq!(gate(app.base.clone(), "wrong", m.clone()).await.expect("join"), Some(75), "kept for a retry");
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
    );
    assert_eq!(gate(closed, TOKEN, m.clone()).await.expect("join"), Some(75), "unreachable: the MTA retries");
    assert_eq!(gate(app.base.clone(), TOKEN, String::new()).await.expect("join"), Some(65), "no message");
});

both!(header_injection_through_encoded_mail_headers_goes_nowhere, |app| {
    let port = crate::mail::free_port();
    let app = with_token(app, |c| {
        c.smtp_host = Some("127.0.0.1".into());
        c.smtp_port = port;
        c.smtp_tls = firewatch::config::SmtpTls::None;
    })
    .await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let r = admin
        .submit(
            "/admin/organizations/new",
            "/admin/organizations",
            &[("name", "Acme"), ("email_domains", "acme.example")],
        )
        .await;
    assert_eq!(r.status, 303);
    // CR/LF hidden in encoded words of the sender's name and the subject.
    let raw = concat!(
        "From: =?UTF-8?Q?Eve=0D=0ABcc:_victim@evil.example?= <eve@acme.example>\r\n",
        "Subject: =?UTF-8?Q?Hi=0D=0ABcc:_victim2@evil.example?=\r\n",
        "Message-ID: <inject-1@acme.example>\r\n",
        "\r\n",
        "Hello.\r\n",
    );
    let v = post_mail(&app, raw).await;
    assert_eq!(field(&v, "status"), "accepted", "{v}");
    let agent = login_as(&app, "support", "sam@example.com").await;
    assert_eq!(reply(&agent, "INC-1", "We will look.").await.status, 303);

    let got = crate::mail::smtp_sink(port).await;
    let r = crate::mail::run_jobs(&app).await;
    assert!(r.mails_sent >= 1, "{r:?}");
    let mails = got.lock().map(|g| g.clone()).unwrap_or_default();
    let to_eve: Vec<&String> = mails.iter().filter(|m| m.contains("eve@acme.example")).collect();
    assert_eq!(to_eve.len(), 2, "the acknowledgement and the reply: {mails:#?}");
    for m in &mails {
        assert!(!m.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "no injected header: {m}");
    }
    for m in &to_eve {
        assert!(m.contains("Hi Bcc: victim2@evil.example"), "the subject stays on one line: {m}");
    }
});

both!(a_message_too_long_for_a_comment_is_kept_whole_as_message_txt, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    // 130 KB of log lines, more than the 100 KB a comment holds; the last line must survive.
    let mut text: String = (0..3300).map(|i| format!("line {i:05}: the export timed out again\n")).collect();
    text.push_str("LAST LINE OF THE LOG");
    assert!(text.len() > 120 * 1024);
    let raw = mail("cora@example.com", "Export log", "long-1@example.com", "", &text);
    let v = post_mail(&app, &raw).await;
    assert_eq!((field(&v, "status"), field(&v, "incident")), ("accepted", "INC-1"), "{v}");
    let page = incident(&customer, "INC-1").await;
    assert!(page.contains("the whole text is attached as message.txt"), "{}", page.body);
    assert!(!page.contains("LAST LINE OF THE LOG"), "the description is shortened");
    let href = "/incidents/INC-1/attachments/1";
    assert!(page.contains(href) && page.contains("message.txt"), "{}", page.body);
    let file = customer.get(href).await;
    assert_eq!(file.status, 200);
    assert!(file.header("content-disposition").contains("message.txt"));
    assert!(file.body.starts_with("line 00000") && file.body.trim_end().ends_with("LAST LINE OF THE LOG"));
    assert_eq!(file.body.trim_end().len(), text.len(), "nothing of the text is lost");

    // A reply as long goes to its comment, with its own message.txt.
    let reply = mail("cora@example.com", "Re: [INC-1] Export log", "long-2@example.com", "", &text);
    assert_eq!(field(&post_mail(&app, &reply).await, "outcome"), "replied");
    let page = incident(&customer, "INC-1").await;
    assert!(page.contains("/incidents/INC-1/attachments/2"), "{}", page.body);
    assert_eq!(customer.get("/incidents/INC-1/attachments/2").await.body.trim_end().len(), text.len());
});

//! Issue 12: mail never carries internal notes to customers, and every notification is checked
//! against its recipient's access when it is queued and again when it is sent.

use crate::both;
use crate::inbound::{field, last_mail_id_to, mail, post_mail, with_token};
use crate::incidents::{act, between, customer_in, incident, organization, quick, reply, service, set_sharing};
use crate::support::*;
use firewatch::db::models::OutboxMessage;

/// Cora, a customer of the organization Acme, signed in.
async fn cora_at_acme(app: &TestApp, admin: &Browser) -> Browser {
    let acme = organization(admin, "Acme", false).await;
    customer_in(app, admin, "Cora", "cora@acme.example", &acme).await
}

/// Every outgoing mail to `to`, newest first.
pub(crate) async fn mails_to(app: &TestApp, to: &str) -> Vec<OutboxMessage> {
    let state = app.state.clone();
    let to = to.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let all = firewatch::db::outbox::list(&mut conn, None, None, 500).expect("outbox");
        all.into_iter().filter(|m| m.to_address == to).collect()
    })
    .await
    .expect("join")
}

both!(staff_replies_to_staff_only_mail_become_internal_notes, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let lead = crate::incidents::login_as(&app, "devops", "dora@example.com").await;
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    let r =
        act(&lead, &key, "/comments", &[("body", "SECRET-ROOT-CAUSE in billing db"), ("visibility", "internal")]).await;
    assert_eq!(r.status, 303);

    // The internal-note mail threads apart from the customer's thread.
    let note_mail = last_mail_id_to(&app, "sam@example.com").await;
    assert!(note_mail.starts_with("<internal-1."), "{note_mail}");
    let customer_mails = mails_to(&app, "cora@acme.example").await;
    assert!(customer_mails.iter().all(|m| !m.body_text.contains("SECRET-ROOT-CAUSE")));
    assert!(customer_mails.iter().all(|m| m.message_id.starts_with("<incident-")));

    // Sam answers it by mail; Outlook's header block keeps the note below his text unquoted.
    let answer = mail(
        "Sam <sam@example.com>",
        &format!("RE: [{key}] Internal note: Portal shows an error"),
        "sam-1@example.com",
        &format!("In-Reply-To: {note_mail}\r\nReferences: {note_mail}\r\n"),
        "Agreed, restarting the billing workers.\r\n\r\nFrom: Firewatch <help@firewatch.test>\r\nSent: Monday, March 2, 2026 9:00 AM\r\nTo: Sam <sam@example.com>\r\nSubject: [INC-1] Internal note\r\n\r\nSECRET-ROOT-CAUSE in billing db\r\n",
    );
    let v = post_mail(&app, &answer).await;
    assert_eq!((field(&v, "status"), field(&v, "outcome")), ("accepted", "noted"), "{v}");
    let staff_view = incident(&agent, &key).await;
    assert!(staff_view.contains("Agreed, restarting the billing workers."));
    let customer_view = incident(&customer, &key).await;
    assert!(!customer_view.contains("restarting the billing workers"), "the customer never sees it");
    assert!(!customer_view.contains("SECRET-ROOT-CAUSE"));
    app.run_jobs().await;
    let customer_mails = mails_to(&app, "cora@acme.example").await;
    assert!(
        customer_mails.iter().all(|m| !m.body_text.contains("billing") && !m.body_html.contains("billing")),
        "no mail to the customer carries the note or the answer"
    );

    // A reference we cannot place (a colleague's forward) with the subject tag: internal too.
    let unknown = mail(
        "sam@example.com",
        &format!("Re: [{key}] Portal"),
        "sam-2@example.com",
        "In-Reply-To: <somewhere-else-17@mail.example.org>\r\n",
        "Checked with the DBA.",
    );
    assert_eq!(field(&post_mail(&app, &unknown).await, "outcome"), "noted");
    assert!(!incident(&customer, &key).await.contains("Checked with the DBA."));

    // A staff reply to what the customer saw (a public reply Sam got as a watcher) is public.
    assert_eq!(act(&agent, &key, "/watch", &[("watch", "on")]).await.status, 303);
    assert_eq!(reply(&customer, &key, "Still broken here.").await.status, 303);
    let public_mail = last_mail_id_to(&app, "sam@example.com").await;
    assert!(public_mail.starts_with("<incident-1."), "{public_mail}");
    let public = mail(
        "sam@example.com",
        &format!("Re: [{key}] New reply"),
        "sam-3@example.com",
        &format!("In-Reply-To: {public_mail}\r\nReferences: {note_mail} {public_mail}\r\n"),
        "Please try again now.",
    );
    // Its references include the staff-only note: ambiguous, so internal.
    assert_eq!(field(&post_mail(&app, &public).await, "outcome"), "noted");
    let clean = mail(
        "sam@example.com",
        &format!("Re: [{key}] New reply"),
        "sam-4@example.com",
        &format!("In-Reply-To: {public_mail}\r\nReferences: {public_mail}\r\n"),
        "Please try again now.",
    );
    assert_eq!(field(&post_mail(&app, &clean).await, "outcome"), "replied");
    assert!(incident(&customer, &key).await.contains("Please try again now."));
});

both!(notifications_recheck_each_recipient_when_queued_and_when_sent, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let acme = organization(&admin, "Acme", true).await;
    let alice = customer_in(&app, &admin, "Alice", "alice@acme.example", &acme).await;
    let bob = customer_in(&app, &admin, "Bob", "bob@acme.example", &acme).await;
    let key = quick(&alice, &svc, "Acme cannot log in").await;
    assert_eq!(act(&bob, &key, "/watch", &[("watch", "on")]).await.status, 303);
    let agent = app.signed_in("support").await;

    assert_eq!(reply(&agent, &key, "First answer").await.status, 303);
    let queued = mails_to(&app, "bob@acme.example").await;
    assert_eq!(queued.len(), 1, "Bob watches and may see it");
    assert_eq!(queued[0].status, "queued");

    // Acme stops sharing before the mail goes out: Bob's mail is not sent.
    set_sharing(&admin, &acme, "Acme", false).await;
    app.run_jobs().await;
    let after = mails_to(&app, "bob@acme.example").await;
    assert_eq!(after[0].status, "failed", "{:?}", after[0].last_error);
    assert!(after[0].last_error.contains("not sent"), "{}", after[0].last_error);
    assert!(after[0].sent_at.is_none());
    // Alice, the reporter, still gets hers.
    assert!(mails_to(&app, "alice@acme.example").await.iter().all(|m| m.status == "sent"));

    // New replies are not even queued for him.
    assert_eq!(reply(&agent, &key, "Second answer").await.status, 303);
    assert_eq!(mails_to(&app, "bob@acme.example").await.len(), 1, "nothing new for Bob");

    // A deactivated reporter gets nothing that was queued before.
    assert_eq!(reply(&agent, &key, "Third answer").await.status, 303);
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use firewatch::db::schema::users;
        let mut conn = state.db.get().expect("conn");
        diesel::update(users::table.filter(users::email.eq("alice@acme.example")))
            .set(users::active.eq(false))
            .execute(&mut *conn)
            .expect("deactivate");
    })
    .await
    .expect("join");
    app.run_jobs().await;
    let hers = mails_to(&app, "alice@acme.example").await;
    assert!(hers[0].last_error.contains("deactivated"), "{:?}", hers[0].last_error);
    assert!(hers[0].sent_at.is_none());
});

both!(ambiguous_or_malformed_mail_is_refused_never_filed_and_never_500, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let _ = crate::incidents::login_as(&app, "admin", "root@example.com").await;

    let cases = [
        ("From: mallory@evil.example\r\nFrom: root@example.com\r\n", "more than one From"),
        ("From: root@example.com, mallory@evil.example\r\n", "more than one author"),
        ("From: root@example.com\r\nSubject: second\r\n", "more than one Subject"),
        ("From: root@example.com\r\nMessage-ID: <again@x.example>\r\n", "more than one Message-ID"),
        ("From: root@example.com\r\nIn-Reply-To: <a@x>\r\nIn-Reply-To: <b@x>\r\n", "more than one In-Reply-To"),
        ("From: root\0@example.com\r\n", "control characters"),
    ];
    for (i, (headers, why)) in cases.iter().enumerate() {
        let raw = format!(
            "{headers}Subject: Re: [{key}] close this\r\nMessage-ID: <spoof-{i}@x.example>\r\nContent-Type: text/plain\r\n\r\nSPOOFED-{i}\r\n"
        );
        let (status, v) = crate::inbound::post_mail_with(&app, Some(crate::inbound::TOKEN), &raw).await;
        assert_eq!(status, 422, "{why}: {v}");
        assert_eq!(field(&v, "status"), "refused", "{v}");
        assert!(field(&v, "reason").contains(why), "{why}: {v}");
        assert!(!incident(&customer, &key).await.contains(&format!("SPOOFED-{i}")));
    }
    let listed = admin.get("/admin/inbound?status=refused").await;
    assert!(listed.contains("more than one From"), "the reason is listed for the admin");

    // A NUL in the subject is cleaned, not stored, and never a 500 (PostgreSQL refuses NULs).
    let nul = "From: cora@acme.example\r\nSubject: Printer\0 jammed\r\nMessage-ID: <nul-1@x.example>\r\n\r\nPaper\0 stuck.\r\n";
    let (status, v) = crate::inbound::post_mail_with(&app, Some(crate::inbound::TOKEN), nul).await;
    assert_eq!((status, field(&v, "status")), (200, "accepted"), "{v}");
    let page = incident(&customer, field(&v, "incident")).await;
    assert!(page.contains("Paper stuck.") && page.contains("Printer jammed"), "{}", page.body);

    // Tens of thousands of References: answered at once, matched by the newest ones.
    let agent = app.signed_in("support").await;
    assert_eq!(reply(&agent, &key, "Try turning it off and on.").await.status, 303);
    let ours = crate::inbound::last_mail_id_to(&app, "cora@acme.example").await;
    let mut refs: Vec<String> = (0..40_000).map(|n| format!("<old-{n}@x.example>")).collect();
    refs.push(ours);
    let huge = mail(
        "cora@acme.example",
        "Re: Printer",
        "huge-1@x.example",
        &format!("References: {}\r\n", refs.join(" ")),
        "Now it works.",
    );
    let started = std::time::Instant::now();
    let (status, v) = crate::inbound::post_mail_with(&app, Some(crate::inbound::TOKEN), &huge).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(field(&v, "outcome"), "replied", "{v}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());

    // The same Message-ID with the domain in another case is the same message.
    let first = mail("cora@acme.example", "Toner", "Case-1@Mail.Example.COM", "", "Toner low.");
    assert_eq!(field(&post_mail(&app, &first).await, "status"), "accepted");
    let again = mail("cora@acme.example", "Toner", "Case-1@mail.example.com", "", "Toner low.");
    assert_eq!(field(&post_mail(&app, &again).await, "status"), "duplicate");

    // Mailing lists from strangers and out-of-office replies are refused.
    let list = mail(
        "news@lists.example",
        "Weekly digest",
        "list-1@x.example",
        "List-Id: <weekly.lists.example>\r\nList-Unsubscribe: <mailto:u@lists.example>\r\n",
        "News",
    );
    assert!(field(&post_mail(&app, &list).await, "reason").contains("mailing-list"));
    let ooo = mail("cora@acme.example", "Automatic reply: Printer", "ooo-1@x.example", "", "I am away.");
    assert!(field(&post_mail(&app, &ooo).await, "reason").contains("automatic"));
    let prec = mail("cora@acme.example", "Printer", "prec-1@x.example", "Precedence: list (Acme staff)\r\n", "x");
    assert!(field(&post_mail(&app, &prec).await, "reason").contains("Precedence"));
    let suppress = mail("cora@acme.example", "Printer", "sup-1@x.example", "X-Auto-Response-Suppress: All\r\n", "x");
    assert_eq!(field(&post_mail(&app, &suppress).await, "status"), "refused");
});

both!(authentication_results_are_required_when_configured, |app| {
    let app = with_token(app, |c| c.inbound_authserv_id = Some("mx.firewatch.test".into())).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let forged = mail(
        "cora@acme.example",
        "Printer",
        "ar-1@x.example",
        "Authentication-Results: mx.firewatch.test; spf=fail smtp.mailfrom=acme.example; dmarc=fail\r\nAuthentication-Results: evil.example; spf=pass; dmarc=pass\r\n",
        "Please delete my account.",
    );
    let v = post_mail(&app, &forged).await;
    assert_eq!(field(&v, "status"), "review", "{v}");
    assert!(field(&v, "reason").contains("SPF or DMARC"), "{v}");
    let genuine = mail(
        "cora@acme.example",
        "Printer",
        "ar-2@x.example",
        "Authentication-Results: mx.firewatch.test; spf=pass smtp.mailfrom=acme.example; dmarc=pass header.from=acme.example\r\n",
        "The printer is jammed.",
    );
    let v = post_mail(&app, &genuine).await;
    assert_eq!(field(&v, "status"), "accepted");
    let key = field(&v, "incident").to_string();

    // A staff member's unauthenticated mail waits in review; added by an admin, it is internal.
    let _sam_account = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let staff = mail("sam@example.com", "Re: Printer", "ar-3@x.example", "", "SAM-INTERNAL-ANSWER");
    let v = post_mail(&app, &staff).await;
    assert_eq!(field(&v, "status"), "review", "{v}");
    let queue = admin.get("/admin/inbound?status=review").await;
    let id = between(&queue.body, "href=\"/admin/inbound/", "\"").to_string();
    let path = format!("/admin/inbound/{id}");
    assert!(admin.get(&path).await.contains("SAM-INTERNAL-ANSWER"));
    let ok = admin.submit(&path, &path, &[("action", "add"), ("key", &key)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(incident(&admin, &key).await.contains("SAM-INTERNAL-ANSWER"));
    assert!(
        !incident(&customer, &key).await.contains("SAM-INTERNAL-ANSWER"),
        "staff mail added from review is internal"
    );
});

both!(plain_text_mail_is_shown_as_text_not_markdown, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let body = "Crash:\r\n<NullPointerException> in <postmaster@acme.example>\r\n# not a heading\r\n<config><debug>true</debug></config>\r\n*not emphasis*";
    let v = post_mail(&app, &mail("cora@acme.example", "Crash", "plain-1@x.example", "", body)).await;
    let key = field(&v, "incident").to_string();
    let page = incident(&customer, &key).await;
    assert!(page.contains("&lt;NullPointerException&gt; in &lt;postmaster@acme.example&gt;"), "{}", page.body);
    assert!(page.contains("# not a heading"), "a # line stays text");
    assert!(page.contains("&lt;config&gt;&lt;debug&gt;true&lt;/debug&gt;&lt;/config&gt;"));
    assert!(page.contains("*not emphasis*"));
    assert!(page.contains("Crash:<br>"), "line breaks are kept");
    // A reply by mail is text too; a reply typed in the form is still Markdown.
    assert_eq!(reply(&customer, &key, "**typed** in the form").await.status, 303);
    let page = incident(&customer, &key).await;
    assert!(page.contains("<strong>typed</strong> in the form"));
    let again = mail("cora@acme.example", &format!("Re: [{key}] Crash"), "plain-2@x.example", "", "<still> broken");
    assert_eq!(field(&post_mail(&app, &again).await, "outcome"), "replied");
    assert!(incident(&customer, &key).await.contains("&lt;still&gt; broken"));
});

/// The .eml files the delivery job wrote (no SMTP host in tests), by name.
fn delivered(app: &TestApp) -> Vec<(String, String)> {
    let dir = app.dir.path().join("mail");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

both!(outgoing_mail_is_marked_automatic_and_mail_caused_replies_say_so, |app| {
    let app = with_token(app, |_| {}).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let key = quick(&customer, &svc, "Portal shows an error").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    assert_eq!(act(&agent, &key, "/watch", &[("watch", "on")]).await.status, 303);
    assert_eq!(reply(&agent, &key, "Which browser?").await.status, 303);
    app.run_jobs().await;
    let to_customer = delivered(&app);
    let (_, first) = to_customer.iter().find(|(n, _)| n.ends_with("public_reply.eml")).expect("reply mailed");
    assert!(first.contains("Auto-Submitted: auto-generated"), "{first}");
    assert!(first.contains("X-Auto-Response-Suppress: All"), "{first}");

    // Cora answers by mail: Sam's notification of it is a reply caused by mail.
    let ours = crate::inbound::last_mail_id_to(&app, "cora@acme.example").await;
    let answer =
        mail("cora@acme.example", "Re: Portal", "cora-1@x.example", &format!("In-Reply-To: {ours}\r\n"), "Firefox.");
    assert_eq!(field(&post_mail(&app, &answer).await, "outcome"), "replied");
    app.run_jobs().await;
    let to_sam = delivered(&app)
        .into_iter()
        .filter(|(_, m)| m.contains("sam@example.com") && m.contains("Firefox."))
        .collect::<Vec<_>>();
    assert_eq!(to_sam.len(), 1);
    assert!(to_sam[0].1.contains("Auto-Submitted: auto-replied"), "{}", to_sam[0].1);
});

both!(the_original_of_every_filed_mail_is_kept_for_staff_and_forgotten_after_the_retention, |app| {
    let app = with_token(app, |c| c.inbound_raw_days = 90).await;
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let customer = cora_at_acme(&app, &admin).await;
    let raw = mail("cora@acme.example", "Crash report", "orig-1@x.example", "X-Mailer: Odd/1.0\r\n", "It crashed.");
    let v = post_mail(&app, &raw).await;
    let key = field(&v, "incident").to_string();
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("Original mail"), "{}", page.body);
    let href = between(&page.body, "href=\"/incidents/INC-1/mail/", "\"");
    let path = format!("/incidents/{key}/mail/{href}");
    let file = agent.get(&path).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body, raw, "byte for byte as received");
    assert_eq!(file.header("content-type"), "message/rfc822");
    assert!(file.header("content-disposition").starts_with("attachment"));
    // Not for the customer, though it is her own incident.
    assert!(!incident(&customer, &key).await.contains("Original mail"));
    assert!(matches!(customer.get(&path).await.status, 403 | 404));

    // After the retention the original goes; the incident stays.
    app.advance(chrono::Duration::days(91));
    app.run_jobs().await;
    assert_eq!(agent.login("sam@example.com", PASSWORD).await.status, 303);
    assert_eq!(agent.get(&path).await.status, 404);
    assert!(!incident(&agent, &key).await.contains("Original mail"));
    assert!(incident(&agent, &key).await.contains("It crashed."));
});

both!(demo_data_shows_what_incoming_mail_becomes, |app| {
    let state = app.state.clone();
    let opts = firewatch::demo::DemoOptions { incidents: 20, seed: 7, password: Some(PASSWORD.into()) };
    tokio::task::spawn_blocking(move || firewatch::demo::load(&state, &opts).map(|_| ()).expect("demo data"))
        .await
        .expect("join");
    let admin = app.signed_in("admin").await;
    let refused = admin.get("/admin/inbound?status=refused").await;
    assert!(refused.contains("Please close all my incidents") && refused.contains("more than one From"));
    let accepted = admin.get("/admin/inbound?status=accepted").await;
    assert!(accepted.contains("Export job crashes every night"), "{}", accepted.body);
    let key = format!("INC-{}", between(&accepted.body, "/incidents/INC-", "\""));
    let page = incident(&admin, &key).await;
    assert!(page.contains("&lt;NullPointerException&gt;") || page.contains("Certificate"), "{}", page.body);
    assert!(page.contains("Original mail"));
});

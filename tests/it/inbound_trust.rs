//! Issue 12: mail never carries internal notes to customers, and every notification is checked
//! against its recipient's access when it is queued and again when it is sent.

use crate::both;
use crate::inbound::{field, last_mail_id_to, mail, post_mail, with_token};
use crate::incidents::{act, customer_in, incident, organization, quick, reply, service, set_sharing};
use crate::support::*;
use firewatch::db::models::OutboxMessage;

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
    let acme = organization(&admin, "Acme", false).await;
    let customer = customer_in(&app, &admin, "Cora", "cora@acme.example", &acme).await;
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

//! Each notifying event renders its own text and HTML template: its own wording and facts, the
//! [INC-n] subject, threading, a link back to the incident, times in the recipient's zone, and a
//! title with HTML special characters raw in the text part and escaped in the HTML part. Read
//! straight from the outbox, where each recipient has a row of their own.

use crate::both;
use crate::escalation::configure_tier;
use crate::incidents::{act, report, service};
use crate::support::*;
use firewatch::db::models::OutboxMessage;
use firewatch::service::RequestMeta;
use firewatch::service::admin_users::{self, By, UserInput};

const TITLE: &str = r#"Tom & "Jerry" <b>"#;
const TITLE_HTML: &str = "Tom &#38; &#34;Jerry&#34; &#60;b&#62;";

/// A user with a name and a time zone of their own, signed in.
async fn person(app: &TestApp, role: &str, email: &str, name: &str, tz: &str) -> Browser {
    let state = app.state.clone();
    let input = UserInput {
        email: email.into(),
        display_name: name.into(),
        role: role.into(),
        time_zone: tz.into(),
        password: PASSWORD.into(),
        password_confirm: PASSWORD.into(),
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || {
        admin_users::create(&state, &RequestMeta::default(), By::Operator, &input).expect("create user")
    })
    .await
    .expect("join");
    let b = app.browser();
    assert_eq!(b.login(email, PASSWORD).await.status, 303, "login {email}");
    b
}

pub(crate) async fn outbox(app: &TestApp) -> Vec<OutboxMessage> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.conn().expect("conn");
        firewatch::db::outbox::list(&mut conn, None, None, 1000).expect("outbox")
    })
    .await
    .expect("join")
}

async fn run_jobs(app: &TestApp) -> firewatch::jobs::JobReport {
    app.run_jobs().await
}

/// The one mail of this kind to this address.
fn mail<'a>(all: &'a [OutboxMessage], kind: &str, to: &str) -> &'a OutboxMessage {
    let found: Vec<&OutboxMessage> = all.iter().filter(|m| m.kind == kind && m.to_address == to).collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind} mail to {to}: {:#?}",
        all.iter().map(|m| (&m.kind, &m.to_address)).collect::<Vec<_>>()
    );
    found[0]
}

/// Both parts carry every needle.
fn says(m: &OutboxMessage, needles: &[&str]) {
    for n in needles {
        assert!(m.body_text.contains(n), "{} text lacks {n:?}:\n{}", m.kind, m.body_text);
        assert!(m.body_html.contains(n), "{} html lacks {n:?}:\n{}", m.kind, m.body_html);
    }
}

/// What every mail about incident 1 shares: subject, threading, the link back, the title raw in
/// text and escaped in HTML.
fn about_incident(app: &TestApp, m: &OutboxMessage) {
    assert!(m.subject.starts_with("[INC-1] ") && m.subject.ends_with(TITLE), "{}", m.subject);
    // Customer-facing mail and staff-only mail thread apart.
    let thread = if ["received", "public_reply", "resolved", "closed"].contains(&m.kind.as_str()) {
        "incident"
    } else {
        "internal"
    };
    assert_eq!(m.in_reply_to, format!("<{thread}-1@127.0.0.1>"), "{}", m.kind);
    assert!(
        m.message_id.starts_with(&format!("<{thread}-1.")) && m.message_id.ends_with("@127.0.0.1>"),
        "{}",
        m.message_id
    );
    says(m, &[&format!("{}/incidents/INC-1", app.base), "Open INC-1"]);
    assert!(m.body_text.contains(TITLE), "{}", m.body_text);
    assert!(!m.body_text.contains("&#"), "text is not escaped: {}", m.body_text);
    assert!(m.body_html.contains(TITLE_HTML), "{}", m.body_html);
    assert!(!m.body_html.contains(TITLE) && !m.body_html.contains("<b>"), "html is escaped: {}", m.body_html);
    says(m, &[&format!("{}/account/notifications", app.base), "You get this mail because"]);
}

both!(each_incident_event_mails_its_own_facts_in_the_recipients_zone, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    person(&app, "support", "sam@example.com", "Sam Agent", "Europe/Berlin").await;
    person(&app, "support", "nina@example.com", "Nina Night", "America/New_York").await;
    let lead = person(&app, "manager", "lee@example.com", "Lee Lead", "UTC").await;
    person(&app, "devops", "dana@example.com", "Dana Devops", "UTC").await;
    let t1 = configure_tier(&admin, &app, 1, "Tier 1 Support", &["sam@example.com", "nina@example.com"], &[]).await;
    assert_eq!(t1.status, 303, "{}", t1.body);
    let t2 = configure_tier(&admin, &app, 2, "Tier 2 DevOps", &["dana@example.com"], &["dana@example.com"]).await;
    assert_eq!(t2.status, 303, "{}", t2.body);
    let cora = person(&app, "customer", "cora@example.com", "Cora Customer", "Asia/Tokyo").await;

    // Created: high impact, medium urgency → SEV2, first response due in 30 minutes (24×7).
    let key = report(
        &cora,
        &[
            ("title", TITLE),
            ("description", "Card payments fail <since> 09:00"),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "medium"),
        ],
    )
    .await;
    assert_eq!(key, "INC-1");
    let sam_id = {
        let state = app.state.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.conn().expect("conn");
            firewatch::db::users::find_by_email(&mut conn, "sam@example.com").expect("q").expect("sam").id
        })
        .await
        .expect("join")
        .to_string()
    };
    assert_eq!(act(&lead, &key, "/assign", &[("assignee", &sam_id)]).await.status, 303);
    app.advance(chrono::Duration::minutes(24));
    assert_eq!(run_jobs(&app).await.sla_warnings, 1);
    let sam = app.browser();
    assert_eq!(sam.login("sam@example.com", PASSWORD).await.status, 303);
    let up = act(
        &sam,
        &key,
        "/escalate",
        &[("tier", "next"), ("reason", "needs_expertise"), ("reason_text", "card network timeouts")],
    )
    .await;
    assert_eq!(up.status, 303, "{}", up.body);
    let note =
        act(&sam, &key, "/comments", &[("body", "zebracorn: the certificate expired"), ("visibility", "internal")])
            .await;
    assert_eq!(note.status, 303);
    let dana = app.browser();
    assert_eq!(dana.login("dana@example.com", PASSWORD).await.status, 303);
    let reply = "Rolling back now & <soon> fixed";
    assert_eq!(act(&dana, &key, "/comments", &[("body", reply), ("visibility", "public")]).await.status, 303);
    for s in ["in_progress", "resolved"] {
        let r =
            act(&dana, &key, "/status", &[("status", s), ("resolution", "Renewed the <gateway> certificate")]).await;
        assert_eq!(r.status, 303, "{s}");
    }
    let cora = app.browser();
    assert_eq!(cora.login("cora@example.com", PASSWORD).await.status, 303);
    assert_eq!(act(&cora, &key, "/status", &[("status", "in_progress"), ("resolution", "")]).await.status, 303);

    let all = outbox(&app).await;
    for m in &all {
        about_incident(&app, m);
    }

    let created = mail(&all, "incident_created", "sam@example.com");
    says(created, &["New incident INC-1 in Tier 1 Support", "Reported by", "Cora Customer", "SEV2", "Payments"]);
    assert!(created.body_text.contains("Card payments fail <since> 09:00"));
    assert!(created.body_html.contains("Card payments fail &#60;since&#62; 09:00"));
    mail(&all, "incident_created", "nina@example.com");

    let assigned = mail(&all, "assigned", "sam@example.com");
    says(assigned, &["INC-1 is assigned to you", "Lee Lead", "assigned this incident to you"]);
    assert!(assigned.subject.starts_with("[INC-1] Assigned to you: "));

    // One SLA warning per recipient, each with the due time in their own zone.
    assert_eq!(all.iter().filter(|m| m.kind == "sla_warning").count(), 2);
    let warn_sam = mail(&all, "sla_warning", "sam@example.com");
    says(warn_sam, &["SLA warning on INC-1", "first response", "2026-03-02 10:30 CET"]);
    let warn_nina = mail(&all, "sla_warning", "nina@example.com");
    says(warn_nina, &["SLA warning on INC-1", "2026-03-02 04:30 EST"]);
    assert!(!warn_nina.body_text.contains("CET"));

    let escalated = mail(&all, "escalated", "dana@example.com");
    says(escalated, &["was escalated to Tier 2 DevOps", "Tier 1 Support", "by hand", "card network timeouts"]);
    assert!(escalated.body_text.contains("From Tier 1 Support to Tier 2 DevOps, by hand."), "{}", escalated.body_text);
    assert!(escalated.subject.starts_with("[INC-1] Escalated to Tier 2 DevOps: "));

    let note = mail(&all, "internal_note", "dana@example.com");
    says(note, &["Sam Agent added an internal note to INC-1", "zebracorn", "does not see this note"]);

    let reply_mail = mail(&all, "public_reply", "cora@example.com");
    says(reply_mail, &["Dana Devops replied on INC-1", "Dana Devops"]);
    assert!(reply_mail.body_text.contains(reply));
    assert!(reply_mail.body_html.contains("Rolling back now &#38; &#60;soon&#62; fixed"));

    // Resolved at 09:24 UTC; the automatic close comes 7 days later, shown in Tokyo time.
    let resolved = mail(&all, "resolved", "cora@example.com");
    says(resolved, &["INC-1 is resolved", "Dana Devops", "Reopen", "2026-03-09 18:24 JST"]);
    assert!(resolved.body_text.contains("Renewed the <gateway> certificate"));
    assert!(resolved.body_html.contains("Renewed the &#60;gateway&#62; certificate"));

    let reopened = mail(&all, "reopened", "dana@example.com");
    says(reopened, &["INC-1 was reopened", "Cora Customer", "reopened this incident"]);

    // The acknowledgement: the key and the first answer's due time, in her zone.
    let received = mail(&all, "received", "cora@example.com");
    says(received, &["We received your report INC-1", "first answer by", "2026-03-02 18:30 JST", "on its page"]);

    // The customer got the acknowledgement, the public reply and the resolution, nothing internal.
    let to_cora: Vec<&OutboxMessage> = all.iter().filter(|m| m.to_address == "cora@example.com").collect();
    assert_eq!(to_cora.len(), 3, "{to_cora:#?}");
    for m in to_cora {
        for secret in ["zebracorn", "SEV2", "Tier", "Severity", "Internal"] {
            assert!(!m.body_text.contains(secret) && !m.body_html.contains(secret), "{secret} in {}", m.kind);
        }
    }
});

both!(account_mails_carry_their_own_facts_in_the_users_zone, |app| {
    let admin = app.signed_in("admin").await;
    person(&app, "customer", "pia@example.com", "Pia Tanaka", "Asia/Tokyo").await;
    let list = admin.get("/admin/users?q=pia").await;
    let id = list
        .body
        .split("/admin/users/")
        .find_map(|s| s.split('"').next().filter(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())))
        .expect("id")
        .to_string();
    let made = admin.submit(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/reset-link"), &[]).await;
    assert_eq!(made.status, 200);

    let all = outbox(&app).await;
    let reset = mail(&all, "password_reset", "pia@example.com");
    assert_eq!(reset.subject, "Set your Firewatch password");
    assert_eq!(reset.in_reply_to, "", "account mail is not part of an incident thread");
    assert!(reset.message_id.starts_with("<account-"), "{}", reset.message_id);
    // Issued at 09:00 UTC, valid for an hour: 19:00 in Tokyo.
    says(reset, &["Hello Pia Tanaka", "expires at 2026-03-02 19:00 JST", "Set your password", "/password-reset/"]);
    says(reset, &["Mail about the security of your account is always sent."]);
    assert!(!reset.body_text.contains("/account/notifications"));
    assert!(!reset.body_html.contains("/account/notifications"));
    let link = reset.body_text.lines().find_map(|l| l.strip_prefix("Set your password: ")).expect("link line");
    assert!(link.starts_with(&format!("{}/password-reset/", app.base)), "{link}");
    assert!(reset.body_html.contains(&format!("href=\"{link}\"")), "{}", reset.body_html);
});

//! SLA clocks through the pages, with the injected clock.

use crate::both;
use crate::incidents::{act, detail, incident, login_as, report, row_keys, service};
use crate::support::*;
use chrono::Duration;

async fn staff_report(b: &Browser, svc: &str, title: &str, severity: &str) -> String {
    report(
        b,
        &[
            ("title", title),
            ("description", ""),
            ("service_id", svc),
            ("impact", "medium"),
            ("urgency", "medium"),
            ("severity", severity),
        ],
    )
    .await
}

both!(sev2_clocks_count_pause_and_stop, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let key = staff_report(&agent, &svc, "Checkout slow", "SEV2").await;
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "First response"), "due in 30 min");
    assert_eq!(detail(&page.body, "Resolution target"), "due in 8 h 0 min");

    app.advance(Duration::minutes(20));
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "First response"), "due in 10 min");
    // An internal note does not stop the first-response clock; a public reply does.
    assert_eq!(act(&agent, &key, "/comments", &[("body", "checking"), ("visibility", "internal")]).await.status, 303);
    assert_eq!(detail(&incident(&agent, &key).await.body, "First response"), "due in 10 min");
    assert_eq!(act(&agent, &key, "/comments", &[("body", "On it"), ("visibility", "public")]).await.status, 303);
    assert_eq!(detail(&incident(&agent, &key).await.body, "First response"), "met");

    // Waiting on the customer pauses the resolution clock.
    for s in ["triaged", "in_progress", "waiting_on_customer"] {
        assert_eq!(act(&agent, &key, "/status", &[("status", s), ("resolution", "")]).await.status, 303, "{s}");
    }
    assert_eq!(detail(&incident(&agent, &key).await.body, "Resolution target"), "paused, 7 h 40 min left");
    app.advance(Duration::hours(3));
    let agent = login_as(&app, "support", "back@example.com").await;
    assert_eq!(detail(&incident(&agent, &key).await.body, "Resolution target"), "paused, 7 h 40 min left");
    assert_eq!(act(&agent, &key, "/status", &[("status", "in_progress"), ("resolution", "")]).await.status, 303);
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "Resolution target"), "due in 7 h 40 min");
    // The queue shows the same due time.
    let queue = agent.get("/incidents").await;
    assert!(queue.contains("due in 7 h 40 min"), "{}", queue.body);

    // Past the target it is overdue.
    app.advance(Duration::hours(8));
    let agent = login_as(&app, "support", "later@example.com").await;
    assert_eq!(detail(&incident(&agent, &key).await.body, "Resolution target"), "overdue by 20 min");
});

both!(a_severity_change_retargets_from_the_start, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let agent = login_as(&app, "support", "agent2@example.com").await;
    let key = staff_report(&agent, &svc, "Search empty", "SEV4").await;
    app.advance(Duration::minutes(10));
    let page = incident(&agent, &key).await;
    let fields = [
        ("title", "Search empty"),
        ("service_id", svc.as_str()),
        ("impact", "medium"),
        ("urgency", "medium"),
        ("severity", "SEV1"),
        ("tags", ""),
    ];
    let _ = page;
    assert_eq!(act(&agent, &key, "/fields", &fields).await.status, 303);
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "First response"), "due in 5 min", "SEV1: 15 minutes from the start");
    assert_eq!(detail(&page.body, "Resolution target"), "due in 3 h 50 min");
});

both!(business_hours_skip_the_night, |app| {
    // The test clock starts Monday 2026-03-02 09:00 UTC; SEV3 uses business hours 09–17 UTC.
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    app.advance(Duration::hours(7));
    let agent = login_as(&app, "support", "agent3@example.com").await;
    let key = staff_report(&agent, &svc, "Invoice totals off", "SEV3").await;
    let page = incident(&agent, &key).await;
    // 16:00 Monday + 4 business hours = 12:00 Tuesday: 20 hours away.
    assert_eq!(detail(&page.body, "First response"), "due in 20 h 0 min");
});

both!(admins_edit_policies_calendars_and_organization_overrides, |app| {
    let admin = app.signed_in("admin").await;
    let page = admin.get("/admin/sla").await;
    assert_eq!(page.status, 200);
    let sev2 = page
        .body
        .split("/admin/sla/policies/")
        .nth(2)
        .and_then(|s| s.split('"').next())
        .expect("SEV2 policy id")
        .to_string();
    let bad = admin
        .submit(
            "/admin/sla",
            &format!("/admin/sla/policies/{sev2}"),
            &[("first_response_minutes", "600"), ("resolution_minutes", "abc"), ("calendar_id", "1")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Resolution is a number of minutes"));
    assert!(bad.contains("value=\"abc\""), "typed value kept");
    let ok = admin
        .submit(
            "/admin/sla",
            &format!("/admin/sla/policies/{sev2}"),
            &[
                ("first_response_minutes", "45"),
                ("resolution_minutes", "600"),
                ("calendar_id", "1"),
                ("auto_escalate", "on"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);

    let cal = admin
        .submit(
            "/admin/sla/calendars/2",
            "/admin/sla/calendars/2",
            &[("name", "Office"), ("time_zone", "Europe/Berlin"), ("d0", "9-5")],
        )
        .await;
    assert_eq!(cal.status, 422);
    assert!(cal.contains("is not opening hours like 09:00-17:00"));

    // An organization with its own SEV2 policy.
    let org = admin
        .submit("/admin/organizations/new", "/admin/organizations", &[("name", "Acme"), ("email_domains", "")])
        .await;
    let org_id = org.location().rsplit('/').next().unwrap_or_default().to_string();
    let added =
        admin.submit("/admin/sla", "/admin/sla/overrides", &[("organization_id", &org_id), ("severity", "SEV2")]).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let again =
        admin.submit("/admin/sla", "/admin/sla/overrides", &[("organization_id", &org_id), ("severity", "SEV2")]).await;
    assert_eq!(again.status, 422);
    let page = admin.get("/admin/sla").await;
    let acme_policy = page
        .body
        .split("/admin/sla/policies/")
        .last()
        .and_then(|s| s.split('"').next())
        .expect("override id")
        .to_string();
    assert!(page.contains("Acme"));
    let set = admin
        .submit(
            "/admin/sla",
            &format!("/admin/sla/policies/{acme_policy}"),
            &[("first_response_minutes", "5"), ("resolution_minutes", "60"), ("calendar_id", "1")],
        )
        .await;
    assert_eq!(set.status, 303);

    let svc = service(&admin, "Portal").await;
    let agent = login_as(&app, "support", "agent4@example.com").await;
    let acme_user = "buyer@acme.example";
    let made = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("display_name", "Buyer"),
                ("email", acme_user),
                ("role", "customer"),
                ("organization_id", &org_id),
                ("time_zone", "UTC"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(made.status, 303);
    let acme = app.browser();
    acme.login(acme_user, PASSWORD).await;
    let k1 = report(
        &acme,
        &[
            ("title", "Portal down"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "medium"),
        ],
    )
    .await;
    assert_eq!(detail(&incident(&agent, &k1).await.body, "First response"), "due in 5 min", "Acme's own SEV2 policy");
    let k2 = staff_report(&agent, &svc, "Portal slow", "SEV2").await;
    assert_eq!(detail(&incident(&agent, &k2).await.body, "First response"), "due in 45 min", "the edited default");

    // The queue sorts by the soonest resolution due.
    let due = agent.get("/incidents?sort=due").await;
    assert_eq!(row_keys(&due.body), vec![k1.clone(), k2.clone()]);

    let support = app.signed_in("support").await;
    assert_eq!(support.get("/admin/sla").await.status, 403);
});

async fn run_jobs(app: &TestApp) -> firewatch::jobs::JobReport {
    app.run_jobs().await
}

/// Every message the outbox holds (queued, written or sent).
pub(crate) async fn outbox(app: &TestApp) -> Vec<firewatch::db::models::OutboxMessage> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.conn().expect("conn");
        firewatch::db::outbox::list(&mut conn, None, None, 1000).expect("outbox")
    })
    .await
    .expect("join")
}

/// The mails of this kind to this address.
pub(crate) fn mails_to<'a>(
    all: &'a [firewatch::db::models::OutboxMessage],
    kind: &str,
    to: &str,
) -> Vec<&'a firewatch::db::models::OutboxMessage> {
    all.iter().filter(|m| m.kind == kind && m.to_address == to).collect()
}

/// (warnings, breaches, escalations) of one run of the jobs.
async fn sla_run(app: &TestApp) -> (usize, usize, usize) {
    let r = run_jobs(app).await;
    (r.sla_warnings, r.sla_breaches, r.escalations)
}

/// Tier 2 with `oncall@example.com` as its member and on-call person; Tier 1 with
/// `tier1@example.com`, who hears the warnings.
async fn staff_the_tiers(app: &TestApp, admin: &Browser) {
    app.user("devops", "oncall@example.com").await;
    app.user("support", "tier1@example.com").await;
    let saved = crate::escalation::configure_tier(
        admin,
        app,
        2,
        "Tier 2 DevOps",
        &["oncall@example.com"],
        &["oncall@example.com"],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let saved = crate::escalation::configure_tier(admin, app, 1, "Tier 1 Support", &["tier1@example.com"], &[]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
}

both!(a_breached_sev2_warns_then_escalates_to_the_on_call_person, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    staff_the_tiers(&app, &admin).await;
    let customer = login_as(&app, "customer", "payer@example.com").await;
    // high impact + medium urgency → P2 → SEV2: 30 min first response, 24×7.
    let key = report(
        &customer,
        &[
            ("title", "Payments failing"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "medium"),
        ],
    )
    .await;

    assert_eq!(sla_run(&app).await, (0, 0, 0), "nothing due yet");
    app.advance(chrono::Duration::minutes(24));
    let r = run_jobs(&app).await;
    assert_eq!(r.sla_warnings, 1, "80 % of 30 minutes");
    let all = outbox(&app).await;
    let warned = mails_to(&all, "sla_warning", "tier1@example.com");
    assert_eq!(warned.len(), 1, "Tier 1 hears the warning once");
    assert!(warned[0].subject.contains(&format!("[{key}] SLA warning (first response)")), "{}", warned[0].subject);
    assert!(
        warned[0].body_text.contains("The first response target of")
            && warned[0].body_text.contains("is due at 2026-03-02 09:30 UTC"),
        "{}",
        warned[0].body_text
    );
    assert_eq!(run_jobs(&app).await.sla_warnings, 0, "warned once");

    app.advance(chrono::Duration::minutes(7));
    let r = run_jobs(&app).await;
    assert_eq!((r.sla_breaches, r.escalations), (1, 1));
    let all = outbox(&app).await;
    let told = mails_to(&all, "escalated", "oncall@example.com");
    assert_eq!(told.len(), 1, "the on-call person hears of the automatic escalation");
    assert!(told[0].subject.contains("Escalated to Tier 2 DevOps: Payments failing"), "{}", told[0].subject);
    assert!(
        told[0].body_text.contains("From Tier 1 Support to Tier 2 DevOps, automatically by Firewatch.")
            && told[0].body_text.contains("First response target breached"),
        "{}",
        told[0].body_text
    );
    assert_eq!(mails_to(&all, "sla_breach", "tier1@example.com").len(), 1, "the breach is mailed too");
    let agent = login_as(&app, "support", "watcher@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("SLA warning: first response due"), "{}", page.body);
    assert!(page.contains("SLA breached: first response target passed at 2026-03-02 09:30 UTC"));
    assert!(page.contains("Escalated (automatic) from Tier 1 Support to Tier 2 DevOps (SLA target breached: First response target breached)"));
    assert_eq!(detail(&page.body, "Tier"), "Tier 2 DevOps");
    assert_eq!(detail(&page.body, "Assignee"), "Test devops");
    assert_eq!(run_jobs(&app).await.escalations, 0, "a breach escalates once");
    // The customer (signed in again: 31 idle minutes ended the session) sees none of it.
    let customer = app.browser();
    assert_eq!(customer.login("payer@example.com", PASSWORD).await.status, 303);
    let seen = incident(&customer, &key).await;
    assert!(!seen.contains("SLA") && !seen.contains("Escalated"));
    assert!(
        outbox(&app).await.iter().all(|m| m.to_address != "payer@example.com" || m.kind != "sla_warning"),
        "no SLA mail to the customer"
    );
});

both!(without_automatic_escalation_the_breach_is_still_recorded, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    staff_the_tiers(&app, &admin).await;
    // The SEV2 policy without "escalate automatically" (the checkbox left off).
    let page = admin.get("/admin/sla").await;
    let sev2 = page
        .body
        .split("/admin/sla/policies/")
        .nth(2)
        .and_then(|s| s.split('"').next())
        .expect("SEV2 policy id")
        .to_string();
    let saved = admin
        .submit(
            "/admin/sla",
            &format!("/admin/sla/policies/{sev2}"),
            &[("first_response_minutes", "30"), ("resolution_minutes", "480"), ("calendar_id", "1")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let agent = login_as(&app, "support", "agent9@example.com").await;
    let key = staff_report(&agent, &svc, "Refunds stuck", "SEV2").await;
    app.advance(chrono::Duration::minutes(31));
    assert_eq!(sla_run(&app).await, (1, 1, 0), "warned and breached, not escalated");
    let agent = login_as(&app, "support", "agent10@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("SLA breached: first response target passed at 2026-03-02 09:30 UTC"), "{}", page.body);
    assert!(!page.contains("Escalated (automatic)"), "{}", page.body);
    assert_eq!(detail(&page.body, "Tier"), "Tier 1 Support");
    let all = outbox(&app).await;
    assert_eq!(mails_to(&all, "sla_breach", "tier1@example.com").len(), 1, "the breach is mailed");
    assert!(mails_to(&all, "escalated", "oncall@example.com").is_empty(), "nobody is paged");
    assert_eq!(sla_run(&app).await, (0, 0, 0), "and only once");
});

both!(a_later_target_after_a_severity_change_warns_breaches_and_escalates_again, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    staff_the_tiers(&app, &admin).await;
    let agent = login_as(&app, "support", "agent11@example.com").await;
    // SEV1: first response due at 09:15, warning at 09:12.
    let key = staff_report(&agent, &svc, "Card payments down", "SEV1").await;
    app.advance(chrono::Duration::minutes(16));
    assert_eq!(sla_run(&app).await, (1, 1, 1), "SEV1 warned, breached, escalated to Tier 2");
    // Triage lowers it to SEV2: first response now due at 09:30 (warning 09:24), after both marks.
    let agent = login_as(&app, "support", "agent12@example.com").await;
    let fields = [
        ("title", "Card payments down"),
        ("service_id", svc.as_str()),
        ("impact", "medium"),
        ("urgency", "medium"),
        ("severity", "SEV2"),
        ("tags", ""),
    ];
    assert_eq!(act(&agent, &key, "/fields", &fields).await.status, 303);
    assert_eq!(sla_run(&app).await, (0, 0, 0), "09:16: the new target is not near yet");
    app.advance(chrono::Duration::minutes(9));
    assert_eq!(sla_run(&app).await, (1, 0, 0), "09:25: the new target warns");
    app.advance(chrono::Duration::minutes(6));
    assert_eq!(sla_run(&app).await, (0, 1, 1), "09:31: it breaches and escalates again, to Tier 3");
    assert_eq!(sla_run(&app).await, (0, 0, 0), "once");
    let agent = login_as(&app, "support", "agent13@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("SLA breached: first response target passed at 2026-03-02 09:15 UTC"), "{}", page.body);
    assert!(page.contains("SLA breached: first response target passed at 2026-03-02 09:30 UTC"), "{}", page.body);
    assert_eq!(detail(&page.body, "Tier"), "Tier 3 Engineering");
    let all = outbox(&app).await;
    assert_eq!(mails_to(&all, "sla_warning", "tier1@example.com").len(), 1, "the SEV1 warning, in Tier 1");
    assert_eq!(
        mails_to(&all, "sla_warning", "oncall@example.com").len(),
        1,
        "the SEV2 warning, to Tier 2 where the incident is now"
    );

    // Raising it back to SEV1 moves the target earlier: what was recorded stands, nothing repeats.
    let agent = login_as(&app, "support", "agent14@example.com").await;
    let sev1 = [fields[0], fields[1], fields[2], fields[3], ("severity", "SEV1"), fields[5]];
    assert_eq!(act(&agent, &key, "/fields", &sev1).await.status, 303);
    assert_eq!(sla_run(&app).await, (0, 0, 0));
});

both!(resolved_incidents_close_after_seven_days, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Mail").await;
    let agent = login_as(&app, "support", "closer@example.com").await;
    let key = staff_report(&agent, &svc, "Mail delayed", "SEV4").await;
    for s in ["in_progress", "resolved"] {
        assert_eq!(act(&agent, &key, "/status", &[("status", s), ("resolution", "Queue drained")]).await.status, 303);
    }
    app.advance(chrono::Duration::days(6));
    assert_eq!(run_jobs(&app).await.auto_closed, 0);
    app.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    assert_eq!(run_jobs(&app).await.auto_closed, 1);
    let agent = login_as(&app, "support", "closer2@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("status-closed"));
    assert!(page.contains("<strong>Firewatch</strong>"), "closed by the system");
});

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

both!(a_breached_sev2_warns_then_escalates_to_the_on_call_person, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    app.user("devops", "oncall@example.com").await;
    let state = app.state.clone();
    let devops_id = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        firewatch::db::users::find_by_email(&mut conn, "oncall@example.com").expect("q").expect("user").id
    })
    .await
    .expect("join")
    .to_string();
    let saved = admin
        .submit(
            "/admin/tiers/2",
            "/admin/tiers/2",
            &[
                ("name", "Tier 2 DevOps"),
                ("members", &devops_id),
                ("rotation_enabled", "on"),
                ("shift_days", "7"),
                ("start_date", "2026-03-02"),
                ("rotation_emails", "oncall@example.com"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
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

    assert_eq!(run_jobs(&app).await, firewatch::jobs::JobReport::default(), "nothing due yet");
    app.advance(chrono::Duration::minutes(24));
    let r = run_jobs(&app).await;
    assert_eq!(r.sla_warnings, 1, "80 % of 30 minutes");
    assert_eq!(run_jobs(&app).await.sla_warnings, 0, "warned once");

    app.advance(chrono::Duration::minutes(7));
    let r = run_jobs(&app).await;
    assert_eq!((r.sla_breaches, r.escalations), (1, 1));
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

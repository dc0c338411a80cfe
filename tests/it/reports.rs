//! Issue 13: the management reports. So far: their written definitions.

use crate::both;

both!(report_definitions_are_written_down_for_staff_and_hidden_from_customers, |app| {
    for role in ["manager", "admin", "support", "devops", "sales"] {
        let b = app.signed_in(role).await;
        let page = b.get("/reports/definitions").await;
        assert_eq!(page.status, 200, "{role}");
        for term in ["MTTA", "MTTR", "Reopen rate", "SLA compliance", "Escalation rate", "Nearest rank", "never as 0"] {
            assert!(page.contains(term), "{role}: {term}");
        }
        assert!(page.contains("created</em> after the problem’s fix was released"));
    }
    let customer = app.signed_in("customer").await;
    let r = customer.get("/reports/definitions").await;
    assert!(matches!(r.status, 403 | 404), "{}", r.status);
    assert!(!r.contains("MTTA"));
});

/// The text of the cell marked `data-figure="name"`.
pub(crate) fn figure(html: &str, name: &str) -> String {
    let marker = format!("data-figure=\"{name}\">");
    let Some(after) = html.split(&marker).nth(1) else { return "(missing)".into() };
    // A linked figure: the link's text.
    let after = if after.starts_with("<a ") { after.split_once('>').map_or(after, |(_, rest)| rest) } else { after };
    after.split('<').next().unwrap_or("(missing)").to_string()
}

both!(response_and_resolution_figures_follow_their_definitions, |app| {
    let db = app.db;
    drop(app);
    let app = crate::support::TestApp::spawn_with(db, |c| c.session_idle_minutes = 24 * 60).await;
    let admin = app.signed_in("admin").await;
    let svc = crate::incidents::service(&admin, "Checkout").await;
    let customer = crate::incidents::login_as(&app, "customer", "cora@example.com").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let status = |key: String, s: &'static str| {
        let agent = agent.clone();
        async move {
            let r = crate::incidents::act(&agent, &key, "/status", &[("status", s), ("resolution", "Fixed")]).await;
            assert_eq!(r.status, 303, "{s}: {}", r.body);
        }
    };
    let min = chrono::Duration::minutes;
    // 09:00 A is reported; acknowledged (in progress) 10 min later, resolved at 11:00.
    let a = crate::incidents::quick(&customer, &svc, "Checkout fails").await;
    app.advance(min(10));
    status(a.clone(), "in_progress").await;
    // 10:00 B is reported; acknowledged 30 min later, resolved at 12:00, reopened at 13:00.
    app.advance(min(50));
    let b = crate::incidents::quick(&customer, &svc, "Checkout slow").await;
    app.advance(min(30));
    status(b.clone(), "in_progress").await;
    app.advance(min(30));
    status(a.clone(), "resolved").await;
    app.advance(min(60));
    status(b.clone(), "resolved").await;
    app.advance(min(60));
    status(b.clone(), "in_progress").await;
    // 14:00 C is reported and never acknowledged.
    app.advance(min(60));
    let _c = crate::incidents::quick(&customer, &svc, "Checkout odd").await;

    let manager = app.signed_in("manager").await;
    let page = manager.get("/reports/response?period=custom&from=2026-03-02&to=2026-03-02").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Recomputed by hand from the story above: acknowledgements 10 and 30 min; first
    // resolutions 2 h (A, 09:00→11:00) and 2 h (B, 10:00→12:00); B reopened afterwards.
    assert_eq!(figure(&page.body, "severity/all/acknowledged"), "2");
    assert_eq!(figure(&page.body, "severity/all/mtta_mean_s"), "20 min");
    assert_eq!(figure(&page.body, "severity/all/mtta_median_s"), "10 min", "nearest rank: ⌈0.5·2⌉ = 1st");
    assert_eq!(figure(&page.body, "severity/all/mtta_p90_s"), "30 min", "nearest rank: ⌈0.9·2⌉ = 2nd");
    assert_eq!(figure(&page.body, "severity/all/resolved"), "2");
    assert_eq!(figure(&page.body, "severity/all/mttr_mean_s"), "2 h 0 min");
    assert_eq!(figure(&page.body, "severity/all/mttr_p90_s"), "2 h 0 min");
    // Their policy counts business hours (Monday 09:00–17:00): the same two hours.
    assert_eq!(figure(&page.body, "severity/all/mttr_business_median_s"), "2 h 0 min");
    // Once that calendar runs around the clock there is no business-hours figure.
    let cal = admin
        .submit(
            "/admin/sla/calendars/2",
            "/admin/sla/calendars/2",
            &[("name", "Business hours"), ("always", "on"), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(cal.status, 303, "{}", cal.body);
    let around = manager.get("/reports/response?period=custom&from=2026-03-02&to=2026-03-02").await;
    assert_eq!(figure(&around.body, "severity/all/mttr_business_median_s"), "—");
    assert_eq!(figure(&around.body, "severity/all/mttr_mean_s"), "2 h 0 min");
    assert_eq!(figure(&page.body, "reopen-rate"), "50 %");
    assert_eq!(figure(&page.body, "reopen/all/reopened"), "1");
    // Nothing in the previous period: "—", never 0.
    assert_eq!(figure(&page.body, "mtta-median/previous"), "—");
    // The first resolution counts: B resolved again later would not move MTTR.
    app.advance(min(60));
    status(b.clone(), "resolved").await;
    let again = manager.get("/reports/response?period=custom&from=2026-03-02&to=2026-03-02").await;
    assert_eq!(figure(&again.body, "severity/all/mttr_mean_s"), "2 h 0 min");
    assert_eq!(figure(&again.body, "severity/all/resolved"), "2");
    // Another day shows nothing; a bad custom period says so and shows the last 30 days.
    let empty = manager.get("/reports/response?period=custom&from=2026-03-03&to=2026-03-03").await;
    assert_eq!(figure(&empty.body, "severity/all/mtta_mean_s"), "—");
    assert_eq!(figure(&empty.body, "reopen-rate"), "—");
    let bad = manager.get("/reports/response?period=custom&from=2026-03-05&to=2026-03-01").await;
    assert_eq!(bad.status, 200);
    assert!(bad.contains("The end date is before the start date."));
    // The overview's card shows the last 30 days, which hold the same incidents.
    let overview = manager.get("/reports").await;
    assert_eq!(overview.status, 200);
    assert_eq!(figure(&overview.body, "card-response-mttr-median"), "2 h 0 min");
    assert_eq!(figure(&overview.body, "card-response-mtta-median"), "10 min");
    assert_eq!(figure(&overview.body, "card-response-mttr-median-previous"), "—");
    assert_eq!(figure(&overview.body, "card-response-reopen-rate"), "50 %");
    assert!(overview.contains("href=\"/reports\""), "staff have Reports in the menu");
    // Customers never see it.
    for path in ["/reports", "/reports/response"] {
        assert!(matches!(customer.get(path).await.status, 403 | 404), "{path}");
    }
    assert!(!customer.get("/").await.contains("href=\"/reports\""), "nor a menu entry");
});

both!(report_figures_follow_every_change_at_once, |app| {
    let admin = app.signed_in("admin").await;
    let svc = crate::incidents::service(&admin, "Checkout").await;
    let customer = crate::incidents::login_as(&app, "customer", "cora@example.com").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let manager = app.signed_in("manager").await;
    let k = crate::incidents::quick(&customer, &svc, "Checkout fails").await;
    let rate = |manager: crate::support::Browser| async move {
        figure(&manager.get("/reports/response?period=7d").await.body, "reopen-rate")
    };
    assert_eq!(rate(manager.clone()).await, "—", "nothing resolved yet");
    for s in ["in_progress", "resolved"] {
        let r = crate::incidents::act(&agent, &k, "/status", &[("status", s), ("resolution", "Fixed")]).await;
        assert_eq!(r.status, 303);
    }
    assert_eq!(rate(manager.clone()).await, "0 %", "the resolution counts on the next view");
    app.advance(chrono::Duration::minutes(5));
    let r = crate::incidents::act(&customer, &k, "/status", &[("status", "in_progress"), ("resolution", "")]).await;
    assert_eq!(r.status, 303, "the customer reopens it: {}", r.body);
    assert_eq!(rate(manager.clone()).await, "100 %");
    // Moving it up a tier changes the escalation report at once too.
    let before = manager.get("/reports/escalations?period=7d").await;
    assert_eq!(figure(&before.body, "escalation-rate"), "0 %");
    let r = crate::incidents::act(
        &agent,
        &k,
        "/escalate",
        &[("tier", "next"), ("reason", "needs_expertise"), ("reason_text", "")],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(figure(&manager.get("/reports/escalations?period=7d").await.body, "escalation-rate"), "100 %");
    // The report keeps each incident's moves with its groups: moving the incident to another
    // service moves its escalation to that service's figures at once.
    let by = |s: &str| format!("/reports/escalations?period=7d&service={s}");
    assert_eq!(figure(&manager.get(&by(&svc)).await.body, "escalations"), "1");
    let other = crate::incidents::service(&admin, "Payments").await;
    crate::incidents::triage(&agent, &k, &[("service_id", other.as_str())]).await;
    assert_eq!(figure(&manager.get(&by(&other)).await.body, "escalations"), "1");
    assert_eq!(figure(&manager.get(&by(&svc)).await.body, "escalations"), "0");
});

// The SLA report reads stored clock outcomes; time passing with no change at all still turns a
// running clock into at risk, then breached, and makes a waiting incident's paused time grow.
both!(sla_figures_follow_the_clock_between_changes, |app| {
    let db = app.db;
    drop(app);
    let app = crate::support::TestApp::spawn_with(db, |c| c.session_idle_minutes = 24 * 60).await;
    let admin = app.signed_in("admin").await;
    let svc = crate::incidents::service(&admin, "Checkout").await;
    let customer = crate::incidents::login_as(&app, "customer", "cora@example.com").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    let manager = app.signed_in("manager").await;
    // SEV3: first response within 4 business hours (09:00–17:00 UTC); filed Monday 09:00.
    let k = crate::incidents::quick(&customer, &svc, "Checkout slow").await;
    let sla = |manager: crate::support::Browser| async move {
        let r = manager.get("/reports/sla?period=7d&format=json").await;
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap_or_default()
    };
    let headline = |v: &serde_json::Value, key: &str| {
        v["headlines"].as_array().and_then(|hs| hs.iter().find(|h| h["key"] == key)).map(|h| h["value"].clone())
    };
    let all = |v: &serde_json::Value, col: &str| {
        v["tables"].as_array().and_then(|ts| ts.iter().find(|t| t["key"] == "severity")).and_then(|t| {
            t["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["group"] == "All")).map(|r| r[col].clone())
        })
    };
    let s = sla(manager.clone()).await;
    assert_eq!(headline(&s, "at-risk"), Some(0.into()), "{s}");
    app.advance(chrono::Duration::minutes(200));
    let s = sla(manager.clone()).await;
    assert_eq!(headline(&s, "at-risk"), Some(1.into()), "past 80 % of the target at 12:12: {s}");
    assert_eq!(all(&s, "first_response_breached"), Some(0.into()), "no outcome yet: {s}");
    app.advance(chrono::Duration::minutes(60));
    let s = sla(manager.clone()).await;
    assert_eq!(headline(&s, "at-risk"), Some(0.into()));
    assert_eq!(all(&s, "first_response_breached"), Some(1.into()), "due at 13:00, nothing changed since: {s}");
    let breach = s["tables"].as_array().and_then(|ts| ts.iter().find(|t| t["key"] == "breaches")).cloned();
    let late = breach.as_ref().and_then(|t| t["rows"][0]["late_by_s"].as_i64());
    assert_eq!(late, Some(20 * 60), "late by 20 minutes so far: {breach:?}");
    for status in ["in_progress", "waiting_on_customer"] {
        let r = crate::incidents::act(&agent, &k, "/status", &[("status", status), ("resolution", "")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    app.advance(chrono::Duration::hours(2));
    assert_eq!(all(&sla(manager.clone()).await, "paused_s"), Some(7200.into()));
    app.advance(chrono::Duration::hours(1));
    assert_eq!(all(&sla(manager.clone()).await, "paused_s"), Some(10800.into()), "still waiting: paused time grows");
});

// Reports read packed facts (one row per kind and day). A pack that cannot be read is built
// again from the facts, and the figures stay what they were.
both!(damaged_fact_packs_are_rebuilt_and_figures_stay, |app| {
    use diesel::prelude::*;
    use firewatch::db::schema::fact_packs;
    let admin = app.signed_in("admin").await;
    let svc = crate::incidents::service(&admin, "Checkout").await;
    let customer = crate::incidents::login_as(&app, "customer", "cora@example.com").await;
    let agent = crate::incidents::login_as(&app, "support", "sam@example.com").await;
    for title in ["Checkout fails", "Checkout slow"] {
        let k = crate::incidents::quick(&customer, &svc, title).await;
        app.advance(chrono::Duration::minutes(20));
        for s in ["in_progress", "resolved"] {
            let r = crate::incidents::act(&agent, &k, "/status", &[("status", s), ("resolution", "Fixed")]).await;
            assert_eq!(r.status, 303);
        }
    }
    let manager = app.signed_in("manager").await;
    let path = "/reports/response?period=7d";
    let before = manager.get(path).await;
    assert_eq!(before.status, 200, "{}", before.body);
    let before = before.body;
    assert_eq!(figure(&before, "severity/all/resolved"), "2", "{before}");
    let state = app.state.clone();
    let damaged = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        diesel::update(fact_packs::table).set(fact_packs::facts.eq(vec![1u8, 200, 7])).execute(&mut *conn)
    })
    .await
    .expect("join")
    .expect("damage the packs");
    assert!(damaged >= 2, "created and resolved packs exist: {damaged}");
    let after = manager.get(path).await.body;
    for f in ["severity/all/resolved", "severity/all/mttr_mean_s", "severity/all/mtta_mean_s", "mttr-median", "backlog"]
    {
        assert_eq!(figure(&after, f), figure(&before, f), "{f}");
    }
    assert_eq!(figure(&after, "severity/all/mttr_mean_s"), "20 min");
});

//! Issue 13: the loop reports (recurrence, fix effectiveness, releases and changes,
//! self-service), who may read which report, the charts, and the queue filters reports link to.

use crate::both;
use crate::incidents::{act, login_as, quick, row_keys, service};
use crate::problems::problem_act;
use crate::releases::{approve_and_deploy, chain, post_on};
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeSet;

fn headline<'a>(json: &'a Value, key: &str) -> &'a Value {
    json["headlines"]
        .as_array()
        .and_then(|hs| hs.iter().find(|h| h["key"] == key))
        .map(|h| &h["value"])
        .unwrap_or(&Value::Null)
}

async fn json(b: &Browser, path: &str) -> Value {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    serde_json::from_str(&page.body).expect("json")
}

fn keys(body: &str) -> BTreeSet<String> {
    row_keys(body).into_iter().collect()
}

both!(the_loop_reports_count_recurrences_fixes_changes_and_self_service, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| c.session_idle_minutes = 60 * 24 * 60).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    // Two problems, each fixed by a release with a 7-day watch.
    let first = quick(&customer, &svc, "Checkout fails").await;
    let other = quick(&customer, &svc, "Checkout slow").await;
    let release_1 = chain(&devops, &first, &svc, "2026.3.1").await;
    let release_2 = chain(&devops, &other, &svc, "2026.3.2").await;
    for (p, inc) in [("PRB-1", &first), ("PRB-2", &other)] {
        let title = format!("Root cause of {inc}");
        let edit = [("title", title.as_str()), ("category", "code_defect"), ("watch_days", "7")];
        assert_eq!(post_on(&devops, &format!("/problems/{p}"), &format!("/problems/{p}"), &edit).await.status, 303);
    }
    app.advance(chrono::Duration::hours(1));
    approve_and_deploy(&app, &devops, &release_1).await;
    approve_and_deploy(&app, &devops, &release_2).await;

    // Release 1 causes an incident (a change failure).
    app.advance(chrono::Duration::hours(5));
    let suspect = quick(&customer, &svc, "Checkout broken after the update").await;
    let id = suspect.trim_start_matches("INC-");
    let r = post_on(&devops, &release_1, &format!("{release_1}/suspects/{id}"), &[("decision", "confirm")]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // A day later problem 1 recurs: a new incident, linked. An old one linked now is history.
    app.advance(chrono::Duration::days(1));
    // Sessions have an absolute lifetime too: sign in again.
    assert_eq!(customer.login("cora@example.com", PASSWORD).await.status, 303);
    assert_eq!(devops.login("dev@example.com", PASSWORD).await.status, 303);
    // Its reporter typed a spreadsheet formula as the title.
    let again = quick(&customer, &svc, "=HYPERLINK(\"http://evil.example\") Checkout fails again").await;
    assert_eq!(problem_act(&devops, "PRB-1", "/incidents", &[("incident", &again)]).await.status, 303);
    assert_eq!(problem_act(&devops, "PRB-1", "/incidents", &[("incident", &other)]).await.status, 303);

    // End users search the help centre for what it does not have; staff searches do not count.
    for q in ["refund policy", "zebra crossing"] {
        assert_eq!(customer.get(&format!("/help/search?q={}", q.replace(' ', "+"))).await.status, 200);
    }
    assert_eq!(devops.get("/help/search?q=internal+runbook").await.status, 200);

    // The watches end; problem 2's fix is verified, problem 1's recurred.
    app.advance(chrono::Duration::days(8));
    app.run_jobs().await;

    let manager = login_as(&app, "manager", "max@example.com").await;
    let bar = "period=custom&from=2026-03-02&to=2026-03-12";
    let rec = json(&manager, &format!("/reports/recurrence?{bar}&format=json")).await;
    assert_eq!(headline(&rec, "recurrences"), &Value::from(1), "only the incident created after the fix: {rec}");
    assert_eq!(headline(&rec, "fix-effectiveness"), &Value::from(0.5), "one verified, one recurred");
    assert_eq!(headline(&rec, "repeats"), &Value::from(0), "problem 1's first incident is in the period");
    let watch =
        rec["tables"].as_array().and_then(|t| t.iter().find(|t| t["key"] == "watch")).cloned().unwrap_or_default();
    let outcomes: BTreeSet<String> = watch["rows"]
        .as_array()
        .map(|rows| rows.iter().map(|r| r["outcome"].to_string()).collect())
        .unwrap_or_default();
    assert_eq!(outcomes, ["\"Recurred\"".to_string(), "\"Verified\"".to_string()].into_iter().collect());
    // On the day of the recurrence alone, it is also a repeat: its problem had an incident before.
    let day = json(&manager, "/reports/recurrence?period=custom&from=2026-03-03&to=2026-03-03&format=json").await;
    assert_eq!(headline(&day, "repeats"), &Value::from(1));
    assert_eq!(headline(&day, "recurrences"), &Value::from(1));
    // The figure links to exactly that incident.
    let page = manager.get(&format!("/reports/recurrence?{bar}")).await;
    let link = page
        .body
        .split("data-figure=\"recurrences\"><a href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default();
    let queue = manager.get(&html_unescape(link)).await;
    assert_eq!(keys(&queue.body), [again.clone()].into_iter().collect(), "{link}");

    // The incidents behind the figure as CSV: a formula is defused, never run by a spreadsheet.
    let csv = manager.get(&format!("/reports/recurrence?{bar}&format=csv&figure=headline%2Frecurrences")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.contains("'=HYPERLINK(") && csv.contains(&again), "{}", csv.body);
    let rel = json(&manager, &format!("/reports/releases?{bar}&format=json")).await;
    assert_eq!(headline(&rel, "deployed"), &Value::from(2));
    assert_eq!(headline(&rel, "change-failure-rate"), &Value::from(0.5));
    assert!(headline(&rel, "problem-to-fix").as_i64().is_some_and(|s| s > 0), "{rel}");

    let me = json(&manager, &format!("/reports/self-service?{bar}&format=json")).await;
    assert_eq!(headline(&me, "searches"), &Value::from(2), "staff searches are not counted");
    assert_eq!(headline(&me, "no-result"), &Value::from(1.0));
    assert_eq!(headline(&me, "helpful"), &Value::Null, "no votes: no figure, never 0");
    let page = manager.get(&format!("/reports/self-service?{bar}")).await;
    assert!(page.contains("zebra crossing") && !page.contains("internal runbook"), "{}", page.body);

    // Charts are drawn on the server, with a title and their numbers as a table.
    let page = manager.get(&format!("/reports/releases?{bar}&group=week")).await;
    assert!(
        page.contains("<svg class=\"chart-svg\"") && page.contains("<title id=\"chart-trend-t\">Deployments</title>")
    );
    assert!(page.contains("Deployments: the numbers"), "{}", page.body);
    assert!(page.contains("<option value=\"week\" selected>"));

    // Who reads what: sales the customer-facing reports, never escalations or recurrence.
    let sales = login_as(&app, "sales", "sal@example.com").await;
    assert_eq!(sales.get("/reports/sla").await.status, 200);
    for path in ["/reports/escalations", "/reports/recurrence"] {
        assert!(matches!(sales.get(path).await.status, 403 | 404), "{path}");
    }
    let overview = sales.get("/reports").await;
    assert!(overview.contains("href=\"/reports/sla\"") && !overview.contains("href=\"/reports/escalations\""));
    let overview = manager.get("/reports").await;
    for slug in ["escalations", "recurrence", "sla", "response", "releases", "self-service"] {
        assert!(overview.contains(&format!("href=\"/reports/{slug}\"")), "{slug}");
    }
    assert_eq!(manager.get("/reports/nonsense").await.status, 404);
    let customer = login_as(&app, "customer", "cora2@example.com").await;
    assert!(matches!(customer.get(&format!("/reports/releases?{bar}&format=json")).await.status, 403 | 404));
    // A customer's queue ignores a "counted by" filter rather than revealing what it counts.
    let theirs = customer.get(&format!("/incidents?report=recurrence&figure=headline%2Frecurrences&r_{bar}")).await;
    assert!(!theirs.contains("Showing the incidents counted by"));
});

both!(the_queue_filters_reports_link_to, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    let escalated = quick(&customer, &svc, "Search is down").await;
    let reopened = quick(&customer, &svc, "Search is slow").await;
    let quiet = quick(&customer, &svc, "Search looks odd").await;
    let r =
        act(&agent, &escalated, "/escalate", &[("tier", "next"), ("reason", "needs_expertise"), ("reason_text", "")])
            .await;
    assert_eq!(r.status, 303, "{}", r.body);
    for s in ["in_progress", "resolved", "in_progress"] {
        assert_eq!(
            act(&agent, &reopened, "/status", &[("status", s), ("resolution", "Fixed")]).await.status,
            303,
            "{s}"
        );
    }
    let keys_of = |path: &'static str| {
        let agent = agent.clone();
        async move { keys(&agent.get(path).await.body) }
    };
    assert_eq!(keys_of("/incidents?escalated=1").await, [escalated.clone()].into_iter().collect());
    assert_eq!(keys_of("/incidents?reopened=1").await, [reopened.clone()].into_iter().collect());
    assert_eq!(
        keys_of("/incidents?resolved_from=2026-03-02&resolved_to=2026-03-02").await,
        [reopened.clone()].into_iter().collect()
    );
    assert!(keys_of("/incidents?resolved_from=2026-03-03").await.is_empty(), "first resolved on the 2nd");
    // Two days on, the first-response targets of the unanswered incidents were breached.
    app.advance(chrono::Duration::days(2));
    app.run_jobs().await;
    let agent = login_as(&app, "support", "sam2@example.com").await;
    let late = keys(&agent.get("/incidents?breached=response").await.body);
    assert!(late.contains(&quiet), "{late:?}");
    // The breaches escalated the unanswered incidents automatically; filters combine.
    assert_eq!(keys(&agent.get("/incidents?escalated=1").await.body).len(), 3);
    let page = agent.get("/incidents?breached=response&reopened=1").await;
    assert_eq!(keys(&page.body), [reopened].into_iter().collect());
    assert!(
        page.contains("<option value=\"response\" selected>") && page.contains("name=\"reopened\" value=\"1\" checked")
    );
});

both!(readers_who_opt_in_get_the_weekly_summary_on_monday_morning, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| c.session_idle_minutes = 30 * 24 * 60).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    let page = manager.get("/account/notifications").await;
    assert!(page.contains("Weekly report summary") && !page.contains("name=\"weekly_report\" value=\"on\" checked"));
    let r = manager.submit("/account/notifications", "/account/notifications", &[("weekly_report", "on")]).await;
    assert_eq!(r.status, 303);
    assert!(manager.get("/account/notifications").await.contains("name=\"weekly_report\" value=\"on\" checked"));
    // Customers are not offered it, and asking for it does nothing.
    assert!(!customer.get("/account/notifications").await.contains("Weekly report summary"));
    customer.submit("/account/notifications", "/account/notifications", &[("weekly_report", "on")]).await;

    // This week: an incident acknowledged after 10 minutes and resolved after an hour.
    app.advance(chrono::Duration::hours(1));
    app.run_jobs().await;
    let k = quick(&customer, &svc, "Checkout fails").await;
    app.advance(chrono::Duration::minutes(10));
    assert_eq!(act(&agent, &k, "/status", &[("status", "in_progress"), ("resolution", "")]).await.status, 303);
    app.advance(chrono::Duration::minutes(50));
    assert_eq!(act(&agent, &k, "/status", &[("status", "resolved"), ("resolution", "Fixed")]).await.status, 303);
    let before: Vec<_> = crate::sla::outbox(&app).await.into_iter().filter(|m| m.kind == "weekly_report").collect();
    assert_eq!(before.len(), 1, "the opt-in on a Monday after 08:00 sends that Monday's summary");

    // Sunday night: nothing yet. Monday 07:59: nothing. Monday 08:00: the summary, once.
    app.advance(chrono::Duration::days(6) + chrono::Duration::hours(20) + chrono::Duration::minutes(59));
    assert_eq!(app.run_jobs().await.weekly_reports, 0, "Monday 07:59");
    app.advance(chrono::Duration::minutes(1));
    assert_eq!(app.run_jobs().await.weekly_reports, 1, "Monday 08:00");
    assert_eq!(app.run_jobs().await.weekly_reports, 0, "once a week");
    let all = crate::sla::outbox(&app).await;
    let mails = crate::sla::mails_to(&all, "weekly_report", "max@example.com");
    let mail = mails
        .iter()
        .find(|m| m.subject == "Firewatch reports for the week of 2026-03-02")
        .unwrap_or_else(|| panic!("{mails:?}"));
    for text in [
        "Response and resolution",
        "MTTR median: 1 h 0 min",
        "MTTA median: 10 min",
        "Escalations",
        "/reports/response?period=custom&from=2026-03-02&to=2026-03-08",
    ] {
        assert!(mail.body_text.contains(text), "{text}: {}", mail.body_text);
    }
    assert!(mail.body_html.contains("MTTR median"));
    assert!(crate::sla::mails_to(&all, "weekly_report", "cora@example.com").is_empty());
});

both!(demo_data_fills_every_report, |app| {
    let state = app.state.clone();
    let opts = firewatch::demo::DemoOptions { incidents: 3000, seed: 7, password: Some(PASSWORD.into()) };
    let r = tokio::task::spawn_blocking(move || firewatch::demo::load(&state, &opts).expect("demo data"))
        .await
        .expect("join");
    assert!(r.loops.problems > 5 && r.loops.releases > 20 && r.loops.articles == 6, "{:?}", r.loops);
    let manager = app.browser();
    assert_eq!(manager.login("manager1@firewatch.example", PASSWORD).await.status, 303);
    // Demo history ends today (the test clock's day); a year holds every kind of event.
    let year = "period=custom&from=2025-03-03&to=2026-03-02";
    for (report, figures) in [
        ("escalations", &["escalation-rate", "escalations", "automatic", "deescalations"][..]),
        ("sla", &["first-response-compliance", "resolution-compliance", "breaches"][..]),
        ("response", &["mttr-median", "mtta-median", "reopen-rate", "backlog"][..]),
        ("recurrence", &["recurrences", "fix-effectiveness", "repeats", "overdue-actions"][..]),
        ("releases", &["deployed", "change-failure-rate", "rolled-back", "problem-to-fix"][..]),
        ("self-service", &["helpful", "deflections", "no-result", "searches"][..]),
    ] {
        let j = json(&manager, &format!("/reports/{report}?{year}&format=json")).await;
        for f in figures {
            let v = headline(&j, f);
            assert!(v.as_f64().is_some_and(|x| x > 0.0), "{report}/{f} is {v}");
        }
        let page = manager.get(&format!("/reports/{report}?{year}")).await;
        assert_eq!(page.status, 200);
        assert!(page.contains("<svg class=\"chart-svg\""), "{report}");
    }
});

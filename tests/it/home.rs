//! The home page per role: an agent's work, a manager's day, sales' customers, a customer's
//! own incidents.

use crate::both;
use crate::escalation::configure_tier;
use crate::incidents::{act, between, customer_in, login_as, organization, quick, row_keys, service};
use crate::support::*;
use chrono::Duration;

/// The incident keys listed in one home-page section (by its heading id).
fn section(body: &str, id: &str) -> Vec<String> {
    let s = between(body, &format!("<h2 id=\"{id}\">"), "</section>");
    row_keys(s)
}

both!(each_role_finds_its_own_work_at_home, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let org = organization(&admin, "Hooli", false).await;
    let customer = customer_in(&app, &admin, "Ada Varga", "ada@hooli.example", &org).await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    // The agent is in tier 1, without an on-call rotation: new incidents stay unassigned.
    let saved = configure_tier(&admin, &app, 1, "Tier 1 Support", &["agent@example.com"], &[]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let mine = quick(&customer, &svc, "Mine").await;
    let waiting = quick(&customer, &svc, "Nobody took it").await;
    assert_eq!(act(&agent, &mine, "/assign", &[("assignee", "me")]).await.status, 303);

    let home = agent.get("/").await;
    assert_eq!(section(&home.body, "mine-h"), [mine.as_str()]);
    assert!(home.contains("New and unassigned in my tiers"));
    assert_eq!(section(&home.body, "unassigned-h"), [waiting.as_str()]);
    let unanswered = section(&home.body, "unanswered-h");
    assert!(unanswered.contains(&mine) && unanswered.contains(&waiting), "{unanswered:?}");
    assert!(section(&home.body, "attention-h").is_empty());
    assert!(!home.contains("SLA targets breached today"), "headlines are the manager's");

    // Past the first-response target: breached (the SLA job records it), at the top of attention.
    app.advance(Duration::hours(30));
    app.run_jobs().await;
    let agent = app.browser();
    assert_eq!(agent.login("agent@example.com", PASSWORD).await.status, 303);
    let attention = section(&agent.get("/").await.body, "attention-h");
    assert!(attention.contains(&mine) && attention.contains(&waiting), "{attention:?}");

    // A manager: the day's breaches and the week's escalations (the SLA job moved both breached
    // incidents up a tier; the manager moves one further).
    let manager = app.signed_in("manager").await;
    assert_eq!(act(&manager, &waiting, "/escalate", &[("tier", "next"), ("reason", "sla_breach")]).await.status, 303);
    let home = manager.get("/").await;
    let today = between(&home.body, "<h2 id=\"today-h\">", "</section>");
    assert!(
        today.contains("<span class=\"value\">2</span> <span class=\"label\">SLA targets breached today"),
        "{today}"
    );
    assert!(today.contains("<span class=\"value\">3</span> <span class=\"label\">escalations this week"), "{today}");
    assert!(home.contains("id=\"mine-h\""), "managers work incidents too");
    // The SLA and response reports' headlines for the last seven days, each linking to its report.
    let headlines = between(&home.body, "<table class=\"data\" id=\"headlines\">", "</table>");
    assert!(
        headlines.contains("href=\"/reports/sla?") && headlines.contains("href=\"/reports/response?"),
        "{headlines}"
    );
    assert!(!agent.get("/").await.contains("id=\"headlines\""), "not for agents");

    // Sales: the customers with open incidents, no empty "assigned to me".
    let sales = app.signed_in("sales").await;
    let home = sales.get("/").await;
    assert!(!home.contains("id=\"mine-h\""));
    let orgs = between(&home.body, "<h2 id=\"orgs-h\">", "</section>");
    assert!(
        orgs.contains(&format!("<a href=\"/incidents?organization={org}\">Hooli</a></td><td class=\"num\">2</td>")),
        "{orgs}"
    );

    // The customer: their incidents as cards on narrow screens, none of the staff sections.
    let customer = app.browser();
    assert_eq!(customer.login("ada@hooli.example", PASSWORD).await.status, 303);
    let home = customer.get("/").await;
    assert!(home.contains("class=\"table-wrap cards\"") && home.contains("data-label=\"Status\""));
    assert!(!home.contains("id=\"mine-h\"") && !home.contains("id=\"attention-h\""));
    assert_eq!(section(&home.body, "yours-h").len(), 2);
});

/// The first-run checklist's steps as (done, label).
fn steps(body: &str) -> Vec<(bool, String)> {
    between(body, "<ol class=\"checklist\">", "</ol>")
        .split("<li class=\"")
        .skip(1)
        .map(|li| {
            let label = li.split("\">").nth(2).and_then(|r| r.split("</a>").next()).unwrap_or("").to_string();
            (li.starts_with("done"), label)
        })
        .collect()
}

both!(a_new_instance_shows_its_admin_what_is_left_to_set_up, |app| {
    // Mail in and out configured; services, staff and tiers left to do.
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| {
        c.inbound_token = Some("first-run-inbound-token-0123456789".into());
        c.smtp_host = Some("127.0.0.1".into());
    })
    .await;
    let admin = app.signed_in("admin").await;
    let home = admin.get("/").await;
    assert!(home.contains("Getting started"));
    let done: Vec<bool> = steps(&home.body).iter().map(|(d, _)| *d).collect();
    assert_eq!(done, [false, false, false, true, true], "{:?}", steps(&home.body));

    service(&admin, "Billing").await;
    login_as(&app, "support", "agent@example.com").await;
    let done: Vec<bool> = steps(&admin.get("/").await.body).iter().map(|(d, _)| *d).collect();
    assert_eq!(done, [true, true, false, true, true]);
    // Others never see it.
    assert!(!login_as(&app, "support", "second@example.com").await.get("/").await.contains("Getting started"));

    // Every tier staffed, the first with an on-call rotation: the list is gone.
    for (id, name) in [(1, "Tier 1 Support"), (2, "Tier 2 DevOps"), (3, "Tier 3 Engineering"), (4, "Tier 4 Management")]
    {
        let rotation: &[&str] = if id == 1 { &["agent@example.com"] } else { &[] };
        let r = configure_tier(&admin, &app, id, name, &["agent@example.com"], rotation).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    assert!(!admin.get("/").await.contains("Getting started"));
});

//! The queue's view of what needs attention: the Due column names the next SLA target, and the
//! filters find unanswered incidents, clocks at risk and incidents waiting on the customer too
//! long.

use crate::both;
use crate::incidents::{act, between, incident, login_as, quick, reply, row_keys, service};
use chrono::Duration;

/// The Due cell of an incident's queue row.
fn due_cell(body: &str, key: &str) -> String {
    let row = between(body, &format!("<a href=\"/incidents/{key}\">{key}</a>"), "</tr>");
    let cells: Vec<&str> = row.split("<td>").collect();
    // Key, title, severity, priority, status, service, assignee, organization, due, …
    let due = cells.get(8).copied().unwrap_or("");
    due.split("</td>").next().unwrap_or("").replace("<strong class=\"overdue\">", "").replace("</strong>", "")
}

/// A new sign-in after the clock moved past the session's idle limit.
async fn again(app: &crate::support::TestApp, email: &str) -> crate::support::Browser {
    let b = app.browser();
    assert_eq!(b.login(email, crate::support::PASSWORD).await.status, 303);
    b
}

/// Minutes to the first-response target, from the incident page ("due in 3 h 59 min").
fn minutes_left(body: &str) -> i64 {
    let text = crate::incidents::detail(body, "First response");
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter_map(|w| {
            let n = w[0].parse::<i64>().ok()?;
            Some(match w[1] {
                "h" => n * 60,
                "d" => n * 24 * 60,
                _ => n,
            })
        })
        .sum()
}

both!(the_queue_finds_what_needs_attention, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Mail").await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let a = quick(&customer, &svc, "Nobody answered").await;
    let b = quick(&customer, &svc, "Answered").await;
    let c = quick(&customer, &svc, "Waiting for logs").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    assert_eq!(reply(&agent, &b, "Looking at it.").await.status, 303);
    assert_eq!(reply(&agent, &c, "Send logs please.").await.status, 303);
    assert_eq!(act(&agent, &c, "/status", &[("status", "in_progress")]).await.status, 303);
    assert_eq!(act(&agent, &c, "/status", &[("status", "waiting_on_customer")]).await.status, 303);

    // The Due column: the first response while unanswered, then the resolution; none while paused.
    let q = agent.get("/incidents").await;
    assert!(due_cell(&q.body, &a).starts_with("Reply due in"), "{}", due_cell(&q.body, &a));
    assert!(due_cell(&q.body, &b).starts_with("due in"), "{}", due_cell(&q.body, &b));
    assert_eq!(due_cell(&q.body, &c), "", "waiting on the customer: the clock is paused");
    assert_eq!(row_keys(&agent.get("/incidents?unanswered=1").await.body), [a.as_str()]);
    assert!(row_keys(&agent.get("/incidents?at_risk=1").await.body).is_empty());

    // Past 80 % of the first-response target, A is at risk; past the target, overdue instead.
    let left = minutes_left(&incident(&agent, &a).await.body);
    assert!(left > 0);
    app.advance(Duration::minutes(left * 9 / 10));
    let agent = again(&app, "agent@example.com").await;
    let q = agent.get("/incidents?at_risk=1").await;
    assert_eq!(row_keys(&q.body), [a.as_str()]);
    assert!(q.contains("name=\"at_risk\" value=\"1\" checked"), "the filter stays set");
    app.advance(Duration::minutes(left / 10 + 5));
    let agent = again(&app, "agent@example.com").await;
    let q = agent.get("/incidents").await;
    assert!(due_cell(&q.body, &a).starts_with("Reply overdue by"), "{}", due_cell(&q.body, &a));
    assert!(q.body.contains("<strong class=\"overdue\">Reply overdue by"));
    assert!(!row_keys(&agent.get("/incidents?at_risk=1").await.body).contains(&a));

    // Waiting on the customer for more than N days.
    app.advance(Duration::days(3));
    let (agent, customer) = (again(&app, "agent@example.com").await, again(&app, "ada@example.com").await);
    assert_eq!(row_keys(&agent.get("/incidents?waiting_days=2").await.body), [c.as_str()]);
    assert!(row_keys(&agent.get("/incidents?waiting_days=5").await.body).is_empty());
    // The customer answers: back with support, no longer waiting.
    assert_eq!(reply(&customer, &c, "Logs attached.").await.status, 303);
    assert!(row_keys(&agent.get("/incidents?waiting_days=2").await.body).is_empty());
    // Nonsense is ignored, not an error.
    assert_eq!(agent.get("/incidents?waiting_days=abc").await.status, 200);
});

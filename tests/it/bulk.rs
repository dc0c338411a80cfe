//! Changing several incidents at once from the queue: each through its own service call (one
//! transaction, one timeline event each), a page that says what happened to each.

use crate::both;
use crate::incidents::{act, detail, incident, login_as, quick, row_keys, service};
use crate::support::*;

async fn bulk(b: &Browser, keys: &[&str], fields: &[(&str, &str)]) -> Page {
    let queue = b.get("/incidents").await;
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", queue.csrf().leak()), ("back", "/incidents?sort=created")];
    all.extend(keys.iter().map(|k| ("ids", *k)));
    all.extend_from_slice(fields);
    b.post_raw("/incidents/bulk", &all).await
}

both!(agents_change_several_incidents_at_once, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let mut keys = Vec::new();
    for t in ["One", "Two", "Three", "Original"] {
        keys.push(quick(&agent, &svc, t).await);
    }
    let (a, b, c, orig) = (keys[0].as_str(), keys[1].as_str(), keys[2].as_str(), keys[3].as_str());
    let queue = agent.get("/incidents").await;
    assert!(queue.contains(&format!("name=\"ids\" value=\"{a}\" form=\"bulk\"")), "rows can be selected");

    let done = bulk(&agent, &[a, b, c], &[("bulk_action", "assign"), ("bulk_assignee", "me")]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.contains("Changed 3 of 3 incidents"));
    assert!(done.contains("href=\"/incidents?sort=created\""), "the way back keeps the queue's filter");
    let mine = row_keys(&agent.get("/incidents?assignee=me").await.body);
    assert_eq!(mine.len(), 3);
    assert!(incident(&agent, a).await.contains("Assigned to Test support"), "each has its timeline event");

    // A change the workflow refuses for one incident leaves it and says why.
    assert_eq!(act(&agent, c, "/status", &[("status", "in_progress")]).await.status, 303);
    let done = bulk(&agent, &[a, b, c], &[("bulk_action", "status"), ("bulk_status", "triaged")]).await;
    assert!(done.contains("Changed 2 of 3 incidents"), "{}", done.body);
    assert!(
        done.contains("Not changed:</strong> An incident that is in progress cannot move to triaged"),
        "{}",
        done.body
    );

    let done = bulk(&agent, &[a, b], &[("bulk_action", "tag"), ("bulk_tags", "billing, q4")]).await;
    assert!(done.contains("Changed 2 of 2 incidents"));
    assert!(incident(&agent, b).await.contains("q4"));

    let done = bulk(&agent, &[a], &[("bulk_action", "tier"), ("bulk_tier", "2")]).await;
    assert!(done.contains("Changed 1 of 1 incident"), "{}", done.body);
    assert_eq!(detail(&incident(&agent, a).await.body, "Tier"), "Tier 2 DevOps");

    let done = bulk(&agent, &[a, b, orig], &[("bulk_action", "duplicate"), ("bulk_duplicate_of", orig)]).await;
    assert!(done.contains("Changed 2 of 3 incidents") && done.contains("it is the original"), "{}", done.body);
    let dup = incident(&agent, b).await;
    assert!(dup.contains("class=\"badge status-closed\"") && dup.contains(&format!("Duplicate of {orig}")));

    // A bad form changes nothing and comes back on the queue with the selection.
    let none = bulk(&agent, &[], &[("bulk_action", "assign"), ("bulk_assignee", "me")]).await;
    assert_eq!(none.status, 422);
    assert!(none.contains("Select the incidents to change."));
    let missing = bulk(&agent, &[c], &[("bulk_action", "status"), ("bulk_status", "resolved")]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.contains("Say how they were resolved."));
    assert!(missing.contains(&format!("name=\"ids\" value=\"{c}\" form=\"bulk\" aria-label=\"Select {c}\" checked")));
    assert!(!incident(&agent, c).await.contains("class=\"badge status-resolved\""));

    // Customers and sales cannot.
    let customer = login_as(&app, "customer", "ada@example.com").await;
    assert_eq!(bulk(&customer, &[a], &[("bulk_action", "assign"), ("bulk_assignee", "me")]).await.status, 403);
    let sales = app.signed_in("sales").await;
    assert!(!sales.get("/incidents").await.contains("id=\"bulk\""));
});

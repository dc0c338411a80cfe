//! Saved queue views: named filters above the queue with their counts, personal or shared by
//! managers.

use crate::both;
use crate::incidents::{act, login_as, quick, row_keys, service};
use crate::support::*;

/// The saved views above the queue: (name, href, count).
fn views(body: &str) -> Vec<(String, String, String)> {
    let nav = crate::incidents::between(body, "<nav class=\"saved-views\"", "</nav>");
    nav.split("<li><a href=\"")
        .skip(1)
        .filter_map(|s| {
            let (href, rest) = s.split_once('"')?;
            let name = rest.split_once('>')?.1.split(" <span").next()?.to_string();
            let count = rest.split("<span class=\"badge\"").nth(1)?.split_once('>')?.1.split('<').next()?.to_string();
            Some((html_unescape(&name), html_unescape(href), count))
        })
        .collect()
}

async fn save(b: &Browser, from: &str, name: &str, shared: bool) -> Page {
    let page = b.get(from).await;
    let query = crate::incidents::input_value(&page.body, "query").unwrap_or_default();
    let mut fields = vec![("csrf_token", page.csrf()), ("view_name", name.to_string()), ("query", query)];
    if shared {
        fields.push(("shared", "on".into()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_raw("/incidents/views", &fields).await
}

both!(agents_save_views_and_managers_share_them, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let other = login_as(&app, "support", "other@example.com").await;
    let mine = quick(&agent, &svc, "Mine").await;
    quick(&agent, &svc, "Someone else's").await;
    assert_eq!(act(&agent, &mine, "/assign", &[("assignee", "me")]).await.status, 303);

    // Saving the current filter: paging is left out, the link opens the same list.
    let r = save(&agent, "/incidents?assignee=me&sort=created&per=25", "Assigned to me", false).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/incidents?assignee=me&sort=created&per=25");
    let q = agent.get("/incidents").await;
    assert_eq!(
        views(&q.body),
        [("Assigned to me".into(), "/incidents?assignee=me&sort=created&per=25".into(), "1".into())]
    );
    let opened = agent.get("/incidents?assignee=me&sort=created&per=25").await;
    assert_eq!(row_keys(&opened.body), [mine.as_str()]);
    assert!(opened.contains("aria-current=\"page\">Assigned to me"));
    // Counts follow the incidents.
    let third = quick(&agent, &svc, "Third").await;
    assert_eq!(act(&agent, &third, "/assign", &[("assignee", "me")]).await.status, 303);
    assert_eq!(views(&agent.get("/incidents").await.body)[0].2, "2");

    // A duplicate or empty name comes back on the queue with the message and the typed name.
    let dup = save(&agent, "/incidents?assignee=none", "Assigned to me", false).await;
    assert_eq!(dup.status, 422);
    assert!(dup.contains("A view with this name exists already.") && dup.contains("value=\"Assigned to me\""));
    assert_eq!(save(&agent, "/incidents", "  ", false).await.status, 422);
    // Sharing is for managers.
    let refused = save(&agent, "/incidents?assignee=none", "Unassigned", true).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("Only managers and admins share views."));

    // Own views are private; a manager's shared view reaches every agent, who cannot delete it.
    assert!(views(&other.get("/incidents").await.body).is_empty());
    let manager = app.signed_in("manager").await;
    assert_eq!(save(&manager, "/incidents?assignee=none", "Unassigned", true).await.status, 303);
    let seen = views(&other.get("/incidents").await.body);
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].0.as_str(), seen[0].2.as_str()), ("Unassigned", "1"));
    let customer = login_as(&app, "customer", "ada@example.com").await;
    assert!(views(&customer.get("/incidents").await.body).is_empty(), "shared views are for staff");

    let page = other.get("/incidents").await;
    assert!(!page.contains("/delete\""), "no delete for views one may not delete");
    let agent_views = agent.get("/incidents").await;
    let id = agent_views
        .body
        .split("action=\"/incidents/views/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("own view id");
    let stolen = other.post_raw(&format!("/incidents/views/{id}/delete"), &[("csrf_token", &page.csrf())]).await;
    assert_eq!(stolen.status, 404);
    let gone = agent.post_raw(&format!("/incidents/views/{id}/delete"), &[("csrf_token", &agent_views.csrf())]).await;
    assert_eq!(gone.status, 303);
    assert_eq!(views(&agent.get("/incidents").await.body).len(), 1, "only the shared one is left");
});

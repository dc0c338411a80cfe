//! Canned responses: kept per agent or shared by managers, inserted into the reply box with the
//! incident filled in (no JavaScript), and applying their status, tier and tags with the reply.

use crate::both;
use crate::incidents::{act, between, detail, incident, input_value, login_as, quick, service};
use crate::support::*;

/// Creates a canned response through the form; returns its id.
async fn create_macro(b: &Browser, fields: &[(&str, &str)]) -> String {
    let r = b.submit("/admin/macros/new", "/admin/macros", fields).await;
    assert_eq!(r.status, 303, "create macro: {}", r.body);
    let name = fields.iter().find(|(k, _)| *k == "name").map(|(_, v)| *v).unwrap_or_default();
    macro_id(b, name).await.unwrap_or_else(|| panic!("{name} listed"))
}

/// The id of a canned response the user may edit, from the list's link.
async fn macro_id(b: &Browser, name: &str) -> Option<String> {
    let list = b.get("/admin/macros").await;
    let tail = format!("\">{name}</a>");
    list.body
        .split("href=\"/admin/macros/")
        .find_map(|s| s.split_once(&tail).map(|(id, _)| id).filter(|id| id.bytes().all(|b| b.is_ascii_digit())))
        .map(str::to_string)
}

/// The reply box's text.
fn reply_text(body: &str) -> String {
    let area = between(body, "<textarea id=\"f-body\" name=\"body\"", "</textarea>");
    html_unescape(area.split_once('>').map(|(_, t)| t).unwrap_or(""))
}

both!(agents_keep_their_own_canned_responses_and_managers_share_theirs, |app| {
    let agent = login_as(&app, "support", "agent@example.com").await;
    let other = login_as(&app, "support", "other@example.com").await;
    let manager = app.signed_in("manager").await;
    let customer = app.signed_in("customer").await;

    // Mistakes come back with every typed value and a message naming the wrong placeholder.
    let bad = agent
        .submit(
            "/admin/macros/new",
            "/admin/macros",
            &[
                ("name", ""),
                ("kind", "reply"),
                ("body", "Hi {custmer_name}, see {incident_link}"),
                ("add_tags", "needs-info"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.contains("Name is required."));
    assert!(bad.contains("{custmer_name} is not a placeholder."), "{}", bad.body);
    assert!(bad.contains("Hi {custmer_name}, see {incident_link}</textarea>"));
    assert_eq!(input_value(&bad.body, "add_tags").as_deref(), Some("needs-info"));
    // Agents keep their own: sharing is for managers, and the form does not offer it.
    assert!(!bad.contains("value=\"shared\""));
    let shared = agent
        .submit(
            "/admin/macros/new",
            "/admin/macros",
            &[("name", "Mine"), ("kind", "reply"), ("scope", "shared"), ("body", "Text")],
        )
        .await;
    assert_eq!(shared.status, 422);
    assert!(shared.contains("Only managers and admins share canned responses"));

    let mine = create_macro(&agent, &[("name", "My sign-off"), ("kind", "note"), ("body", "Checked {service}.")]).await;
    let list = agent.get("/admin/macros").await;
    assert!(list.contains("Only me") && list.contains("Internal note"), "{}", list.body);
    // Nobody else sees or opens someone's own canned response.
    assert!(!other.get("/admin/macros").await.contains("My sign-off"));
    assert_eq!(other.get(&format!("/admin/macros/{mine}")).await.status, 404);
    let steal = other
        .post_raw(&format!("/admin/macros/{mine}/delete"), &[("csrf_token", &other.get("/admin/macros").await.csrf())])
        .await;
    assert_eq!(steal.status, 404);

    // A manager's shared one reaches every agent, who may use it but not change it.
    let form = manager.get("/admin/macros/new").await;
    assert!(form.contains("value=\"shared\""), "managers may share");
    let team =
        create_macro(&manager, &[("name", "Team greeting"), ("kind", "reply"), ("scope", "shared"), ("body", "Hello")])
            .await;
    let list = other.get("/admin/macros").await;
    assert!(list.contains("Team greeting") && list.contains("All staff"));
    assert!(macro_id(&other, "Team greeting").await.is_none(), "no edit link for agents");
    assert_eq!(other.get(&format!("/admin/macros/{team}")).await.status, 403);

    // The owner edits and deletes theirs; the audit log has each step.
    let path = format!("/admin/macros/{mine}");
    let r = agent.submit(&path, &path, &[("name", "My sign-off v2"), ("kind", "note"), ("body", "Checked.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = agent.submit(&path, &format!("{path}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(macro_id(&agent, "My sign-off v2").await.is_none(), "deleted");
    let audit = app.signed_in("admin").await.get("/admin/audit").await;
    for action in ["macro.create", "macro.update", "macro.delete"] {
        assert!(audit.contains(action), "{action} audited");
    }

    // Customers and sales have no canned responses.
    assert_eq!(customer.get("/admin/macros").await.status, 403);
    assert_eq!(app.signed_in("sales").await.get("/admin/macros").await.status, 403);
});

both!(a_canned_reply_is_filled_in_for_the_incident_and_acts_when_sent, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let manager = app.signed_in("manager").await;
    let id = create_macro(
        &manager,
        &[
            ("name", "Ask for logs"),
            ("kind", "reply"),
            ("scope", "shared"),
            ("body", "Hi {customer_first_name}, about {incident_key} on {service}: see {incident_link}. {agent_name}"),
            ("set_status", "waiting_on_customer"),
            ("set_tier", "2"),
            ("add_tags", "needs-info"),
        ],
    )
    .await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let key = quick(&customer, &svc, "Invoices missing").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("Insert a canned response") && page.contains("Ask for logs (shared)"));

    // Insert: the text joins what was typed, filled in; nothing is posted yet.
    let ins = act(&agent, &key, "/macro", &[("body", "Typed first."), ("visibility", "public"), ("macro", &id)]).await;
    assert_eq!(ins.status, 200, "{}", ins.body);
    let link = agent.url(&format!("/incidents/{key}"));
    assert_eq!(
        reply_text(&ins.body),
        format!("Typed first.\n\nHi Test, about {key} on Billing: see {link}. Test support")
    );
    assert!(ins.contains(&format!("name=\"macro_id\" value=\"{id}\" checked")));
    assert!(
        ins.contains("also apply “Ask for logs”: sets the status to Waiting on customer; moves it to Tier 2 DevOps; adds the tag needs-info"),
        "{}",
        ins.body
    );
    let page = incident(&agent, &key).await;
    assert!(page.contains("class=\"badge status-new\""), "inserting changes nothing");

    // Send: the reply, the status, the tier and the tag in one go.
    let text = reply_text(&ins.body);
    let sent = act(&agent, &key, "/comments", &[("body", &text), ("visibility", "public"), ("macro_id", &id)]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = agent.follow(sent).await;
    assert!(page.contains("Reply posted; the canned response’s actions are done."));
    assert!(page.contains("Waiting on customer"));
    assert_eq!(detail(&page.body, "Tier"), "Tier 2 DevOps");
    assert!(page.contains("needs-info"));
    assert!(page.contains("Canned response “Ask for logs”"), "the tier move says why");
    let seen = incident(&customer, &key).await;
    assert!(seen.contains(&format!("Hi Test, about {key} on Billing")));
    assert!(manager.get("/admin/macros").await.contains(">once<"));

    // Picking nothing is answered in the reply box, the text kept.
    let none = act(&agent, &key, "/macro", &[("body", "Keep me"), ("visibility", "public"), ("macro", "")]).await;
    assert_eq!(none.status, 422);
    assert!(none.contains("Choose a canned response.") && reply_text(&none.body) == "Keep me");
});

both!(a_canned_response_that_cannot_act_sends_nothing, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let manager = app.signed_in("manager").await;
    let id = create_macro(
        &manager,
        &[
            ("name", "Fixed"),
            ("kind", "reply"),
            ("scope", "shared"),
            ("body", "Fixed in the latest deploy."),
            ("set_status", "resolved"),
        ],
    )
    .await;
    // A resolving canned response must be a reply: its text is the resolution.
    let bad = manager
        .submit(
            "/admin/macros/new",
            "/admin/macros",
            &[("name", "Quiet fix"), ("kind", "note"), ("body", "x"), ("set_status", "resolved")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("must be a reply"));

    let customer = login_as(&app, "customer", "ada@example.com").await;
    let key = quick(&customer, &svc, "Search empty").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    // Switched to an internal note after inserting: resolving with a note is refused, nothing sent.
    let r =
        act(&agent, &key, "/comments", &[("body", "Only for us"), ("visibility", "internal"), ("macro_id", &id)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.contains("“Fixed” could not be applied, so nothing was sent"), "{}", r.body);
    assert_eq!(reply_text(&r.body), "Only for us");
    assert!(r.contains(&format!("name=\"macro_id\" value=\"{id}\" checked")), "the pending box stays");
    let page = incident(&agent, &key).await;
    assert!(!page.contains("Only for us"));
    assert!(page.contains("class=\"badge status-new\""));

    // As a reply it resolves, with the reply as the resolution the customer reads.
    let r = act(
        &agent,
        &key,
        "/comments",
        &[("body", "Fixed in the latest deploy."), ("visibility", "public"), ("macro_id", &id)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let seen = incident(&customer, &key).await;
    assert!(seen.contains("class=\"badge status-resolved\""), "{}", seen.body);
    assert!(seen.contains("Fixed in the latest deploy."));
});

both!(an_internal_canned_note_switches_the_box_and_stays_internal, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Storage").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let id =
        create_macro(&agent, &[("name", "Infra check"), ("kind", "note"), ("body", "Hosts of {service} look fine.")])
            .await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let key = quick(&customer, &svc, "Uploads slow").await;
    let ins = act(&agent, &key, "/macro", &[("body", ""), ("visibility", "public"), ("macro", &id)]).await;
    assert_eq!(ins.status, 200);
    assert!(ins.contains("name=\"visibility\" value=\"internal\""), "the box became a note box");
    assert_eq!(reply_text(&ins.body), "Hosts of Storage look fine.");
    assert!(
        ins.contains(&format!("<input type=\"hidden\" name=\"macro_id\" value=\"{id}\">")),
        "text only: no actions to confirm"
    );
    let r = act(
        &agent,
        &key,
        "/comments",
        &[("body", "Hosts of Storage look fine."), ("visibility", "internal"), ("macro_id", &id)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(incident(&agent, &key).await.contains("Hosts of Storage look fine."));
    assert!(!incident(&customer, &key).await.contains("Hosts of Storage"));
    // A customer cannot use the insert endpoint at all.
    let c = act(&customer, &key, "/macro", &[("body", ""), ("macro", &id)]).await;
    assert_eq!(c.status, 403);
});

//! Recurrence matching: similar past incidents and open problems suggested for an incident (staff
//! who work incidents; a fragment the incident page links to and its script loads), each linked
//! in one click; and the "check for similar reports"
//! step of the new-incident form, which lists only titles the user may see and creates nothing.

use crate::both;
use crate::incidents::{
    act, between, count_text, customer_in, incident, input_value, login_as, organization, reply, report, selected,
    service,
};
use crate::support::*;

/// Reports an incident with a title and description on a service; returns its key.
async fn file(b: &Browser, service_id: &str, title: &str, description: &str) -> String {
    report(
        b,
        &[
            ("title", title),
            ("description", description),
            ("service_id", service_id),
            ("impact", "medium"),
            ("urgency", "medium"),
        ],
    )
    .await
}

/// The "Similar incidents" list of an incident page (empty when absent).
fn similar_incidents(body: &str) -> &str {
    between(body, "id=\"similar-incidents\">", "</ul>")
}

/// The "Open problems that may match" list of an incident page (empty when absent).
fn similar_problems(body: &str) -> &str {
    between(body, "id=\"similar-problems\" aria-labelledby=\"similar-problems-h\">", "</ul>")
}

/// The Links card of an incident page.
fn links_card(body: &str) -> &str {
    between(body, "id=\"links-h\"", "</section>")
}

/// Keys linked from a list (`href="/incidents/INC-n"` or `/problems/PRB-n`), in order.
fn keys_in(list: &str, area: &str) -> Vec<String> {
    list.split(&format!("href=\"/{area}/")).skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
}

/// The score shown next to a suggested key (the first "N%" after it).
fn score_of(list: &str, key: &str) -> u32 {
    let after = between(list, &format!(">{key}</a>"), "%</span>");
    after.rsplit('>').next().and_then(|n| n.trim().parse().ok()).unwrap_or_else(|| panic!("score of {key}: {list}"))
}

/// The suggestions for an incident as a browser without scripts reaches them: the incident page
/// holds the link (and the fragment address its script fetches), the link opens them as a page.
/// The fragment alone holds the same lists, without the page around them.
async fn suggestions(b: &Browser, key: &str) -> Page {
    let page = incident(b, key).await;
    assert!(page.contains(&format!("href=\"/incidents/{key}/similar\"")), "{}", page.body);
    assert!(page.contains(&format!("data-fragment=\"/incidents/{key}/similar?fragment=1\"")), "{}", page.body);
    let full = b.get(&format!("/incidents/{key}/similar")).await;
    assert_eq!(full.status, 200, "{}", full.body);
    assert!(full.contains(&format!("href=\"/incidents/{key}\"")), "a way back: {}", full.body);
    let fragment = b.get(&format!("/incidents/{key}/similar?fragment=1")).await;
    assert_eq!(fragment.status, 200, "{}", fragment.body);
    assert!(fragment.body.trim_start().starts_with("<section") && !fragment.contains("<html"), "{}", fragment.body);
    assert_eq!(similar_incidents(&fragment.body), similar_incidents(&full.body));
    assert_eq!(similar_problems(&fragment.body), similar_problems(&full.body));
    full
}

/// Clicks a one-click button: posts the form holding the hidden input `name`=`value` with its
/// own action and hidden inputs (CSRF token included), exactly as the page rendered them.
async fn click(b: &Browser, page: &Page, name: &str, value: &str, button: &str) -> Page {
    let body = &page.body;
    let at = body
        .find(&format!("<input type=\"hidden\" name=\"{name}\" value=\"{value}\">"))
        .unwrap_or_else(|| panic!("no one-click form for {name}={value}: {body}"));
    let start = body[..at].rfind("<form").expect("form start");
    let end = at + body[at..].find("</form>").expect("form end");
    let form = &body[start..end];
    assert!(form.contains(button), "the form has the {button:?} button: {form}");
    let action = html_unescape(between(form, "action=\"", "\""));
    let fields: Vec<(String, String)> = form
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|s| {
            let n = s.split('"').next().unwrap_or_default().to_string();
            (n, html_unescape(between(s, "value=\"", "\"")))
        })
        .collect();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(&action, &refs).await
}

both!(similar_incidents_come_same_service_first_and_link_in_one_click, |app| {
    let admin = app.signed_in("admin").await;
    let payments = service(&admin, "Payments").await;
    let mail = service(&admin, "Mail").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let agent = login_as(&app, "support", "sam@example.com").await;

    // Unrelated reports, so that no word of the test is in half the documents (where bm25 stops
    // telling documents apart).
    for n in 0..8 {
        file(&customer, &mail, &format!("Filler report {n}"), "Mailbox quota reached, please enlarge.").await;
    }
    // A near-identical report on another service, and a weaker one on the same service.
    let other_service = file(
        &customer,
        &mail,
        "Checkout gateway timeout",
        "The checkout gateway answers every card payment with a timeout.",
    )
    .await;
    let same_service =
        file(&customer, &payments, "Slow gateway responses", "Card payment requests are slow at times.").await;
    let unrelated = file(&customer, &payments, "Printer jammed", "Paper stuck in tray two.").await;
    // Matching words only in an internal note, and only in a public reply: neither is a
    // description, so neither incident is suggested.
    let noted = file(&customer, &mail, "Quarterly export", "The quarterly export file lacks columns.").await;
    let r = act(
        &agent,
        &noted,
        "/comments",
        &[("body", "Checkout gateway timeout again, card payments hang."), ("visibility", "internal")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let replied = file(&customer, &payments, "Invoice layout", "The logo sits on top of the address.").await;
    assert_eq!(reply(&agent, &replied, "Checkout gateway timeout seen with card payments too.").await.status, 303);
    let target = file(
        &customer,
        &payments,
        "Checkout gateway timeout",
        "Card payments hang at the checkout gateway and end in a timeout.",
    )
    .await;

    let page = suggestions(&agent, &target).await;
    assert!(page.contains("Similar incidents"), "{}", page.body);
    let list = similar_incidents(&page.body);
    let keys = keys_in(list, "incidents");
    assert_eq!(keys, vec![same_service.clone(), other_service.clone()], "same service first: {list}");
    assert!(!keys.contains(&target), "the incident itself is not suggested");
    for k in [&unrelated, &noted, &replied] {
        assert!(!keys.contains(k), "{k} matches only outside descriptions, or not at all: {list}");
    }
    // The ordering is the service preference, not the score: the other service's is the closer match.
    let (same_score, other_score) = (score_of(list, &same_service), score_of(list, &other_service));
    assert!((1..=100).contains(&same_score) && (1..=100).contains(&other_score), "{list}");
    assert!(other_score > same_score, "other {other_score} vs same {same_score}: {list}");
    assert!(list.contains("Slow gateway responses") && list.contains("Payments") && list.contains("Mail"), "{list}");
    assert!(!list.contains("Card payment requests"), "titles only, no descriptions: {list}");

    // One click links them as related, on both incidents; the suggestion goes away.
    let r = click(&agent, &page, "other", &same_service, "Link as related").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), format!("/incidents/{target}"));
    let page = incident(&agent, &target).await;
    let linked = |k: &str| format!("Related to <a class=\"mono\" href=\"/incidents/{k}\">");
    let links = links_card(&page.body);
    assert!(links.contains(&linked(&same_service)), "{links}");
    let theirs = incident(&agent, &same_service).await;
    assert!(links_card(&theirs.body).contains(&linked(&target)), "{}", theirs.body);
    let page = suggestions(&agent, &target).await;
    assert_eq!(keys_in(similar_incidents(&page.body), "incidents"), vec![other_service.clone()]);

    // Customers (even the reporter) and sales never get the card.
    let sales = login_as(&app, "sales", "sally@example.com").await;
    for (who, b) in [("the reporter", &customer), ("sales", &sales)] {
        let p = incident(b, &target).await;
        assert!(
            !p.contains("Similar incidents") && !p.contains("/similar") && !p.contains("Link as related"),
            "{who} sees no suggestions: {}",
            p.body
        );
        assert!(!p.contains("Open problems that may match"), "{who}");
        for path in [format!("/incidents/{target}/similar"), format!("/incidents/{target}/similar?fragment=1")] {
            let r = b.get(&path).await;
            assert!(r.status == 403 || r.status == 404, "{who} at {path}: {}", r.status);
            assert!(!r.contains(&same_service) && !r.contains("Link as related"), "{who}: {}", r.body);
        }
    }
});

/// Records a problem through the form; returns its key.
async fn new_problem(b: &Browser, title: &str, statement: &str) -> String {
    let r = b
        .submit(
            "/problems/new",
            "/problems",
            &[
                ("from_incident", ""),
                ("title", title),
                ("category", "dependency"),
                ("statement", statement),
                ("workaround", &format!("Workaround for {title}: retry with the backup gateway.")),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "new problem: {}", r.body);
    r.location().rsplit('/').next().unwrap_or_default().to_string()
}

both!(open_problems_are_suggested_and_linked_in_one_click, |app| {
    let admin = app.signed_in("admin").await;
    let payments = service(&admin, "Payments").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    let target = file(
        &customer,
        &payments,
        "Checkout gateway timeout",
        "Card payments hang at the checkout gateway and end in a timeout.",
    )
    .await;
    let open = new_problem(&agent, "Gateway timeouts at checkout", "The payment gateway drops slow connections.").await;
    let closed = new_problem(&agent, "Checkout gateway timeout", "Card payments time out at the gateway.").await;
    let unrelated = new_problem(&agent, "Printer driver crash", "The print spooler dies on large files.").await;
    let page = agent.get(&format!("/problems/{closed}")).await;
    let r = agent
        .post_raw(
            &format!("/problems/{closed}/status"),
            &[
                ("csrf_token", &page.csrf()),
                ("version", &form_value(&page.body, "version").unwrap_or_default()),
                ("status", "closed"),
                ("resolution", "Gateway replaced."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "closing {closed}: {}", r.body);

    let page = suggestions(&agent, &target).await;
    assert!(page.contains("Open problems that may match"), "{}", page.body);
    let list = similar_problems(&page.body);
    assert_eq!(keys_in(list, "problems"), vec![open.clone()], "open and matching only: {list}");
    assert!(list.contains("Gateway timeouts at checkout") && (1..=100).contains(&score_of(list, &open)), "{list}");
    assert!(
        list.contains("Workaround for Gateway timeouts at checkout: retry with the backup gateway."),
        "the known error's workaround shows on a matching incident: {list}"
    );
    assert!(!page.body.contains(&format!("value=\"{closed}\"")), "a closed problem is not offered");
    assert!(!page.body.contains(&format!("value=\"{unrelated}\"")));
    // Sales, who read problems but do not work incidents, see the matching known error's
    // workaround too, read-only; the reporter sees nothing of it.
    let sales = login_as(&app, "sales", "sally@example.com").await;
    let seen = incident(&sales, &target).await;
    let known = between(&seen.body, "id=\"known-errors\"", "</ul>");
    assert_eq!(keys_in(known, "problems"), vec![open.clone()], "{}", seen.body);
    assert!(known.contains("Workaround:</strong> Workaround for Gateway timeouts at checkout"), "{known}");
    assert!(!seen.contains("Link to this problem") && !seen.contains("Open problems that may match"));
    let theirs = incident(&customer, &target).await;
    assert!(!theirs.contains("Known errors") && !theirs.contains("retry with the backup gateway"));

    let r = click(&agent, &page, "problem", &open, "Link to this problem").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = incident(&agent, &target).await;
    let card = between(&page.body, "id=\"problems-h\"", "</section>");
    assert!(card.contains(&format!("href=\"/problems/{open}\"")), "linked: {card}");
    let page = suggestions(&agent, &target).await;
    assert!(keys_in(similar_problems(&page.body), "problems").is_empty(), "no longer suggested");
    let problem = agent.get(&format!("/problems/{open}")).await;
    assert!(problem.contains(&target), "the problem lists the incident: {}", problem.body);
});

/// Posts the new-incident form with the "Check for similar reports" button.
async fn check(b: &Browser, fields: &[(&str, &str)]) -> Page {
    let mut all = fields.to_vec();
    all.push(("check", "1"));
    b.submit("/incidents/new", "/incidents", &all).await
}

fn reports(body: &str) -> Vec<String> {
    keys_in(between(body, "id=\"similar-reports\">", "</ul>"), "incidents")
}

both!(the_new_incident_check_lists_only_titles_the_user_may_see_and_creates_nothing, |app| {
    let admin = app.signed_in("admin").await;
    let vpn = service(&admin, "VPN").await;
    let acme = organization(&admin, "Acme", true).await;
    let globex = organization(&admin, "Globex", false).await;
    let alice = customer_in(&app, &admin, "Alice", "alice@acme.example", &acme).await;
    let bob = customer_in(&app, &admin, "Bob", "bob@acme.example", &acme).await;
    let gina = customer_in(&app, &admin, "Gina", "gina@globex.example", &globex).await;
    let agent = login_as(&app, "support", "sam@example.com").await;

    let alices = file(&alice, &vpn, "VPN tunnel drops every hour", "The office tunnel reconnects on its own.").await;
    let bobs = file(&bob, &vpn, "VPN tunnel unstable", "Colleagues lose the tunnel after lunch.").await;
    let ginas = file(&gina, &vpn, "VPN tunnel drops constantly", "Zanzibar office: the tunnel drops hourly.").await;
    let printer = file(&alice, &vpn, "Printer offline", "The printer shows an error light.").await;
    // A staff note with the same words must not surface anywhere.
    let r =
        act(&agent, &printer, "/comments", &[("body", "VPN tunnel drops here too"), ("visibility", "internal")]).await;
    assert_eq!(r.status, 303);

    let alice_before = count_text(&alice.get("/incidents").await.body);
    let all_before = count_text(&admin.get("/incidents?status=new").await.body);
    assert_eq!(all_before, "4 incidents");

    let typed = [
        ("title", "VPN tunnel keeps dropping"),
        ("description", "Since 9 the VPN tunnel drops every few minutes <b>&</b>."),
        ("service_id", vpn.as_str()),
        ("impact", "high"),
        ("urgency", "low"),
    ];
    let page = check(&alice, &typed).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let found = reports(&page.body);
    assert!(found.contains(&alices) && found.contains(&bobs), "her own and her sharing organization's: {found:?}");
    assert!(!found.contains(&ginas) && !page.contains("VPN tunnel drops constantly"), "not another organization's");
    assert!(!found.contains(&printer), "never from an internal note");
    assert!(page.contains("VPN tunnel drops every hour") && page.contains("VPN tunnel unstable"), "titles shown");
    assert!(!page.contains("reconnects") && !page.contains("Zanzibar"), "no descriptions");
    // Everything typed comes back.
    assert_eq!(input_value(&page.body, "title").as_deref(), Some("VPN tunnel keeps dropping"));
    let textarea = between(&page.body, "id=\"f-description\"", "</textarea>");
    let kept = html_unescape(textarea.split_once('>').map(|(_, v)| v).unwrap_or_default());
    assert_eq!(kept, "Since 9 the VPN tunnel drops every few minutes <b>&</b>.");
    assert!(!page.contains("<b>&</b>"), "kept text is escaped");
    assert_eq!(selected(&page.body, "service_id").as_deref(), Some(vpn.as_str()));
    assert_eq!(selected(&page.body, "impact").as_deref(), Some("high"));
    assert_eq!(selected(&page.body, "urgency").as_deref(), Some("low"));
    // Nothing was created.
    assert_eq!(count_text(&alice.get("/incidents").await.body), alice_before);
    assert_eq!(count_text(&admin.get("/incidents?status=new").await.body), all_before);

    // The other organization sees only its own; staff see any.
    let theirs = reports(&check(&gina, &typed).await.body);
    assert_eq!(theirs, vec![ginas.clone()]);
    let staff = reports(&check(&agent, &typed).await.body);
    for k in [&alices, &bobs, &ginas] {
        assert!(staff.contains(k), "staff see {k}: {staff:?}");
    }
    assert!(!staff.contains(&printer));

    let none = check(&alice, &[("title", "Coffee machine empty"), ("service_id", vpn.as_str())]).await;
    assert_eq!(none.status, 200);
    assert!(none.contains("No similar reports found") && reports(&none.body).is_empty(), "{}", none.body);
    assert_eq!(count_text(&admin.get("/incidents?status=new").await.body), all_before);

    // The normal submit still creates the incident.
    let created = report(&alice, &typed).await;
    assert!(incident(&alice, &created).await.contains("VPN tunnel keeps dropping"));
    assert_eq!(count_text(&admin.get("/incidents?status=new").await.body), "5 incidents");
});

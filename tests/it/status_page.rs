//! The public status page, driven as visitors and staff would: states derived from the
//! incidents staff show there and from release windows, nothing internal on any public view,
//! the 90-day history, the Atom feed and JSON, mail subscription with double opt-in, and who may
//! publish.

use crate::both;
use crate::incidents::{act, customer_in, login_as, organization, quick, report, service};
use crate::support::*;
use chrono::Duration;
use firewatch::db::models::OutboxMessage;

// ---------- helpers ----------

async fn sev1(b: &Browser, service_id: &str, title: &str, description: &str) -> String {
    report(
        b,
        &[
            ("title", title),
            ("description", description),
            ("service_id", service_id),
            ("impact", "high"),
            ("urgency", "high"),
        ],
    )
    .await
}

async fn publish(b: &Browser, key: &str, title: &str) {
    let r = act(b, key, "/status-page", &[("shown", "on"), ("public_title", title)]).await;
    assert_eq!(r.status, 303, "publish {key}: {}", r.body);
}

async fn post_update(b: &Browser, key: &str, phase: &str, body: &str) -> Page {
    act(b, key, "/status-updates", &[("phase", phase), ("update_body", body)]).await
}

async fn update(b: &Browser, key: &str, phase: &str, body: &str) {
    let r = post_update(b, key, phase, body).await;
    assert_eq!(r.status, 303, "update {key}: {}", r.body);
}

async fn set_state(b: &Browser, key: &str, state: &str) {
    let r = act(b, key, "/status-page/state", &[("state", state)]).await;
    assert_eq!(r.status, 303, "state {key}: {}", r.body);
}

/// A new session for an existing user (the old one idles out when the clock moves on).
async fn relogin(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    assert_eq!(b.login(email, PASSWORD).await.status, 303, "login {email}");
    b
}

async fn resolve(b: &Browser, key: &str) {
    let r = act(b, key, "/status", &[("status", "in_progress"), ("resolution", "")]).await;
    assert_eq!(r.status, 303, "start {key}: {}", r.body);
    let r = act(b, key, "/status", &[("status", "resolved"), ("resolution", "Fixed.")]).await;
    assert_eq!(r.status, 303, "resolve {key}: {}", r.body);
}

/// The state code a service shows on /status.
fn service_state(body: &str, name: &str) -> String {
    let marker = format!("<h3 class=\"service-name\">{name} <span class=\"badge state-");
    let start = body.find(&marker).unwrap_or_else(|| panic!("{name} on the page: {body}")) + marker.len();
    body[start..].split('"').next().unwrap_or_default().to_string()
}

async fn json(b: &Browser) -> serde_json::Value {
    let p = b.get("/status.json").await;
    assert_eq!(p.status, 200);
    assert!(p.header("content-type").starts_with("application/json"), "{}", p.header("content-type"));
    serde_json::from_str(&p.body).expect("valid JSON")
}

fn json_state(v: &serde_json::Value, name: &str) -> String {
    v["services"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .and_then(|s| s["state"].as_str())
        .unwrap_or_else(|| panic!("{name} in {v}"))
        .to_string()
}

async fn outbox(app: &TestApp) -> Vec<OutboxMessage> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.conn().expect("conn");
        firewatch::db::outbox::list(&mut conn, None, None, 1000).expect("outbox")
    })
    .await
    .expect("join")
}

fn mails<'a>(all: &'a [OutboxMessage], kind: &str, to: &str) -> Vec<&'a OutboxMessage> {
    all.iter().filter(|m| m.kind == kind && m.to_address == to).collect()
}

/// The local path of the first link in a mail's text that starts with `prefix`.
fn link_in(mail: &OutboxMessage, base: &str, prefix: &str) -> String {
    let full = format!("{base}{prefix}");
    let start = mail.body_text.find(&full).unwrap_or_else(|| panic!("{prefix} in {}", mail.body_text));
    let rest = &mail.body_text[start + base.len()..];
    rest.split_whitespace().next().unwrap_or_default().to_string()
}

/// The public incident page linked from /status.
fn public_incident_path(body: &str) -> String {
    let start = body.find("href=\"/status/incidents/").expect("a public incident link") + "href=\"".len();
    body[start..].split('"').next().unwrap_or_default().to_string()
}

// ---------- state derivation ----------

both!(state_follows_severity_override_release_windows_and_resolution, |app| {
    let admin = app.signed_in("admin").await;
    let checkout = service(&admin, "Checkout").await;
    let search = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let visitor = app.browser();

    let inc = sev1(&customer, &checkout, "Checkout down", "").await;
    let page = visitor.get("/status").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("<title>System status: All systems operational · Firewatch</title>"), "{}", page.body);
    assert_eq!(service_state(&page.body, "Checkout"), "operational", "not shown yet");
    assert_eq!(page.header("cache-control"), "private, max-age=30");

    publish(&support, &inc, "Checkout is failing").await;
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Checkout"), "major_outage", "SEV1 shown → major outage");
    assert_eq!(service_state(&page.body, "Search"), "operational");
    assert!(page.contains("Checkout is failing"));
    let v = json(&visitor).await;
    assert_eq!(v["status"]["state"], "major_outage");
    assert_eq!(json_state(&v, "Checkout"), "major_outage");
    assert_eq!(v["incidents"][0]["title"], "Checkout is failing");

    set_state(&support, &inc, "degraded").await;
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "degraded", "override wins");
    set_state(&support, &inc, "").await;
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "major_outage", "back to severity");

    // A release on Search whose planned window is running: maintenance.
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit(
            "/releases/new",
            "/releases",
            &[
                ("version", "2026.3.2"),
                ("title", "Search index upgrade"),
                ("deployment_type", "self_hosted"),
                ("services", &search),
                ("monitor_hours", "72"),
                ("window_start", "2026-03-02T08:30"),
                ("window_end", "2026-03-02T10:00"),
                ("notes", "INTERNAL-RELEASE-NOTES"),
                ("rollback_plan", "INTERNAL-ROLLBACK"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Search"), "maintenance");
    assert!(page.contains("Search index upgrade") && page.contains("In progress"), "{}", page.body);
    assert!(
        !page.contains("INTERNAL-RELEASE-NOTES") && !page.contains("INTERNAL-ROLLBACK") && !page.contains("2026.3.2")
    );
    let v = json(&visitor).await;
    assert_eq!(json_state(&v, "Search"), "maintenance");
    assert_eq!(v["maintenance"][0]["title"], "Search index upgrade");
    assert_eq!(v["maintenance"][0]["in_progress"], true);

    // A "resolved" update ends the incident on the page, even before the workflow catches up.
    update(&support, &inc, "resolved", "Payments work again.").await;
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Checkout"), "operational", "resolved → operational again");
    assert!(page.contains("Past incidents") && page.contains("Checkout is failing"));
    assert_eq!(json(&visitor).await["incidents"].as_array().map(Vec::len), Some(0));

    // A shown SEV3 is degraded until the incident is resolved in the workflow.
    let minor = quick(&customer, &checkout, "Slow receipts").await;
    publish(&support, &minor, "Receipts are slow").await;
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "degraded");
    resolve(&support, &minor).await;
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "operational");

    // After the window, Search is operational again and nothing is scheduled.
    app.advance(Duration::hours(2));
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Search"), "operational");
    assert!(!page.contains("Scheduled maintenance"));
    assert!(page.contains("All systems operational"));

    // Signed-in users are never served a cached page.
    let support = relogin(&app, "sam@example.com").await;
    assert_eq!(support.get("/status").await.header("cache-control"), "no-store");
});

// ---------- no internal text ----------

// Internal notes (and every other internal field) never reach the public: not on the page, its
// incident pages, the JSON, the feed, nor the subscribers' mail.

both!(no_internal_text_ever_reaches_the_public_views, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    let org = organization(&admin, "SECRET-ORG-5517", false).await;
    let customer = customer_in(&app, &admin, "SECRET-REPORTER-6620", "rita@example.com", &org).await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let visitor = app.browser();

    // A confirmed subscriber, to check the update mail too.
    let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "fan@example.com")]).await;
    assert_eq!(r.status, 303);
    let confirm =
        link_in(mails(&outbox(&app).await, "status_confirm", "fan@example.com")[0], &app.base, "/status/confirm/");
    assert_eq!(visitor.submit(&confirm, &confirm, &[]).await.status, 200);

    let inc = sev1(&customer, &svc, "SECRET-TITLE-1193", "SECRET-DESC-2284 stack trace").await;
    let r = act(&support, &inc, "/comments", &[("body", "SECRET-NOTE-3375"), ("visibility", "internal")]).await;
    assert_eq!(r.status, 303);
    let r = act(&support, &inc, "/comments", &[("body", "SECRET-REPLY-4466"), ("visibility", "public")]).await;
    assert_eq!(r.status, 303);
    publish(&support, &inc, "Payments are slow").await;
    update(&support, &inc, "investigating", "We are looking into slow payments. PUBLIC-UPDATE-7788").await;

    let status = visitor.get("/status").await;
    let one = public_incident_path(&status.body);
    let secrets = [
        "SECRET-TITLE-1193",
        "SECRET-DESC-2284",
        "SECRET-NOTE-3375",
        "SECRET-REPLY-4466",
        "SECRET-ORG-5517",
        "SECRET-REPORTER-6620",
        &inc,
    ];
    for path in ["/status", "/status.json", "/status/feed.atom", "/status/incidents", one.as_str()] {
        let p = visitor.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        for s in secrets {
            assert!(!p.contains(s), "{s} leaked on {path}: {}", p.body);
        }
        assert!(p.contains("PUBLIC-UPDATE-7788"), "the public update is on {path}: {}", p.body);
        assert!(p.contains("Payments are slow"), "the public title is on {path}");
    }
    let all = outbox(&app).await;
    let mail = mails(&all, "status_update", "fan@example.com");
    assert_eq!(mail.len(), 1);
    for s in secrets {
        assert!(
            !mail[0].body_text.contains(s) && !mail[0].body_html.contains(s) && !mail[0].subject.contains(s),
            "{s}"
        );
    }
    assert!(mail[0].body_text.contains("PUBLIC-UPDATE-7788"));
    assert_eq!(mail[0].incident_id, None, "a subscriber's reply is never filed on the incident");

    // Taking it off the status page takes it off every public view.
    let r = act(&support, &inc, "/status-page", &[("public_title", "Payments are slow")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    for path in ["/status", "/status.json", "/status/feed.atom", "/status/incidents"] {
        assert!(!visitor.get(path).await.contains("PUBLIC-UPDATE-7788"), "{path} after hiding");
    }
    assert_eq!(visitor.get(&one).await.status, 404);
});

// ---------- history ----------

both!(the_90_day_history_shows_yesterdays_outage, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    update(&support, &inc, "identified", "A database failover went wrong.").await;
    app.advance(Duration::hours(2));
    let support = relogin(&app, "sam@example.com").await;
    resolve(&support, &inc).await;
    app.advance(Duration::days(1));

    let page = app.browser().get("/status").await;
    assert_eq!(service_state(&page.body, "Checkout"), "operational");
    // Today is 2026-03-03; yesterday's bar says what happened, in words as well as colour.
    assert!(page.contains("title=\"2026-03-02: Major outage\""), "{}", page.body);
    assert!(page.contains("<span class=\"visually-hidden\">2026-03-02: Major outage</span>"));
    assert!(page.contains("<span class=\"visually-hidden\">2026-03-03: Operational</span>"));
    assert!(page.contains("<span class=\"visually-hidden\">2026-03-01: Operational</span>"));
    assert_eq!(page.body.matches("class=\"day state-").count(), 90, "one bar a day for 90 days");
    assert!(page.contains("Last 90 days: 89 days operational, 1 day with major outage."), "{}", page.body);
    // The past incident, with its update.
    assert!(page.contains("Checkout is failing") && page.contains("A database failover went wrong."));
    let list = app.browser().get("/status/incidents").await;
    assert!(list.contains("Checkout is failing") && list.contains("Resolved"), "{}", list.body);
});

// ---------- feed ----------

// asvs_5_3_3: the feed is escaped like the pages (HTML special characters in a public title and
// update come out as text, never markup).

both!(the_atom_feed_parses_with_one_entry_per_update, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    let title = r#"Tom & "Jerry" <b>"#;
    publish(&support, &inc, title).await;
    update(&support, &inc, "investigating", "Looking <script>alert(1)</script> & more").await;
    app.advance(Duration::minutes(5));
    update(&support, &inc, "identified", "Found it.").await;

    let p = app.browser().get("/status/feed.atom").await;
    assert_eq!(p.status, 200);
    assert!(p.header("content-type").starts_with("application/atom+xml"), "{}", p.header("content-type"));
    assert!(!p.contains("<script>") && !p.contains("<b>"), "{}", p.body);
    let doc = roxmltree::Document::parse(&p.body).expect("the feed is well-formed XML");
    let feed = doc.root_element();
    assert_eq!(feed.tag_name().name(), "feed");
    assert_eq!(feed.tag_name().namespace(), Some("http://www.w3.org/2005/Atom"));
    let child = |n: roxmltree::Node<'_, '_>, name: &str| {
        n.children().find(|c| c.tag_name().name() == name).and_then(|c| c.text()).unwrap_or_default().to_string()
    };
    assert!(!child(feed, "id").is_empty() && !child(feed, "updated").is_empty() && !child(feed, "title").is_empty());
    let entries: Vec<_> = feed.children().filter(|c| c.tag_name().name() == "entry").collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(child(entries[0], "title"), format!("{title}: Identified"), "newest first");
    assert_eq!(child(entries[0], "content"), "Found it.");
    assert_eq!(child(entries[1], "content"), "Looking <script>alert(1)</script> & more");
    assert_eq!(child(entries[1], "updated"), "2026-03-02T09:00:00Z");
    for e in &entries {
        assert!(!child(*e, "id").is_empty());
        let link = e.children().find(|c| c.tag_name().name() == "link").and_then(|l| l.attribute("href"));
        assert!(link.is_some_and(|l| l.starts_with(&format!("{}/status/incidents/", app.base))), "{link:?}");
    }
    assert_eq!(p.header("cache-control"), "public, max-age=30");
});

// ---------- subscription ----------

// One-time links stored hashed (like reset links, asvs_2_5_6), GET never changes state
// (asvs_4_2_2), and the same answer whatever the address's state.

both!(subscription_is_double_opt_in_with_one_click_unsubscribe, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    let visitor = app.browser();

    let bad = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "not an address")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("value=\"not an address\""), "typed value kept: {}", bad.body);

    // The form on /status itself.
    let first = visitor.submit("/status", "/status/subscribe", &[("email", "Fan@Example.com")]).await;
    assert_eq!(first.status, 303);
    let answer = visitor.follow(first).await;
    assert!(answer.contains("a mail with a confirmation link is on its way"), "{}", answer.body);
    let all = outbox(&app).await;
    let confirms = mails(&all, "status_confirm", "fan@example.com");
    assert_eq!(confirms.len(), 1);
    assert!(!confirms[0].list_unsubscribe.is_empty());

    // Unconfirmed: no update mail.
    update(&support, &inc, "investigating", "First look.").await;
    assert!(mails(&outbox(&app).await, "status_update", "fan@example.com").is_empty(), "no mail before confirming");

    // Asking again within the hour answers the same and sends nothing more.
    let again = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "fan@example.com")]).await;
    assert_eq!(again.status, 303);
    assert!(visitor.follow(again).await.contains("a mail with a confirmation link is on its way"));
    assert_eq!(mails(&outbox(&app).await, "status_confirm", "fan@example.com").len(), 1, "at most one an hour");

    // The link works once; a GET alone confirms nothing.
    let confirm = link_in(confirms[0], &app.base, "/status/confirm/");
    let form = visitor.get(&confirm).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("f•••@example.com") && form.contains("Confirm the subscription"), "{}", form.body);
    update(&support, &inc, "identified", "Still unconfirmed.").await;
    assert!(mails(&outbox(&app).await, "status_update", "fan@example.com").is_empty());
    let done = visitor.submit(&confirm, &confirm, &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.contains("You are subscribed"));
    let used = visitor.submit("/status/subscribe", &confirm, &[]).await;
    assert_eq!(used.status, 404, "second use");
    assert_eq!(visitor.get(&confirm).await.status, 404);

    // Subscribing a confirmed address again answers the same and mails nothing.
    app.advance(Duration::hours(2));
    let support = relogin(&app, "sam@example.com").await;
    let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "fan@example.com")]).await;
    assert!(visitor.follow(r).await.contains("a mail with a confirmation link is on its way"));
    assert_eq!(mails(&outbox(&app).await, "status_confirm", "fan@example.com").len(), 1);

    update(&support, &inc, "monitoring", "A fix is out; we are watching.").await;
    let all = outbox(&app).await;
    let got = mails(&all, "status_update", "fan@example.com");
    assert_eq!(got.len(), 1, "confirmed subscribers get each update");
    let m = got[0];
    assert!(m.subject.contains("Checkout is failing") && m.subject.contains("Monitoring"), "{}", m.subject);
    assert!(m.body_text.contains("A fix is out; we are watching."));
    let unsubscribe = link_in(m, &app.base, "/status/unsubscribe?token=");
    assert!(m.body_html.contains(&format!("{}{unsubscribe}", app.base)), "{}", m.body_html);
    assert_eq!(m.list_unsubscribe, format!("<{}{unsubscribe}>", app.base));

    // Delivery writes the List-Unsubscribe headers.
    crate::mail::run_jobs(&app).await;
    let eml: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .expect("mail dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with("-status_update.eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(
        eml.iter()
            .any(|t| t.contains("List-Unsubscribe: <")
                && t.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")),
        "{eml:?}"
    );

    // The page asks; a mail client's one-click POST (no cookie, no form token) unsubscribes.
    let ask = app.browser().get(&unsubscribe).await;
    assert_eq!(ask.status, 200);
    assert!(ask.contains("Stop sending status updates to f•••@example.com?"), "{}", ask.body);
    let one_click = reqwest::Client::new()
        .post(format!("{}{unsubscribe}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST");
    assert_eq!(one_click.status().as_u16(), 200);
    assert!(app.browser().get(&unsubscribe).await.contains("Not subscribed"));

    update(&support, &inc, "resolved", "All good.").await;
    assert_eq!(mails(&outbox(&app).await, "status_update", "fan@example.com").len(), 1, "no mail after unsubscribing");
});

both!(subscription_requests_from_one_address_are_limited, |app| {
    let visitor = app.browser();
    let limit = firewatch::service::status_page::IP_CONFIRMATIONS_PER_HOUR;
    for n in 0..limit {
        let email = format!("stranger{n}@example.com");
        let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", &email)]).await;
        assert_eq!(r.status, 303, "{n}");
    }
    let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "one-more@example.com")]).await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Too many subscription requests"), "{}", r.body);
    // An address already asked for gets the same answer as a new one.
    let known = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "stranger0@example.com")]).await;
    assert_eq!(known.status, 422);
    assert!(known.contains("Too many subscription requests"));
    let sent = outbox(&app).await.iter().filter(|m| m.kind == "status_confirm").count();
    assert_eq!(i64::try_from(sent).unwrap_or_default(), limit);
    app.advance(Duration::minutes(61));
    let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", "one-more@example.com")]).await;
    assert_eq!(r.status, 303);
});

// ---------- permissions ----------

both!(only_those_who_work_incidents_publish_on_the_status_page, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let sales = login_as(&app, "sales", "sid@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;

    for (who, b) in [("customer", &customer), ("sales", &sales)] {
        let page = b.get(&format!("/incidents/{inc}")).await;
        assert_eq!(page.status, 200);
        assert!(!page.contains("id=\"status-page\""), "{who} sees no status page section");
        let r = act(b, &inc, "/status-page", &[("shown", "on"), ("public_title", "Hijacked")]).await;
        assert_eq!(r.status, 403, "{who} may not publish");
        let r = post_update(b, &inc, "investigating", "Hijacked").await;
        assert_eq!(r.status, 403, "{who} may not post updates");
        let r = act(b, &inc, "/status-page/state", &[("state", "operational")]).await;
        assert_eq!(r.status, 403, "{who} may not set the state");
    }
    assert!(!app.browser().get("/status").await.contains("Hijacked"));

    // Staff: an update needs the incident on the page first, and a public title to show it.
    let page = support.get(&format!("/incidents/{inc}")).await;
    assert!(page.contains("id=\"status-page\""));
    let r = act(&support, &inc, "/status-page", &[("shown", "on"), ("public_title", "  ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.contains("The public title"), "{}", r.body);
    let r = post_update(&support, &inc, "investigating", "Too early").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Show the incident on the status page"), "{}", r.body);
    publish(&support, &inc, "Checkout is failing").await;
    let r = post_update(&support, &inc, "nonsense", "Typed text survives").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Typed text survives"), "kept: {}", r.body);
    update(&support, &inc, "investigating", "We are on it.").await;

    // The timeline: the public update for everyone, the publication for staff only.
    let staff_view = support.get(&format!("/incidents/{inc}")).await;
    assert!(staff_view.contains("Shown on the status page as “Checkout is failing”"), "{}", staff_view.body);
    assert!(staff_view.contains("Status page update (Investigating): We are on it."));
    let reporter_view = customer.get(&format!("/incidents/{inc}")).await;
    assert!(reporter_view.contains("Status page update (Investigating): We are on it."));
    assert!(!reporter_view.contains("Shown on the status page as"));
});

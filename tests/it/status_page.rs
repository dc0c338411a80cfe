//! The public status page, driven as visitors and staff would: states derived from the
//! incidents staff show there and from scheduled release windows, nothing internal on any
//! public view, the 90-day history and its state log, the Atom feed and JSON with their
//! conditional answers, correcting and retracting updates, maintenance announcements, mail
//! subscription with double opt-in and the fan-out job, and who may publish.

use crate::both;
use crate::incidents::{act, customer_in, login_as, organization, quick, report, service};
use crate::releases::{post_on, tick_all};
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

/// The outbox as it stands, without running any job.
async fn raw_outbox(app: &TestApp) -> Vec<OutboxMessage> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.conn().expect("conn");
        firewatch::db::outbox::list(&mut conn, None, None, 5000).expect("outbox")
    })
    .await
    .expect("join")
}

/// The outbox after the status-mail job fanned out what is pending (as the scheduler does
/// within 30 s), before delivery.
async fn outbox(app: &TestApp) -> Vec<OutboxMessage> {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || firewatch::service::status_page::fan_out(&state).expect("fan out"))
        .await
        .expect("join");
    raw_outbox(app).await
}

/// A confirmed subscriber, through the form and the mailed link.
async fn subscribed(app: &TestApp, email: &str) {
    let visitor = app.browser();
    let r = visitor.submit("/status/subscribe", "/status/subscribe", &[("email", email)]).await;
    assert_eq!(r.status, 303);
    let confirm = link_in(mails(&raw_outbox(app).await, "status_confirm", email)[0], &app.base, "/status/confirm/");
    assert_eq!(visitor.submit(&confirm, &confirm, &[]).await.status, 200);
}

/// Approves a planned release (after ticking its checklist when `tick`) and makes it ready.
async fn make_ready(app: &TestApp, devops: &Browser, release: &str, tick: bool) {
    if tick {
        tick_all(devops, release).await;
    }
    let manager = login_as(app, "manager", &format!("max-{}@example.com", firewatch::crypto::random_token(3))).await;
    let r = post_on(&manager, release, &format!("{release}/approve"), &[("override_reason", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    release_status(devops, release, "ready").await;
}

async fn release_status(devops: &Browser, release: &str, to: &str) {
    let reason = if to == "rolled_back" { "The migration failed." } else { "" };
    let r = post_on(devops, release, &format!("{release}/status"), &[("status", to), ("reason", reason)]).await;
    assert_eq!(r.status, 303, "{to}: {}", r.body);
}

/// Saves the incident's triage form with another severity.
async fn set_severity(b: &Browser, key: &str, service_id: &str, severity: &str) {
    let fields = [
        ("title", "Checkout down"),
        ("service_id", service_id),
        ("impact", "high"),
        ("urgency", "high"),
        ("severity", severity),
        ("tags", ""),
    ];
    let r = act(b, key, "/fields", &fields).await;
    assert_eq!(r.status, 303, "severity {key}: {}", r.body);
}

/// The status page's data was computed this many times so far.
fn loads(app: &TestApp) -> u64 {
    app.state.cache.status_loads()
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

    // A release on Search whose planned window is running: a draft (planned) shows nothing;
    // once it is ready, maintenance, with its public notice and never its own title or notes.
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit(
            "/releases/new",
            "/releases",
            &[
                ("version", "2026.3.2"),
                ("title", "INTERNAL-TITLE Search index upgrade"),
                ("deployment_type", "self_hosted"),
                ("services", &search),
                ("monitor_hours", "72"),
                ("window_start", "2026-03-02T08:30"),
                ("window_end", "2026-03-02T10:00"),
                ("notes", "INTERNAL-RELEASE-NOTES"),
                ("rollback_plan", "INTERNAL-ROLLBACK"),
                ("maintenance_notice", "Search may answer slowly while we upgrade it."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let release = r.location().replace(&devops.base, "");
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Search"), "operational", "a planned release is a draft");
    assert!(!page.contains("Scheduled maintenance") && !page.contains("Search may answer slowly"), "{}", page.body);
    assert_eq!(json(&visitor).await["maintenance"].as_array().map(Vec::len), Some(0));
    make_ready(&app, &devops, &release, true).await;
    let page = visitor.get("/status").await;
    assert_eq!(service_state(&page.body, "Search"), "maintenance");
    assert!(
        page.contains("Search may answer slowly while we upgrade it.") && page.contains("In progress"),
        "{}",
        page.body
    );
    for path in ["/status", "/status.json", "/status/feed.atom"] {
        let p = visitor.get(path).await;
        for secret in ["INTERNAL-TITLE", "INTERNAL-RELEASE-NOTES", "INTERNAL-ROLLBACK", "2026.3.2"] {
            assert!(!p.contains(secret), "{secret} on {path}: {}", p.body);
        }
    }
    let v = json(&visitor).await;
    assert_eq!(json_state(&v, "Search"), "maintenance");
    assert_eq!(v["maintenance"][0]["title"], "Search may answer slowly while we upgrade it.");
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
    // Today is 2026-03-03; yesterday's bar says what happened, in words as well as colour:
    // the date, the worst state and the incident, as a tooltip and as text in the bar.
    let yesterday = "2026-03-02: Major outage — Checkout is failing";
    assert!(page.contains(&format!("title=\"{yesterday}\"")), "{}", page.body);
    assert!(page.contains(&format!("<span class=\"day-text\">{yesterday}</span>")));
    assert!(page.contains("<span class=\"day-text\">2026-03-03: Operational</span>"));
    assert!(page.contains("<span class=\"day-text\">2026-03-01: Operational</span>"));
    assert_eq!(page.body.matches("class=\"day state-").count(), 90, "one bar a day for 90 days");
    // Each bar can be reached from the keyboard (app.js keeps one Tab stop per service).
    assert_eq!(page.body.matches("class=\"day state-major_outage\" tabindex=\"0\"").count(), 1);
    assert_eq!(page.body.matches("tabindex=\"0\" title=\"20").count(), 90);
    assert!(page.contains("Last 90 days: 89 days operational, 1 day with major outage."), "{}", page.body);
    // A legend names every state, and the bad days are listed in words.
    for label in ["Operational", "Maintenance", "Degraded performance", "Partial outage", "Major outage"] {
        assert!(page.contains(&format!("aria-hidden=\"true\"></span> {label}</li>")), "legend: {label}");
    }
    assert!(page.contains("Days not fully operational (1)") && page.contains(&format!("<li>{yesterday}</li>")));
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

// ---------- scheduled maintenance ----------

/// The release form's fields, for creating and editing.
fn release_fields<'a>(svc: &'a str, start: &'a str, end: &'a str, notice: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("version", "2026.3.9"),
        ("title", "INTERNAL-TITLE-9911 schema migration"),
        ("deployment_type", "self_hosted"),
        ("services", svc),
        ("monitor_hours", "72"),
        ("window_start", start),
        ("window_end", end),
        ("notes", "INTERNAL-NOTES-8822"),
        ("rollback_plan", "INTERNAL-ROLLBACK-7733"),
        ("maintenance_notice", notice),
    ]
}

both!(scheduled_maintenance_is_announced_on_the_page_in_the_feed_and_by_mail, |app| {
    let admin = app.signed_in("admin").await;
    let search = service(&admin, "Search").await;
    subscribed(&app, "fan@example.com").await;
    let visitor = app.browser();
    let subscribe = visitor.get("/status/subscribe").await;
    assert!(subscribe.contains("whenever maintenance is scheduled, rescheduled or cancelled"), "{}", subscribe.body);

    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit("/releases/new", "/releases", &release_fields(&search, "2026-03-03T22:00", "2026-03-03T23:00", ""))
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let release = r.location().replace(&devops.base, "");
    let maintenance_mails = |all: &[OutboxMessage]| -> Vec<OutboxMessage> {
        all.iter().filter(|m| m.kind == "status_maintenance" && m.to_address == "fan@example.com").cloned().collect()
    };
    let secrets = ["INTERNAL-TITLE-9911", "INTERNAL-NOTES-8822", "INTERNAL-ROLLBACK-7733", "2026.3.9"];

    // A draft is nobody's business outside.
    for path in ["/status", "/status.json", "/status/feed.atom"] {
        assert!(!visitor.get(path).await.contains("Scheduled maintenance"), "{path} shows a planned release");
    }
    assert!(maintenance_mails(&outbox(&app).await).is_empty());

    // Ready: scheduled, with the generic text (no notice written), on every public view.
    make_ready(&app, &devops, &release, true).await;
    let page = visitor.get("/status").await;
    assert!(page.contains("<strong>Scheduled maintenance</strong>") && page.contains("· Search"), "{}", page.body);
    assert!(page.contains("2026-03-03 22:00 UTC – 2026-03-03 23:00 UTC"), "{}", page.body);
    assert_eq!(json(&visitor).await["maintenance"][0]["title"], "Scheduled maintenance");
    let feed = visitor.get("/status/feed.atom").await;
    assert!(feed.contains("<title type=\"text\">Maintenance scheduled: Search</title>"), "{}", feed.body);
    let all = outbox(&app).await;
    let mails_now = maintenance_mails(&all);
    assert_eq!(mails_now.len(), 1, "one mail when it is scheduled");
    let m = &mails_now[0];
    assert!(m.subject.contains("Maintenance scheduled") && m.subject.contains("Search"), "{}", m.subject);
    assert!(m.body_text.contains("2026-03-03 22:00 UTC – 2026-03-03 23:00 UTC"), "{}", m.body_text);
    assert!(m.body_text.contains("Scheduled maintenance"));
    assert!(m.body_text.contains(&format!("{}/status/unsubscribe?token=", app.base)) && !m.list_unsubscribe.is_empty());
    for path in ["/status", "/status.json", "/status/feed.atom"] {
        let p = visitor.get(path).await;
        for s in secrets {
            assert!(!p.contains(s), "{s} on {path}");
        }
    }

    // Moved an hour later, with a notice of its own: rescheduled.
    let fields = release_fields(&search, "2026-03-03T23:00", "2026-03-04T00:00", "Search is read-only for an hour.");
    let r = post_on(&devops, &release, &release, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = visitor.get("/status").await;
    assert!(page.contains("<strong>Search is read-only for an hour.</strong>"), "{}", page.body);
    assert!(page.contains("2026-03-03 23:00 UTC – 2026-03-04 00:00 UTC"));
    let all = outbox(&app).await;
    let mails_now = maintenance_mails(&all);
    assert_eq!(mails_now.len(), 2);
    let moved = mails_now.iter().find(|m| m.subject.contains("Maintenance rescheduled")).expect("rescheduled mail");
    assert!(
        moved.body_text.contains("Search is read-only for an hour.")
            && moved.body_text.contains("2026-03-03 23:00 UTC")
    );
    // Saving it again unchanged announces nothing.
    let r = post_on(&devops, &release, &release, &fields).await;
    assert_eq!(r.status, 303);
    assert_eq!(maintenance_mails(&outbox(&app).await).len(), 2);

    // Back to planning: cancelled.
    release_status(&devops, &release, "planned").await;
    assert!(!visitor.get("/status").await.contains("Search is read-only"));
    let all = outbox(&app).await;
    let mails_now = maintenance_mails(&all);
    assert_eq!(mails_now.len(), 3);
    let cancelled = mails_now.iter().find(|m| m.subject.contains("Maintenance cancelled")).expect("cancelled mail");
    assert!(cancelled.body_text.contains("will not take place"), "{}", cancelled.body_text);
    let feed = visitor.get("/status/feed.atom").await;
    assert!(feed.contains("Maintenance cancelled: Search"), "{}", feed.body);

    // Ready again, deployed early, then rolled back before its window: cancelled once more.
    make_ready(&app, &devops, &release, false).await;
    release_status(&devops, &release, "deployed").await;
    assert!(visitor.get("/status").await.contains("Search is read-only for an hour."), "still scheduled");
    release_status(&devops, &release, "rolled_back").await;
    assert!(!visitor.get("/status").await.contains("Search is read-only"), "a rolled-back release's window is gone");
    let all = outbox(&app).await;
    let kinds: Vec<String> = maintenance_mails(&all).iter().map(|m| m.subject.clone()).collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|s| s.contains("Maintenance cancelled")).count(), 2, "{kinds:?}");
    for m in maintenance_mails(&all) {
        for s in secrets {
            assert!(!m.body_text.contains(s) && !m.body_html.contains(s) && !m.subject.contains(s), "{s} mailed");
        }
    }
    // Staff read on the release what the status page was told.
    let page = devops.get(&release).await;
    assert!(page.contains("Status page: maintenance scheduled (subscribers are mailed)"), "{}", page.body);
});

// ---------- caching and conditional requests ----------

async fn get_with(b: &Browser, path: &str, header: &str, value: &str) -> Page {
    let resp = b.client.get(b.url(path)).header(header, value).send().await.expect("GET");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Page { status, headers, body: resp.text().await.unwrap_or_default() }
}

both!(the_public_views_are_computed_once_and_answer_304_until_something_changes, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    update(&support, &inc, "investigating", "Looking into it.").await;
    let visitor = app.browser();

    // One computation serves the page, the JSON and the feed, again and again.
    let first = visitor.get("/status").await;
    let before = loads(&app);
    for _ in 0..3 {
        for path in ["/status", "/status.json", "/status/feed.atom"] {
            assert_eq!(visitor.get(path).await.status, 200);
        }
    }
    assert_eq!(loads(&app), before, "served from the snapshot");
    let second = visitor.get("/status").await;
    let etag = first.header("etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(second.header("etag"), etag, "same visitor, same page");
    assert!(!first.header("last-modified").is_empty());
    assert_eq!(first.header("cache-control"), "private, max-age=30");

    // Each view answers 304 to a client that has it.
    let json_page = visitor.get("/status.json").await;
    let feed_page = visitor.get("/status/feed.atom").await;
    for (path, p) in [("/status", &first), ("/status.json", &json_page), ("/status/feed.atom", &feed_page)] {
        let again = get_with(&visitor, path, "if-none-match", &p.header("etag")).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), p.header("etag"), "{path}");
        let since = get_with(&visitor, path, "if-modified-since", &p.header("last-modified")).await;
        assert_eq!(since.status, 304, "{path} by date");
    }
    assert_eq!(json_page.header("cache-control"), "public, max-age=30");
    // Another visitor's page holds another form token: never their 304.
    let other = app.browser();
    assert_eq!(get_with(&other, "/status", "if-none-match", &etag).await.status, 200);

    // Time passes and nothing changes: computed again, still the same validators.
    app.advance(Duration::seconds(11));
    let later = get_with(&visitor, "/status.json", "if-none-match", &json_page.header("etag")).await;
    assert_eq!(later.status, 304, "nothing changed: {} vs {}", later.body, json_page.body);
    assert_eq!(later.header("last-modified"), json_page.header("last-modified"));
    assert!(loads(&app) > before, "recomputed after the snapshot's 10 s");

    // A write shows at once: new validators, the new text.
    let support = relogin(&app, "sam@example.com").await;
    update(&support, &inc, "identified", "FOUND-THE-CAUSE").await;
    for (path, p) in [("/status", &first), ("/status.json", &json_page), ("/status/feed.atom", &feed_page)] {
        let again = get_with(&visitor, path, "if-none-match", &p.header("etag")).await;
        assert_eq!(again.status, 200, "{path} changed");
        assert!(again.contains("FOUND-THE-CAUSE"), "{path}");
        assert_ne!(again.header("etag"), p.header("etag"));
    }
    // Signed in: the user's own page, never stored or revalidated.
    let page = support.get("/status").await;
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.header("etag").is_empty());
});

// ---------- mail fan-out ----------

/// `n` confirmed subscribers written straight to the database (fast arranging).
async fn many_subscribers(app: &TestApp, n: usize) {
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let now = state.clock.now_naive();
        state
            .tx(|conn| {
                for i in 0..n {
                    let hash = format!("confirm-{i}");
                    firewatch::db::status_page::insert_subscriber(
                        conn,
                        &firewatch::db::status_page::NewSubscriber {
                            email: &format!("reader{i}@example.com"),
                            confirm_hash: &hash,
                            confirm_expires_at: now + Duration::hours(1),
                            unsubscribe_seed: &format!("seed-{i}"),
                            unsubscribe_hash: &format!("unsubscribe-{i}"),
                            request_ip: "192.0.2.1",
                            now,
                        },
                    )?;
                    firewatch::db::status_page::confirm(conn, &hash, now)?;
                }
                Ok(())
            })
            .expect("subscribers");
    })
    .await
    .expect("join");
}

both!(posting_an_update_queues_one_mailing_that_the_job_fans_out_once_per_subscriber, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    let n = 1100; // more than two fan-out batches
    many_subscribers(&app, n).await;

    // The request writes one mailing, not a mail per subscriber.
    update(&support, &inc, "investigating", "We are looking into it.").await;
    let count = |all: &[OutboxMessage]| all.iter().filter(|m| m.kind == "status_update").count();
    assert_eq!(count(&raw_outbox(&app).await), 0, "nothing rendered per subscriber in the posting transaction");

    // A subscriber confirmed after the posting does not get it.
    app.advance(Duration::minutes(1));
    subscribed(&app, "late@example.com").await;

    let r = app.run_jobs().await;
    assert_eq!(r.status_mails, n, "{r:?}");
    let all = raw_outbox(&app).await;
    assert_eq!(count(&all), n);
    let mut to: Vec<&str> = all.iter().filter(|m| m.kind == "status_update").map(|m| m.to_address.as_str()).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), n, "each subscriber once");
    assert!(!to.contains(&"late@example.com"));
    // Each copy carries its own unsubscribe link, in the text, the HTML and the header.
    let a = all.iter().find(|m| m.kind == "status_update" && m.to_address == "reader1@example.com").expect("reader1");
    let b = all.iter().find(|m| m.kind == "status_update" && m.to_address == "reader2@example.com").expect("reader2");
    assert_ne!(a.list_unsubscribe, b.list_unsubscribe);
    assert_ne!(a.message_id, b.message_id);
    let link = a.list_unsubscribe.trim_matches(|c| c == '<' || c == '>');
    assert!(a.body_text.contains(link) && a.body_html.contains(link), "{}", a.body_text);
    assert!(!a.body_text.contains("FWUNSUBSCRIBE") && !a.body_html.contains("FWUNSUBSCRIBE"));
    assert!(a.body_text.contains("We are looking into it."));
    assert_eq!(a.incident_id, None);

    // Running again sends nothing twice.
    assert_eq!(app.run_jobs().await.status_mails, 0);
    assert_eq!(count(&raw_outbox(&app).await), n);

    // An update retracted before the job ran is never mailed.
    let posted = post_update(&support, &inc, "identified", "WRONG-GUESS").await;
    assert_eq!(posted.status, 303);
    let page = support.get(&format!("/incidents/{inc}")).await;
    let id = staff_update_id(&page.body, "WRONG-GUESS");
    let r =
        act(&support, &inc, &format!("/status-updates/{id}/retract"), &[("retract_reason", "Not the cause.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.run_jobs().await.status_mails, 0);
    assert!(!raw_outbox(&app).await.iter().any(|m| m.body_text.contains("WRONG-GUESS")));
});

// ---------- state at the time ----------

both!(history_and_mails_keep_the_state_that_held_at_the_time, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    subscribed(&app, "fan@example.com").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    update(&support, &inc, "investigating", "FIRST-UPDATE").await;

    // An hour later the severity is lowered: from now on degraded, the past stays a major outage.
    app.advance(Duration::hours(1));
    let support = relogin(&app, "sam@example.com").await;
    set_severity(&support, &inc, &svc, "SEV3").await;
    let visitor = app.browser();
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "degraded");
    update(&support, &inc, "identified", "SECOND-UPDATE").await;
    app.advance(Duration::hours(1));
    let support = relogin(&app, "sam@example.com").await;
    update(&support, &inc, "resolved", "THIRD-UPDATE").await;
    resolve(&support, &inc).await;

    let all = outbox(&app).await;
    let mail = |marker: &str| {
        all.iter()
            .find(|m| m.kind == "status_update" && m.body_text.contains(marker))
            .map(|m| m.body_text.clone())
            .unwrap_or_else(|| panic!("mail {marker}"))
    };
    assert!(mail("FIRST-UPDATE").contains("Affected: Checkout (Major outage)"), "{}", mail("FIRST-UPDATE"));
    assert!(mail("SECOND-UPDATE").contains("Affected: Checkout (Degraded performance)"), "{}", mail("SECOND-UPDATE"));
    assert!(
        mail("THIRD-UPDATE").contains("during the incident: Degraded performance; working normally again"),
        "{}",
        mail("THIRD-UPDATE")
    );

    // The public incident page labels each update with the state of its time.
    let status = visitor.get("/status").await;
    let one = visitor.get(&public_incident_path(&status.body)).await;
    let first = one.body.find("FIRST-UPDATE").expect("first update");
    let second = one.body.find("SECOND-UPDATE").expect("second update");
    let before_first = &one.body[..first];
    let before_second = &one.body[..second];
    assert!(
        before_first[before_first.rfind("<li id=\"update-").unwrap_or(0)..].contains("Major outage"),
        "{}",
        one.body
    );
    assert!(before_second[before_second.rfind("<li id=\"update-").unwrap_or(0)..].contains("Degraded performance"));

    // Days later the incident is re-triaged as SEV4: the 2nd still shows its major outage.
    app.advance(Duration::days(1));
    let support = relogin(&app, "sam@example.com").await;
    set_severity(&support, &inc, &svc, "SEV4").await;
    let page = app.browser().get("/status").await;
    assert!(page.contains("title=\"2026-03-02: Major outage — Checkout is failing\""), "{}", page.body);
    assert!(page.contains("Last 90 days: 89 days operational, 1 day with major outage."), "{}", page.body);
});

// ---------- correcting and retracting ----------

/// The id of the staff panel's update whose text contains `marker`.
fn staff_update_id(body: &str, marker: &str) -> String {
    body.split("id=\"staff-update-")
        .skip(1)
        .find(|chunk| chunk.split("</li>").next().is_some_and(|item| item.contains(marker)))
        .and_then(|chunk| chunk.split('"').next())
        .unwrap_or_else(|| panic!("{marker} in the staff panel: {body}"))
        .to_string()
}

both!(staff_correct_and_retract_public_updates_with_a_record_of_both, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let sales = login_as(&app, "sales", "sid@example.com").await;
    let support = login_as(&app, "support", "sam@example.com").await;
    let inc = sev1(&customer, &svc, "Checkout down", "").await;
    publish(&support, &inc, "Checkout is failing").await;
    update(&support, &inc, "investigating", "We are lookng TYPO-1111 into it.").await;
    update(&support, &inc, "identified", "WRONG-CAUSE-2222 the database.").await;
    let page = support.get(&format!("/incidents/{inc}")).await;
    let first = staff_update_id(&page.body, "TYPO-1111");
    let second = staff_update_id(&page.body, "WRONG-CAUSE-2222");
    let visitor = app.browser();
    let public = public_incident_path(&visitor.get("/status").await.body);

    // Only those who publish may correct or retract.
    for (who, b) in [("customer", &customer), ("sales", &sales)] {
        let r = act(b, &inc, &format!("/status-updates/{first}"), &[("edit_body", "Hijacked")]).await;
        assert_eq!(r.status, 403, "{who} may not edit");
        let r = act(b, &inc, &format!("/status-updates/{first}/retract"), &[("retract_reason", "Hijacked")]).await;
        assert_eq!(r.status, 403, "{who} may not retract");
    }

    // A correction: the new text everywhere, marked edited; the old text kept for staff only.
    let r = act(&support, &inc, &format!("/status-updates/{first}"), &[("edit_body", "   ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Write the update customers will read."), "{}", r.body);
    let r = act(&support, &inc, &format!("/status-updates/{first}"), &[("edit_body", "We are looking into it.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    for path in ["/status", "/status.json", "/status/feed.atom", public.as_str()] {
        let p = visitor.get(path).await;
        assert!(p.contains("We are looking into it.") && !p.contains("TYPO-1111"), "{path}: {}", p.body);
    }
    assert!(visitor.get(&public).await.contains("· edited 2026-03-02 09:00"), "marked edited");
    assert!(json(&visitor).await["incidents"][0]["updates"][1]["edited_at"].is_string());
    let staff_view = support.get(&format!("/incidents/{inc}")).await;
    assert!(
        staff_view
            .contains("Corrected a status page update: “We are lookng TYPO-1111 into it.” → “We are looking into it.”"),
        "{}",
        staff_view.body
    );
    let reporter_view = customer.get(&format!("/incidents/{inc}")).await;
    assert!(reporter_view.contains("Status page update (Investigating): We are looking into it."));
    assert!(!reporter_view.contains("TYPO-1111"), "{}", reporter_view.body);

    // A retraction needs a reason; then the update is gone from every public view.
    let r = act(&support, &inc, &format!("/status-updates/{second}/retract"), &[("retract_reason", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Say why the update is retracted"), "{}", r.body);
    let r =
        act(&support, &inc, &format!("/status-updates/{second}/retract"), &[("retract_reason", "Wrong cause.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    for path in ["/status", "/status.json", "/status/feed.atom", public.as_str()] {
        assert!(!visitor.get(path).await.contains("WRONG-CAUSE-2222"), "{path} after retracting");
    }
    assert!(
        !customer.get(&format!("/incidents/{inc}")).await.contains("WRONG-CAUSE-2222"),
        "nor the reporter's timeline"
    );
    let staff_view = support.get(&format!("/incidents/{inc}")).await;
    assert!(staff_view.contains("Retracted 2026-03-02 09:00") && staff_view.contains("Reason: Wrong cause."));
    let r = act(&support, &inc, &format!("/status-updates/{second}"), &[("edit_body", "Try again")]).await;
    assert_eq!(r.status, 409, "a retracted update stays retracted");

    // Retracting a "resolved" update makes the incident current again.
    update(&support, &inc, "resolved", "RESOLVED-TOO-EARLY").await;
    assert_eq!(json(&visitor).await["incidents"].as_array().map(Vec::len), Some(0));
    let page = support.get(&format!("/incidents/{inc}")).await;
    let early = staff_update_id(&page.body, "RESOLVED-TOO-EARLY");
    let r =
        act(&support, &inc, &format!("/status-updates/{early}/retract"), &[("retract_reason", "Still failing.")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(json(&visitor).await["incidents"].as_array().map(Vec::len), Some(1));
    assert_eq!(service_state(&visitor.get("/status").await.body, "Checkout"), "major_outage");

    // An update of another incident is not found through this one.
    let other = sev1(&customer, &svc, "Other", "").await;
    let r = act(&support, &other, &format!("/status-updates/{first}"), &[("edit_body", "Cross")]).await;
    assert_eq!(r.status, 404);

    // Both are audited.
    let audit = admin.get("/admin/audit").await;
    assert!(audit.contains("status_update.edit") && audit.contains("status_update.retract"), "{}", audit.body);
});

//! The agent's workspace on the incident page: state and actions beside the conversation, SLA
//! clocks in words and colour, replies and internal notes as two different actions.

use crate::both;
use crate::incidents::{act, detail, incident, login_as, quick, service};
use chrono::Duration;

/// The queue's "Previous page" link.
fn previous_link(body: &str) -> Option<String> {
    let end = body.find("\" rel=\"prev\">Previous page</a>")?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(crate::support::html_unescape(&body[start..end]))
}

/// The hidden mode field and the send button of the reply box.
fn compose_mode(body: &str) -> (String, String) {
    let start = body.find("id=\"reply\"").unwrap_or(0);
    let boxed = &body[start..];
    let mode = boxed.split("name=\"visibility\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
    let end = boxed.find("</form>").unwrap_or(boxed.len());
    let button = boxed[..end].rsplit("<button type=\"submit\" class=\"btn btn-primary\"").next().unwrap_or("");
    let label = button.split_once('>').map(|(_, r)| r.split('<').next().unwrap_or("")).unwrap_or("");
    (mode.to_string(), label.to_string())
}

both!(state_and_actions_come_before_the_conversation, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let key = quick(&agent, &svc, "Card payments fail").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("href=\"/static/incident.css\""));
    let side = page.body.find("class=\"incident-side\"").expect("sidebar");
    let main = page.body.find("class=\"incident-main\"").expect("conversation");
    let assign_me = page.body.find(">Assign to me</button>").expect("assign to me");
    let status = page.body.find(">Change status</button>").expect("status control");
    let timeline = page.body.find("id=\"timeline-h\"").expect("timeline");
    // Narrow screens show the document order: state and the quick actions first.
    assert!(side < assign_me && assign_me < status && status < main && main < timeline);
    assert!(page.contains("class=\"badge status-new\""), "the status has its own colour class");
    assert!(page.contains("class=\"badge sev-SEV3\""));

    // Taking it: the quick action goes, the assignee shows.
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    let page = incident(&agent, &key).await;
    assert!(!page.contains(">Assign to me</button>"));
    assert!(!detail(&page.body, "Assignee").contains("Nobody yet"));

    // A collapsed section opens when its field comes back with an error; typed values stay.
    let bad = act(
        &agent,
        &key,
        "/fields",
        &[
            ("title", ""),
            ("service_id", &svc),
            ("impact", "medium"),
            ("urgency", "medium"),
            ("severity", "SEV3"),
            ("tags", "kept-tag"),
        ],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("<details class=\"card side-more\" open>"), "triage opens on its error");
    assert!(bad.contains("value=\"kept-tag\""));
    let bad = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "other"), ("reason_text", "")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("<details class=\"side-more\" open>"), "escalation opens on its error");
});

both!(sla_clocks_carry_their_state_in_words_and_colour, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    // SEV3 from medium impact and urgency: see the SLA tests for the targets.
    let key = quick(&agent, &svc, "Checkout slow").await;
    let page = incident(&agent, &key).await;
    let first = detail(&page.body, "First response");
    assert!(first.starts_with("due in"), "{first}");
    assert!(page.contains("<dt>First response</dt><dd class=\"sla sla-running\">"));

    // Past 80 % of the first-response target it is at risk, past the target overdue.
    let target = first_response_minutes(&page.body);
    app.advance(Duration::minutes(target * 9 / 10));
    let agent = login_as(&app, "support", "later@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(
        page.contains("<dt>First response</dt><dd class=\"sla sla-risk\">due in"),
        "{}",
        detail(&page.body, "First response")
    );
    app.advance(Duration::minutes(target));
    let agent = login_as(&app, "support", "much-later@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("<dt>First response</dt><dd class=\"sla sla-breached\">overdue by"));
    assert_eq!(act(&agent, &key, "/comments", &[("body", "Looking now"), ("visibility", "public")]).await.status, 303);
    let page = incident(&agent, &key).await;
    assert!(
        page.contains("<dt>First response</dt><dd class=\"sla sla-breached\">overdue by"),
        "a late answer stays breached"
    );
});

/// Minutes until the first response is due, read from "due in 1 h 5 min" / "due in 30 min".
fn first_response_minutes(body: &str) -> i64 {
    let text = detail(body, "First response");
    let mut minutes = 0;
    let words: Vec<&str> = text.split_whitespace().collect();
    for pair in words.windows(2) {
        if let Ok(n) = pair[0].parse::<i64>() {
            minutes += match pair[1] {
                "h" => n * 60,
                "d" => n * 24 * 60,
                _ => n,
            };
        }
    }
    minutes
}

both!(a_note_box_stays_a_note_box_and_looks_like_one, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let cust = login_as(&app, "customer", "nora@example.com").await;
    let key = quick(&cust, &svc, "Invoices show wrong totals").await;

    let page = incident(&agent, &key).await;
    assert_eq!(compose_mode(&page.body), ("public".into(), "Send reply".into()));
    assert!(page.contains(">Reply to the reporter</a>") && page.contains(">Internal note</a>"));
    let page = agent.get(&format!("/incidents/{key}?compose=note")).await;
    assert_eq!(compose_mode(&page.body), ("internal".into(), "Add internal note".into()));
    assert!(page.contains("class=\"card compose compose-note\""));

    // Posting a note comes back to a note box, not a public one.
    let posted =
        act(&agent, &key, "/comments", &[("body", "Rounding in the tax module"), ("visibility", "internal")]).await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.location(), format!("/incidents/{key}?compose=note#reply"));
    let back = agent.get(&posted.location()).await;
    assert_eq!(compose_mode(&back.body).0, "internal");
    assert!(back.contains("Internal note added."));
    // In the timeline the note has its own class and label.
    let note = back.body.split("<li class=\"internal comment\"").nth(1).expect("the note in the timeline");
    assert!(note.contains("note, staff only") && note.contains("Rounding in the tax module"));

    // A reply goes back to the plain page; a note box that comes back with an error stays one.
    let replied = act(&agent, &key, "/comments", &[("body", "We are on it"), ("visibility", "public")]).await;
    assert_eq!(replied.location(), format!("/incidents/{key}"));
    let empty = act(&agent, &key, "/comments", &[("body", ""), ("visibility", "internal")]).await;
    assert_eq!(empty.status, 422);
    assert_eq!(compose_mode(&empty.body).0, "internal");

    // Customers get one kind of box, whatever the address says.
    let theirs = cust.get(&format!("/incidents/{key}?compose=note")).await;
    assert_eq!(compose_mode(&theirs.body), ("public".into(), "Send reply".into()));
    assert!(!theirs.contains("Internal note") && !theirs.contains("Rounding in the tax module"));
});

both!(the_customer_timeline_leaves_out_staff_hand_overs, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let cust = login_as(&app, "customer", "nora@example.com").await;
    let key = quick(&cust, &svc, "Invoices show wrong totals").await;
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "none")]).await.status, 303);
    assert_eq!(act(&agent, &key, "/comments", &[("body", "We found it"), ("visibility", "public")]).await.status, 303);
    assert_eq!(act(&agent, &key, "/status", &[("status", "in_progress"), ("resolution", "")]).await.status, 303);

    let staff_view = incident(&agent, &key).await;
    assert!(staff_view.contains("Assigned to") && staff_view.contains("Unassigned (was"));
    let theirs = incident(&cust, &key).await;
    assert!(theirs.contains("We found it"));
    assert!(theirs.contains("Status new → in progress"), "the status in words");
    assert!(!theirs.contains("Assigned to") && !theirs.contains("Unassigned"), "no hand-overs");
});

/// Rows of the admin outbox that are acknowledgements, as "to subject".
async fn acknowledgements(admin: &crate::support::Browser) -> Vec<String> {
    let page = admin.get("/admin/outbox").await;
    page.body.split("<tr>").filter(|row| row.contains(">received</td>")).map(crate::support::html_unescape).collect()
}

both!(the_reporter_hears_that_the_report_arrived_unless_turned_off, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let cust = login_as(&app, "customer", "nora@example.com").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let key = quick(&cust, &svc, "Invoices show wrong totals").await;
    let acks = acknowledgements(&admin).await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert!(
        acks[0].contains("nora@example.com")
            && acks[0].contains(&format!("[{key}] Received: Invoices show wrong totals"))
    );

    // Staff who file an incident of their own know it is filed.
    quick(&agent, &svc, "Disk filling on db-2").await;
    assert_eq!(acknowledgements(&admin).await.len(), 1);

    // Turned off by an admin: no acknowledgement; the setting shows and is audited.
    let r = admin.submit("/admin/outbox", "/admin/outbox/settings", &[]).await;
    assert_eq!(r.status, 303);
    assert!(!admin.get("/admin/outbox").await.contains("name=\"acknowledge\" value=\"on\" checked"));
    quick(&cust, &svc, "Second problem").await;
    assert_eq!(acknowledgements(&admin).await.len(), 1);
    assert!(admin.get("/admin/audit").await.contains("mail.acknowledge_reporter"));
    let r = admin.submit("/admin/outbox", "/admin/outbox/settings", &[("acknowledge", "on")]).await;
    assert_eq!(r.status, 303);
    assert!(admin.get("/admin/outbox").await.contains("name=\"acknowledge\" value=\"on\" checked"));
    quick(&cust, &svc, "Third problem").await;
    assert_eq!(acknowledgements(&admin).await.len(), 2);
    // Only admins change it.
    let refused = agent.post_raw("/admin/outbox/settings", &[("csrf_token", &agent.get("/").await.csrf())]).await;
    assert!(refused.status == 403 || refused.status == 404, "{}", refused.status);
});

both!(every_queue_order_pages_through_every_incident_once, |app| {
    use crate::incidents::{count_text, next_link, row_keys};
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let mut keys = Vec::new();
    for i in 0..30 {
        keys.push(quick(&agent, &svc, &format!("Queue paging {i}")).await);
        app.advance(Duration::minutes(1));
    }
    // Clocks that do not run: resolved, and waiting on the customer.
    for k in &keys[..4] {
        for s in ["in_progress", "resolved"] {
            let r = act(&agent, k, "/status", &[("status", s), ("resolution", "Fixed by a restart")]).await;
            assert_eq!(r.status, 303, "{k} {s}");
        }
    }
    for k in &keys[4..7] {
        for s in ["in_progress", "waiting_on_customer"] {
            assert_eq!(act(&agent, k, "/status", &[("status", s), ("resolution", "")]).await.status, 303, "{k} {s}");
        }
    }
    let all_statuses =
        "status=new&status=triaged&status=in_progress&status=waiting_on_customer&status=resolved&status=closed";
    for sort in ["priority", "severity", "created", "updated", "due"] {
        for (filter, expected) in [("", 26), (all_statuses, 30)] {
            let mut url = format!("/incidents?{filter}&sort={sort}&per=25");
            let mut seen: Vec<String> = Vec::new();
            let mut pages = 0;
            loop {
                let page = agent.get(&url).await;
                assert_eq!(page.status, 200, "{url}");
                assert_eq!(count_text(&page.body), format!("{expected} incidents"), "{url}");
                let rows = row_keys(&page.body);
                assert!(rows.len() <= 25, "{url}: {} rows", rows.len());
                if pages > 0 {
                    assert!(page.contains(">First page</a>"), "{url}");
                    // Previous page returns to exactly the rows of the page before.
                    let back = previous_link(&page.body).expect("a previous page");
                    let before = row_keys(&agent.get(&back).await.body);
                    assert_eq!(before, seen[seen.len() - 25..], "{sort}: previous page");
                } else {
                    assert!(previous_link(&page.body).is_none(), "no page before the first");
                }
                seen.extend(rows);
                pages += 1;
                match next_link(&page.body) {
                    Some(n) => url = n,
                    None => break,
                }
                assert!(pages < 5, "{sort}: too many pages");
            }
            let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{sort} {filter}: a row twice");
            assert_eq!(seen.len(), expected, "{sort} {filter}: every incident once");
            assert_eq!(pages, 2, "{sort}: 25 rows, then the rest");
        }
    }
    // The due order: running clocks soonest first, then those that do not run.
    let due = agent.get(&format!("/incidents?{all_statuses}&sort=due&per=100")).await;
    let order = row_keys(&due.body);
    let stopped: Vec<&String> = keys[..7].iter().collect();
    let first_stopped = order.iter().position(|k| stopped.contains(&k)).expect("stopped ones listed");
    assert_eq!(first_stopped, 23, "23 running clocks come first: {order:?}");
});

both!(escalating_says_who_holds_it_and_can_keep_the_assignee, |app| {
    use crate::escalation::configure_tier;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    app.user("devops", "dana@example.com").await;
    let tiers = admin.get("/admin/tiers").await;
    assert!(tiers.contains("4 tiers leave incidents without a person"), "fresh tiers: {}", tiers.body);
    let saved = configure_tier(&admin, &app, 2, "Tier 2 DevOps", &["dana@example.com"], &["dana@example.com"]).await;
    assert_eq!(saved.status, 303);
    let tiers = admin.get("/admin/tiers").await;
    assert!(tiers.contains("3 tiers leave incidents without a person"));
    assert!(tiers.contains("No members: nobody is mailed"));

    let key = quick(&agent, &svc, "Card payments fail").await;
    assert_eq!(act(&agent, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    // Keeping the assignee: the incident climbs, the agent still holds it.
    let kept =
        act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "needs_expertise"), ("keep_assignee", "on")])
            .await;
    assert_eq!(kept.status, 303);
    let page = agent.follow(kept).await;
    assert!(page.contains("Moved to Tier 2 DevOps; Test support still holds it."), "{}", page.body);
    assert_eq!(detail(&page.body, "Tier"), "Tier 2 DevOps");
    assert_eq!(detail(&page.body, "Assignee"), "Test support");
    // Back down and up again without keeping: the on-call person takes it, and the page says so.
    assert_eq!(
        act(&agent, &key, "/escalate", &[("tier", "previous"), ("reason", "resolved_at_lower_tier")]).await.status,
        303
    );
    let moved = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "needs_expertise")]).await;
    let page = agent.follow(moved).await;
    assert!(page.contains("Moved to Tier 2 DevOps; Test devops, on call there, now holds it."), "{}", page.body);
    assert_eq!(detail(&page.body, "Assignee"), "Test devops");
    // Up to a tier nobody is on call for: unassigned, and said out loud.
    let up = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "major_impact")]).await;
    let page = agent.follow(up).await;
    assert!(
        page.contains("Moved to Tier 3 Engineering. Nobody is on call there today: it is unassigned, assign someone.")
    );
    assert!(detail(&page.body, "Assignee").contains("Nobody yet"));
});

both!(a_customers_sev1_waits_for_staff_and_publishes_nothing_by_itself, |app| {
    use crate::incidents::report;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let lead = login_as(&app, "manager", "lead@example.com").await;
    let cust = login_as(&app, "customer", "nora@example.com").await;
    let fields = [
        ("title", "Nothing works"),
        ("description", "All payments fail"),
        ("service_id", svc.as_str()),
        ("impact", "high"),
        ("urgency", "high"),
    ];
    let key = report(&cust, &fields).await;
    let page = incident(&lead, &key).await;
    assert!(page.contains("Severity: </span>SEV1</span>"));
    assert!(page.contains("Reported as SEV1 by the customer: confirm."));
    // The status page section offers publication unticked, with what it would show.
    assert!(page.contains("name=\"shown\" value=\"on\">"), "unticked");
    assert!(page.contains("id=\"status-preview\""));
    assert!(page.contains("would show Payments API as <strong>Major outage</strong>"), "{}", page.body);
    assert!(!lead.get("/status").await.contains("Nothing works"));

    // Triaged: confirmed, the notice goes.
    assert_eq!(act(&lead, &key, "/status", &[("status", "triaged"), ("resolution", "")]).await.status, 303);
    assert!(!incident(&lead, &key).await.contains("Reported as SEV1 by the customer"));
    // Staff who file a SEV1 themselves are not asked to confirm it.
    let own = report(
        &lead,
        &[
            ("title", "DB down"),
            ("description", ""),
            ("service_id", svc.as_str()),
            ("impact", "high"),
            ("urgency", "high"),
            ("severity", "SEV1"),
        ],
    )
    .await;
    assert!(!incident(&lead, &own).await.contains("Reported as SEV1 by the customer"));
    // The customer never sees the notice.
    assert!(!incident(&cust, &key).await.contains("confirm."));
});

both!(a_forgotten_password_is_reset_from_the_sign_in_page, |app| {
    use crate::mail_templates::outbox;
    login_as(&app, "customer", "nora@example.com").await;
    let anon = app.browser();
    let login = anon.get("/login").await;
    assert!(login.contains("href=\"/password-reset\""));

    // Known or unknown, the answer reads the same.
    let known = anon.submit("/password-reset", "/password-reset", &[("email", "Nora@Example.com ")]).await;
    let unknown = anon.submit("/password-reset", "/password-reset", &[("email", "nobody@example.com")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let answer = |p: &crate::support::Page| {
        p.body.split("<strong>").nth(1).and_then(|r| r.split_once("</strong>").map(|(_, t)| t.to_string()))
    };
    assert_eq!(answer(&known), answer(&unknown), "the same words");
    let bad = anon.submit("/password-reset", "/password-reset", &[("email", "not an address")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("value=\"not an address\""), "what was typed stays");

    // The link in the mail sets a new password once.
    let mails = outbox(&app).await;
    let resets: Vec<_> = mails.iter().filter(|m| m.kind == "password_reset").collect();
    assert_eq!(resets.len(), 1, "one mail, to the known address");
    assert_eq!(resets[0].to_address, "nora@example.com");
    let link =
        resets[0].body_text.split("/password-reset/").nth(1).and_then(|r| r.split_whitespace().next()).expect("link");
    let path = format!("/password-reset/{link}");
    let set = anon
        .submit(
            &path,
            &path,
            &[("password", "a brand new passphrase 7"), ("password_confirm", "a brand new passphrase 7")],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(anon.login("nora@example.com", "a brand new passphrase 7").await.status, 303);
    assert_eq!(app.browser().get(&path).await.status, 404, "used once");

    // Limits: 3 links an hour for one account, 5 requests per quarter hour from one address.
    let other = app.browser();
    for _ in 0..3 {
        let r = other.submit("/password-reset", "/password-reset", &[("email", "nora@example.com")]).await;
        assert_eq!(r.status, 200);
    }
    let too_many = other.submit("/password-reset", "/password-reset", &[("email", "nora@example.com")]).await;
    assert_eq!(too_many.status, 429, "the sixth request from this address");
    let issued = outbox(&app).await.into_iter().filter(|m| m.kind == "password_reset").count();
    assert_eq!(issued, 3, "no more than three links an hour");
    app.advance(chrono::Duration::minutes(16));
    let later = app.browser().submit("/password-reset", "/password-reset", &[("email", "nora@example.com")]).await;
    assert_eq!(later.status, 200);
    assert_eq!(
        outbox(&app).await.into_iter().filter(|m| m.kind == "password_reset").count(),
        3,
        "still three this hour"
    );
});

both!(search_snippets_from_internal_notes_say_so, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    let key = quick(&agent, &svc, "Checkout slow").await;
    let note =
        act(&agent, &key, "/comments", &[("body", "the zebracorn cache is cold"), ("visibility", "internal")]).await;
    assert_eq!(note.status, 303);
    let reply = act(&agent, &key, "/comments", &[("body", "the pangolin fix is live"), ("visibility", "public")]).await;
    assert_eq!(reply.status, 303);
    for sort in ["created", "relevance", "updated"] {
        let hit = agent.get(&format!("/incidents?q=zebracorn&sort={sort}")).await;
        let snippet = hit.body.split("<p class=\"snippet\">").nth(1).expect("a snippet");
        assert!(snippet.starts_with("<span class=\"badge badge-internal\">Internal note</span>"), "{sort}: {snippet}");
        let public = agent.get(&format!("/incidents?q=pangolin&sort={sort}")).await;
        let snippet = public.body.split("<p class=\"snippet\">").nth(1).expect("a snippet");
        assert!(!snippet.contains("Internal note"), "{sort}: {snippet}");
    }
});

both!(an_empty_instance_says_where_the_setup_link_is, |app| {
    let anon = app.browser();
    let first = anon.get("/login").await;
    assert!(first.contains("This Firewatch has no users yet."));
    assert!(first.contains("No users yet"), "names the log line");
    app.signed_in("admin").await;
    let later = app.browser().get("/login").await;
    assert!(!later.contains("no users yet"));
});

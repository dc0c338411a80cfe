//! Incidents end to end: reporting, the workflow, triage, comments, links, the queue and the
//! dashboard, driven through the pages like a browser would.

use crate::both;
use crate::support::*;
use chrono::Duration;
use firewatch::service::RequestMeta;
use firewatch::service::incidents::NewIncidentInput;
use std::collections::BTreeSet;

// ---------- helpers ----------

/// The text between the first `start` and the following `end` (empty when absent).
pub(crate) fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let Some(i) = body.find(start) else { return "" };
    let rest = &body[i + start.len()..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// A value in the incident page's details list, e.g. "Acknowledged" (the `<dd>` may carry a class).
pub(crate) fn detail(body: &str, label: &str) -> String {
    let cell = between(body, &format!("<dt>{label}</dt><dd"), "</dd>");
    cell.split_once('>').map(|(_, v)| v).unwrap_or("").to_string()
}

/// The value of the first `<input name=…>` (the `field` macro puts `type` before `value`).
pub(crate) fn input_value(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("name=\"{name}\""))?;
    let tag = &body[start..start + body[start..].find('>')?];
    let value = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(html_unescape(value))
}

/// The selected option of a `<select name=…>` made by the `select` macro.
pub(crate) fn selected(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<select id=\"f-{name}\" name=\"{name}\""))?;
    let rest = &body[start..];
    let select = &rest[..rest.find("</select>")?];
    let before = &select[..select.find(" selected>")?];
    let value = before.rsplit("value=\"").next()?.trim_end_matches('"');
    Some(html_unescape(value))
}

/// The incident keys of the rows of an incident table, in order.
pub(crate) fn row_keys(body: &str) -> Vec<String> {
    body.split("<td class=\"mono\"><a href=\"/incidents/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

fn key_set(body: &str) -> BTreeSet<String> {
    row_keys(body).into_iter().collect()
}

fn set_of(keys: &[&String]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// The queue's count line ("3 incidents").
pub(crate) fn count_text(body: &str) -> String {
    between(body, "<p class=\"count\" role=\"status\">", "<").trim().to_string()
}

/// The queue's "Next page" link.
pub(crate) fn next_link(body: &str) -> Option<String> {
    let end = body.find("\">Next page</a>")?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(html_unescape(&body[start..end]))
}

/// Creates a service through the admin UI; returns its id.
pub(crate) async fn service(admin: &Browser, name: &str) -> String {
    let r = admin
        .submit("/admin/services/new", "/admin/services", &[("name", name), ("description", ""), ("active", "on")])
        .await;
    assert_eq!(r.status, 303, "creating service {name}: {}", r.body);
    service_id(admin, name).await
}

async fn service_id(admin: &Browser, name: &str) -> String {
    let list = admin.get("/admin/services").await;
    // The link of the service's row: `/admin/services/{id}">{name}</a>` (the menu has links too).
    let tail = format!("\">{name}</a>");
    list.body
        .split("/admin/services/")
        .find_map(|s| s.split_once(&tail).map(|(id, _)| id).filter(|id| id.bytes().all(|b| b.is_ascii_digit())))
        .unwrap_or_else(|| panic!("{name} listed: {}", list.body))
        .to_string()
}

/// Creates an organization through the admin UI; returns its id.
pub(crate) async fn organization(admin: &Browser, name: &str, share: bool) -> String {
    let mut fields = vec![("name", name), ("email_domains", "")];
    if share {
        fields.push(("share_incidents", "on"));
    }
    let r = admin.submit("/admin/organizations/new", "/admin/organizations", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location().rsplit('/').next().unwrap_or_default().to_string()
}

pub(crate) async fn set_sharing(admin: &Browser, org_id: &str, name: &str, share: bool) {
    let path = format!("/admin/organizations/{org_id}");
    let mut fields = vec![("name", name), ("email_domains", "")];
    if share {
        fields.push(("share_incidents", "on"));
    }
    let r = admin.submit(&path, &path, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// A customer of the organization, created through the admin user form, signed in.
pub(crate) async fn customer_in(app: &TestApp, admin: &Browser, name: &str, email: &str, org_id: &str) -> Browser {
    let r = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("display_name", name),
                ("email", email),
                ("role", "customer"),
                ("organization_id", org_id),
                ("time_zone", "UTC"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let b = app.browser();
    assert_eq!(b.login(email, PASSWORD).await.status, 303);
    b
}

/// A new user of the role with this email, signed in.
pub(crate) async fn login_as(app: &TestApp, role: &str, email: &str) -> Browser {
    app.user(role, email).await;
    let b = app.browser();
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, 303, "login {email}: {}", r.body);
    b
}

/// Reports an incident through the form; returns its key (from the redirect).
pub(crate) async fn report(b: &Browser, fields: &[(&str, &str)]) -> String {
    let r = b.submit("/incidents/new", "/incidents", fields).await;
    assert_eq!(r.status, 303, "report: {}", r.body);
    let loc = r.location();
    assert!(loc.starts_with("/incidents/INC-"), "{loc}");
    loc.rsplit('/').next().unwrap_or_default().to_string()
}

/// Reports a medium/medium incident with just a title.
pub(crate) async fn quick(b: &Browser, service_id: &str, title: &str) -> String {
    report(
        b,
        &[
            ("title", title),
            ("description", ""),
            ("service_id", service_id),
            ("impact", "medium"),
            ("urgency", "medium"),
        ],
    )
    .await
}

pub(crate) async fn incident(b: &Browser, key: &str) -> Page {
    let p = b.get(&format!("/incidents/{key}")).await;
    assert_eq!(p.status, 200, "GET {key}: {}", p.body);
    p
}

/// Posts a form of the incident page: the CSRF token and (when the page has one and the fields
/// don't) the current version come from the page, as a browser would send them.
pub(crate) async fn act(b: &Browser, key: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(&format!("/incidents/{key}")).await;
    let token = page.csrf();
    let version = form_value(&page.body, "version");
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    if let Some(v) = version.as_deref().filter(|_| !fields.iter().any(|(k, _)| *k == "version")) {
        all.push(("version", v));
    }
    all.extend_from_slice(fields);
    b.post_raw(&format!("/incidents/{key}{action}"), &all).await
}

async fn set_status(b: &Browser, key: &str, status: &str, resolution: &str) -> Page {
    act(b, key, "/status", &[("status", status), ("resolution", resolution)]).await
}

pub(crate) async fn reply(b: &Browser, key: &str, body: &str) -> Page {
    act(b, key, "/comments", &[("body", body), ("visibility", "public")]).await
}

async fn note(b: &Browser, key: &str, body: &str) -> Page {
    act(b, key, "/comments", &[("body", body), ("visibility", "internal")]).await
}

/// The triage form's values on `page`, with `changes` applied.
pub(crate) fn triage_values(page: &Page, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = Vec::new();
    values.push(("csrf_token".into(), page.csrf()));
    values.push(("version".into(), form_value(&page.body, "version").expect("version on the page")));
    for name in ["title", "tags"] {
        values.push((name.into(), input_value(&page.body, name).unwrap_or_default()));
    }
    for name in ["service_id", "impact", "urgency", "severity"] {
        values.push((name.into(), selected(&page.body, name).unwrap_or_default()));
    }
    for (k, v) in changes {
        match values.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => values.push((k.to_string(), v.to_string())),
        }
    }
    values
}

pub(crate) async fn post_values(b: &Browser, path: &str, values: &[(String, String)]) -> Page {
    let refs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(path, &refs).await
}

/// Saves the triage form with some fields changed.
pub(crate) async fn triage(b: &Browser, key: &str, changes: &[(&str, &str)]) -> Page {
    let page = incident(b, key).await;
    let r = post_values(b, &format!("/incidents/{key}/fields"), &triage_values(&page, changes)).await;
    assert_eq!(r.status, 303, "triage {key}: {}", between(&r.body, "form-errors", "</ul>"));
    r
}

/// Creates an incident through the service layer as the user with this email (fast arranging).
async fn create_direct(app: &TestApp, email: &str, input: NewIncidentInput) -> String {
    let state = app.state.clone();
    let email = email.to_string();
    tokio::task::spawn_blocking(move || {
        let user = {
            let mut conn = state.conn().expect("conn");
            firewatch::db::users::find_by_email(&mut conn, &email).expect("query").expect("user exists")
        };
        let inc = firewatch::service::incidents::create(&state, &RequestMeta::default(), &user, &input)
            .expect("create incident");
        firewatch::domain::incident::key(inc.id)
    })
    .await
    .expect("join")
}

fn input(title: &str, service_id: &str, impact: &str, urgency: &str) -> NewIncidentInput {
    NewIncidentInput {
        title: title.into(),
        service_id: service_id.into(),
        impact: impact.into(),
        urgency: urgency.into(),
        ..Default::default()
    }
}

const NOT_FOUND_TEXT: &str = "There is nothing at this address, or you may not see it.";

// ---------- reporting ----------

both!(priority_follows_the_matrix_and_severity_defaults_from_it, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let matrix = [
        ("high", "high", "P1", "SEV1"),
        ("high", "medium", "P2", "SEV2"),
        ("medium", "high", "P2", "SEV2"),
        ("high", "low", "P3", "SEV3"),
        ("medium", "medium", "P3", "SEV3"),
        ("low", "high", "P3", "SEV3"),
        ("medium", "low", "P4", "SEV4"),
        ("low", "medium", "P4", "SEV4"),
        ("low", "low", "P4", "SEV4"),
    ];
    for (impact, urgency, prio, sev) in matrix {
        let title = format!("Matrix {impact} {urgency}");
        let key = report(
            &staff,
            &[("title", &title), ("description", ""), ("service_id", &svc), ("impact", impact), ("urgency", urgency)],
        )
        .await;
        let page = incident(&staff, &key).await;
        assert!(page.contains(&format!("Priority: </span>{prio}</span>")), "{impact}+{urgency} → {prio}");
        assert!(page.contains(&format!("Severity: </span>{sev}</span>")), "{impact}+{urgency} → {sev}");
        assert!(page.contains(&format!("<dd>{impact} / {urgency}</dd>")));
    }
    // An explicit severity wins over the default; the priority still follows the matrix.
    let key = report(
        &staff,
        &[
            ("title", "Override"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
            ("severity", "SEV3"),
        ],
    )
    .await;
    let page = incident(&staff, &key).await;
    assert!(page.contains("Priority: </span>P1</span>"));
    assert!(page.contains("Severity: </span>SEV3</span>"));
    assert!(!page.contains("class=\"badge sev-SEV1\""));
});

both!(asvs_5_1_3_new_incident_validation_keeps_what_was_typed, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let description = "Steps:\n\n1. Pay\n2. <script>alert('typed')</script> **fails**";
    let bad = staff
        .submit(
            "/incidents/new",
            "/incidents",
            &[
                ("title", ""),
                ("description", description),
                ("service_id", ""),
                ("impact", "enormous"),
                ("urgency", "high"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.contains("Title is required."));
    assert!(bad.contains("Choose the affected service."));
    assert!(bad.contains("Choose how many people are affected."));
    assert!(!bad.contains("Choose how urgent it is."), "urgency was fine");
    // The description comes back in the textarea, escaped: text, not a tag.
    assert!(bad.contains("&#60;script&#62;alert(") || bad.contains("&lt;script&gt;alert("), "{}", bad.body);
    assert!(!bad.contains("<script>alert("));
    let textarea = html_unescape(between(&bad.body, "name=\"description\"", "</textarea>"));
    assert!(textarea.ends_with(description), "typed description kept: {textarea}");
    assert_eq!(selected(&bad.body, "urgency").as_deref(), Some("high"), "valid choices stay selected");

    let bad2 = staff
        .submit(
            "/incidents/new",
            "/incidents",
            &[("title", "Kept title"), ("description", ""), ("service_id", &svc), ("impact", "low"), ("urgency", "")],
        )
        .await;
    assert_eq!(bad2.status, 422);
    assert!(bad2.contains("Choose how urgent it is."));
    assert!(bad2.contains("value=\"Kept title\""));
    assert_eq!(selected(&bad2.body, "service_id").as_deref(), Some(svc.as_str()));
    // Nothing was created.
    assert_eq!(staff.get("/incidents/INC-1").await.status, 404);
});

both!(asvs_5_1_2_customers_answer_plain_questions_and_cannot_set_staff_fields, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let cust = login_as(&app, "customer", "cleo@example.com").await;
    let form = cust.get("/incidents/new").await;
    assert_eq!(form.status, 200);
    assert!(form.contains("Who is affected?"));
    assert!(form.contains("How urgent is it?"));
    assert!(form.contains("Just me, or one person"));
    assert!(!form.contains("name=\"severity\""), "no severity field for customers");
    assert!(!form.contains("name=\"assignee\""), "no assignee field for customers");
    assert!(!form.contains(">Severity<") && !form.contains(">Assignee<"));

    let staff_form = admin.get("/incidents/new").await;
    assert!(staff_form.contains("name=\"severity\"") && staff_form.contains("name=\"assignee\""));

    // Posting the staff-only fields anyway changes nothing.
    let key = report(
        &cust,
        &[
            ("title", "Receipts are late"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "low"),
            ("urgency", "low"),
            ("severity", "SEV1"),
            ("assignee", "me"),
            ("tags", "vip"),
        ],
    )
    .await;
    let own = incident(&cust, &key).await;
    assert!(own.contains("Receipts are late"));
    assert_eq!(detail(&own.body, "Reporter"), "Test customer");
    assert!(!own.contains("SEV1"), "customers do not see severity");
    let seen = incident(&admin, &key).await;
    assert!(
        seen.contains("class=\"badge sev-SEV4\"><span class=\"visually-hidden\">Severity: </span>SEV4</span>"),
        "severity stays the default"
    );
    assert!(seen.contains("Priority: </span>P4</span>"));
    assert!(detail(&seen.body, "Assignee").contains("Nobody yet"));
    assert!(!detail(&seen.body, "Tags").contains("vip"));

    // Nor can a customer report in someone else's name.
    app.user("customer", "victim@example.com").await;
    let victim = app.browser();
    assert_eq!(victim.login("victim@example.com", PASSWORD).await.status, 303);
    let key = report(
        &cust,
        &[
            ("title", "Filed for someone else"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "low"),
            ("urgency", "low"),
            ("reporter_email", "victim@example.com"),
        ],
    )
    .await;
    assert_eq!(victim.get(&format!("/incidents/{key}")).await.status, 404);
    assert_eq!(incident(&cust, &key).await.status, 200);
    // Staff may report on a customer's behalf.
    let key = report(
        &admin,
        &[
            ("title", "Filed by support"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "low"),
            ("urgency", "low"),
            ("reporter_email", "victim@example.com"),
        ],
    )
    .await;
    let theirs = incident(&victim, &key).await;
    assert!(theirs.contains("reported on behalf of Test customer"));
});

// ---------- workflow ----------

both!(status_moves_along_the_workflow, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let key = quick(&staff, &svc, "Card payments fail").await;

    for to in ["triaged", "in_progress", "waiting_on_customer", "in_progress"] {
        let r = set_status(&staff, &key, to, "").await;
        assert_eq!(r.status, 303, "→ {to}: {}", r.body);
    }
    let r = set_status(&staff, &key, "resolved", "").await;
    assert_eq!(r.status, 422, "a resolution is needed");
    assert!(r.contains("Describe the resolution before resolving."));
    assert!(incident(&staff, &key).await.contains("status-in_progress"));

    let r = set_status(&staff, &key, "resolved", "Rotated the expired TLS certificate.").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = incident(&staff, &key).await;
    assert!(page.contains(">Resolved</span>"));
    assert!(page.contains("Rotated the expired TLS certificate."));
    assert_ne!(detail(&page.body, "Resolved"), "—");

    assert_eq!(set_status(&staff, &key, "closed", "").await.status, 303);
    assert!(incident(&staff, &key).await.contains(">Closed</span>"));
    let r = set_status(&staff, &key, "in_progress", "").await;
    assert_eq!(r.status, 303, "staff reopen a closed incident: {}", r.body);

    let page = incident(&staff, &key).await;
    assert!(page.contains(">In progress</span>"));
    assert_eq!(detail(&page.body, "Resolved"), "—", "reopening clears the resolved time");
    for line in [
        "Status new → triaged",
        "Status triaged → in progress",
        "Status in progress → waiting on customer",
        "Status waiting on customer → in progress",
        "Status in progress → resolved",
        "Status resolved → closed",
        "Status closed → in progress",
        "Resolution: Rotated the expired TLS certificate.",
    ] {
        assert!(page.contains(line), "timeline lacks {line}");
    }
});

both!(illegal_transitions_are_refused, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let cust = login_as(&app, "customer", "rita@example.com").await;
    let key = quick(&cust, &svc, "Refunds stuck").await;

    let r = set_status(&staff, &key, "closed", "").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("An incident that is new cannot move to closed."), "{}", r.body);
    let r = set_status(&staff, &key, "resolved", "Typed resolution text").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("An incident that is new cannot move to resolved."));
    assert!(r.contains(">Typed resolution text</textarea>"), "the typed resolution is kept");
    let r = set_status(&staff, &key, "reopened", "").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Choose a status from the list."));

    // The reporter sees no status form on a new incident, and posting one is refused.
    let page = incident(&cust, &key).await;
    assert!(!page.contains(&format!("action=\"/incidents/{key}/status\"")));
    let r = set_status(&cust, &key, "triaged", "").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("You may not change the status of this incident."), "{}", r.body);
    assert!(incident(&staff, &key).await.contains(">New</span>"));

    // Resolved: the reporter may reopen with the Reopen button.
    assert_eq!(set_status(&staff, &key, "in_progress", "").await.status, 303);
    assert_eq!(set_status(&staff, &key, "resolved", "Replayed the refund queue.").await.status, 303);
    let page = incident(&cust, &key).await;
    assert!(page.contains("Not fixed after all?"));
    assert!(page.contains(">Reopen</button>"));
    let r = set_status(&cust, &key, "in_progress", "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = incident(&cust, &key).await;
    assert!(page.contains(">In progress</span>"));
    assert!(page.contains("Status resolved → in progress"));

    // Closed: only staff may reopen.
    assert_eq!(set_status(&staff, &key, "resolved", "Replayed it again.").await.status, 303);
    assert_eq!(set_status(&staff, &key, "closed", "").await.status, 303);
    let page = incident(&cust, &key).await;
    assert!(!page.contains(">Reopen</button>"));
    let r = set_status(&cust, &key, "in_progress", "").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("You may not change the status of this incident."));
    assert!(incident(&staff, &key).await.contains(">Closed</span>"));
});

both!(acknowledgement_is_recorded_once_by_staff_action, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let cust = login_as(&app, "customer", "ack@example.com").await;

    // Assigning to oneself acknowledges; later actions keep the first time.
    let a = quick(&staff, &svc, "Assign acknowledges").await;
    assert_eq!(detail(&incident(&staff, &a).await.body, "Acknowledged"), "—");
    app.advance(Duration::minutes(3));
    let r = act(&staff, &a, "/assign", &[("assignee", "me")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let first = detail(&incident(&staff, &a).await.body, "Acknowledged");
    assert_eq!(first, "2026-03-02 09:03 UTC");
    app.advance(Duration::minutes(5));
    assert_eq!(reply(&staff, &a, "We are on it.").await.status, 303);
    assert_eq!(set_status(&staff, &a, "in_progress", "").await.status, 303);
    assert_eq!(act(&staff, &a, "/assign", &[("assignee", "none")]).await.status, 303);
    assert_eq!(act(&staff, &a, "/assign", &[("assignee", "me")]).await.status, 303);
    let page = incident(&staff, &a).await;
    assert_eq!(detail(&page.body, "Acknowledged"), first, "acknowledged once");
    assert_eq!(page.body.matches("Acknowledged (").count(), 1, "one acknowledgement event");

    // An internal note does not acknowledge; a customer's reply neither; a staff public reply does.
    let b = quick(&cust, &svc, "Reply acknowledges").await;
    assert_eq!(note(&staff, &b, "Looking at the logs first.").await.status, 303);
    assert_eq!(reply(&cust, &b, "Any news?").await.status, 303);
    assert_eq!(detail(&incident(&staff, &b).await.body, "Acknowledged"), "—");
    app.advance(Duration::minutes(2));
    assert_eq!(reply(&staff, &b, "Yes: we found it.").await.status, 303);
    let page = incident(&staff, &b).await;
    assert_eq!(detail(&page.body, "Acknowledged"), "2026-03-02 09:10 UTC");
    assert!(page.contains("Acknowledged (first public reply)"));

    // Reporting an incident assigned to oneself acknowledges it at once; assigned to someone
    // else, it does not.
    let colleague = app.signed_in("devops").await;
    let theirs = colleague.get("/incidents/new").await;
    let colleague_id = between(&theirs.body, "<option value=\"me\">Me</option>", "\">Test devops")
        .rsplit("value=\"")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(colleague_id.chars().all(|c| c.is_ascii_digit()) && !colleague_id.is_empty(), "{colleague_id}");
    for (assignee, acknowledged) in [("me", true), (colleague_id.as_str(), false)] {
        let key = report(
            &staff,
            &[
                ("title", "Assigned at once"),
                ("description", ""),
                ("service_id", &svc),
                ("impact", "low"),
                ("urgency", "low"),
                ("assignee", assignee),
            ],
        )
        .await;
        let ack = detail(&incident(&staff, &key).await.body, "Acknowledged");
        assert_eq!(ack != "—", acknowledged, "assignee {assignee}: {ack}");
    }

    // Triage does not acknowledge; moving to in progress does.
    let c = quick(&staff, &svc, "Work acknowledges").await;
    assert_eq!(set_status(&staff, &c, "triaged", "").await.status, 303);
    assert_eq!(detail(&incident(&staff, &c).await.body, "Acknowledged"), "—");
    app.advance(Duration::minutes(1));
    assert_eq!(set_status(&staff, &c, "in_progress", "").await.status, 303);
    let page = incident(&staff, &c).await;
    assert_eq!(detail(&page.body, "Acknowledged"), "2026-03-02 09:11 UTC");
    assert!(page.contains("Acknowledged (moved to in progress)"));
});

// ---------- confidentiality ----------

both!(asvs_8_3_1_customers_never_see_internal_notes_or_events, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let cust = login_as(&app, "customer", "nora@example.com").await;
    let key = quick(&cust, &svc, "Invoices show wrong totals").await;
    let other = quick(&staff, &svc, "Rounding bug in tax module").await;

    assert_eq!(note(&staff, &key, "Probably the zebracorn rounding bug again.").await.status, 303);
    assert_eq!(reply(&staff, &key, "Thanks, we are investigating.").await.status, 303);
    assert_eq!(triage(&staff, &key, &[("severity", "SEV2"), ("tags", "billing")]).await.status, 303);
    assert_eq!(act(&staff, &key, "/links", &[("kind", "related_to"), ("other", &other)]).await.status, 303);

    let staff_view = incident(&staff, &key).await;
    assert!(staff_view.contains("zebracorn"));
    assert!(staff_view.contains("badge-internal\">Internal</span>"));
    assert!(staff_view.contains("severity SEV3 → SEV2"));
    assert!(staff_view.contains(&format!("Related to {other}")));

    let seen = incident(&cust, &key).await;
    assert!(seen.contains("Thanks, we are investigating."));
    assert!(!seen.contains("zebracorn"));
    assert!(!seen.contains("Internal</span>") && !seen.contains("internal note"));
    assert!(!seen.contains("severity") && !seen.contains("SEV"), "severity changes are internal");
    assert!(!seen.contains("billing"), "tags are internal");
    assert!(!seen.contains(&other), "links are internal");
    assert!(!seen.contains("Acknowledged"));

    // Search: the customer finds nothing by the note's words, and sees no snippet.
    let found = cust.get("/incidents?q=zebracorn").await;
    assert_eq!(found.status, 200);
    assert_eq!(count_text(&found.body), "0 incidents");
    assert!(row_keys(&found.body).is_empty());
    assert!(!found.contains("class=\"snippet\"") && !found.contains("<mark>"));
    let ranked = cust.get("/incidents?q=zebracorn&sort=relevance").await;
    assert!(row_keys(&ranked.body).is_empty());
    // …while staff find it, highlighted.
    let found = staff.get("/incidents?q=zebracorn").await;
    assert_eq!(row_keys(&found.body), vec![key.clone()]);
    assert!(found.contains("<mark>zebracorn</mark>"), "{}", found.body);
    // The customer's own search by a public word still works without leaking the note.
    let public = cust.get("/incidents?q=investigating").await;
    assert_eq!(row_keys(&public.body), vec![key.clone()]);
    assert!(!public.contains("zebracorn"));

    let home = cust.get("/").await;
    assert!(home.contains(&key));
    assert!(!home.contains("zebracorn"));
});

both!(asvs_4_2_1_customers_see_only_their_own_or_shared_incidents, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let acme = organization(&admin, "Acme", false).await;
    let globex = organization(&admin, "Globex", true).await;
    let alice = customer_in(&app, &admin, "Alice", "alice@acme.example", &acme).await;
    let bob = customer_in(&app, &admin, "Bob", "bob@acme.example", &acme).await;
    let gina = customer_in(&app, &admin, "Gina", "gina@globex.example", &globex).await;
    let key = quick(&alice, &svc, "Acme cannot log in").await;
    assert!(incident(&admin, &key).await.contains("<dd>Acme</dd>"), "the incident belongs to Acme");

    let missing = "INC-999999";
    for (who, b) in [("another organization", &gina), ("a colleague without sharing", &bob)] {
        let token = b.get("/").await.csrf();
        for k in [key.as_str(), missing] {
            let page = b.get(&format!("/incidents/{k}")).await;
            assert_eq!(page.status, 404, "{who} GET {k}");
            assert!(page.contains(NOT_FOUND_TEXT));
            assert!(!page.contains("Acme cannot log in"));
            let c = b
                .post_raw(
                    &format!("/incidents/{k}/comments"),
                    &[("csrf_token", &token), ("body", "hello?"), ("visibility", "public")],
                )
                .await;
            assert_eq!(c.status, 404, "{who} comment on {k}");
            assert!(c.contains(NOT_FOUND_TEXT));
            let s = b
                .post_raw(
                    &format!("/incidents/{k}/status"),
                    &[("csrf_token", &token), ("status", "in_progress"), ("resolution", ""), ("version", "1")],
                )
                .await;
            assert_eq!(s.status, 404, "{who} status on {k}");
            assert!(s.contains(NOT_FOUND_TEXT));
            let w = b.post_raw(&format!("/incidents/{k}/watch"), &[("csrf_token", &token), ("watch", "on")]).await;
            assert_eq!(w.status, 404, "{who} watch {k}");
        }
        assert!(!b.get("/incidents").await.contains(&key), "{who} does not list it");
        assert!(!b.get("/incidents?q=login").await.contains(&key));
    }
    assert!(!incident(&alice, &key).await.contains("hello?"), "nothing was posted");

    // With sharing on, the colleague sees it; the other organization still does not.
    set_sharing(&admin, &acme, "Acme", true).await;
    let page = incident(&bob, &key).await;
    assert!(page.contains("Acme cannot log in"));
    assert!(bob.get("/incidents").await.contains(&key));
    assert_eq!(gina.get(&format!("/incidents/{key}")).await.status, 404);
    set_sharing(&admin, &acme, "Acme", false).await;
    assert_eq!(bob.get(&format!("/incidents/{key}")).await.status, 404);
});

// ---------- editing ----------

both!(a_stale_edit_shows_what_changed_and_can_be_applied, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let first = app.signed_in("support").await;
    let second = app.signed_in("devops").await;
    let key = quick(&first, &svc, "Checkout slow").await;

    let stale = incident(&first, &key).await;
    assert_eq!(triage(&second, &key, &[("severity", "SEV1")]).await.status, 303);

    let mine = triage_values(&stale, &[("title", "Checkout broken for EU cards"), ("impact", "high")]);
    let r = post_values(&first, &format!("/incidents/{key}/fields"), &mine).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.contains("changed while you were working on it"));
    assert!(r.contains("nothing was overwritten"));
    assert!(r.contains("severity SEV3 → SEV1"), "lists the other change: {}", r.body);
    assert!(r.contains("Test devops"), "says who changed it");
    assert!(r.contains("<dd>Checkout broken for EU cards</dd>"), "shows my values");
    assert!(r.contains("<dd>high</dd>"));
    assert!(r.contains("Apply my change now"));
    // Nothing of mine was saved.
    let now = incident(&first, &key).await;
    assert!(now.contains("Checkout slow") && !now.contains("Checkout broken for EU cards"));
    assert!(now.contains("class=\"badge sev-SEV1\""));

    // "Apply my change now" resubmits my values against the current version.
    let yours = between(&r.body, "aria-labelledby=\"yours-h\"", "</section>");
    let action = between(yours, "<form method=\"post\" action=\"", "\"").to_string();
    assert_eq!(action, format!("/incidents/{key}/fields"));
    let form = between(&r.body, &format!("action=\"{action}\">"), "</form>");
    let mut again: Vec<(String, String)> = vec![("csrf_token".into(), r.csrf())];
    for name in ["title", "service_id", "impact", "urgency", "severity", "tags", "version"] {
        again.push((name.into(), form_value(form, name).unwrap_or_else(|| panic!("hidden {name}"))));
    }
    let applied = post_values(&first, &action, &again).await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    let page = first.follow(applied).await;
    assert!(page.contains("Checkout broken for EU cards"));
    assert!(page.contains("<dd>high / medium</dd>"));
    assert!(page.contains("Priority: </span>P2</span>"), "priority follows the new impact");
    assert!(page.contains("title Checkout slow → Checkout broken for EU cards"));
    assert_eq!(key_set(&first.get("/incidents?q=cards").await.body), set_of(&[&key]), "new title searchable");
    assert!(key_set(&first.get("/incidents?q=slow").await.body).is_empty(), "old title not");

    // A stale status change works the same way.
    let stale = incident(&first, &key).await;
    assert_eq!(act(&second, &key, "/assign", &[("assignee", "me")]).await.status, 303);
    let token = stale.csrf();
    let v = form_value(&stale.body, "version").expect("version");
    let r = first
        .post_raw(
            &format!("/incidents/{key}/status"),
            &[("csrf_token", &token), ("status", "triaged"), ("resolution", ""), ("version", &v)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.contains("Assigned to Test devops"));
    assert!(incident(&first, &key).await.contains(">New</span>"));
    let yours = between(&r.body, "aria-labelledby=\"yours-h\"", "</section>");
    assert!(yours.contains("<dd>Triaged</dd>"));
    let fresh = form_value(yours, "version").expect("current version");
    let applied = first
        .post_raw(
            &format!("/incidents/{key}/status"),
            &[("csrf_token", &r.csrf()), ("status", "triaged"), ("resolution", ""), ("version", &fresh)],
        )
        .await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert!(incident(&first, &key).await.contains(">Triaged</span>"));
});

both!(asvs_5_2_1_markdown_is_rendered_without_active_content, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let cust = login_as(&app, "customer", "xss@example.com").await;
    let staff = app.signed_in("support").await;
    let payload = "**bold** text\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n<a href=\"javascript:alert(2)\">y</a> <svg onload=alert(3)>";
    let key = report(
        &cust,
        &[
            ("title", "XSS check"),
            ("description", payload),
            ("service_id", &svc),
            ("impact", "low"),
            ("urgency", "low"),
        ],
    )
    .await;
    assert_eq!(reply(&cust, &key, &format!("Comment: {payload}")).await.status, 303);
    assert_eq!(note(&staff, &key, &format!("Note: {payload}")).await.status, 303);
    for (who, b) in [("reporter", &cust), ("staff", &staff)] {
        let page = incident(b, &key).await;
        let lower = page.body.to_lowercase();
        assert!(page.contains("<strong>bold</strong>"), "{who}: Markdown renders");
        assert!(page.contains("Comment: "), "{who}: the comment is shown");
        assert!(!lower.contains("<script>alert"), "{who}");
        assert!(!lower.contains("onerror="), "{who}");
        assert!(!lower.contains("onload="), "{who}");
        assert!(!lower.contains("javascript:"), "{who}");
        assert!(page.body.matches("<strong>bold</strong>").count() >= 2, "{who}: description and comment");
    }
    // The queue and search show the title and snippets escaped.
    let found = staff.get("/incidents?q=bold").await;
    assert!(!found.body.to_lowercase().contains("<script>alert"));
    assert!(!found.body.contains("<img src=x"));
});

both!(search_finds_words_in_public_replies, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let cust = login_as(&app, "customer", "finn@example.com").await;
    let key = quick(&cust, &svc, "Mobile app crashes").await;
    let _unrelated = quick(&cust, &svc, "Emails bounce").await;
    assert_eq!(reply(&staff, &key, "The crash comes from the flamingo image cache.").await.status, 303);
    for (who, b) in [("staff", &staff), ("reporter", &cust)] {
        for path in ["/incidents?q=flamingo", "/incidents?q=flamingo&sort=relevance", "/incidents?q=Flamingo%20cache"] {
            let found = b.get(path).await;
            assert_eq!(found.status, 200);
            assert_eq!(row_keys(&found.body), vec![key.clone()], "{who} {path}");
            assert_eq!(count_text(&found.body), "1 incident", "{who} {path}");
            assert!(found.contains("<mark>"), "{who} {path}: highlighted");
        }
        let sorted = b.get("/incidents?q=flamingo").await;
        assert!(sorted.contains("value=\"relevance\""), "{who}: best match offered while searching");
        assert_eq!(count_text(&b.get("/incidents?q=pelican").await.body), "0 incidents");
    }
});

both!(search_pages_newest_first_through_filters_and_late_comments, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    app.user("support", "finder@example.com").await;
    let levels = ["high", "medium", "low"];
    for i in 1..=60 {
        let (impact, urgency) = (levels[i % 3], levels[(i / 3) % 3]);
        let mut inc = input(&format!("Walrus outage {i:02}"), &svc, impact, urgency);
        inc.description = format!("The walrus gateway failed, case {i}.");
        create_direct(&app, "finder@example.com", inc).await;
    }
    let _other = create_direct(&app, "finder@example.com", input("Printer jam", &svc, "low", "low")).await;
    let staff = app.browser();
    assert_eq!(staff.login("finder@example.com", PASSWORD).await.status, 303);

    let first = staff.get("/incidents?q=walrus").await;
    let page1 = row_keys(&first.body);
    assert_eq!(page1.len(), 50);
    assert_eq!(page1.first().map(String::as_str), Some("INC-60"), "newest first");
    assert_eq!(page1.last().map(String::as_str), Some("INC-11"));
    assert_eq!(count_text(&first.body), "60 incidents");
    let second = staff.get(&next_link(&first.body).expect("a next page")).await;
    let page2 = row_keys(&second.body);
    assert_eq!(page2, (1..=10).rev().map(|i| format!("INC-{i}")).collect::<Vec<_>>());
    assert!(next_link(&second.body).is_none());

    // A filter narrows the matches, still newest first, and the count follows it.
    let p1 = staff.get("/incidents?q=walrus&priority=P1").await;
    let keys = row_keys(&p1.body);
    assert!(!keys.is_empty() && keys.len() < 60, "{keys:?}");
    let numbers: Vec<i64> = keys.iter().filter_map(|k| k.trim_start_matches("INC-").parse().ok()).collect();
    assert!(numbers.windows(2).all(|w| w[0] > w[1]), "newest first: {numbers:?}");
    assert_eq!(count_text(&p1.body), format!("{} incidents", keys.len()));
    for k in &keys {
        assert!(incident(&staff, k).await.contains("Priority: </span>P1</span>"), "{k} is P1");
    }

    // A reply on the oldest incident makes it findable by the reply's words; an internal note's
    // words are found by staff only.
    assert_eq!(reply(&staff, "INC-1", "Replaced the narwhal bearing.").await.status, 303);
    assert_eq!(note(&staff, "INC-2", "Suspect the beluga firmware.").await.status, 303);
    assert_eq!(row_keys(&staff.get("/incidents?q=narwhal").await.body), vec!["INC-1".to_string()]);
    assert_eq!(row_keys(&staff.get("/incidents?q=beluga").await.body), vec!["INC-2".to_string()]);
    let walrus = row_keys(&staff.get("/incidents?q=walrus+narwhal").await.body);
    assert_eq!(walrus, Vec::<String>::new(), "every word must match within one document");
    assert_eq!(count_text(&staff.get("/incidents?q=walrus").await.body), "60 incidents", "one row per incident");
});

// ---------- the queue ----------

both!(queue_pages_are_stable_while_incidents_are_added, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    app.user("support", "pager@example.com").await;
    let levels = ["high", "medium", "low"];
    for i in 1..=60 {
        // Every impact × urgency combination, so the priority order crosses P1..P4.
        let (impact, urgency) = (levels[i % 3], levels[(i / 3) % 3]);
        create_direct(&app, "pager@example.com", input(&format!("Bulk {i:02}"), &svc, impact, urgency)).await;
    }
    let staff = app.browser();
    assert_eq!(staff.login("pager@example.com", PASSWORD).await.status, 303);
    let first = staff.get("/incidents?sort=created").await;
    assert_eq!(first.status, 200);
    let page1 = row_keys(&first.body);
    assert_eq!(page1.len(), 50, "a page has 50 rows");
    assert_eq!(page1.first().map(String::as_str), Some("INC-60"), "newest first");
    assert_eq!(count_text(&first.body), "60 incidents");
    let next = next_link(&first.body).expect("a next page link");
    assert!(next.contains("sort=created"), "the next link keeps the order: {next}");

    for i in 61..=65 {
        create_direct(&app, "pager@example.com", input(&format!("Late {i}"), &svc, "low", "low")).await;
    }
    let second = staff.get(&next).await;
    assert_eq!(second.status, 200);
    let page2 = row_keys(&second.body);
    assert_eq!(page2.len(), 10, "exactly the remaining ten: {page2:?}");
    assert!(next_link(&second.body).is_none(), "no page after the last");
    let seen: BTreeSet<String> = page1.iter().chain(page2.iter()).cloned().collect();
    assert_eq!(seen.len(), 60, "no duplicates");
    let expected: BTreeSet<String> = (1..=60).map(|i| format!("INC-{i}")).collect();
    assert_eq!(seen, expected, "none missing, none of the new ones");
    // The new incidents are on a fresh first page.
    let fresh = row_keys(&staff.get("/incidents?sort=created").await.body);
    assert_eq!(fresh.first().map(String::as_str), Some("INC-65"));

    // The default order (priority, then oldest) pages the same way across priorities.
    let by_prio = staff.get("/incidents").await;
    let p1 = row_keys(&by_prio.body);
    let second = staff.get(&next_link(&by_prio.body).expect("next")).await;
    let p2 = row_keys(&second.body);
    assert_eq!(p1.len() + p2.len(), 65);
    assert_eq!(p1.iter().chain(p2.iter()).collect::<BTreeSet<_>>().len(), 65);
    let prios: Vec<&str> = [&by_prio.body, &second.body]
        .iter()
        .flat_map(|b| b.split("<td>").skip(1).filter_map(|s| s.split('<').next()))
        .filter(|t| t.len() == 2 && t.starts_with('P'))
        .collect();
    assert_eq!(prios.len(), 65);
    assert!(prios.windows(2).all(|w| w[0] <= w[1]), "P1 first, P4 last: {prios:?}");

    // Relevance pages by offset, with the same guarantees.
    let ranked = staff.get("/incidents?q=bulk&sort=relevance").await;
    assert_eq!(count_text(&ranked.body), "60 incidents");
    let r1 = row_keys(&ranked.body);
    let r2 = row_keys(&staff.get(&next_link(&ranked.body).expect("next")).await.body);
    assert_eq!((r1.len(), r2.len()), (50, 10));
    let all: BTreeSet<String> = r1.into_iter().chain(r2).collect();
    assert_eq!(all, expected);
});

both!(queue_filters_narrow_the_list, |app| {
    let admin = app.signed_in("admin").await;
    let pay = service(&admin, "Payments API").await;
    let search = service(&admin, "Search").await;
    app.user("support", "fil@example.com").await;
    app.user("devops", "other@example.com").await;
    let with = |title: &str, svc: &str, impact: &str, urgency: &str, assignee: &str, tags: &str| NewIncidentInput {
        assignee: assignee.into(),
        tags: tags.into(),
        ..input(title, svc, impact, urgency)
    };
    // Day one (2026-03-02).
    let alpha =
        create_direct(&app, "fil@example.com", with("Alpha outage", &pay, "high", "high", "me", "database")).await;
    let bravo =
        create_direct(&app, "fil@example.com", with("Bravo glitch", &search, "low", "low", "", "network")).await;
    let echo = create_direct(&app, "other@example.com", with("Echo done", &pay, "low", "high", "me", "")).await;
    // Two days later (2026-03-04).
    app.advance(Duration::days(2));
    let charlie =
        create_direct(&app, "other@example.com", with("Charlie slow", &pay, "medium", "medium", "me", "")).await;
    let delta = create_direct(&app, "fil@example.com", with("Delta errors", &search, "high", "medium", "", "")).await;

    let staff = app.browser();
    assert_eq!(staff.login("fil@example.com", PASSWORD).await.status, 303);
    assert_eq!(set_status(&staff, &delta, "triaged", "").await.status, 303);
    assert_eq!(set_status(&staff, &echo, "in_progress", "").await.status, 303);
    assert_eq!(set_status(&staff, &echo, "resolved", "Done.").await.status, 303);
    assert_eq!(set_status(&staff, &echo, "closed", "").await.status, 303);

    let check = |path: &'static str, expected: BTreeSet<String>| {
        let staff = &staff;
        async move {
            let page = staff.get(path).await;
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(key_set(&page.body), expected, "{path}");
            let n = expected.len();
            let count = if n == 1 { "1 incident".to_string() } else { format!("{n} incidents") };
            assert_eq!(count_text(&page.body), count, "{path}");
        }
    };
    // Default: open incidents only.
    check("/incidents", set_of(&[&alpha, &bravo, &charlie, &delta])).await;
    assert!(staff.get("/incidents").await.contains("open incidents unless you filter by status"));
    check("/incidents?status=closed", set_of(&[&echo])).await;
    check("/incidents?status=triaged&status=closed", set_of(&[&delta, &echo])).await;
    check("/incidents?status=new", set_of(&[&alpha, &bravo, &charlie])).await;
    check("/incidents?severity=SEV1", set_of(&[&alpha])).await;
    check("/incidents?severity=SEV2&severity=SEV4", set_of(&[&bravo, &delta])).await;
    check("/incidents?priority=P1", set_of(&[&alpha])).await;
    let by_service = format!("/incidents?service={search}&status=new&status=triaged");
    let page = staff.get(&by_service).await;
    assert_eq!(key_set(&page.body), set_of(&[&bravo, &delta]), "service filter");
    check("/incidents?assignee=me", set_of(&[&alpha])).await;
    check("/incidents?assignee=none", set_of(&[&bravo, &delta])).await;
    check("/incidents?tag=database", set_of(&[&alpha])).await;
    check("/incidents?tag=Network", set_of(&[&bravo])).await;
    // A change of tags alone (no other field) is saved too.
    triage(&staff, &bravo, &[("tags", "network, dns")]).await;
    check("/incidents?tag=dns", set_of(&[&bravo])).await;
    assert!(incident(&staff, &bravo).await.contains("tags network → network, dns"));
    check("/incidents?from=2026-03-03", set_of(&[&charlie, &delta])).await;
    check("/incidents?from=2026-03-04&to=2026-03-04", set_of(&[&charlie, &delta])).await;
    check("/incidents?to=2026-03-02&status=new", set_of(&[&alpha, &bravo])).await;
    check("/incidents?from=2026-03-05", BTreeSet::new()).await;
    let combined = format!("/incidents?service={pay}&severity=SEV1&assignee=me");
    assert_eq!(key_set(&staff.get(&combined).await.body), set_of(&[&alpha]));
    // The chosen filters stay selected in the form.
    let page = staff.get("/incidents?status=triaged&status=closed&tag=database").await;
    assert!(page.contains("value=\"triaged\" checked") && page.contains("value=\"closed\" checked"));
    assert!(!page.contains("value=\"new\" checked"));
    assert!(page.contains("name=\"tag\" type=\"text\" value=\"database\""));
});

both!(queue_lists_only_open_incidents_while_it_says_so, |app| {
    // The count line says "(open incidents unless you filter by status)". Filtering by
    // something else than status must then not bring closed incidents back.
    let admin = app.signed_in("admin").await;
    let pay = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let open = quick(&staff, &pay, "Still broken").await;
    let done = quick(&staff, &pay, "Long fixed").await;
    assert_eq!(set_status(&staff, &done, "in_progress", "").await.status, 303);
    assert_eq!(set_status(&staff, &done, "resolved", "Fixed.").await.status, 303);
    assert_eq!(set_status(&staff, &done, "closed", "").await.status, 303);
    for path in [
        "/incidents".to_string(),
        "/incidents?severity=SEV3".to_string(),
        format!("/incidents?service={pay}"),
        "/incidents?assignee=none".to_string(),
        "/incidents?from=2026-03-01".to_string(),
    ] {
        let page = staff.get(&path).await;
        assert!(page.contains("(open incidents unless you filter by status)"), "{path}: hint shown");
        assert_eq!(
            key_set(&page.body),
            set_of(&[&open]),
            "{path}: the closed {done} is listed under the open-only hint"
        );
    }
    assert_eq!(key_set(&staff.get("/incidents?status=closed").await.body), set_of(&[&done]));
});

both!(created_date_filters_follow_the_viewers_time_zone, |app| {
    let admin = app.signed_in("admin").await;
    let pay = service(&admin, "Payments API").await;
    app.user("support", "tokyo@example.com").await;
    app.user("support", "utc@example.com").await;
    // 2026-03-02 20:00 UTC is already 2026-03-03 05:00 in Tokyo.
    app.advance(Duration::hours(11));
    let late = create_direct(&app, "utc@example.com", input("Late evening", &pay, "low", "low")).await;
    let utc = app.browser();
    assert_eq!(utc.login("utc@example.com", PASSWORD).await.status, 303);
    let tokyo = app.browser();
    assert_eq!(tokyo.login("tokyo@example.com", PASSWORD).await.status, 303);
    let r =
        tokyo.submit("/account", "/account/profile", &[("display_name", "Tomo"), ("time_zone", "Asia/Tokyo")]).await;
    assert_eq!(r.status, 303);

    assert_eq!(key_set(&utc.get("/incidents?from=2026-03-02&to=2026-03-02").await.body), set_of(&[&late]));
    assert!(key_set(&utc.get("/incidents?from=2026-03-03").await.body).is_empty());
    assert!(key_set(&tokyo.get("/incidents?from=2026-03-02&to=2026-03-02").await.body).is_empty());
    assert_eq!(key_set(&tokyo.get("/incidents?from=2026-03-03&to=2026-03-03").await.body), set_of(&[&late]));
    let page = tokyo.get(&format!("/incidents/{late}")).await;
    assert_eq!(detail(&page.body, "Reported"), "2026-03-03 05:00 JST");
});

// ---------- comments, links, watching ----------

both!(comments_can_be_edited_by_their_author_for_fifteen_minutes, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let cust = login_as(&app, "customer", "edit@example.com").await;
    let staff = app.signed_in("support").await;
    let key = quick(&cust, &svc, "Statement missing").await;
    assert_eq!(reply(&cust, &key, "First draft of my reply").await.status, 303);
    let page = incident(&cust, &key).await;
    let id = between(&page.body, &format!("/incidents/{key}/comments/"), "/edit").to_string();
    assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()), "edit link shown: {id}");
    let edit_path = format!("/incidents/{key}/comments/{id}/edit");

    // An empty comment is refused and what was chosen is kept.
    let r = note(&staff, &key, "   ").await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Write something first."));
    assert!(r.contains("name=\"visibility\" value=\"internal\""), "the internal choice is kept");

    // Someone else may not edit it.
    assert!(!incident(&staff, &key).await.contains(&edit_path), "no edit link for others");
    let token = staff.get("/").await.csrf();
    let r = staff.post_raw(&edit_path, &[("csrf_token", &token), ("body", "Hijacked")]).await;
    assert_eq!(r.status, 403);

    let form = cust.get(&edit_path).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("First draft of my reply"));
    let empty = cust.submit(&edit_path, &edit_path, &[("body", "   ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.contains("Write something first."));
    app.advance(Duration::minutes(10));
    let r = cust.submit(&edit_path, &edit_path, &[("body", "Second draft of my reply")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = cust.follow(r).await;
    assert!(page.contains("Second draft of my reply"));
    assert!(!page.contains("First draft of my reply"));
    assert!(page.contains("Edited a comment"));
    assert!(page.contains("class=\"muted\">edited</span>"));
    assert!(incident(&staff, &key).await.contains("Second draft of my reply"));
    assert!(key_set(&cust.get("/incidents?q=first").await.body).is_empty(), "the old text is not searchable");
    assert_eq!(key_set(&cust.get("/incidents?q=second").await.body), set_of(&[&key]));

    // Sixteen minutes after posting, the edit is refused (the session is still alive).
    app.advance(Duration::minutes(6));
    let page = incident(&cust, &key).await;
    assert!(!page.contains(&edit_path), "the edit link is gone");
    assert_eq!(cust.get(&edit_path).await.status, 404);
    let token = page.csrf();
    let late = cust.post_raw(&edit_path, &[("csrf_token", &token), ("body", "Third draft")]).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.contains("Comments can be edited for 15 minutes"));
    assert!(!incident(&cust, &key).await.contains("Third draft"));
});

both!(incidents_are_linked_and_duplicates_are_closed, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let a = quick(&staff, &svc, "Login fails on mobile").await;
    let b = quick(&staff, &svc, "Login fails everywhere").await;
    let c = quick(&staff, &svc, "Password reset mails late").await;

    let r = act(&staff, &a, "/links", &[("kind", "duplicate_of"), ("other", &b)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_a = incident(&staff, &a).await;
    assert!(page_a.contains(">Closed</span>"), "a duplicate is closed");
    assert!(page_a.contains(&format!("Duplicate of {b}")));
    assert!(page_a.contains(&format!("Duplicate of <a class=\"mono\" href=\"/incidents/{b}\">{b}</a>")));
    let page_b = incident(&staff, &b).await;
    assert!(page_b.contains(&format!("Has duplicate <a class=\"mono\" href=\"/incidents/{a}\">{a}</a>")));
    assert!(page_b.contains(">New</span>"), "the original stays open");

    let r = act(&staff, &c, "/links", &[("kind", "related_to"), ("other", &b.to_lowercase())]).await;
    assert_eq!(r.status, 303, "keys are accepted in lower case: {}", r.body);
    assert!(incident(&staff, &c).await.contains(&format!("Related to <a class=\"mono\" href=\"/incidents/{b}\">")));
    assert!(incident(&staff, &b).await.contains(&format!("Related to <a class=\"mono\" href=\"/incidents/{c}\">")));

    for (other, message) in [
        (c.as_str(), "An incident cannot be linked to itself."),
        ("INC-999999", "There is no incident with that key."),
        ("banana", "Enter an incident key like INC-42."),
        (b.as_str(), "These incidents are linked already."),
    ] {
        let r = act(&staff, &c, "/links", &[("kind", "related_to"), ("other", other)]).await;
        assert_eq!(r.status, 422, "link to {other}");
        assert!(r.contains(message), "{other}: {message}");
        assert!(r.contains(&format!("value=\"{other}\"")), "typed key kept");
    }

    // Remove the related link from C's side: both sides lose it.
    let page_c = incident(&staff, &c).await;
    let link_id = between(&page_c.body, &format!("/incidents/{c}/links/"), "/delete").to_string();
    assert!(!link_id.is_empty());
    let r = staff.submit(&format!("/incidents/{c}"), &format!("/incidents/{c}/links/{link_id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    let page_c = incident(&staff, &c).await;
    assert!(page_c.contains("No links."));
    assert!(page_c.contains(&format!("Removed link to {b}")));
    let page_b = incident(&staff, &b).await;
    assert!(!page_b.contains(&format!("href=\"/incidents/{c}\">")));
    assert!(page_b.contains(&format!("Has duplicate <a class=\"mono\" href=\"/incidents/{a}\">")));

    // "Child of" is stored as the other's "Parent of", and reads right from both sides.
    let d = quick(&staff, &svc, "Reset mails for one domain").await;
    assert_eq!(act(&staff, &d, "/links", &[("kind", "child_of"), ("other", &c)]).await.status, 303);
    assert!(incident(&staff, &d).await.contains(&format!("Child of <a class=\"mono\" href=\"/incidents/{c}\">")));
    assert!(incident(&staff, &c).await.contains(&format!("Parent of <a class=\"mono\" href=\"/incidents/{d}\">")));
    assert!(incident(&staff, &d).await.contains(">New</span>"), "only duplicates are closed");
});

both!(watching_toggles, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let key = quick(&staff, &svc, "Watch me").await;
    assert!(incident(&staff, &key).await.contains(">Watch</button>"));
    let r = act(&staff, &key, "/watch", &[("watch", "on")]).await;
    assert_eq!(r.status, 303);
    let page = staff.follow(r).await;
    assert!(page.contains("You are watching this incident."));
    assert!(page.contains(">Stop watching</button>") && !page.contains(">Watch</button>"));
    let r = act(&staff, &key, "/watch", &[("watch", "off")]).await;
    let page = staff.follow(r).await;
    assert!(page.contains("You stopped watching this incident."));
    assert!(page.contains(">Watch</button>") && !page.contains(">Stop watching</button>"));
});

// ---------- home and administration ----------

both!(home_shows_the_dashboard_or_the_customers_incidents, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let staff = app.signed_in("support").await;
    let cust = login_as(&app, "customer", "home@example.com").await;
    let mine = report(
        &staff,
        &[
            ("title", "Mine to fix"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
            ("assignee", "me"),
        ],
    )
    .await;
    let loose = quick(&cust, &svc, "Nobody has this yet").await;

    let home = staff.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.contains("Assigned to me") && home.contains("New and unassigned"));
    let assigned = between(&home.body, "id=\"mine-h\"", "</section>");
    let unassigned = between(&home.body, "id=\"unassigned-h\"", "</section>");
    assert!(assigned.contains(&mine) && !assigned.contains(&loose), "{assigned}");
    assert!(unassigned.contains(&loose) && !unassigned.contains(&mine), "{unassigned}");

    let home = cust.get("/").await;
    assert!(home.contains("Your incidents"));
    assert!(home.contains(&loose) && home.contains("Nobody has this yet"));
    assert!(!home.contains(&format!("{mine}<")), "not the staff's incident");
    assert!(!home.contains("Assigned to me") && !home.contains("New and unassigned"));
});

both!(asvs_4_1_3_services_are_administered_by_admins_only, |app| {
    let admin = app.signed_in("admin").await;
    let staff = app.signed_in("support").await;
    assert_eq!(staff.get("/admin/services").await.status, 403);
    assert_eq!(staff.get("/admin/services/new").await.status, 403);
    let token = staff.get("/").await.csrf();
    let r = staff
        .post_raw(
            "/admin/services",
            &[("csrf_token", &token), ("name", "Sneaky"), ("description", ""), ("active", "on")],
        )
        .await;
    assert_eq!(r.status, 403);

    let pay = service(&admin, "Payments API").await;
    let old = service(&admin, "Legacy Billing").await;
    let dup = admin
        .submit(
            "/admin/services/new",
            "/admin/services",
            &[("name", "Payments API"), ("description", ""), ("active", "on")],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.contains("A service with this name exists already."));
    assert!(dup.contains("value=\"Payments API\""));
    assert!(!admin.get("/admin/services").await.contains("Sneaky"));

    // Retire Legacy Billing: it is no longer offered, and cannot be posted either.
    assert!(staff.get("/incidents/new").await.contains("Legacy Billing"));
    let path = format!("/admin/services/{old}");
    let r = admin.submit(&path, &path, &[("name", "Legacy Billing"), ("description", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(admin.get("/admin/services").await.contains("Retired"));
    let form = staff.get("/incidents/new").await;
    assert!(form.contains("Payments API"));
    assert!(!form.contains("Legacy Billing"), "retired services are not offered");
    let r = staff
        .submit(
            "/incidents/new",
            "/incidents",
            &[("title", "Old thing"), ("description", ""), ("service_id", &old), ("impact", "low"), ("urgency", "low")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Choose the affected service."));
    assert!(!quick(&staff, &pay, "Still fine").await.is_empty());
});

both!(a_comment_is_edited_only_through_its_own_incident, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let cust = login_as(&app, "customer", "addr@example.com").await;
    let one = quick(&cust, &svc, "First problem").await;
    let two = quick(&cust, &svc, "Second problem").await;
    assert_eq!(reply(&cust, &one, "Original words").await.status, 303);
    let page = incident(&cust, &one).await;
    let id = between(&page.body, &format!("/incidents/{one}/comments/"), "/edit").to_string();
    // The comment belongs to the first incident; the second incident's address does not edit it.
    let wrong = format!("/incidents/{two}/comments/{id}/edit");
    assert_eq!(cust.get(&wrong).await.status, 404);
    let r = cust.post_raw(&wrong, &[("csrf_token", &page.csrf()), ("body", "Changed words")]).await;
    assert_eq!(r.status, 404);
    let after = incident(&cust, &one).await;
    assert!(after.contains("Original words"), "a request answered 404 must change nothing");
    assert!(!after.contains("Changed words") && !after.contains("Edited a comment"));
});

//! Root-cause records: recording a problem from an incident, linking from both sides, the
//! combined timeline and totals, actions and the close rule, the postmortem, recurrence after a
//! released fix, and who may see what.

use crate::both;
use crate::incidents::{act, incident, login_as, quick, reply, service};
use crate::support::*;

/// Creates a problem through the form (from an incident when `from` is a key); returns its key.
pub(crate) async fn new_problem(b: &Browser, from: &str, fields: &[(&str, &str)]) -> String {
    let form = if from.is_empty() { "/problems/new".to_string() } else { format!("/problems/new?incident={from}") };
    let mut all: Vec<(&str, &str)> = vec![("from_incident", from)];
    all.extend_from_slice(fields);
    let r = b.submit(&form, "/problems", &all).await;
    assert_eq!(r.status, 303, "new problem: {}", r.body);
    r.location().rsplit('/').next().unwrap_or_default().to_string()
}

/// The value of the first `<option>` whose label starts with `label`, or "".
pub(crate) fn option_value(html: &str, label: &str) -> String {
    html.split("<option value=\"")
        .filter_map(|s| s.split_once("\">"))
        .find(|(_, l)| l.starts_with(label))
        .map(|(v, _)| v.to_string())
        .unwrap_or_default()
}

pub(crate) async fn problem_act(b: &Browser, key: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = b.get(&format!("/problems/{key}")).await;
    let mut all: Vec<(String, String)> = vec![("csrf_token".into(), page.csrf())];
    if let Some(v) = form_value(&page.body, "version").filter(|_| !fields.iter().any(|(k, _)| *k == "version")) {
        all.push(("version".into(), v));
    }
    all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(&format!("/problems/{key}{action}"), &refs).await
}

both!(a_problem_groups_incidents_and_reads_as_a_postmortem, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Card payments fail").await;
    let second = quick(&customer, &svc, "Checkout times out").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    assert_eq!(reply(&agent, &first, "Looking into the payment gateway.").await.status, 303);
    let note =
        act(&agent, &first, "/comments", &[("body", "zebracorn: gateway cert expired"), ("visibility", "internal")])
            .await;
    assert_eq!(note.status, 303);

    // Validation keeps what was typed.
    let bad = agent
        .submit(
            "/problems/new",
            "/problems",
            &[("title", ""), ("category", "code_defect"), ("statement", "Typed statement")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Title") && bad.contains("Typed statement"), "{}", bad.body);

    let pk = new_problem(
        &agent,
        &first,
        &[
            ("title", "Expired gateway certificate"),
            ("category", "configuration"),
            ("services", &svc),
            ("statement", "Payments fail when the gateway certificate expires."),
            ("customer_impact", "Customers cannot pay."),
            ("analysis", "The certificate was renewed by hand and forgotten."),
            ("contributing_factors", "- no expiry alert\n- manual renewal"),
            ("five_whys", "1. cert expired\n2. nobody renewed it"),
            ("workaround", "Switch to the backup gateway."),
            ("owner", ""),
        ],
    )
    .await;
    assert_eq!(pk, "PRB-1");
    // The other incident is linked from its own page.
    let r = act(&agent, &second, "/problems", &[("problem", "PRB-1")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let again = act(&agent, &second, "/problems", &[("problem", "PRB-1")]).await;
    assert_eq!(again.status, 422, "linked already");
    let missing = act(&agent, &second, "/problems", &[("problem", "PRB-99")]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.contains("There is no problem with that key."));

    let page = agent.get("/problems/PRB-1").await;
    assert_eq!(page.status, 200);
    assert!(page.contains(&first) && page.contains(&second), "both incidents listed");
    assert!(page.contains("2 incidents"), "{}", page.body);
    assert!(page.contains("Looking into the payment gateway."), "incident events are on the combined timeline");
    assert!(page.contains("zebracorn"), "staff see internal notes there");
    assert!(page.contains("Problem recorded"));
    // Staff see the known error on the incident.
    let inc = incident(&agent, &first).await;
    assert!(inc.contains("PRB-1") && inc.contains("Switch to the backup gateway."), "{}", inc.body);
    // Customers see nothing of it.
    assert!(!incident(&customer, &first).await.contains("PRB-1"));
    assert_eq!(customer.get("/problems/PRB-1").await.status, 403);

    // Sales read it without internal notes, and cannot change it.
    let sales = login_as(&app, "sales", "sally@example.com").await;
    let sp = sales.get("/problems/PRB-1").await;
    assert_eq!(sp.status, 200);
    assert!(sp.contains("Looking into the payment gateway.") && !sp.contains("zebracorn"), "{}", sp.body);
    assert_eq!(sales.get("/problems/new").await.status, 403);

    // Actions, and the close rule.
    let r = problem_act(
        &agent,
        "PRB-1",
        "/actions",
        &[
            ("action_title", "Add an expiry alert"),
            ("action_kind", "preventive"),
            ("action_owner", ""),
            ("action_due", "2026-03-09"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bad_due = problem_act(
        &agent,
        "PRB-1",
        "/actions",
        &[
            ("action_title", "Automate renewal"),
            ("action_kind", "corrective"),
            ("action_owner", ""),
            ("action_due", "next week"),
        ],
    )
    .await;
    assert_eq!(bad_due.status, 422);
    assert!(bad_due.contains("YYYY-MM-DD") && bad_due.contains("Automate renewal"), "typed values kept");
    for s in ["root_cause_identified", "fix_in_progress"] {
        assert_eq!(problem_act(&agent, "PRB-1", "/status", &[("status", s), ("resolution", "")]).await.status, 303);
    }
    let no_res = problem_act(&agent, "PRB-1", "/status", &[("status", "closed"), ("resolution", "")]).await;
    assert_eq!(no_res.status, 422);
    let blocked =
        problem_act(&agent, "PRB-1", "/status", &[("status", "closed"), ("resolution", "Renewed and alerting.")]).await;
    assert_eq!(blocked.status, 422);
    assert!(blocked.contains("a problem cannot close while an action is open"), "{}", blocked.body);
    assert!(blocked.contains("Renewed and alerting."), "the resolution is kept");
    let action_id = blocked
        .body
        .split("/problems/PRB-1/actions/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("")
        .to_string();
    let no_reason = problem_act(
        &agent,
        "PRB-1",
        &format!("/actions/{action_id}"),
        &[("action_status", "wont_do"), ("action_reason", "")],
    )
    .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.contains("Say why the action will not be done."));
    let done = problem_act(
        &agent,
        "PRB-1",
        &format!("/actions/{action_id}"),
        &[("action_status", "done"), ("action_reason", "")],
    )
    .await;
    assert_eq!(done.status, 303);
    // A second action, dropped with a reason: the postmortem keeps it and says why.
    let added = problem_act(
        &agent,
        "PRB-1",
        "/actions",
        &[
            ("action_title", "Buy a certificate manager"),
            ("action_kind", "corrective"),
            ("action_owner", ""),
            ("action_due", ""),
        ],
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = agent.get("/problems/PRB-1").await;
    let second_id = page
        .body
        .split("/problems/PRB-1/actions/")
        .filter_map(|s| s.split('"').next())
        .filter(|id| *id != action_id)
        .find(|id| id.parse::<i64>().is_ok())
        .unwrap_or("")
        .to_string();
    let dropped = problem_act(
        &agent,
        "PRB-1",
        &format!("/actions/{second_id}"),
        &[("action_status", "wont_do"), ("action_reason", "The alert covers it")],
    )
    .await;
    assert_eq!(dropped.status, 303, "{}", dropped.body);
    let closed =
        problem_act(&agent, "PRB-1", "/status", &[("status", "closed"), ("resolution", "Renewed and alerting.")]).await;
    assert_eq!(closed.status, 303, "{}", closed.body);

    let pm = agent.get("/problems/PRB-1/postmortem.md").await;
    assert_eq!(pm.status, 200);
    assert!(pm.header("content-disposition").contains("PRB-1-postmortem.md"));
    for part in [
        "# Postmortem PRB-1: Expired gateway certificate",
        "## Problem statement",
        "Customers cannot pay.",
        "## Timeline",
        "## Root cause",
        "- no expiry alert",
        "1. cert expired",
        "- [x] Add an expiry alert (preventive, due 2026-03-09)",
        "- ~~Buy a certificate manager~~ (corrective): won't do, The alert covers it",
        "Incidents: 2.",
    ] {
        assert!(pm.body.contains(part), "{part} in: {}", pm.body);
    }
});

both!(an_incident_linked_after_the_fix_is_a_recurrence, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Search returns nothing").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let page = devops.get("/problems/new").await;
    let owner_id = option_value(&page.body, "Test devops");
    assert!(!owner_id.is_empty(), "the owner list offers staff: {}", page.body);
    let pk = new_problem(
        &devops,
        &first,
        &[("title", "Index rebuild drops documents"), ("category", "code_defect"), ("owner", &owner_id)],
    )
    .await;
    for s in ["root_cause_identified", "fix_in_progress", "fix_released"] {
        assert_eq!(problem_act(&devops, &pk, "/status", &[("status", s), ("resolution", "")]).await.status, 303, "{s}");
    }
    let manual = problem_act(&devops, &pk, "/status", &[("status", "recurred"), ("resolution", "")]).await;
    assert_eq!(manual.status, 422, "recurred is not chosen by hand");

    app.advance(chrono::Duration::days(3));
    let customer = login_as(&app, "customer", "cora2@example.com").await;
    let again = quick(&customer, &svc, "Search empty again").await;
    let devops2 = login_as(&app, "devops", "dev2@example.com").await;
    let r = problem_act(&devops2, &pk, "/incidents", &[("incident", &again)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = devops2.get(&format!("/problems/{pk}")).await;
    assert!(page.contains("problem-recurred") && page.contains("after the fix"), "{}", page.body);
    assert!(page.contains("Recurred: an incident created after the fix was released was linked"));
    let list = devops2.get("/problems?status=recurred").await;
    assert!(list.contains(&pk) && list.contains("recurrence"));
    // Another incident on the recurred problem is a recurrence too.
    let third = quick(&customer, &svc, "Search empty a third time").await;
    let r = problem_act(&devops2, &pk, "/incidents", &[("incident", &third)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = devops2.get(&format!("/problems/{pk}")).await;
    assert_eq!(page.body.matches("badge badge-internal\">after the fix</span>").count(), 2, "{}", page.body);
    assert_eq!(page.body.matches("Recurred: an incident created after the fix").count(), 1, "the status flipped once");
    let admin = login_as(&app, "admin", "admin2@example.com").await;
    let outbox = admin.get("/admin/outbox").await;
    assert!(
        outbox.contains("problem_recurred") && outbox.contains("dev@example.com"),
        "the owner hears it: {}",
        outbox.body
    );
});

both!(overdue_actions_are_listed_and_their_owner_told_once, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Mail").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Mail delayed").await;
    let agent = login_as(&app, "support", "sam@example.com").await;
    let pk = new_problem(&agent, &first, &[("title", "Queue backlog"), ("category", "capacity")]).await;
    let page = agent.get(&format!("/problems/{pk}")).await;
    let owner_id = page
        .body
        .split("<option value=\"")
        .filter_map(|s| s.split_once("\">"))
        .find(|(_, l)| l.starts_with("Test support"))
        .map(|(v, _)| v.to_string())
        .unwrap_or_default();
    let r = problem_act(
        &agent,
        &pk,
        "/actions",
        &[
            ("action_title", "Add queue workers"),
            ("action_kind", "corrective"),
            ("action_owner", &owner_id),
            ("action_due", "2026-03-03"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let actions = agent.get("/problems/actions").await;
    assert!(actions.contains("Add queue workers") && !actions.contains("badge-overdue"), "not due yet");

    app.advance(chrono::Duration::days(3));
    let report = app.run_jobs().await;
    assert_eq!(report.actions_overdue, 1, "{report:?}");
    let again = app.run_jobs().await;
    assert_eq!(again.actions_overdue, 0, "told once");
    let agent = login_as(&app, "support", "sam2@example.com").await;
    let actions = agent.get("/problems/actions").await;
    assert!(actions.contains("badge-overdue"), "{}", actions.body);
    let admin = login_as(&app, "admin", "admin2@example.com").await;
    assert!(admin.get("/admin/outbox").await.contains("action_overdue"));
});

both!(a_stale_edit_is_refused_and_keeps_the_text, |app| {
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Auth").await;
    let ann = login_as(&app, "support", "ann@example.com").await;
    let bob = login_as(&app, "devops", "bob@example.com").await;
    let pk = new_problem(&ann, "", &[("title", "Token refresh races"), ("category", "code_defect")]).await;
    let stale = bob.get(&format!("/problems/{pk}")).await;
    let old_version = form_value(&stale.body, "version").unwrap_or_default();
    let edit = |b: &Browser, version: String, analysis: &'static str| {
        let (b, pk) = (b.clone(), pk.clone());
        async move {
            problem_act(
                &b,
                &pk,
                "",
                &[
                    ("version", &version),
                    ("title", "Token refresh races"),
                    ("category", "code_defect"),
                    ("analysis", analysis),
                    ("owner", ""),
                ],
            )
            .await
        }
    };
    assert_eq!(edit(&ann, old_version.clone(), "Two tabs refresh at once.").await.status, 303);
    let late = edit(&bob, old_version, "Bob's careful analysis").await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.contains("Someone changed this problem"), "{}", late.body);
    assert!(html_unescape(&late.body).contains("Bob's careful analysis"), "the text is kept");
    assert!(bob.get(&format!("/problems/{pk}")).await.contains("Two tabs refresh at once."), "the first edit stands");
});

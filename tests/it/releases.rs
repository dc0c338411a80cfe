//! The closed loop, with an injected clock: incidents → problem → bug → a release held back from
//! ready by an open SEV1 → ready once it resolves → deployed → an incident in the watch window
//! tagged suspect → 30 quiet days → verified; and the recurrence and rollback paths.

use crate::both;
use crate::incidents::{act, incident, login_as, quick, report, service};
use crate::support::*;

pub(crate) async fn post_on(b: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
    let p = b.get(page).await;
    let mut all: Vec<(String, String)> = vec![("csrf_token".into(), p.csrf())];
    if let Some(v) = form_value(&p.body, "lock").filter(|_| !fields.iter().any(|(k, _)| *k == "lock")) {
        all.push(("lock".into(), v));
    }
    if let Some(v) = form_value(&p.body, "version").filter(|_| !fields.iter().any(|(k, _)| *k == "version")) {
        all.push(("version".into(), v));
    }
    all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(action, &refs).await
}

/// Problem PRB-n from the incident, bug BUG-n behind it, release `version` on `svc` fixing it;
/// returns the release's path.
pub(crate) async fn chain(devops: &Browser, inc: &str, svc: &str, version: &str) -> String {
    let r = devops
        .submit(
            &format!("/problems/new?incident={inc}"),
            "/problems",
            &[("from_incident", inc), ("title", &format!("Root cause of {inc}")), ("category", "code_defect")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let problem = r.location().rsplit('/').next().unwrap_or_default().to_string();
    let r = devops
        .submit(
            &format!("/bugs/new?problem={problem}"),
            "/bugs",
            &[("from_problem", &problem), ("title", &format!("Bug behind {problem}")), ("severity", "SEV2")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bug = r.location().rsplit('/').next().unwrap_or_default().to_string();
    let r = devops
        .submit(
            "/releases/new",
            "/releases",
            &[
                ("version", version),
                ("title", "Fixes"),
                ("deployment_type", "self_hosted"),
                ("services", svc),
                ("monitor_hours", "72"),
                ("window_start", "2026-03-03T22:00"),
                ("window_end", "2026-03-03T23:00"),
                ("notes", "Fixes the bug."),
                ("rollback_plan", "Redeploy the previous image."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let release = r.location().replace(&devops.base, "");
    let r = post_on(devops, &release, &format!("{release}/bugs"), &[("bug", &bug)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    release
}

pub(crate) async fn tick_all(b: &Browser, release: &str) {
    let page = b.get(release).await;
    let marker = format!("action=\"{release}/checks/");
    let ids: Vec<String> = page
        .body
        .split(&marker)
        .skip(1)
        .filter(|s| s.split("</form>").next().is_some_and(|f| f.contains("name=\"on\" value=\"1\"")))
        .filter_map(|s| s.split('"').next().map(str::to_string))
        .collect();
    assert!(ids.len() >= 7, "the default checklist: {}", page.body);
    for id in ids {
        let r = post_on(b, release, &format!("{release}/checks/{id}"), &[("on", "1")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
}

async fn jobs(app: &TestApp) -> firewatch::jobs::JobReport {
    app.run_jobs().await
}

both!(the_loop_from_incident_to_a_verified_fix, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let sev1 = report(
        &customer,
        &[
            ("title", "Checkout down"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
        ],
    )
    .await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &sev1, &svc, "2026.3.1").await;

    let page = devops.get(&release).await;
    assert!(
        page.contains("Not ready yet")
            && page.contains("A manager has not approved the release.")
            && page.contains(&sev1),
        "{}",
        page.body
    );
    let early = post_on(&devops, &release, &format!("{release}/status"), &[("status", "ready"), ("reason", "")]).await;
    assert_eq!(early.status, 422);
    assert!(early.contains("Not ticked yet"), "{}", early.body);

    tick_all(&devops, &release).await;
    let page = devops.get(&release).await;
    assert!(
        page.contains("✓ Backup verified") && page.contains("(Test devops · 2026-03-02 09:00 UTC)"),
        "ticked by a named user at a time: {}",
        page.body
    );
    // The tick's time shows in the viewer's own zone.
    let tokyo = login_as(&app, "sales", "sato@example.com").await;
    let saved =
        tokyo.submit("/account", "/account/profile", &[("display_name", "Sato"), ("time_zone", "Asia/Tokyo")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(tokyo.get(&release).await.contains("(Test devops · 2026-03-02 18:00 JST)"));
    assert_eq!(
        post_on(&devops, &release, &format!("{release}/approve"), &[("override_reason", "")]).await.status,
        403,
        "devops do not approve"
    );
    let manager = login_as(&app, "manager", "max@example.com").await;
    assert_eq!(
        post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "")]).await.status,
        303
    );
    let blocked =
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "ready"), ("reason", "")]).await;
    assert_eq!(blocked.status, 422, "an open SEV1 on the service holds it back");
    assert!(blocked.contains(&sev1) && blocked.contains("override reason"), "{}", blocked.body);

    // The SEV1 is resolved: now the release may be ready, and deployed.
    let agent = login_as(&app, "support", "sam@example.com").await;
    for (s, res) in [("in_progress", ""), ("resolved", "Restarted the gateway.")] {
        assert_eq!(act(&agent, &sev1, "/status", &[("status", s), ("resolution", res)]).await.status, 303);
    }
    assert_eq!(
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "ready"), ("reason", "")]).await.status,
        303
    );
    assert_eq!(
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "deployed"), ("reason", "")])
            .await
            .status,
        303
    );
    let page = devops.get(&release).await;
    assert!(
        page.contains("release-monitoring") && page.contains("Watching the affected services until"),
        "{}",
        page.body
    );
    assert!(
        devops.get("/bugs/BUG-1").await.contains("Status fixed → released")
            || devops.get("/bugs/BUG-1").await.contains("→ released")
    );
    let problem = devops.get("/problems/PRB-1").await;
    assert!(
        problem.contains("problem-fix_released") && problem.contains("The fix shipped in release 2026.3.1"),
        "{}",
        problem.body
    );

    // A new incident on the service within the window is a suspect.
    app.advance(chrono::Duration::hours(5));
    let customer = login_as(&app, "customer", "cora2@example.com").await;
    let suspect = quick(&customer, &svc, "Checkout slow after the update").await;
    let devops = login_as(&app, "devops", "dev2@example.com").await;
    assert!(incident(&devops, &suspect).await.contains("release-suspect"), "tagged");
    let page = devops.get(&release).await;
    assert!(page.contains(&suspect) && page.contains("Caused by the release"), "{}", page.body);
    let id = suspect.trim_start_matches("INC-");
    assert_eq!(
        post_on(&devops, &release, &format!("{release}/suspects/{id}"), &[("decision", "confirm")]).await.status,
        303
    );
    assert!(devops.get(&release).await.contains("change failure"));
    // Support, who work incidents, judge suspects too (without managing releases); sales do not.
    let noise = quick(&customer, &svc, "Checkout button grey").await;
    let support = login_as(&app, "support", "sue@example.com").await;
    let page = support.get(&release).await;
    assert!(page.contains(&format!("/suspects/{}", noise.trim_start_matches("INC-"))), "{}", page.body);
    assert!(!page.contains("Change status"), "support do not move releases");
    let sales = login_as(&app, "sales", "sal@example.com").await;
    assert!(!sales.get(&release).await.contains("Caused by the release"), "no buttons for sales");
    let nid = noise.trim_start_matches("INC-");
    let refused = post_on(&sales, &release, &format!("{release}/suspects/{nid}"), &[("decision", "dismiss")]).await;
    assert_eq!(refused.status, 403);
    let dismissed = post_on(&support, &release, &format!("{release}/suspects/{nid}"), &[("decision", "dismiss")]).await;
    assert_eq!(dismissed.status, 303);
    assert!(devops.get(&release).await.contains(&format!("Dismissed as unrelated: {noise}")));
    // Outside the window (or on another service) nothing is tagged.
    let other = service(&login_as(&app, "admin", "admin2@example.com").await, "Other").await;
    let unrelated = quick(&customer, &other, "Other thing").await;
    assert!(!incident(&devops, &unrelated).await.contains("release-suspect"));

    // 31 quiet days: the watch window ended long ago, the fix is verified.
    app.advance(chrono::Duration::days(31));
    let r = jobs(&app).await;
    assert_eq!((r.releases_closed, r.problems_verified), (1, 1), "{r:?}");
    let devops = login_as(&app, "devops", "dev3@example.com").await;
    assert!(devops.get(&release).await.contains("release-closed"));
    let problem = devops.get("/problems/PRB-1").await;
    assert!(problem.contains("problem-verified") && problem.contains("Verified: no new incident"), "{}", problem.body);
    assert!(devops.get("/bugs/BUG-1").await.contains("released → verified"));
    assert_eq!(jobs(&app).await.problems_verified, 0, "once");

    // A fault found after the window closed: the release can still be rolled back, with a reason.
    app.advance(chrono::Duration::hours(2));
    let devops = login_as(&app, "devops", "dev4@example.com").await;
    let page = devops.get(&release).await;
    assert!(page.contains("Rolled back (after the watch window)"), "{}", page.body);
    let no_reason =
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "rolled_back"), ("reason", "")]).await;
    assert_eq!(no_reason.status, 422);
    let rb = post_on(
        &devops,
        &release,
        &format!("{release}/status"),
        &[("status", "rolled_back"), ("reason", "Data corruption found in March invoices")],
    )
    .await;
    assert_eq!(rb.status, 303, "{}", rb.body);
    let page = devops.get(&release).await;
    assert!(page.contains("release-rolled_back"), "{}", page.body);
    assert!(
        page.contains("Rolled back 2026-04-02 16:00 UTC: Data corruption found in March invoices"),
        "{}",
        page.body
    );
    assert!(page.contains("Status closed → rolled back"));
    assert!(devops.get("/bugs/BUG-1").await.contains("verified → open"), "the bug is open again");
    let problem = devops.get("/problems/PRB-1").await;
    assert!(
        problem.contains("problem-fix_in_progress") && problem.contains("Status verified → fix in progress"),
        "{}",
        problem.body
    );
});

both!(a_recurrence_marks_the_fix_ineffective_and_a_rollback_reopens_the_bugs, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Search empty").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &first, &svc, "2026.3.2").await;
    tick_all(&devops, &release).await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    assert_eq!(
        post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "")]).await.status,
        303
    );
    for s in ["ready", "deploying", "deployed"] {
        assert_eq!(
            post_on(&devops, &release, &format!("{release}/status"), &[("status", s), ("reason", "")]).await.status,
            303,
            "{s}"
        );
    }
    let again = quick(&customer, &svc, "Search empty again").await;
    let r = act(&devops, &again, "/problems", &[("problem", "PRB-1")]).await;
    assert_eq!(r.status, 303);
    assert!(devops.get("/problems/PRB-1").await.contains("problem-recurred"));
    let bug = devops.get("/bugs/BUG-1").await;
    assert!(bug.contains("fix ineffective") && bug.contains("The fix did not hold"), "{}", bug.body);

    let no_reason =
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "rolled_back"), ("reason", "")]).await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.contains("Say why the release is rolled back."));
    let rb = post_on(
        &devops,
        &release,
        &format!("{release}/status"),
        &[("status", "rolled_back"), ("reason", "Error rate doubled")],
    )
    .await;
    assert_eq!(rb.status, 303);
    let page = devops.get(&release).await;
    assert!(page.contains("release-rolled_back") && page.contains("Error rate doubled"), "{}", page.body);
    assert!(devops.get("/bugs/BUG-1").await.contains("released → open"), "the bug is open again");
});

both!(an_override_reason_lets_a_release_go_despite_an_open_sev1, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let sev1 = report(
        &customer,
        &[
            ("title", "Invoices wrong"),
            ("description", ""),
            ("service_id", &svc),
            ("impact", "high"),
            ("urgency", "high"),
        ],
    )
    .await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &sev1, &svc, "2026.3.3").await;
    tick_all(&devops, &release).await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    let r = post_on(
        &manager,
        &release,
        &format!("{release}/approve"),
        &[("override_reason", "This release is the fix for the SEV1")],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        post_on(&devops, &release, &format!("{release}/status"), &[("status", "ready"), ("reason", "")]).await.status,
        303
    );
    assert!(devops.get(&release).await.contains("overriding open incidents: This release is the fix for the SEV1"));

    // Sales read releases and change nothing; customers never see them.
    let sales = login_as(&app, "sales", "sally@example.com").await;
    assert_eq!(sales.get(&release).await.status, 200);
    assert_eq!(sales.get("/releases/new").await.status, 403);
    assert_eq!(customer.get("/releases").await.status, 403);
});

both!(the_checklist_template_shapes_new_releases, |app| {
    let admin = app.signed_in("admin").await;
    let _svc = service(&admin, "Portal").await;
    let bad = admin.submit("/admin/checklist", "/admin/checklist", &[("label", "")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        admin.submit("/admin/checklist", "/admin/checklist", &[("label", "Security review done")]).await.status,
        303
    );
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let r = devops
        .submit(
            "/releases/new",
            "/releases",
            &[("version", "1.0"), ("title", "First"), ("deployment_type", "serverless"), ("monitor_hours", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = devops.get(&r.location().replace(&devops.base, "")).await;
    assert!(page.contains("Security review done") && page.contains("On-call assigned"), "{}", page.body);
    let dup = devops
        .submit(
            "/releases/new",
            "/releases",
            &[("version", "1.0"), ("title", "Again"), ("deployment_type", "serverless")],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.contains("A release with this version exists already.") && dup.contains("Again"));
    assert_eq!(devops.get("/admin/checklist").await.status, 403);
});

/// Ticks the checklist, has a manager approve, and deploys the release.
pub(crate) async fn approve_and_deploy(app: &TestApp, devops: &Browser, release: &str) {
    tick_all(devops, release).await;
    let manager = login_as(app, "manager", &format!("max-{}@example.com", firewatch::crypto::random_token(3))).await;
    let r = post_on(&manager, release, &format!("{release}/approve"), &[("override_reason", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    for s in ["ready", "deployed"] {
        let r = post_on(devops, release, &format!("{release}/status"), &[("status", s), ("reason", "")]).await;
        assert_eq!(r.status, 303, "{s}: {}", r.body);
    }
}

both!(a_problems_own_watch_period_decides_when_its_fix_is_verified, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let inc = quick(&customer, &svc, "Search empty").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let bad = devops
        .submit(
            "/problems/new",
            "/problems",
            &[("title", "Index stale"), ("category", "code_defect"), ("watch_days", "0")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Enter the watch period in days (1 to 365).") && bad.contains("value=\"0\""), "{}", bad.body);
    assert!(devops.get("/problems/new").await.contains("value=\"30\""), "the default is offered");

    let release = chain(&devops, &inc, &svc, "2026.4.1").await;
    assert!(devops.get("/problems/PRB-1").await.contains("30 quiet days once the fix is released"));
    let edit = [("title", "Root cause of INC-1"), ("category", "code_defect"), ("watch_days", "400")];
    let r = post_on(&devops, "/problems/PRB-1", "/problems/PRB-1", &edit).await;
    assert_eq!(r.status, 422, "over a year");
    assert!(r.contains("value=\"400\""), "the typed value is kept");
    let edit = [("title", "Root cause of INC-1"), ("category", "code_defect"), ("watch_days", "7")];
    assert_eq!(post_on(&devops, "/problems/PRB-1", "/problems/PRB-1", &edit).await.status, 303);
    let page = devops.get("/problems/PRB-1").await;
    assert!(
        page.contains("7 quiet days once the fix is released") && page.contains("Changed the watch period"),
        "{}",
        page.body
    );

    approve_and_deploy(&app, &devops, &release).await;
    assert!(devops.get("/problems/PRB-1").await.contains("Verified by itself"));
    app.advance(chrono::Duration::days(6));
    let r = app.run_jobs().await;
    assert_eq!((r.releases_closed, r.problems_verified), (1, 0), "six quiet days are not seven");
    app.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    assert_eq!(app.run_jobs().await.problems_verified, 1);
    let devops = login_as(&app, "devops", "dev2@example.com").await;
    let page = devops.get("/problems/PRB-1").await;
    assert!(page.contains("problem-verified") && page.contains("no new incident in the 7 days"), "{}", page.body);
});

/// A new release on the service with these bugs in it; returns its path.
async fn release_with(devops: &Browser, version: &str, svc: &str, bugs: &[&str]) -> String {
    let r = devops
        .submit(
            "/releases/new",
            "/releases",
            &[("version", version), ("title", "Fixes"), ("deployment_type", "self_hosted"), ("services", svc)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let release = r.location().replace(&devops.base, "");
    for b in bugs {
        let r = post_on(devops, &release, &format!("{release}/bugs"), &[("bug", b)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    release
}

both!(a_problem_waits_for_all_its_bugs_and_a_new_fix_clears_the_ineffective_mark, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Search empty").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release1 = chain(&devops, &first, &svc, "2026.5.1").await;
    let r = devops
        .submit(
            "/bugs/new?problem=PRB-1",
            "/bugs",
            &[("from_problem", "PRB-1"), ("title", "Second cause"), ("severity", "SEV3")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // BUG-1 ships; BUG-2, the problem's other bug, is still open: the fix is not out yet.
    approve_and_deploy(&app, &devops, &release1).await;
    assert!(devops.get("/bugs/BUG-1").await.contains("→ released"));
    let problem = devops.get("/problems/PRB-1").await;
    assert!(!problem.contains("problem-fix_released"), "{}", problem.body);
    assert!(problem.contains("Release 2026.5.1 shipped part of the fix; still waiting for BUG-2"), "{}", problem.body);
    // BUG-2 ships in the next release: now every bug of the problem is out.
    let release2 = release_with(&devops, "2026.5.2", &svc, &["BUG-2"]).await;
    approve_and_deploy(&app, &devops, &release2).await;
    let problem = devops.get("/problems/PRB-1").await;
    assert!(
        problem.contains("problem-fix_released") && problem.contains("The fix shipped in release 2026.5.2"),
        "{}",
        problem.body
    );

    // It recurs: both fixes are marked ineffective.
    let again = quick(&customer, &svc, "Search empty again").await;
    assert_eq!(act(&devops, &again, "/problems", &[("problem", "PRB-1")]).await.status, 303);
    let badge = ">fix ineffective</span>";
    assert!(devops.get("/bugs/BUG-1").await.contains(badge));
    assert!(devops.get("/bugs/BUG-2").await.contains(badge));
    // BUG-1 gets a new fix in a third release: no longer ineffective. BUG-2's fix still did not
    // hold, so the problem waits for it.
    for s in ["in_progress", "fixed"] {
        let r = post_on(&devops, "/bugs/BUG-1", "/bugs/BUG-1/status", &[("status", s)]).await;
        assert_eq!(r.status, 303, "{s}: {}", r.body);
    }
    let release3 = release_with(&devops, "2026.5.3", &svc, &["BUG-1"]).await;
    approve_and_deploy(&app, &devops, &release3).await;
    let bug = devops.get("/bugs/BUG-1").await;
    assert!(!bug.contains(badge) && bug.contains("A new fix shipped in release 2026.5.3"), "{}", bug.body);
    assert!(devops.get("/bugs/BUG-2").await.contains(badge));
    let problem = devops.get("/problems/PRB-1").await;
    assert!(problem.contains("problem-recurred"), "{}", problem.body);
    assert!(problem.contains("Release 2026.5.3 shipped part of the fix; still waiting for BUG-2"));
});

async fn sev1(customer: &Browser, svc: &str, title: &str) -> String {
    report(
        customer,
        &[("title", title), ("description", ""), ("service_id", svc), ("impact", "high"), ("urgency", "high")],
    )
    .await
}

async fn move_to(b: &Browser, release: &str, status: &str) -> Page {
    post_on(b, release, &format!("{release}/status"), &[("status", status), ("reason", "")]).await
}

both!(an_override_covers_only_the_incidents_open_at_approval, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Billing").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = sev1(&customer, &svc, "Invoices wrong").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &first, &svc, "2026.6.1").await;
    tick_all(&devops, &release).await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    let r = post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "Ships the fix")]).await;
    assert_eq!(r.status, 303);
    let page = manager.follow(r).await;
    assert!(page.contains(&format!("The override covers {first}")), "{}", page.body);
    assert!(page.contains(&format!("(covers {first} only)")), "{}", page.body);
    assert!(page.contains(&format!("Approved, overriding the open incidents {first}: Ships the fix")));
    assert_eq!(move_to(&devops, &release, "ready").await.status, 303);

    // A new SEV1 on the service after the approval is not covered: deployment is held back.
    let second = sev1(&customer, &svc, "Invoices missing").await;
    let page = devops.get(&release).await;
    assert!(page.contains("Not clear to deploy") && page.contains(&second), "{}", page.body);
    for to in ["deploying", "deployed"] {
        let held = move_to(&devops, &release, to).await;
        assert_eq!(held.status, 422, "{to}");
        assert!(
            held.contains("Not clear to deploy") && held.contains("does not cover") && held.contains(&second),
            "{}",
            held.body
        );
        assert!(!held.body.contains(&format!("{first}, {second}")), "the covered one is not listed");
    }
    // Back to planning drops the approval and its override; approving again covers both.
    assert_eq!(move_to(&devops, &release, "planned").await.status, 303);
    let page = devops.get(&release).await;
    assert!(
        page.contains(&format!("{first}, {second}")) && page.contains("records an override reason"),
        "{}",
        page.body
    );
    let r =
        post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "Ships both fixes")]).await;
    assert_eq!(r.status, 303);
    assert!(manager.follow(r).await.contains(&format!("The override covers {first}, {second}")));
    for to in ["ready", "deploying"] {
        assert_eq!(move_to(&devops, &release, to).await.status, 303, "{to}");
    }
});

both!(an_override_reason_when_nothing_blocks_is_kept_but_unused, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let minor = quick(&customer, &svc, "Typo").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &minor, &svc, "2026.6.2").await;
    tick_all(&devops, &release).await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    let r = post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "Just in case")]).await;
    assert_eq!(r.status, 303);
    let page = manager.follow(r).await;
    assert!(page.contains("so the override reason is not needed"), "{}", page.body);
    assert!(page.contains("(unused: nothing was blocking)"));
    assert!(page.contains("Approved with an override reason that is unused, as nothing was blocking: Just in case"));
    // It covers nothing: a SEV1 opened now holds the release back.
    let blocker = sev1(&customer, &svc, "Portal down").await;
    let held = move_to(&devops, &release, "ready").await;
    assert_eq!(held.status, 422);
    assert!(held.contains(&blocker) && held.contains("does not cover"), "{}", held.body);
});

//! Issue 13: a recurrence is an incident *created* after the fix was released; unlinking the one
//! that made a problem recurred restores its earlier status; counts go by the incidents' dates.

use crate::both;
use crate::incidents::{login_as, quick, service};
use crate::problems::{new_problem, option_value, problem_act};
use crate::support::*;

both!(only_incidents_created_after_the_fix_are_recurrences_and_unlinking_one_withdraws_it, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Search returns nothing").await;
    // An old incident, opened before the fix and only found later.
    let old = quick(&customer, &svc, "Search was empty last spring").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let page = devops.get("/problems/new").await;
    let owner_id = option_value(&page.body, "Test devops");
    let pk = new_problem(
        &devops,
        &first,
        &[("title", "Index drops documents"), ("category", "code_defect"), ("owner", &owner_id)],
    )
    .await;
    app.advance(chrono::Duration::hours(1));
    assert_eq!(devops.login("dev@example.com", PASSWORD).await.status, 303);
    for s in ["root_cause_identified", "fix_in_progress", "fix_released"] {
        assert_eq!(problem_act(&devops, &pk, "/status", &[("status", s), ("resolution", "")]).await.status, 303, "{s}");
    }

    // Back-filling the old incident after the fix is history, not a recurrence.
    app.advance(chrono::Duration::days(2));
    let devops = login_as(&app, "devops", "dev2@example.com").await;
    assert_eq!(problem_act(&devops, &pk, "/incidents", &[("incident", &old)]).await.status, 303);
    let page = devops.get(&format!("/problems/{pk}")).await;
    assert!(!page.contains("problem-recurred"), "no flip for an incident created before the fix");
    assert!(!page.contains("after the fix</span>"), "{}", page.body);
    assert!(page.contains("problem-fix_released"), "{}", page.body);

    // A new incident is a recurrence: the problem flips and the owner hears it.
    let customer = login_as(&app, "customer", "cora2@example.com").await;
    let again = quick(&customer, &svc, "Search empty again").await;
    assert_eq!(problem_act(&devops, &pk, "/incidents", &[("incident", &again)]).await.status, 303);
    let page = devops.get(&format!("/problems/{pk}")).await;
    assert!(page.contains("problem-recurred"), "{}", page.body);

    // Unlinking it restores the earlier status, in the history, and tells the owner.
    let id = again.trim_start_matches("INC-");
    let r = problem_act(&devops, &pk, &format!("/incidents/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = devops.get(&format!("/problems/{pk}")).await;
    assert!(!page.contains("problem-recurred"), "{}", page.body);
    assert!(
        page.contains("No longer recurred: the incident that recurred was unlinked; back to fix released"),
        "{}",
        page.body
    );
    let admin = login_as(&app, "admin", "admin2@example.com").await;
    let outbox = admin.get("/admin/outbox").await;
    assert!(outbox.contains("problem_recurrence_withdrawn") && outbox.contains("dev@example.com"), "{}", outbox.body);
});

both!(recurrence_counts_go_by_the_incidents_own_dates, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Search").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let first = quick(&customer, &svc, "Search returns nothing").await;
    let old = quick(&customer, &svc, "Search empty in spring").await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let pk = new_problem(&devops, &first, &[("title", "Index drops documents"), ("category", "code_defect")]).await;
    // 100 days later the old incident is linked: it is not "in the last 30 days".
    app.advance(chrono::Duration::days(100));
    let devops = login_as(&app, "devops", "dev2@example.com").await;
    assert_eq!(problem_act(&devops, &pk, "/incidents", &[("incident", &old)]).await.status, 303);
    let page = devops.get(&format!("/problems/{pk}")).await;
    assert!(
        page.contains("by the date they were opened, last 30 days: 0 · 30–60 days ago: 0 · 60–90 days ago: 0"),
        "by the incidents' dates, none in the last 90 days: {}",
        page.body
    );
});

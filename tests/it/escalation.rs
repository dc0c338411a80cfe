//! Escalation tiers and on-call rotations, through the pages.

use crate::both;
use crate::incidents::{act, detail, incident, login_as, quick, reply, row_keys, service};
use crate::support::*;

/// Sets tier `id` through /admin/tiers/{id}: members, and a rotation when `rotation` is given
/// (emails in order, starting on the test clock's first day, one-week shifts).
pub(crate) async fn configure_tier(
    admin: &Browser,
    app: &TestApp,
    id: i64,
    name: &str,
    members: &[&str],
    rotation: &[&str],
) -> Page {
    let mut ids = Vec::new();
    for email in members {
        let state = app.state.clone();
        let e = email.to_string();
        let uid = tokio::task::spawn_blocking(move || {
            let mut conn = state.db.get().expect("conn");
            firewatch::db::users::find_by_email(&mut conn, &e).expect("query").expect("user").id
        })
        .await
        .expect("join");
        ids.push(uid.to_string());
    }
    let order = rotation.join("\n");
    let mut fields: Vec<(&str, &str)> = vec![("name", name)];
    for i in &ids {
        fields.push(("members", i));
    }
    if !rotation.is_empty() {
        fields.extend([
            ("rotation_enabled", "on"),
            ("shift_days", "7"),
            ("start_date", "2026-03-02"),
            ("rotation_emails", &order),
        ]);
    }
    let path = format!("/admin/tiers/{id}");
    admin.submit(&path, &path, &fields).await
}

both!(escalation_assigns_the_next_tiers_on_call_person, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments API").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    app.user("devops", "dana@example.com").await;
    app.user("devops", "dev@example.com").await;
    let saved = configure_tier(
        &admin,
        &app,
        2,
        "Tier 2 DevOps",
        &["dana@example.com", "dev@example.com"],
        &["dana@example.com", "dev@example.com"],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let tiers = admin.get("/admin/tiers").await;
    assert!(tiers.contains("Tier 1 Support") && tiers.contains("Tier 4 Management"), "default tiers exist");
    assert!(tiers.contains("Test devops"), "on call today is shown: {}", tiers.body);

    let customer = login_as(&app, "customer", "cust@example.com").await;
    let key = quick(&customer, &svc, "Card payments fail").await;
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "Tier"), "Tier 1 Support");

    // A reason is required, and "other" needs words.
    let missing = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "")]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.contains("Choose a reason."));
    let other = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "other"), ("reason_text", "")]).await;
    assert_eq!(other.status, 422);
    assert!(other.contains("Say why"));

    let done = act(
        &agent,
        &key,
        "/escalate",
        &[("tier", "next"), ("reason", "needs_expertise"), ("reason_text", "card network timeouts")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "Tier"), "Tier 2 DevOps");
    assert_eq!(detail(&page.body, "Assignee"), "Test devops", "the on-call person (first in the rotation) is assigned");
    assert!(page.contains("Escalated (manual) from Tier 1 Support to Tier 2 DevOps (Needs expertise of the next tier: card network timeouts)"), "{}", page.body);

    // The customer sees the new assignee but not the internal escalation.
    let seen = incident(&customer, &key).await;
    assert!(!seen.contains("Escalated"));
    assert!(!seen.contains("Tier 2"));

    // Members of tier 2 find it under "my tiers"; tier 1 agents do not.
    let dana = app.browser();
    dana.login("dana@example.com", PASSWORD).await;
    let mine = dana.get("/incidents?tier=mine").await;
    assert_eq!(row_keys(&mine.body), vec![key.clone()]);
    assert!(row_keys(&agent.get("/incidents?tier=mine").await.body).is_empty());
    assert_eq!(row_keys(&agent.get("/incidents?tier=2").await.body), vec![key.clone()]);

    // Up to a tier without rotation: nobody is assigned; then back down.
    let up = act(&agent, &key, "/escalate", &[("tier", "next"), ("reason", "major_impact")]).await;
    assert_eq!(up.status, 303);
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "Tier"), "Tier 3 Engineering");
    assert!(detail(&page.body, "Assignee").contains("Nobody yet"));
    let down = act(&agent, &key, "/escalate", &[("tier", "previous"), ("reason", "resolved_at_lower_tier")]).await;
    assert_eq!(down.status, 303);
    let page = incident(&agent, &key).await;
    assert!(page.contains("De-escalated (manual) from Tier 3 Engineering to Tier 2 DevOps"));
});

both!(new_incidents_go_to_the_first_tiers_on_call_person, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    app.user("support", "first@example.com").await;
    app.user("support", "second@example.com").await;
    let saved = configure_tier(
        &admin,
        &app,
        1,
        "Tier 1 Support",
        &["first@example.com"],
        &["first@example.com", "second@example.com"],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let customer = login_as(&app, "customer", "c1@example.com").await;
    let key = quick(&customer, &svc, "Cannot log in").await;
    let agent = login_as(&app, "support", "other@example.com").await;
    let page = incident(&agent, &key).await;
    assert_eq!(detail(&page.body, "Assignee"), "Test support");
    // A week later the second person is on call.
    app.advance(chrono::Duration::days(7));
    let customer = login_as(&app, "customer", "c2@example.com").await;
    let key2 = quick(&customer, &svc, "Still cannot log in").await;
    let agent = login_as(&app, "support", "later@example.com").await;
    assert_eq!(reply(&agent, &key2, "Looking").await.status, 303);
    let state = app.state.clone();
    let id: i64 = key2.trim_start_matches("INC-").parse().expect("id");
    let assignee = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let inc = firewatch::db::incidents::find(&mut conn, id).expect("incident");
        firewatch::db::users::find(&mut conn, inc.assignee_id.expect("assigned")).expect("user").email
    })
    .await
    .expect("join");
    assert_eq!(assignee, "second@example.com");
});

both!(tier_form_explains_rotation_mistakes, |app| {
    let admin = app.signed_in("admin").await;
    let path = "/admin/tiers/2";
    let bad = admin
        .submit(
            path,
            path,
            &[
                ("name", "Tier 2 DevOps"),
                ("rotation_enabled", "on"),
                ("shift_days", "0"),
                ("start_date", "soon"),
                ("rotation_emails", "nobody@example.com"),
                ("overrides", "tomorrow someone"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Shift length is a number of days"));
    assert!(bad.contains("Enter the first day of the rotation"));
    assert!(bad.contains("nobody@example.com is not an active staff member"));
    assert!(bad.contains("is not “YYYY-MM-DD email”"));
    assert!(bad.contains("nobody@example.com"), "typed text kept");
    let customer = app.signed_in("customer").await;
    assert_eq!(customer.get("/admin/tiers").await.status, 403);
    let support = app.signed_in("support").await;
    assert_eq!(support.get(path).await.status, 403);
});

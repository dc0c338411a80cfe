use crate::both;
use crate::support::*;

/// The id in the first `/admin/<kind>/<id>` link of a page.
fn first_id(body: &str, kind: &str) -> String {
    body.split(&format!("/admin/{kind}/"))
        .find_map(|s| s.split(['"', '/']).next().filter(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())))
        .expect("an id")
        .to_string()
}

both!(admin_creates_edits_and_deactivates_users, |app| {
    let admin = app.signed_in("admin").await;
    let org = admin
        .submit(
            "/admin/organizations/new",
            "/admin/organizations",
            &[("name", "Acme Corp"), ("email_domains", "acme.example, acme.test"), ("share_incidents", "on")],
        )
        .await;
    assert_eq!(org.status, 303, "{}", org.body);
    let org_id = org.location().rsplit('/').next().unwrap_or("").to_string();

    // Validation keeps what was typed.
    let bad = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("display_name", "Carl Customer"),
                ("email", "carl@"),
                ("role", "superuser"),
                ("organization_id", &org_id),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Enter an email address"));
    assert!(bad.contains("Choose a role from the list."));
    assert!(bad.contains("value=\"Carl Customer\"") && bad.contains("value=\"carl@\""));

    // Created without a password: the page shows a one-time link.
    let made = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("display_name", "Carl Customer"),
                ("email", "Carl@Acme.example"),
                ("role", "customer"),
                ("organization_id", &org_id),
                ("time_zone", "Europe/Paris"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.contains("/password-reset/"));
    let list = admin.get("/admin/users?q=carl").await;
    assert!(list.contains("carl@acme.example"), "emails are stored lowercased");
    assert!(list.contains("Acme Corp"));
    let id = first_id(&list.body, "users");

    // Emails are unique regardless of case.
    let dup = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[("display_name", "Other"), ("email", "CARL@acme.example"), ("role", "customer"), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.contains("exists already"));

    // Carl signs in after setting a password through a reset link.
    let link_page = admin.submit(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/reset-link"), &[]).await;
    let link =
        link_page.body.split("id=\"reset-link\">").nth(1).and_then(|s| s.split('<').next()).expect("link").to_string();
    let path = html_unescape(&link).replace(&app.base, "");
    let carl = app.browser();
    carl.submit(&path, &path, &[("password", PASSWORD), ("password_confirm", PASSWORD)]).await;
    assert_eq!(carl.login("carl@acme.example", PASSWORD).await.status, 303);
    assert_eq!(carl.get("/").await.status, 200);

    // Promote to support (role change), then deactivate: his session ends at once.
    let promote = admin
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}"),
            &[
                ("display_name", "Carl Customer"),
                ("email", "carl@acme.example"),
                ("role", "support"),
                ("organization_id", ""),
                ("time_zone", "UTC"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(promote.status, 303, "{}", promote.body);
    let deactivate = admin
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}"),
            &[
                ("display_name", "Carl Customer"),
                ("email", "carl@acme.example"),
                ("role", "support"),
                ("organization_id", ""),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(deactivate.status, 303);
    assert_eq!(carl.get("/").await.status, 303, "deactivation ends sessions");
    assert_eq!(app.browser().login("carl@acme.example", PASSWORD).await.status, 422);
    assert!(admin.get("/admin/users?q=carl").await.contains("Deactivated"));

    // The audit log has each step.
    let audit = admin.get("/admin/audit").await;
    for action in [
        "organization.create",
        "user.create",
        "password.reset_issued",
        "password.reset",
        "user.role_change",
        "user.deactivate",
        "login.success",
    ] {
        assert!(audit.contains(action), "{action} missing from audit");
    }
    assert!(audit.contains("customer → support"));
    let filtered = admin.get("/admin/audit?action=user.deactivate").await;
    assert!(filtered.contains("<td class=\"mono\">user.deactivate</td>"));
    assert!(!filtered.contains("<td class=\"mono\">organization.create</td>"));
});

both!(the_last_admin_cannot_demote_themselves, |app| {
    let admin = app.browser();
    app.user("admin", "only@example.com").await;
    admin.login("only@example.com", PASSWORD).await;
    let list = admin.get("/admin/users").await;
    let id = first_id(&list.body, "users");
    let r = admin
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}"),
            &[
                ("display_name", "Only Admin"),
                ("email", "only@example.com"),
                ("role", "support"),
                ("time_zone", "UTC"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.contains("last active administrator"));
});

both!(asvs_5_1_2_posted_fields_outside_the_form_are_ignored, |app| {
    let b = app.signed_in("customer").await;
    let r = b
        .submit("/account", "/account/profile", &[("display_name", "Cleo"), ("time_zone", "UTC"), ("role", "admin")])
        .await;
    assert_eq!(r.status, 303);
    let home = b.get("/").await;
    assert!(home.contains("Customer"));
    assert_eq!(b.get("/admin/users").await.status, 403);
});

both!(organizations_are_listed_searched_and_edited, |app| {
    let admin = app.signed_in("admin").await;
    let bad = admin
        .submit("/admin/organizations/new", "/admin/organizations", &[("name", ""), ("email_domains", "not a domain!")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Name is required."));
    assert!(bad.contains("value=\"not a domain!\""));
    for (name, domains) in [("Globex", "globex.example"), ("Initech", "initech.example")] {
        let r = admin
            .submit("/admin/organizations/new", "/admin/organizations", &[("name", name), ("email_domains", domains)])
            .await;
        assert_eq!(r.status, 303);
    }
    let dup = admin
        .submit("/admin/organizations/new", "/admin/organizations", &[("name", "globex"), ("email_domains", "")])
        .await;
    assert_eq!(dup.status, 422, "names are unique regardless of case");
    let list = admin.get("/admin/organizations?q=initech").await;
    assert!(list.contains("Initech") && !list.contains("Globex"));
    let id = first_id(&list.body, "organizations");
    let edit = admin
        .submit(
            &format!("/admin/organizations/{id}"),
            &format!("/admin/organizations/{id}"),
            &[("name", "Initech Ltd"), ("email_domains", "initech.example"), ("share_incidents", "on")],
        )
        .await;
    assert_eq!(edit.status, 303);
    let page = admin.get(&format!("/admin/organizations/{id}")).await;
    assert!(page.contains("value=\"Initech Ltd\""));
    assert!(page.contains("checked"));
    assert!(admin.get("/admin/audit?action=organization.update").await.contains("sharing on"));
});

both!(user_list_pages_with_a_stable_keyset, |app| {
    let admin = app.signed_in("admin").await;
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        for i in 0..60 {
            firewatch::db::users::insert(
                &mut conn,
                &firewatch::db::users::NewUser {
                    email: &format!("bulk{i:02}@example.com"),
                    display_name: &format!("Bulk {i:02}"),
                    role: "customer",
                    organization_id: None,
                    time_zone: "UTC",
                    password_hash: None,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
            .expect("insert");
        }
    })
    .await
    .expect("join");
    let first = admin.get("/admin/users?q=bulk").await;
    assert!(first.contains("Bulk 00") && first.contains("Bulk 49") && !first.contains("Bulk 50"));
    let next = first
        .body
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("after_id"))
        .expect("next link");
    let second = admin.get(&html_unescape(next)).await;
    assert!(second.contains("Bulk 50") && second.contains("Bulk 59") && !second.contains("Bulk 49"));
});

both!(audit_log_records_logins_failures_and_logouts_without_secrets, |app| {
    app.user("support", "aud@example.com").await;
    let b = app.browser();
    b.login("aud@example.com", "definitely wrong pw").await;
    b.login("aud@example.com", PASSWORD).await;
    b.submit("/", "/logout", &[]).await;
    let admin = app.signed_in("admin").await;
    let audit = admin.get("/admin/audit?user=aud@example.com").await;
    for action in ["login.failure", "login.success", "logout"] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(audit.contains("wrong password"));
    assert!(!audit.contains("definitely wrong pw"), "never a password");
    assert!(!audit.contains(PASSWORD));
    assert!(audit.contains("127.0.0.1"), "address recorded");
    let bad_date = admin.get("/admin/audit?from=yesterday").await;
    assert_eq!(bad_date.status, 200);
    assert!(bad_date.contains("must be a date"));
});

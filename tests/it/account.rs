use crate::both;
use crate::support::*;
use chrono::Duration;

both!(asvs_3_3_3_sessions_are_listed_and_revocable, |app| {
    app.user("support", "multi@example.com").await;
    let laptop = app.browser();
    let phone = app.browser();
    assert_eq!(laptop.login("multi@example.com", PASSWORD).await.status, 303);
    assert_eq!(phone.login("multi@example.com", PASSWORD).await.status, 303);
    let list = laptop.get("/account/sessions").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.matches("/revoke\"").count(), 2, "both sessions listed");
    assert!(list.contains("this browser"));
    assert!(list.contains("firewatch-tests"), "user agent shown");
    // Revoke the other one (the form that is not marked as this browser).
    let ids: Vec<String> = list
        .body
        .match_indices("/account/sessions/")
        .filter_map(|(i, _)| list.body[i + 18..].split('/').next().map(str::to_string))
        .collect();
    let phone_page = phone.get("/account/sessions").await;
    let phone_current = phone_page
        .body
        .split("this browser")
        .nth(1)
        .and_then(|rest| rest.split("/account/sessions/").nth(1))
        .and_then(|s| s.split('/').next())
        .expect("phone's own session id")
        .to_string();
    assert!(ids.contains(&phone_current));
    let r = laptop.submit("/account/sessions", &format!("/account/sessions/{phone_current}/revoke"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(phone.get("/account").await.status, 303, "revoked session is signed out");
    assert_eq!(laptop.get("/account").await.status, 200);
});

both!(asvs_4_2_1_another_users_session_cannot_be_revoked, |app| {
    let a = app.signed_in("support").await;
    let b = app.signed_in("admin").await;
    let b_sessions = b.get("/account/sessions").await;
    let b_id =
        b_sessions.body.split("/account/sessions/").nth(1).and_then(|s| s.split('/').next()).expect("id").to_string();
    let r = a.submit("/account", &format!("/account/sessions/{b_id}/revoke"), &[]).await;
    assert_eq!(r.status, 404, "same answer as a missing session");
    assert_eq!(b.get("/account").await.status, 200, "B still signed in");
    let missing = a.submit("/account", "/account/sessions/99999999/revoke", &[]).await;
    assert_eq!(missing.status, 404);
});

both!(asvs_3_3_4_password_change_needs_current_and_ends_other_sessions, |app| {
    app.user("devops", "pat@example.com").await;
    let here = app.browser();
    let there = app.browser();
    here.login("pat@example.com", PASSWORD).await;
    there.login("pat@example.com", PASSWORD).await;
    let new_pw = "quiet lighthouse keeper 7";

    let wrong = here
        .submit(
            "/account",
            "/account/password",
            &[("current_password", "nope nope nope"), ("password", new_pw), ("password_confirm", new_pw)],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.contains("That is not your current password."));

    let mismatch = here
        .submit(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("password", new_pw), ("password_confirm", "other")],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.contains("The two passwords differ."));

    let ok = here
        .submit(
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("password", new_pw), ("password_confirm", new_pw)],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let shown = here.follow(ok).await;
    assert!(shown.contains("1 other session(s) were signed out"), "{}", shown.body);
    assert_eq!(here.get("/account").await.status, 200, "this session stays");
    assert_eq!(there.get("/account").await.status, 303, "the other is gone");
    let fresh = app.browser();
    assert_eq!(fresh.login("pat@example.com", PASSWORD).await.status, 422);
    assert_eq!(fresh.login("pat@example.com", new_pw).await.status, 303);
});

both!(profile_changes_name_and_time_zone_and_times_follow_it, |app| {
    let b = app.signed_in("manager").await;
    let bad = b
        .submit("/account", "/account/profile", &[("display_name", "Mia Manager"), ("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Choose a time zone"));
    assert!(bad.contains("value=\"Mia Manager\""), "typed name kept");
    let ok =
        b.submit("/account", "/account/profile", &[("display_name", "Mia Manager"), ("time_zone", "Asia/Tokyo")]).await;
    assert_eq!(ok.status, 303);
    let page = b.follow(ok).await;
    assert!(page.contains("Your profile is saved."));
    assert!(page.contains("Mia Manager"));
    // Session times show in Tokyo time (UTC+9): the clock starts at 09:00 UTC.
    let sessions = b.get("/account/sessions").await;
    assert!(sessions.contains("2026-03-02 18:00 JST"), "{}", sessions.body);
    // The flash message is shown once.
    assert!(!b.get("/account").await.contains("Your profile is saved."));
});

both!(asvs_2_5_6_reset_links_are_single_use_and_expire_after_an_hour, |app| {
    let admin = app.signed_in("admin").await;
    app.user("customer", "cora@example.com").await;
    let users = admin.get("/admin/users?q=cora").await;
    let id = users
        .body
        .split("/admin/users/")
        .find_map(|s| s.split('"').next().filter(|x| x.chars().all(|c| c.is_ascii_digit()) && !x.is_empty()))
        .expect("user id")
        .to_string();
    let made = admin.submit(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/reset-link"), &[]).await;
    assert_eq!(made.status, 200);
    let link = made
        .body
        .split("class=\"copy-box\" id=\"reset-link\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("link shown")
        .to_string();
    let path = html_unescape(&link).replace(&app.base, "");
    assert!(path.starts_with("/password-reset/"));

    let b = app.browser();
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("cora@example.com"));
    let new_pw = "orange kayak mountain 19";
    let weak = b.submit(&path, &path, &[("password", "password1234"), ("password_confirm", "password1234")]).await;
    assert_eq!(weak.status, 422);
    let done = b.submit(&path, &path, &[("password", new_pw), ("password_confirm", new_pw)]).await;
    assert_eq!(done.status, 303);
    assert_eq!(b.get(&path).await.status, 404, "used once");
    assert_eq!(app.browser().login("cora@example.com", new_pw).await.status, 303);

    // A second link expires after an hour.
    let again = admin.submit(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/reset-link"), &[]).await;
    let link2 =
        again.body.split("id=\"reset-link\">").nth(1).and_then(|s| s.split('<').next()).expect("link").to_string();
    let path2 = html_unescape(&link2).replace(&app.base, "");
    app.advance(Duration::minutes(61));
    assert_eq!(b.get(&path2).await.status, 404, "expired");
});

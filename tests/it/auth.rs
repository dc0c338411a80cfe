use crate::both;
use crate::support::*;
use chrono::Duration;

async fn setup_link(app: &TestApp) -> String {
    let state = app.state.clone();
    let link = tokio::task::spawn_blocking(move || firewatch::service::setup::issue_link_if_needed(&state))
        .await
        .expect("join")
        .expect("issue")
        .expect("a link while there are no users");
    link.replace(&app.base, "")
}

both!(asvs_2_5_4_setup_link_creates_first_admin_once, |app| {
    let path = setup_link(&app).await;
    assert!(path.starts_with("/setup?token="));
    assert_eq!(path.len(), "/setup?token=".len() + 32, "128-bit token");
    let b = app.browser();
    let token = path.trim_start_matches("/setup?token=").to_string();
    let fields = [
        ("token", token.as_str()),
        ("display_name", "Ada Admin"),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let done = b.submit(&path, "/setup", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let home = b.follow(done).await;
    assert!(home.contains("Welcome, Ada Admin"), "{}", home.body);
    assert!(home.contains("Administrator"));

    // The link is dead now, for the form and for a replayed post.
    let again = app.browser();
    assert_eq!(again.get(&path).await.status, 404);
    let anon = again.get("/login").await;
    let mut replay = vec![("csrf_token", anon.csrf())];
    replay.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    let replay: Vec<(&str, &str)> = replay.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(again.post_raw("/setup", &replay).await.status, 404);
    // And no second setup link is offered once a user exists.
    let state = app.state.clone();
    let none = tokio::task::spawn_blocking(move || firewatch::service::setup::issue_link_if_needed(&state))
        .await
        .expect("join")
        .expect("issue");
    assert!(none.is_none());
});

both!(setup_form_keeps_input_and_explains_errors, |app| {
    let path = setup_link(&app).await;
    let token = path.trim_start_matches("/setup?token=").to_string();
    let b = app.browser();
    let page = b
        .submit(
            &path,
            "/setup",
            &[
                ("token", token.as_str()),
                ("display_name", "Grace <b>Hopper</b>"),
                ("email", "not-an-email"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Enter an email address"));
    assert!(page.contains("at least 12 characters"));
    assert!(page.contains("value=\"not-an-email\""), "typed email kept");
    assert!(
        page.contains("Grace &#60;b&#62;Hopper&#60;/b&#62;") || page.contains("Grace &lt;b&gt;Hopper&lt;/b&gt;"),
        "typed name kept, escaped"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    // The token still works after a failed attempt.
    assert_eq!(b.get(&path).await.status, 200);
});

both!(asvs_2_1_7_password_rules_refuse_weak_and_personal_passwords, |app| {
    let path = setup_link(&app).await;
    let token = path.trim_start_matches("/setup?token=").to_string();
    let b = app.browser();
    for (pw, expect) in [
        ("password1234", "too common"),
        ("ada.lovelace@example.com!", "must not contain your email"),
        ("Lovelace forever and ever", "must not contain your name"),
        (&"x".repeat(129), "at most 128"),
    ] {
        let page = b
            .submit(
                &path,
                "/setup",
                &[
                    ("token", token.as_str()),
                    ("display_name", "Ada Lovelace"),
                    ("email", "ada.lovelace@example.com"),
                    ("password", pw),
                    ("password_confirm", pw),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{pw}");
        assert!(page.contains(expect), "{pw}: expected '{expect}' in {}", page.body);
    }
    // Any Unicode, no composition rules.
    let unicode = "żółty kot śpi na dachu";
    let ok = b
        .submit(
            &path,
            "/setup",
            &[
                ("token", token.as_str()),
                ("display_name", "Ada Lovelace"),
                ("email", "ada.lovelace@example.com"),
                ("password", unicode),
                ("password_confirm", unicode),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let again = app.browser();
    assert_eq!(again.login("ada.lovelace@example.com", unicode).await.status, 303);
});

both!(asvs_3_3_1_logout_kills_the_session_on_the_server, |app| {
    app.user("support", "sam@example.com").await;
    let b = app.browser();
    let login = b.login("sam@example.com", PASSWORD).await;
    assert_eq!(login.status, 303);
    let cookie = login.header("set-cookie");
    let token =
        cookie.split(';').next().and_then(|kv| kv.strip_prefix("fw_session=")).expect("session cookie").to_string();
    assert_eq!(b.get("/").await.status, 200);

    let out = b.submit("/", "/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/login");

    // Replaying the old cookie gets the login page.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let resp = replay
        .get(format!("{}/account", app.base))
        .header("cookie", format!("fw_session={token}"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 303);
    assert!(resp.headers()["location"].to_str().unwrap_or("").starts_with("/login"));
});

both!(asvs_3_2_1_login_issues_a_fresh_token_with_safe_attributes, |app| {
    app.user("devops", "dee@example.com").await;
    let a = app.browser();
    let b = app.browser();
    let pa = a.login("dee@example.com", PASSWORD).await;
    let pb = b.login("dee@example.com", PASSWORD).await;
    let (ca, cb) = (pa.header("set-cookie"), pb.header("set-cookie"));
    assert_ne!(ca, cb);
    for c in [&ca, &cb] {
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
        assert!(c.contains("Path=/"), "{c}");
    }
    // The token is never in a URL.
    assert!(!pa.location().contains("session"));
});

both!(asvs_3_3_2_idle_timeout_ends_a_session, |app| {
    let b = app.signed_in("support").await;
    app.advance(Duration::minutes(29));
    assert_eq!(b.get("/account").await.status, 200, "activity within 30 minutes keeps the session");
    app.advance(Duration::minutes(29));
    assert_eq!(b.get("/account").await.status, 200);
    app.advance(Duration::minutes(31));
    let page = b.get("/account").await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/login"));
});

both!(asvs_3_3_2_absolute_timeout_ends_a_busy_session, |app| {
    let b = app.signed_in("support").await;
    for _ in 0..(12 * 60 / 20 - 1) {
        app.advance(Duration::minutes(20));
        assert_eq!(b.get("/").await.status, 200);
    }
    app.advance(Duration::minutes(21));
    assert_eq!(b.get("/").await.status, 303, "12 hours after login the session ends however busy");
});

both!(asvs_2_2_1_ten_failures_lock_the_account_for_15_minutes, |app| {
    app.user("sales", "sid@example.com").await;
    let b = app.browser();
    for _ in 0..10 {
        let p = b.login("sid@example.com", "wrong password entirely").await;
        assert_eq!(p.status, 422);
        assert!(p.contains("Email or password is incorrect."));
    }
    let locked = b.login("sid@example.com", PASSWORD).await;
    assert_eq!(locked.status, 422, "locked account refuses even the right password");
    assert!(locked.contains("Email or password is incorrect."), "same message as a wrong password");
    app.advance(Duration::minutes(16));
    assert_eq!(b.login("sid@example.com", PASSWORD).await.status, 303);
});

both!(unknown_email_gets_the_same_answer, |app| {
    app.user("support", "known@example.com").await;
    let b = app.browser();
    let known = b.login("known@example.com", "not the password at all").await;
    let unknown = b.login("nobody@example.com", "not the password at all").await;
    assert_eq!(known.status, unknown.status);
    assert!(unknown.contains("Email or password is incorrect."));
    assert!(unknown.contains("value=\"nobody@example.com\""), "typed email kept");
});

both!(per_address_limit_refuses_a_spray_across_accounts, |app| {
    let b = app.browser();
    for i in 0..50 {
        let p = b.login(&format!("user{i}@example.com"), "wrong password entirely").await;
        assert_eq!(p.status, 422);
    }
    app.user("support", "real@example.com").await;
    let p = b.login("real@example.com", PASSWORD).await;
    assert_eq!(p.status, 429);
    assert!(p.contains("Too many failed sign-ins"));
});

both!(asvs_5_1_5_next_parameter_only_follows_local_paths, |app| {
    app.user("support", "nat@example.com").await;
    let b = app.browser();
    let page = b.get("/login?next=/account/sessions").await;
    let token = page.csrf();
    let ok = b
        .post_raw(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "nat@example.com"),
                ("password", PASSWORD),
                ("next", "/account/sessions"),
            ],
        )
        .await;
    assert_eq!(ok.location(), "/account/sessions");
    let c = app.browser();
    for evil in ["//evil.example", "https://evil.example/", "/\\evil.example"] {
        let page = c.get("/login").await;
        let token = page.csrf();
        let p = c
            .post_raw(
                "/login",
                &[("csrf_token", &token), ("email", "nat@example.com"), ("password", PASSWORD), ("next", evil)],
            )
            .await;
        assert_eq!(p.status, 303);
        assert_eq!(p.location(), "/", "{evil}");
        c.submit("/", "/logout", &[]).await;
    }
});

both!(anonymous_visit_redirects_to_login_with_next, |app| {
    let b = app.browser();
    let p = b.get("/admin/users?q=x").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/login?next=%2Fadmin%2Fusers%3Fq%3Dx");
    let login = b.get(&p.location()).await;
    assert!(login.contains("value=\"/admin/users?q=x\"") || login.contains("value=\"&#x2f;admin&#x2f;users?q=x\""));
});

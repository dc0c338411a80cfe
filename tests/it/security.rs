use crate::both;
use crate::support::*;

both!(asvs_4_2_2_csrf_missing_wrong_or_cross_origin_is_refused, |app| {
    let b = app.signed_in("support").await;
    let page = b.get("/account").await;
    let token = page.csrf();
    let form = [("display_name", "Changed Name"), ("time_zone", "UTC")];

    // Missing token.
    let missing = b.post_raw("/account/profile", &form).await;
    assert_eq!(missing.status, 403);
    assert!(missing.contains("sent from another site or has expired"));
    // Wrong token.
    let mut wrong = vec![("csrf_token", "0".repeat(64))];
    wrong.extend(form.iter().map(|(k, v)| (*k, v.to_string())));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post_raw("/account/profile", &wrong).await.status, 403);
    // Right token but cross-origin.
    let body = encode(&[("csrf_token", token.as_str()), ("display_name", "Changed Name"), ("time_zone", "UTC")]);
    let cross = b
        .client
        .post(b.url("/account/profile"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(cross.status().as_u16(), 403);
    let cross_site = b
        .client
        .post(b.url("/account/profile"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(cross_site.status().as_u16(), 403);
    // A token from another session does not fit this one.
    let other = app.signed_in("support").await;
    let other_token = other.get("/account").await.csrf();
    let foreign = [("csrf_token", other_token.as_str()), ("display_name", "Changed Name"), ("time_zone", "UTC")];
    assert_eq!(b.post_raw("/account/profile", &foreign).await.status, 403);
    // Nothing changed so far; the real thing works.
    assert!(!b.get("/account").await.contains("Changed Name"));
    let ok = b
        .post_raw(
            "/account/profile",
            &[("csrf_token", token.as_str()), ("display_name", "Changed Name"), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert!(b.get("/account").await.contains("Changed Name"));
});

both!(csrf_guards_the_anonymous_login_form_too, |app| {
    app.user("support", "lou@example.com").await;
    let b = app.browser();
    let p = b.post_raw("/login", &[("email", "lou@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(p.status, 403);
});

both!(asvs_14_4_security_headers_on_every_response, |app| {
    let b = app.signed_in("admin").await;
    for path in ["/", "/login", "/account", "/nope", "/healthz", "/static/app.css"] {
        let p = b.get(path).await;
        let csp = p.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(p.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(p.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(p.header("referrer-policy"), "same-origin", "{path}");
        assert!(p.header("server").is_empty(), "no version banner");
        assert!(p.header("strict-transport-security").is_empty(), "no HSTS over http");
    }
    let page = b.get("/account").await;
    assert_eq!(page.header("cache-control"), "no-store", "asvs_8_2_1");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    // No inline script or style anywhere in the layout.
    assert!(!page.contains("<script>") && !page.contains(" style=\"") && !page.contains("<style"));
});

both!(asvs_3_4_https_base_url_uses_host_prefixed_secure_cookie_and_hsts, |app| {
    drop(app);
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.base_url = "https://help.example.com".into()).await;
    app.user("support", "tls@example.com").await;
    let b = app.browser();
    let page = b.get("/login").await;
    assert!(page.header("strict-transport-security").contains("max-age="));
    let anon = page.header("set-cookie");
    assert!(anon.starts_with("__Host-fw_anon="), "{anon}");
    assert!(anon.contains("Secure"));
    // Post the login by hand: the client will not send a Secure cookie over plain http, so
    // hand the anonymous cookie back ourselves.
    let anon_pair = anon.split(';').next().unwrap_or("").to_string();
    let resp = b
        .client
        .post(b.url("/login"))
        .header("cookie", anon_pair)
        .header("origin", "https://help.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf_token", &page.csrf()), ("email", "tls@example.com"), ("password", PASSWORD)]))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 303);
    let set = resp.headers()["set-cookie"].to_str().unwrap_or("").to_string();
    assert!(set.starts_with("__Host-fw_session="), "{set}");
    assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Domain="), "{set}");
});

both!(real_403_and_404_pages_in_the_layout, |app| {
    let b = app.signed_in("customer").await;
    let forbidden = b.get("/admin/users").await;
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.contains("<h1>Not allowed</h1>"));
    assert!(forbidden.contains("Sign out"), "rendered in the layout with the user's navigation");
    let missing = b.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.contains("<h1>Not found</h1>"));
    let admin = app.signed_in("admin").await;
    assert_eq!(admin.get("/admin/users/999999").await.status, 404);
    assert_eq!(admin.get("/admin/users/not-a-number").await.status, 404);
    assert_eq!(admin.get("/admin/organizations/424242").await.status, 404);
});

both!(asvs_7_4_1_a_panicking_handler_gets_the_500_page_and_the_server_keeps_serving, |app| {
    let b = app.browser();
    let p = b.get("/__test/panic").await;
    assert_eq!(p.status, 500);
    assert!(p.contains("Something went wrong on our side"));
    assert!(p.contains("Request id: <span class=\"request-id\">"), "{}", p.body);
    assert!(!p.contains("deliberate test panic"), "no internals shown");
    assert_eq!(b.get("/healthz").await.status, 200, "server still serving");
});

both!(asvs_12_static_files_have_etags_and_no_listing, |app| {
    let b = app.browser();
    let css = b.get("/static/app.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    let etag = css.header("etag");
    assert!(!etag.is_empty());
    let again = b.client.get(b.url("/static/app.css")).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(again.status().as_u16(), 304);
    for path in
        ["/static/", "/static/../Cargo.toml", "/static/%2e%2e%2fCargo.toml", "/.git/config", "/data/firewatch.db"]
    {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
});

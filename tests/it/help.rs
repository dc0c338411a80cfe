//! The help center end to end: who reads what (pages and search), drafts, revisions with diff
//! and restore, one vote per visitor, caching headers and 304s, the sitemap, Markdown safety,
//! the no-result offer, new-incident suggestions and deflection, the known-error loop with a
//! release, images, categories, the article picker on the incident page, and permissions.

use crate::both;
use crate::incidents::{between, incident, login_as, quick, report, service};
use crate::releases::{chain, post_on, tick_all};
use crate::support::*;
use chrono::Duration;

// ---------- helpers ----------

/// Fields of an article for the editor, with defaults for what the test does not care about.
pub(crate) struct Art<'a> {
    title: &'a str,
    body: &'a str,
    audience: &'a str,
    status: &'a str,
    summary: &'a str,
    extra: Vec<(&'a str, &'a str)>,
}

impl<'a> Art<'a> {
    pub(crate) fn new(title: &'a str, body: &'a str) -> Self {
        Art { title, body, audience: "public", status: "published", summary: "", extra: Vec::new() }
    }
    pub(crate) fn audience(mut self, a: &'a str) -> Self {
        self.audience = a;
        self
    }
    pub(crate) fn status(mut self, s: &'a str) -> Self {
        self.status = s;
        self
    }
    pub(crate) fn summary(mut self, s: &'a str) -> Self {
        self.summary = s;
        self
    }
    pub(crate) fn with(mut self, k: &'a str, v: &'a str) -> Self {
        self.extra.push((k, v));
        self
    }
    fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("title", self.title),
            ("body", self.body),
            ("audience", self.audience),
            ("status", self.status),
            ("summary", self.summary),
            ("action", "save"),
        ];
        f.extend(self.extra.iter().copied());
        f
    }
}

/// Writes an article through the editor; returns (id, slug).
pub(crate) async fn write(b: &Browser, art: Art<'_>) -> (String, String) {
    let r = b.submit("/help/manage/articles/new", "/help/manage/articles", &art.fields()).await;
    assert_eq!(r.status, 303, "creating {}: {}", art.title, r.body);
    let slug = r.location().trim_start_matches("/help/articles/").to_string();
    let page = b.get(&format!("/help/articles/{slug}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let id = between(&page.body, "href=\"/help/manage/articles/", "\"").to_string();
    assert!(!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit()), "edit link on {slug}: {}", page.body);
    (id, slug)
}

/// Saves the editor of article `id` with `changes` applied to what the editor shows.
pub(crate) async fn edit(b: &Browser, id: &str, changes: &[(&str, &str)]) -> Page {
    let path = format!("/help/manage/articles/{id}");
    let page = b.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mut fields: Vec<(String, String)> = vec![("csrf_token".into(), page.csrf())];
    for name in ["revision", "title", "slug", "summary", "tags", "problem"] {
        fields.push((name.into(), crate::incidents::input_value(&page.body, name).unwrap_or_default()));
    }
    for name in ["body", "related"] {
        fields.push((name.into(), html_unescape(textarea(&page.body, name))));
    }
    for name in ["category", "audience", "status"] {
        fields.push((name.into(), crate::incidents::selected(&page.body, name).unwrap_or_default()));
    }
    fields.push(("action".into(), "save".into()));
    for (k, v) in changes {
        match fields.iter_mut().find(|(n, _)| n == k) {
            Some(f) => f.1 = v.to_string(),
            None => fields.push((k.to_string(), v.to_string())),
        }
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_raw(&path, &refs).await
}

/// The id of the category named `name` on the categories page.
pub(crate) fn category_id(body: &str, name: &str) -> String {
    body.split("action=\"/help/manage/categories/")
        .skip(1)
        .find(|s| s.split('>').next().is_some_and(|tag| tag.contains(&format!("aria-label=\"Category {name}\""))))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("category {name}: {body}"))
        .to_string()
}

/// The text of a `<textarea name=…>`.
pub(crate) fn textarea<'a>(body: &'a str, name: &str) -> &'a str {
    let start = body.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("textarea {name}"));
    let rest = &body[start..];
    let open = rest.find('>').map(|i| i + 1).unwrap_or(0);
    &rest[open..rest.find("</textarea>").unwrap_or(open)]
}

/// Article slugs linked from a search result list (empty when there are none).
pub(crate) fn results(body: &str) -> Vec<String> {
    between(body, "<ol class=\"help-results\" id=\"results\">", "</ol>")
        .split("<a href=\"/help/articles/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// A GET with extra request headers.
pub(crate) async fn get_with(b: &Browser, path: &str, headers: &[(&str, &str)]) -> Page {
    let mut req = b.client.get(b.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    Page { status, headers, body }
}

/// Posts a multipart body with at most one file (see `Browser::post_multipart`).
pub(crate) async fn post_multipart(
    b: &Browser,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Page {
    let files: Vec<(&str, &str, &[u8])> = file.into_iter().collect();
    b.post_multipart(path, fields, &files).await
}

/// Answers "was this helpful?" the way the page offers it: signed-in users post the article's
/// own form; anonymous visitors go through the feedback page (the article page is shared).
pub(crate) async fn answer(b: &Browser, slug: &str, helpful: &str, comment: &str) -> Page {
    let article = b.get(&format!("/help/articles/{slug}")).await;
    let form_page = if article.csrf().is_empty() {
        assert!(article.contains(&format!("action=\"/help/articles/{slug}/feedback\"")), "{}", article.body);
        b.get(&format!("/help/articles/{slug}/feedback?helpful={helpful}")).await
    } else {
        article
    };
    let token = form_page.csrf();
    assert!(!token.is_empty(), "{}", form_page.body);
    b.post_raw(
        &format!("/help/articles/{slug}/vote"),
        &[("csrf_token", &token), ("helpful", helpful), ("comment", comment)],
    )
    .await
}

pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

// ---------- visibility ----------

both!(visibility_for_anonymous_visitors_customers_and_staff_on_pages_and_in_search, |app| {
    let writer = app.signed_in("support").await;
    let (_, public) =
        write(&writer, Art::new("Reset your VPN token", "Open the zebrafish portal and press Reset.")).await;
    let (_, customers) = write(
        &writer,
        Art::new("Customer portal tour", "The zebrafish dashboard for customers.").audience("customers"),
    )
    .await;
    let (_, internal) =
        write(&writer, Art::new("Escalation runbook", "Page the zebrafish on-call engineer.").audience("internal"))
            .await;
    let (_, draft) = write(&writer, Art::new("Upcoming zebrafish feature", "Not announced yet.").status("draft")).await;
    let (_, archived) = write(&writer, Art::new("Old zebrafish client", "Retired.").status("archived")).await;

    let anon = app.browser();
    let customer = app.signed_in("customer").await;
    let sales = app.signed_in("sales").await;
    let cases: [(&str, &Browser, [bool; 5]); 4] = [
        ("anonymous", &anon, [true, false, false, false, false]),
        ("customer", &customer, [true, true, false, false, false]),
        ("sales", &sales, [true, true, true, false, false]),
        ("support", &writer, [true, true, true, true, true]),
    ];
    let slugs = [&public, &customers, &internal, &draft, &archived];
    for (who, b, expected) in &cases {
        for (slug, may) in slugs.iter().zip(expected) {
            let page = b.get(&format!("/help/articles/{slug}")).await;
            assert_eq!(page.status, if *may { 200 } else { 404 }, "{who} reading {slug}: {}", page.body);
        }
        // Search finds published articles only, of the audiences the reader may read.
        let found = results(&b.get("/help/search?q=zebrafish").await.body);
        let expect: Vec<&String> = slugs[..3].iter().zip(expected).filter(|(_, m)| **m).map(|(s, _)| *s).collect();
        let mut found_sorted = found.clone();
        found_sorted.sort();
        let mut expect_sorted: Vec<String> = expect.iter().map(|s| s.to_string()).collect();
        expect_sorted.sort();
        assert_eq!(found_sorted, expect_sorted, "{who} searching");
    }
    let draft_page = writer.get(&format!("/help/articles/{draft}")).await;
    assert!(draft_page.contains("<strong>Draft:</strong> readers do not see this article."), "{}", draft_page.body);

    // The home page lists what the visitor may read, and nothing else.
    let home = anon.get("/help").await;
    assert!(
        home.contains("Reset your VPN token")
            && !home.contains("Escalation runbook")
            && !home.contains("Customer portal tour")
    );
    assert!(sales.get("/help").await.contains("Escalation runbook"));

    // Matches are highlighted, the rest of the snippet escaped.
    let hits = anon.get("/help/search?q=zebrafish").await;
    assert!(hits.contains("<mark>zebrafish</mark>"), "{}", hits.body);
    // A title match ranks above a body-only match.
    write(&writer, Art::new("Zebrafish quick start", "Start here.")).await;
    let ranked = results(&anon.get("/help/search?q=zebrafish").await.body);
    assert_eq!(ranked.first().map(String::as_str), Some("zebrafish-quick-start"), "{ranked:?}");
    // Query syntax is just words.
    let odd = anon.get("/help/search?q=zebrafish%22%20OR%20title%3A*%20NEAR(").await;
    assert_eq!(odd.status, 200, "{}", odd.body);
});

both!(categories_nest_one_level_and_hide_what_a_reader_may_not_read, |app| {
    let writer = app.signed_in("support").await;
    let r = writer
        .submit("/help/manage/categories", "/help/manage/categories", &[("name", "Accounts"), ("position", "1")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let accounts = category_id(&writer.get("/help/manage/categories").await.body, "Accounts");
    let r = writer
        .submit(
            "/help/manage/categories",
            "/help/manage/categories",
            &[("name", "Passwords"), ("parent", &accounts), ("position", "1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let passwords = category_id(&writer.get("/help/manage/categories").await.body, "Passwords");
    let deeper = writer
        .submit("/help/manage/categories", "/help/manage/categories", &[("name", "Too deep"), ("parent", &passwords)])
        .await;
    assert_eq!(deeper.status, 422);
    assert!(
        deeper.contains("Categories nest one level deep") && deeper.contains("value=\"Too deep\""),
        "{}",
        deeper.body
    );

    // An internal-only category is invisible to visitors, and so is its name.
    let r = writer.submit("/help/manage/categories", "/help/manage/categories", &[("name", "Runbooks")]).await;
    assert_eq!(r.status, 303);
    let runbooks = category_id(&writer.get("/help/manage/categories").await.body, "Runbooks");
    write(&writer, Art::new("Forgot your password", "Use the reset link.").with("category", &passwords)).await;
    write(&writer, Art::new("Database failover", "Steps.").audience("internal").with("category", &runbooks)).await;

    let anon = app.browser();
    let home = anon.get("/help").await;
    assert!(
        home.contains("href=\"/help/categories/accounts\">Accounts</a> <span class=\"muted\">(1)</span>"),
        "{}",
        home.body
    );
    assert!(
        home.contains("href=\"/help/categories/passwords\">Passwords</a>") && !home.contains("Runbooks"),
        "{}",
        home.body
    );
    let sub = anon.get("/help/categories/passwords").await;
    assert_eq!(sub.status, 200);
    assert!(sub.contains("href=\"/help/categories/accounts\">Accounts</a>") && sub.contains("Forgot your password"));
    assert_eq!(anon.get("/help/categories/runbooks").await.status, 404);
    let sales = app.signed_in("sales").await;
    assert!(sales.get("/help/categories/runbooks").await.contains("Database failover"));
    let article = anon.get("/help/articles/forgot-your-password").await;
    assert!(article.contains("href=\"/help/categories/passwords\">Passwords</a>"), "breadcrumb: {}", article.body);
});

// ---------- revisions ----------

both!(every_save_is_a_revision_with_a_diff_and_a_restore, |app| {
    let writer = app.signed_in("support").await;
    let (id, slug) = write(&writer, Art::new("Printer setup", "Step one\nStep two\nStep three\n")).await;
    app.advance(Duration::minutes(5));
    let r = edit(&writer, &id, &[("body", "Step one\nStep 2, reworded\nStep three\n")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = edit(&writer, &id, &[("title", "Printer setup guide")]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let history = writer.get(&format!("/help/manage/articles/{id}/history")).await;
    assert_eq!(history.status, 200, "{}", history.body);
    for n in 1..=3 {
        assert!(history.contains(&format!("name=\"from\" value=\"{n}\"")), "revision {n}: {}", history.body);
    }
    // The default diff is the last change: the title.
    assert!(
        history.contains("<td class=\"text\">Title: Printer setup</td>")
            && history.contains("<td class=\"text\">Title: Printer setup guide</td>"),
        "{}",
        history.body
    );
    // Any two revisions.
    let diff = writer.get(&format!("/help/manage/articles/{id}/history?from=1&to=2")).await;
    let removed = between(&diff.body, "<tr class=\"diff-removed\">", "</tr>");
    let added = between(&diff.body, "<tr class=\"diff-added\">", "</tr>");
    assert!(removed.contains("Step two") && added.contains("Step 2, reworded"), "{}", diff.body);
    assert!(diff.contains("<td class=\"text\">Step one</td>"), "context lines: {}", diff.body);

    // Restore revision 1: a new revision 4, the old text back, nothing lost.
    let r = writer
        .submit(
            &format!("/help/manage/articles/{id}/history"),
            &format!("/help/manage/articles/{id}/restore"),
            &[("number", "1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = writer.get(&format!("/help/articles/{slug}")).await;
    assert!(page.contains("<h1 id=\"article-h\">Printer setup</h1>") && page.contains("Step two"), "{}", page.body);
    let history = writer.get(&format!("/help/manage/articles/{id}/history")).await;
    assert!(
        history.contains("Restored revision 1") && history.contains("name=\"from\" value=\"4\""),
        "{}",
        history.body
    );
    let diff = writer.get(&format!("/help/manage/articles/{id}/history?from=1&to=4")).await;
    assert!(diff.contains("No differences."), "{}", diff.body);

    // A save from an editor opened at an older revision does not overwrite: 409, text kept.
    let editor = writer.get(&format!("/help/manage/articles/{id}")).await;
    let token = editor.csrf();
    let stale = writer
        .post_raw(
            &format!("/help/manage/articles/{id}"),
            &[
                ("csrf_token", &token),
                ("revision", "2"),
                ("title", "Printer setup"),
                ("body", "My concurrent text"),
                ("audience", "public"),
                ("status", "published"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.contains("Somebody saved revision 4") && stale.contains("My concurrent text"), "{}", stale.body);
    assert_eq!(form_value(&stale.body, "revision").as_deref(), Some("4"), "saving again is a knowing overwrite");
    assert!(!writer.get(&format!("/help/articles/{slug}")).await.contains("My concurrent text"));
});

// ---------- votes ----------

both!(one_vote_per_visitor_per_article_and_poor_ratings_are_listed, |app| {
    let writer = app.signed_in("support").await;
    let (_, slug) = write(&writer, Art::new("Connect to Wi-Fi", "Choose the network.")).await;

    // An anonymous visitor answers twice: one vote, the second replaces the first.
    let visitor = app.browser();
    let r = answer(&visitor, &slug, "yes", "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.header("set-cookie").contains("fw_visitor="), "a visitor cookie: {:?}", r.headers);
    let r = answer(&visitor, &slug, "no", "The network name is not listed.").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let thanks = visitor.follow(r).await;
    assert!(thanks.contains("Your answer is updated."), "{}", thanks.body);
    // Another visitor, and a customer who also answers twice.
    assert_eq!(answer(&app.browser(), &slug, "yes", "").await.status, 303);
    let customer = app.signed_in("customer").await;
    assert_eq!(answer(&customer, &slug, "yes", "").await.status, 303);
    assert_eq!(answer(&customer, &slug, "no", "").await.status, 303);
    let mine = customer.get(&format!("/help/articles/{slug}")).await;
    assert!(mine.contains("You answered no."), "{}", mine.body);
    assert!(!mine.contains("id=\"votes\""), "customers do not see the counts");
    // A refused answer comes back with the text kept.
    let bad = answer(&customer, &slug, "maybe", "typed text").await;
    assert_eq!(bad.status, 422);
    assert!(bad.contains("Answer yes or no.") && bad.contains("typed text"), "{}", bad.body);

    let staff = app.signed_in("sales").await;
    let page = staff.get(&format!("/help/articles/{slug}")).await;
    assert!(page.contains("<dd id=\"votes\">1 yes, 2 no (33 % helpful)</dd>"), "{}", page.body);
    let review = staff.get("/help/review").await;
    assert!(between(&review.body, "id=\"poorly-rated\"", "</section>").contains("Connect to Wi-Fi"), "{}", review.body);
    assert!(review.contains("The network name is not listed."), "{}", review.body);
    // Drafts take no votes.
    let (_, draft) = write(&writer, Art::new("Draft page", "x").status("draft")).await;
    let token = writer.get(&format!("/help/articles/{draft}")).await.csrf();
    let r =
        writer.post_raw(&format!("/help/articles/{draft}/vote"), &[("csrf_token", &token), ("helpful", "yes")]).await;
    assert_eq!(r.status, 404);
});

// ---------- caching ----------

both!(public_pages_are_cacheable_with_etags_and_304s, |app| {
    let writer = app.signed_in("support").await;
    let (id, slug) =
        write(&writer, Art::new("Reset your VPN token", "Press reset.").summary("How to get a new VPN token.")).await;
    let path = format!("/help/articles/{slug}");
    let anon = app.browser();
    let first = anon.get(&path).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), "public, max-age=0, must-revalidate");
    assert_eq!(first.header("vary"), "Cookie");
    assert!(first.header("set-cookie").is_empty(), "a shared page sets no cookie: {:?}", first.headers);
    assert!(first.csrf().is_empty(), "and carries no form token");
    let etag = first.header("etag");
    let modified = first.header("last-modified");
    assert!(etag.starts_with('"') && modified.ends_with("GMT"), "{etag} {modified}");
    assert!(first.contains("<title>Reset your VPN token · Help center · Firewatch</title>"), "{}", first.body);
    assert!(first.contains("<meta name=\"description\" content=\"How to get a new VPN token.\">"), "{}", first.body);

    let again = get_with(&anon, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let since = get_with(&anon, &path, &[("if-modified-since", &modified)]).await;
    assert_eq!(since.status, 304);
    let older = get_with(&anon, &path, &[("if-modified-since", "Mon, 02 Mar 2020 08:00:00 GMT")]).await;
    assert_eq!(older.status, 200);
    assert_eq!(get_with(&anon, &path, &[("if-none-match", "\"other\"")]).await.status, 200);

    // A change makes the old validators stale.
    app.advance(Duration::minutes(2));
    assert_eq!(edit(&writer, &id, &[("body", "Press reset, then wait.")]).await.status, 303);
    let changed = get_with(&anon, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), etag);
    assert_eq!(get_with(&anon, &path, &[("if-modified-since", &modified)]).await.status, 200);

    // Category and home pages too; signed-in pages are private.
    for p in ["/help", "/sitemap.xml"] {
        let page = anon.get(p).await;
        let tag = page.header("etag");
        assert!(!tag.is_empty(), "{p}");
        assert_eq!(get_with(&anon, p, &[("if-none-match", &tag)]).await.status, 304, "{p}");
    }
    let mine = writer.get(&path).await;
    assert_eq!(mine.header("cache-control"), "no-store");
    assert!(mine.header("etag").is_empty());
    let customer = app.signed_in("customer").await;
    assert_eq!(customer.get("/help").await.header("cache-control"), "no-store");
});

both!(the_sitemap_lists_public_published_articles_with_lastmod, |app| {
    let writer = app.signed_in("support").await;
    write(&writer, Art::new("Public answer", "x")).await;
    write(&writer, Art::new("Customer answer", "x").audience("customers")).await;
    write(&writer, Art::new("Secret answer", "x").audience("internal")).await;
    write(&writer, Art::new("Draft answer", "x").status("draft")).await;
    let map = app.browser().get("/sitemap.xml").await;
    assert_eq!(map.status, 200);
    assert!(map.header("content-type").starts_with("application/xml"), "{:?}", map.headers);
    assert!(map.body.starts_with("<?xml"), "{}", map.body);
    let base = &app.base;
    assert!(
        map.contains(&format!(
            "<url><loc>{base}/help/articles/public-answer</loc><lastmod>2026-03-02T09:00:00Z</lastmod></url>"
        )),
        "{}",
        map.body
    );
    for hidden in ["customer-answer", "secret-answer", "draft-answer"] {
        assert!(!map.contains(hidden), "{hidden}: {}", map.body);
    }
});

// ---------- Markdown ----------

both!(asvs_5_2_1_markdown_xss_payloads_in_articles_are_inert, |app| {
    let writer = app.signed_in("support").await;
    let body = "## Install the agent\n\nRun this:\n\n```sh\ncurl -fsSL https://example.com/install | sh\n```\n\n| OS | Command |\n|---|---|\n| Linux | apt |\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n\n<a href=\"&#106;avascript:alert(4)\">x</a>\n\n<svg onload=alert(5)>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n<h3 id=\"x\" onclick=\"alert(6)\">Raw</h3>\n\n<div style=\"background:url(javascript:alert(7))\">styled</div>\n\nSee [the steps](#install-the-agent).";
    let (_, slug) = write(
        &writer,
        Art::new("Agent <script>alert('t')</script> install", body).summary("\"><script>alert(8)</script>"),
    )
    .await;
    let page = app.browser().get(&format!("/help/articles/{slug}")).await;
    assert_eq!(page.status, 200);
    let article = between(&page.body, "<div class=\"markdown help-body\">", "</article>").to_lowercase();
    for bad in ["<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "style=", "<svg"] {
        assert!(!article.contains(bad), "{bad} survived: {article}");
    }
    assert!(!page.body.to_lowercase().contains("<script>alert"), "nothing unescaped anywhere: {}", page.body);
    assert!(page.contains("Agent &#60;script&#62;alert("), "title escaped: {}", between(&page.body, "<h1", "</h1>"));
    // What Markdown is for still works: heading anchors, code blocks, tables.
    assert!(article.contains("<h2 id=\"install-the-agent\">install the agent</h2>"), "{article}");
    assert!(article.contains("<a href=\"#install-the-agent\""), "{article}");
    assert!(article.contains("<pre><code>curl -fssl https://example.com/install | sh"), "{article}");
    assert!(article.contains("<table>") && article.contains("<td>linux</td>"), "{article}");
    // Search snippets are escaped as well.
    let hits = app.browser().get("/help/search?q=styled").await;
    assert!(!hits.body.contains("<div style"), "{}", hits.body);
});

// ---------- search without results ----------

both!(a_search_without_results_offers_to_report_an_incident_with_the_query, |app| {
    let anon = app.browser();
    let none = anon.get("/help/search?q=printer%20on%20fire").await;
    assert_eq!(none.status, 200);
    assert!(
        none.contains("id=\"no-results\"") && none.contains("No article matches “printer on fire”."),
        "{}",
        none.body
    );
    let href = html_unescape(between(&none.body, "<a class=\"btn btn-primary\" href=\"", "\""));
    assert_eq!(href, "/incidents/new?title=printer+on+fire");
    // Anonymous visitors sign in first and come back to the prefilled form.
    let r = anon.get(&href).await;
    assert_eq!(r.status, 303);
    assert!(
        r.location().starts_with("/login?next=%2Fincidents%2Fnew%3Ftitle%3Dprinter%2Bon%2Bfire"),
        "{}",
        r.location()
    );
    let customer = app.signed_in("customer").await;
    let form = customer.get(&href).await;
    assert_eq!(crate::incidents::input_value(&form.body, "title").as_deref(), Some("printer on fire"), "{}", form.body);
});

// ---------- suggestions and deflection ----------

both!(the_new_incident_form_suggests_articles_and_deflections_are_counted, |app| {
    let admin = app.signed_in("admin").await;
    let vpn = service(&admin, "VPN").await;
    let writer = app.signed_in("support").await;
    let (_, public) = write(&writer, Art::new("Reset your VPN token", "When the token expired, reset it.")).await;
    write(&writer, Art::new("VPN escalation runbook", "Internal steps for VPN token outages.").audience("internal"))
        .await;
    write(&writer, Art::new("VPN token draft", "Draft about the VPN token.").status("draft")).await;

    let cora = login_as(&app, "customer", "cora@example.com").await;
    let form = cora.get("/incidents/new").await;
    let typed = [
        ("title", "VPN token expired"),
        ("description", ""),
        ("service_id", vpn.as_str()),
        ("impact", "low"),
        ("urgency", "low"),
    ];
    let mut fields = vec![("csrf_token", form.csrf())];
    fields.extend(typed.iter().map(|(k, v)| (*k, v.to_string())));
    fields.push(("check", "1".into()));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let checked = cora.post_raw("/incidents", &refs).await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    let answers = between(&checked.body, "id=\"help-answers\">", "</ul>");
    assert!(answers.contains(&format!("formaction=\"/help/articles/{public}/opened\"")), "{}", checked.body);
    assert!(answers.contains("formtarget=\"_blank\""));
    assert!(!answers.contains("runbook") && !answers.contains("draft"), "only what a customer may read: {answers}");
    assert_eq!(crate::incidents::input_value(&checked.body, "title").as_deref(), Some("VPN token expired"));

    // Cora opens the suggestion (the button posts the form with its token) and files nothing.
    let token = checked.csrf();
    let open = |b: &Browser, token: String| {
        let b = b.clone();
        let public = public.clone();
        async move {
            b.post_raw(
                &format!("/help/articles/{public}/opened"),
                &[("csrf_token", &token), ("title", "VPN token expired")],
            )
            .await
        }
    };
    let r = open(&cora, token).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), format!("/help/articles/{public}"));
    // Dan opens it too, and files an incident ten minutes later: not a deflection.
    let dan = login_as(&app, "customer", "dan@example.com").await;
    let token = dan.get("/incidents/new").await.csrf();
    assert_eq!(open(&dan, token).await.status, 303);
    app.advance(Duration::minutes(10));
    quick(&dan, &vpn, "VPN still broken").await;

    // Inside the window Cora's open is undecided.
    let staff = app.signed_in("support").await;
    let review = staff.get("/help/review").await;
    assert!(review.contains("<strong>0</strong> deflected of 2 opens; 1 followed by an incident."), "{}", review.body);
    // Once 30 minutes have passed without an incident from her, it is a deflection.
    app.advance(Duration::minutes(25));
    let staff = app.signed_in("support").await;
    let review = staff.get("/help/review").await;
    assert!(review.contains("<strong>1</strong> deflected of 2 opens; 1 followed by an incident."), "{}", review.body);
    let article = staff.get(&format!("/help/articles/{public}")).await;
    assert!(
        article.contains("opened 2 times: 1 deflected (no incident within 30 minutes), 1 followed by an incident"),
        "{}",
        article.body
    );
    // An incident filed after the window does not undo a deflection.
    let cora = app.browser();
    assert_eq!(cora.login("cora@example.com", PASSWORD).await.status, 303);
    quick(&cora, &vpn, "Another thing").await;
    assert!(staff.get("/help/review").await.contains("<strong>1</strong> deflected"));
    // Customers see no counts; anonymous visitors cannot open suggestions.
    assert!(!cora.get(&format!("/help/articles/{public}")).await.contains("deflected"));
    let anon = app.browser();
    let r = anon.submit("/login", &format!("/help/articles/{public}/opened"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
});

// ---------- the known-error loop ----------

both!(a_workaround_article_shows_fixed_in_release_and_is_flagged_when_the_fix_ships, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let inc = report(
        &customer,
        &[("title", "Checkout slow"), ("description", ""), ("service_id", &svc), ("impact", "low"), ("urgency", "low")],
    )
    .await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &inc, &svc, "2026.3.1").await;
    let (id, slug) =
        write(&devops, Art::new("Checkout is slow", "Retry with the backup gateway.").with("problem", "PRB-1")).await;
    let before = customer.get(&format!("/help/articles/{slug}")).await;
    assert!(!before.contains("Fixed in release"), "{}", before.body);
    assert!(!before.contains("PRB-1"), "customers never see the problem");

    tick_all(&devops, &release).await;
    let manager = login_as(&app, "manager", "max@example.com").await;
    assert_eq!(
        post_on(&manager, &release, &format!("{release}/approve"), &[("override_reason", "")]).await.status,
        303
    );
    for status in ["ready", "deployed"] {
        let r = post_on(&devops, &release, &format!("{release}/status"), &[("status", status), ("reason", "")]).await;
        assert_eq!(r.status, 303, "{status}: {}", r.body);
    }

    let after = customer.get(&format!("/help/articles/{slug}")).await;
    assert!(after.contains("<strong>Fixed in release 2026.3.1.</strong>"), "{}", after.body);
    let staff_view = devops.get(&format!("/help/articles/{slug}")).await;
    assert!(
        staff_view.contains("PRB-1&#39;s fix shipped in release 2026.3.1")
            || staff_view.contains("PRB-1's fix shipped in release 2026.3.1"),
        "{}",
        staff_view.body
    );
    let review = devops.get("/help/review").await;
    assert!(between(&review.body, "id=\"flagged\"", "</section>").contains("Checkout is slow"), "{}", review.body);
    let problem = devops.get("/problems/PRB-1").await;
    assert!(
        problem.contains("Workaround article “Checkout is slow” marked fixed and flagged for review"),
        "{}",
        problem.body
    );
    assert!(
        between(&problem.body, "id=\"workaround-articles\"", "</p>")
            .contains(&format!("href=\"/help/articles/{slug}\"")),
        "the problem names its workaround article: {}",
        problem.body
    );
    let history = devops.get(&format!("/help/manage/articles/{id}/history")).await;
    assert!(history.contains("Flagged for review: fixed in release 2026.3.1 (PRB-1)"), "{}", history.body);

    // A writer reviews it: the flag goes, the fixed-in note stays.
    let r =
        devops.submit(&format!("/help/articles/{slug}"), &format!("/help/manage/articles/{id}/reviewed"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        !between(&devops.get("/help/review").await.body, "id=\"flagged\"", "</section>").contains("Checkout is slow")
    );
    assert!(customer.get(&format!("/help/articles/{slug}")).await.contains("Fixed in release 2026.3.1"));

    // A rollback takes the note away again and flags the article once more.
    let r = post_on(
        &devops,
        &release,
        &format!("{release}/status"),
        &[("status", "rolled_back"), ("reason", "Errors went up.")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!customer.get(&format!("/help/articles/{slug}")).await.contains("Fixed in release"));
    assert!(
        between(&devops.get("/help/review").await.body, "id=\"flagged\"", "</section>").contains("was rolled back")
    );
});

// ---------- images ----------

both!(writers_upload_images_that_are_served_with_safe_headers, |app| {
    let writer = app.signed_in("support").await;
    let (id, slug) = write(&writer, Art::new("Screenshot guide", "Look at this:")).await;
    let editor_path = format!("/help/manage/articles/{id}");
    let editor = writer.get(&editor_path).await;
    let token = editor.csrf();
    let revision = form_value(&editor.body, "revision").unwrap_or_default();
    let fields = [
        ("csrf_token", token.as_str()),
        ("revision", revision.as_str()),
        ("title", "Screenshot guide"),
        ("body", "Look at this:"),
        ("audience", "public"),
        ("status", "published"),
        ("image_alt", "The settings screen"),
    ];
    let up = post_multipart(&writer, &format!("{editor_path}/images"), &fields, Some(("image", "shot.png", PNG))).await;
    assert_eq!(up.status, 200, "{}", up.body);
    let body = html_unescape(textarea(&up.body, "body"));
    let markdown = body.lines().last().unwrap_or_default().to_string();
    assert!(markdown.starts_with("![The settings screen](/help/images/"), "{body}");
    let image_path = between(&markdown, "](", ")").to_string();

    // asvs_4_2_2: the same token check as any form, read from the multipart body: without it, refused.
    let no_token: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| *k != "csrf_token").copied().collect();
    let forged =
        post_multipart(&writer, &format!("{editor_path}/images"), &no_token, Some(("image", "x.png", PNG))).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // ASVS 12.x: only real images, by their bytes: an SVG (script inside) is refused, the typed text kept.
    let svg = post_multipart(
        &writer,
        &format!("{editor_path}/images"),
        &fields,
        Some(("image", "x.svg", b"<svg onload=alert(1)>")),
    )
    .await;
    assert_eq!(svg.status, 422);
    assert!(svg.contains("Upload a PNG, JPEG, GIF or WebP image.") && svg.contains("Look at this:"), "{}", svg.body);

    assert_eq!(edit(&writer, &id, &[("body", &body)]).await.status, 303);
    let anon = app.browser();
    let page = anon.get(&format!("/help/articles/{slug}")).await;
    assert!(page.contains(&format!("<img src=\"{image_path}\" alt=\"The settings screen\">")), "{}", page.body);
    let img = anon.get(&image_path).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), "image/png");
    assert_eq!(img.header("x-content-type-options"), "nosniff");
    assert!(img.header("content-security-policy").contains("sandbox"));
    assert!(img.header("content-disposition").starts_with("attachment"));
    // An internal article's images are internal too.
    assert_eq!(edit(&writer, &id, &[("audience", "internal")]).await.status, 303);
    assert_eq!(anon.get(&image_path).await.status, 404);
    assert_eq!(app.signed_in("customer").await.get(&image_path).await.status, 404);
    assert_eq!(app.signed_in("sales").await.get(&image_path).await.status, 200);
});

// ---------- the incident page ----------

both!(staff_insert_an_article_link_into_a_reply_without_javascript, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Mail").await;
    let writer = app.signed_in("support").await;
    let (_, slug) = write(&writer, Art::new("Mailbox quota", "Delete old mail.")).await;
    write(&writer, Art::new("Printer queue", "Restart it.")).await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Mailbox full").await;

    let page = incident(&writer, &key).await;
    assert!(
        page.contains("id=\"help-picker\"") && page.contains(&format!("<option value=\"{slug}\"")),
        "{}",
        page.body
    );
    let token = page.csrf();
    // Find narrows the list; the typed reply is kept.
    let found = writer
        .post_raw(
            &format!("/incidents/{key}/help-link"),
            &[
                ("csrf_token", &token),
                ("body", "Hello Cora,"),
                ("visibility", "public"),
                ("article_q", "quota"),
                ("article_action", "find"),
            ],
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let picker = between(&found.body, "id=\"help-picker\"", "</details>");
    assert!(picker.contains("Mailbox quota") && !picker.contains("Printer queue"), "{picker}");
    assert_eq!(textarea(&found.body, "body"), "Hello Cora,");
    let inserted = writer
        .post_raw(
            &format!("/incidents/{key}/help-link"),
            &[
                ("csrf_token", &token),
                ("body", "Hello Cora,"),
                ("visibility", "public"),
                ("article_q", "quota"),
                ("article", &slug),
                ("article_action", "insert"),
            ],
        )
        .await;
    assert_eq!(inserted.status, 200, "{}", inserted.body);
    let body = html_unescape(textarea(&inserted.body, "body"));
    let link = format!("[Mailbox quota]({}/help/articles/{slug})", app.base);
    assert_eq!(body, format!("Hello Cora,\n{link}"));
    // Nothing was posted yet; posting the reply puts the link in the timeline.
    assert!(!incident(&customer, &key).await.contains("Mailbox quota"));
    assert_eq!(crate::incidents::reply(&writer, &key, &body).await.status, 303);
    let seen = incident(&customer, &key).await;
    assert!(seen.contains(&format!("href=\"{}/help/articles/{slug}\"", app.base)), "{}", seen.body);
    assert!(!seen.contains("id=\"help-picker\""), "customers get no picker");
    let r = customer
        .submit(&format!("/incidents/{key}"), &format!("/incidents/{key}/help-link"), &[("article_action", "find")])
        .await;
    assert_eq!(r.status, 403);
    // Only published articles can be linked; the typed reply survives a refusal.
    let (_, draft) = write(&writer, Art::new("Unfinished draft", "x").status("draft")).await;
    let token = incident(&writer, &key).await.csrf();
    let refused = writer
        .post_raw(
            &format!("/incidents/{key}/help-link"),
            &[("csrf_token", &token), ("body", "Still typing"), ("article", &draft), ("article_action", "insert")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.contains("Choose a published article from the list.") && refused.contains("Still typing"));
});

// ---------- permissions ----------

both!(support_devops_managers_and_admins_write_with_a_preview_while_sales_and_customers_read, |app| {
    for role in ["customer", "sales"] {
        let b = app.signed_in(role).await;
        assert_eq!(b.get("/help/manage/articles/new").await.status, 403, "{role}");
        let r = b
            .submit(
                "/help",
                "/help/manage/articles",
                &[("title", "x"), ("audience", "public"), ("status", "published")],
            )
            .await;
        assert_eq!(r.status, 403, "{role}");
        assert_eq!(b.get("/help/manage").await.status, 403, "{role}");
    }
    assert_eq!(app.signed_in("customer").await.get("/help/review").await.status, 403);
    assert_eq!(app.signed_in("sales").await.get("/help/review").await.status, 200);
    for (n, role) in ["support", "devops", "manager", "admin"].iter().enumerate() {
        let b = app.signed_in(role).await;
        let title = format!("Written by {role} {n}");
        write(&b, Art::new(&title, "text")).await;
    }

    // Preview renders the body on the server and saves nothing.
    let writer = app.signed_in("support").await;
    let preview = writer
        .submit(
            "/help/manage/articles/new",
            "/help/manage/articles",
            &[
                ("title", "Preview me"),
                ("body", "## Hello\n\n**bold**"),
                ("audience", "public"),
                ("status", "published"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.contains("Preview (not saved)")
            && preview.contains("<strong>bold</strong>")
            && preview.contains("<h2 id=\"hello\">"),
        "{}",
        preview.body
    );
    assert_eq!(textarea(&preview.body, "body"), "## Hello\n\n**bold**");
    assert_eq!(writer.get("/help/articles/preview-me").await.status, 404);

    // Bad input comes back with messages and everything typed.
    let bad = writer
        .submit(
            "/help/manage/articles/new",
            "/help/manage/articles",
            &[
                ("title", ""),
                ("slug", "Bad Slug"),
                ("body", "kept body"),
                ("audience", "everyone"),
                ("status", "published"),
                ("problem", "PRB-99"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    for msg in [
        "Give the article a title.",
        "Use lowercase letters",
        "Choose who may read the article.",
        "There is no problem with that key.",
        "kept body",
    ] {
        assert!(bad.contains(msg), "{msg}: {}", bad.body);
    }
    let taken = writer
        .submit(
            "/help/manage/articles/new",
            "/help/manage/articles",
            &[("title", "Written by support 0"), ("audience", "public"), ("status", "draft"), ("action", "save")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.contains("Another article already has this address."), "{}", taken.body);
});

both!(tags_and_related_articles_show_only_what_the_reader_may_read, |app| {
    let writer = app.signed_in("support").await;
    let (_, open) =
        write(&writer, Art::new("Install the client", "Download it.").with("tags", "client, install")).await;
    let (_, secret) = write(&writer, Art::new("Client build pipeline", "Internal.").audience("internal")).await;
    let related = format!("{open}\n{secret}");
    let (_, slug) = write(
        &writer,
        Art::new("Update the client", "Run the updater.").with("related", &related).with("tags", "client"),
    )
    .await;
    let anon = app.browser();
    let page = anon.get(&format!("/help/articles/{slug}")).await;
    let list = between(&page.body, "id=\"related\"", "</section>");
    assert!(list.contains("Install the client") && !list.contains("Client build pipeline"), "{list}");
    let sales = app.signed_in("sales").await;
    assert!(
        between(&sales.get(&format!("/help/articles/{slug}")).await.body, "id=\"related\"", "</section>")
            .contains("Client build pipeline")
    );
    assert!(page.contains("<a class=\"badge\" href=\"/help/search?tag=client\">client</a>"), "{}", page.body);
    let tagged = anon.get("/help/search?tag=client").await;
    let mut found = results(&tagged.body);
    found.sort();
    assert_eq!(found, vec![open.clone(), slug.clone()]);
    // A related address that does not exist, or the article itself, is refused.
    let bad = writer
        .submit(
            "/help/manage/articles/new",
            "/help/manage/articles",
            &[
                ("title", "Loop"),
                ("slug", "loop"),
                ("related", "loop\nno-such-article"),
                ("audience", "public"),
                ("status", "draft"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.contains("An article cannot be related to itself.")
            && bad.contains("There is no article at no-such-article."),
        "{}",
        bad.body
    );
});

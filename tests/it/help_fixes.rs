//! The help center's review findings, each as a user would notice it: typed values kept on
//! refused category forms, oversized uploads answered with the editor, the per-IP vote limit,
//! paged category lists and honest "more", cacheable public images, deleting images and
//! categories (audited), public replies that link only what the reporter may read, old
//! addresses answered with a 301, plain-text snippets and descriptions, heading ids that never
//! repeat the page's own, "fixed in release" kept in step with the problem, and category caching.

use crate::both;
use crate::help::{Art, PNG, category_id, edit, get_with, post_multipart, results, textarea, write};
use crate::incidents::{act, between, incident, login_as, quick, report, service};
use crate::releases::{chain, post_on, tick_all};
use crate::support::*;
use chrono::Duration;

/// Adds a category through the form; returns its id.
async fn add_category(b: &Browser, fields: &[(&str, &str)]) -> String {
    let r = b.submit("/help/manage/categories", "/help/manage/categories", fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let name = fields.iter().find(|(k, _)| *k == "name").map(|(_, v)| *v).unwrap_or_default();
    category_id(&b.get("/help/manage/categories").await.body, name)
}

/// Posts the incident page's reply form to the article picker.
async fn picker_post(b: &Browser, key: &str, token: &str, fields: Vec<(&'static str, String)>) -> Page {
    let mut all: Vec<(&str, String)> = vec![("csrf_token", token.to_string())];
    all.extend(fields);
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_raw(&format!("/incidents/{key}/help-link"), &refs).await
}

/// Presses a category's Delete button.
async fn delete_category(b: &Browser, id: &str) -> Page {
    b.submit("/help/manage/categories", &format!("/help/manage/categories/{id}/delete"), &[]).await
}

/// The form of category `id` on the categories page.
fn category_row<'a>(body: &'a str, id: &str) -> &'a str {
    between(body, &format!("action=\"/help/manage/categories/{id}\""), "</form>")
}

// ---------- 1. typed values ----------

both!(a_refused_category_form_comes_back_with_everything_typed, |app| {
    let writer = app.signed_in("support").await;
    let accounts = add_category(&writer, &[("name", "Accounts"), ("description", "Saved description")]).await;
    add_category(&writer, &[("name", "Billing")]).await;

    // Editing: the row comes back with the typed values and the messages next to its fields.
    let r = writer
        .submit(
            "/help/manage/categories",
            &format!("/help/manage/categories/{accounts}"),
            &[
                ("name", "Accounts and logins"),
                ("slug", "billing"),
                ("description", "Typed description"),
                ("position", "first"),
                ("parent", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let row = category_row(&r.body, &accounts);
    for typed in [
        "value=\"Accounts and logins\"",
        "value=\"billing\"",
        "value=\"Typed description\"",
        "value=\"first\"",
        "Another category has this address.",
        "Enter a whole number.",
        "aria-invalid=\"true\"",
    ] {
        assert!(row.contains(typed), "{typed}: {row}");
    }
    assert!(row.contains(&format!("href=\"#c{accounts}-slug\"")), "the summary leads to the field: {row}");
    // Nothing was saved.
    let page = writer.get("/help/manage/categories").await;
    assert!(category_row(&page.body, &accounts).contains("value=\"Saved description\""), "{}", page.body);

    // Creating: the new-category form keeps what was typed too.
    let r = writer
        .submit(
            "/help/manage/categories",
            "/help/manage/categories",
            &[
                ("name", ""),
                ("slug", "Bad Slug"),
                ("description", "New typed"),
                ("position", "3"),
                ("parent", &accounts),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let form = between(&r.body, "id=\"new-cat-h\"", "</form>");
    for typed in ["value=\"Bad Slug\"", "value=\"New typed\"", "value=\"3\"", "Give the category a name."] {
        assert!(form.contains(typed), "{typed}: {form}");
    }
    assert!(form.contains(&format!("<option value=\"{accounts}\" selected")), "{form}");
});

// ---------- 2. uploads ----------

both!(a_refused_upload_brings_the_editor_back_with_the_typed_text, |app| {
    let writer = app.signed_in("support").await;
    let (id, slug) = write(&writer, Art::new("Big pictures", "Saved body")).await;
    let editor_path = format!("/help/manage/articles/{id}");
    let editor = writer.get(&editor_path).await;
    let token = editor.csrf();
    let revision = form_value(&editor.body, "revision").unwrap_or_default();
    let fields = [
        ("csrf_token", token.as_str()),
        ("revision", revision.as_str()),
        ("title", "Big pictures, renamed"),
        ("body", "Typed but not saved"),
        ("audience", "public"),
        ("status", "published"),
        ("tags", "typed-tag"),
        ("image_alt", "A typed description"),
    ];
    let kept = |p: &Page| {
        assert_eq!(p.status, 422, "{}", p.body);
        assert_eq!(textarea(&p.body, "body"), "Typed but not saved", "{}", p.body);
        for v in ["value=\"Big pictures, renamed\"", "value=\"typed-tag\"", "value=\"A typed description\""] {
            assert!(p.contains(v), "{v}: {}", p.body);
        }
        assert!(p.contains("Nothing was uploaded."), "{}", p.body);
    };

    // Over 6 MiB: the editor, not a bare error page.
    let mut big = PNG.to_vec();
    big.resize(7 * 1024 * 1024, 0);
    let up =
        post_multipart(&writer, &format!("{editor_path}/images"), &fields, Some(("image", "huge.png", big.as_slice())))
            .await;
    kept(&up);
    assert!(up.contains("The image is larger than 5 MB."), "{}", up.body);
    // Far more than the server reads at all.
    let mut huge = PNG.to_vec();
    huge.resize(firewatch::web::middleware::MAX_UPLOAD + 1024 * 1024, 0);
    let up = post_multipart(
        &writer,
        &format!("{editor_path}/images"),
        &fields,
        Some(("image", "huge.png", huge.as_slice())),
    )
    .await;
    kept(&up);
    assert!(up.contains("far larger than an image may be"), "{}", up.body);
    // No file chosen.
    let none = post_multipart(&writer, &format!("{editor_path}/images"), &fields, Some(("image", "", &[][..]))).await;
    kept(&none);
    assert!(none.contains("Choose an image file to upload."), "{}", none.body);
    // Posted as an ordinary form.
    let plain = writer.post_raw(&format!("{editor_path}/images"), &fields).await;
    kept(&plain);
    assert!(plain.contains("Choose an image file, then press"), "{}", plain.body);
    // Nothing of it was saved.
    let page = writer.get(&format!("/help/articles/{slug}")).await;
    assert!(page.contains("Saved body") && !page.contains("Typed but not saved"), "{}", page.body);
});

// ---------- 3. votes ----------

both!(anonymous_votes_are_limited_per_ip_address_per_article_and_day, |app| {
    use crate::help::answer;
    let limit = firewatch::service::help::ANON_VOTES_PER_IP_PER_DAY;
    let writer = app.signed_in("support").await;
    let (_, slug) = write(&writer, Art::new("Printer jams", "Open the tray.")).await;
    let (_, other) = write(&writer, Art::new("Printer toner", "Shake it.")).await;
    let first = app.browser();
    assert_eq!(answer(&first, &slug, "yes", "").await.status, 303);
    for n in 1..limit {
        assert_eq!(answer(&app.browser(), &slug, "yes", "").await.status, 303, "visitor {n}");
    }
    // A new visitor (a dropped cookie) from the same address is not counted any more.
    let stuffer = app.browser();
    let refused = answer(&stuffer, &slug, "yes", "").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.contains("Many answers about this article came from your network today"), "{}", refused.body);
    // A visitor changing their answer is not a new one; signed-in users count on their own;
    // another article has its own allowance.
    assert_eq!(answer(&first, &slug, "no", "").await.status, 303);
    assert_eq!(answer(&app.signed_in("customer").await, &slug, "yes", "").await.status, 303);
    assert_eq!(answer(&stuffer, &other, "yes", "").await.status, 303);
    let staff = app.signed_in("sales").await;
    let counts = staff.get(&format!("/help/articles/{slug}")).await;
    assert!(counts.contains(&format!("<dd id=\"votes\">{limit} yes, 1 no")), "{}", counts.body);
    // A day later the address may answer again.
    app.advance(Duration::hours(25));
    assert_eq!(answer(&app.browser(), &slug, "yes", "").await.status, 303);
});

// ---------- 4. lists, images ----------

both!(category_pages_are_paged_and_searches_say_when_there_is_more, |app| {
    let writer = app.signed_in("support").await;
    let widgets = add_category(&writer, &[("name", "Widgets")]).await;
    for n in 0..51 {
        let title = format!("Widget guide {n:02}");
        write(&writer, Art::new(&title, "All about the widget.").with("category", &widgets)).await;
    }
    let anon = app.browser();
    let first = anon.get("/help/categories/widgets").await;
    assert_eq!(first.status, 200);
    let list = between(&first.body, "<ul class=\"help-list\">", "</ul>");
    assert_eq!(list.matches("class=\"help-card\"").count(), 50, "{list}");
    assert!(list.contains("Widget guide 00") && !list.contains("Widget guide 50"), "{list}");
    assert!(first.contains("51 articles, 50 on this page"), "{}", first.body);
    let after = between(&first.body, "<a href=\"/help/categories/widgets?after=", "\" rel=\"next\">");
    let next = format!("/help/categories/widgets?after={after}");
    assert!(!after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()), "{after}: {}", first.body);
    let second = anon.get(&next).await;
    assert_eq!(second.status, 200);
    let list = between(&second.body, "<ul class=\"help-list\">", "</ul>");
    assert!(list.contains("Widget guide 50") && !list.contains("Widget guide 49"), "{list}");
    assert!(!second.contains("rel=\"next\"") && second.contains("First page"), "{}", second.body);

    // Search shows the best 50 and says there are more.
    let found = anon.get("/help/search?q=widget").await;
    assert_eq!(results(&found.body).len(), 50);
    assert!(found.contains("More than 50 articles match; these are the 50 best."), "{}", found.body);
    let one = anon.get("/help/search?q=widget+guide+07").await;
    assert!(!one.contains("More than"), "{}", one.body);
});

both!(public_images_are_cacheable_and_staff_can_delete_them, |app| {
    let writer = app.signed_in("support").await;
    let (id, slug) = write(&writer, Art::new("Screens", "Look:")).await;
    let editor_path = format!("/help/manage/articles/{id}");
    let editor = writer.get(&editor_path).await;
    let (token, revision) = (editor.csrf(), form_value(&editor.body, "revision").unwrap_or_default());
    let fields = [
        ("csrf_token", token.as_str()),
        ("revision", revision.as_str()),
        ("title", "Screens"),
        ("body", "Look:"),
        ("audience", "public"),
        ("status", "published"),
        ("image_alt", "Settings"),
    ];
    let up = post_multipart(&writer, &format!("{editor_path}/images"), &fields, Some(("image", "shot.png", PNG))).await;
    assert_eq!(up.status, 200, "{}", up.body);
    let body = html_unescape(textarea(&up.body, "body"));
    let image_path = between(&body, "](", ")").to_string();
    let image_id = image_path.trim_start_matches("/help/images/").to_string();
    assert_eq!(edit(&writer, &id, &[("body", &body)]).await.status, 303);

    // A public article's image: shared caches may keep it, revalidating; 304 when current.
    let anon = app.browser();
    let img = anon.get(&image_path).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("cache-control"), "public, max-age=0, must-revalidate");
    let etag = img.header("etag");
    assert!(etag.starts_with('"') && !img.header("last-modified").is_empty(), "{:?}", img.headers);
    assert!(img.header("set-cookie").is_empty(), "{:?}", img.headers);
    let again = get_with(&anon, &image_path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let since = get_with(&anon, &image_path, &[("if-modified-since", &img.header("last-modified"))]).await;
    assert_eq!(since.status, 304);
    // Signed in, or not public: private and not stored, still checked.
    assert_eq!(writer.get(&image_path).await.header("cache-control"), "no-store");
    assert_eq!(edit(&writer, &id, &[("audience", "customers")]).await.status, 303);
    assert_eq!(get_with(&anon, &image_path, &[("if-none-match", &etag)]).await.status, 404);
    let customer = app.signed_in("customer").await;
    let private = customer.get(&image_path).await;
    assert_eq!(private.status, 200);
    assert_eq!(private.header("cache-control"), "no-store");
    assert!(private.header("etag").is_empty());
    assert_eq!(edit(&writer, &id, &[("audience", "public")]).await.status, 303);

    // Deleting from the editor: the typed text comes back, without the image's Markdown.
    let editor = writer.get(&editor_path).await;
    assert!(editor.contains(&format!("formaction=\"{editor_path}/images/{image_id}/delete\"")), "{}", editor.body);
    let delete = writer
        .post_raw(
            &format!("{editor_path}/images/{image_id}/delete"),
            &[
                ("csrf_token", &editor.csrf()),
                ("revision", &form_value(&editor.body, "revision").unwrap_or_default()),
                ("title", "Screens"),
                ("body", &format!("{body}\nTyped after it")),
                ("audience", "public"),
                ("status", "published"),
            ],
        )
        .await;
    assert_eq!(delete.status, 200, "{}", delete.body);
    assert!(delete.contains("Image “shot.png” deleted: it is no longer served."), "{}", delete.body);
    let typed = html_unescape(textarea(&delete.body, "body"));
    assert!(typed.contains("Typed after it") && !typed.contains(&image_path), "{typed}");
    assert!(!delete.contains(&format!("id=\"img-{image_id}\"")), "the list no longer has it");
    // It is no longer served, cached copies included.
    assert_eq!(anon.get(&image_path).await.status, 404);
    assert_eq!(get_with(&anon, &image_path, &[("if-none-match", &etag)]).await.status, 404);
    let history = writer.get(&format!("{editor_path}/history")).await;
    assert!(history.contains("Image deleted: shot.png"), "{}", history.body);
    let audit = app.signed_in("admin").await.get("/admin/audit?action=help.image_delete").await;
    assert!(audit.contains("help.image_delete") && audit.contains(&format!("help_image:{image_id}")), "{}", audit.body);
    // Deleting it again says so, and readers never could.
    let again =
        writer.post_raw(&format!("{editor_path}/images/{image_id}/delete"), &[("csrf_token", &editor.csrf())]).await;
    assert_eq!(again.status, 200);
    assert!(again.contains("That image was deleted already."), "{}", again.body);
    let r = app
        .signed_in("sales")
        .await
        .submit(&format!("/help/articles/{slug}"), &format!("{editor_path}/images/{image_id}/delete"), &[])
        .await;
    assert_eq!(r.status, 403);
});

// ---------- 6. links in public replies ----------

both!(public_replies_only_link_articles_the_reporter_may_read, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Mail").await;
    let writer = app.signed_in("support").await;
    let (_, public) = write(&writer, Art::new("Mailbox quota", "Delete old mail.")).await;
    let (_, internal) =
        write(&writer, Art::new("Mail server runbook", "Restart the relay.").audience("internal")).await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let key = quick(&customer, &svc, "Mailbox full").await;

    // The picker of a public reply offers what the reporter can open; an internal note's, more.
    let page = incident(&writer, &key).await;
    let picker = between(&page.body, "id=\"help-picker\"", "</details>");
    assert!(picker.contains(&format!("<option value=\"{public}\"")), "{picker}");
    assert!(!picker.contains("Mail server runbook"), "{picker}");
    let token = page.csrf();
    let post = |fields: Vec<(&'static str, String)>| picker_post(&writer, &key, &token, fields);
    let as_note = post(vec![
        ("body", "Note:".into()),
        ("visibility", "internal".into()),
        ("article_q", "mail".into()),
        ("article_action", "find".into()),
    ])
    .await;
    assert_eq!(as_note.status, 200, "{}", as_note.body);
    assert!(between(&as_note.body, "id=\"help-picker\"", "</details>").contains("Mail server runbook"));
    // Inserting an internal article into a public reply is refused, the typed text kept.
    let refused = post(vec![
        ("body", "Hello Cora,".into()),
        ("visibility", "public".into()),
        ("article", internal.clone()),
        ("article_action", "insert".into()),
    ])
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.contains("The reporter cannot open this article"), "{}", refused.body);
    assert_eq!(textarea(&refused.body, "body"), "Hello Cora,");
    // Into an internal note it goes.
    let inserted = post(vec![
        ("body", "Note:".into()),
        ("visibility", "internal".into()),
        ("article", internal.clone()),
        ("article_action", "insert".into()),
    ])
    .await;
    assert_eq!(inserted.status, 200, "{}", inserted.body);
    let note = html_unescape(textarea(&inserted.body, "body"));
    assert!(note.contains(&format!("/help/articles/{internal})")), "{note}");

    // A public reply carrying that link (typed or pasted) is refused; the text stays.
    let link = format!("See [Mail server runbook]({}/help/articles/{internal})", app.base);
    let r = act(&writer, &key, "/comments", &[("body", &link), ("visibility", "public")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.contains("The reporter cannot open “Mail server runbook”"), "{}", r.body);
    assert!(html_unescape(textarea(&r.body, "body")).contains("See [Mail server runbook]"), "{}", r.body);
    assert!(!incident(&customer, &key).await.contains("Mail server runbook"), "nothing reached the customer");
    // As an internal note, or with a public article, it is posted.
    assert_eq!(act(&writer, &key, "/comments", &[("body", &link), ("visibility", "internal")]).await.status, 303);
    let ok = format!("See {}/help/articles/{public}", app.base);
    assert_eq!(act(&writer, &key, "/comments", &[("body", &ok), ("visibility", "public")]).await.status, 303);
    let seen = incident(&customer, &key).await;
    assert!(seen.contains(&format!("/help/articles/{public}")) && !seen.contains("Mail server runbook"));
});

// ---------- 7. old addresses ----------

both!(renamed_articles_and_categories_answer_their_old_addresses_with_a_301, |app| {
    let writer = app.signed_in("support").await;
    let (id, _) = write(&writer, Art::new("Old name", "Body.")).await;
    assert_eq!(edit(&writer, &id, &[("slug", "new-name")]).await.status, 303);
    assert_eq!(edit(&writer, &id, &[("slug", "newest-name")]).await.status, 303);
    let anon = app.browser();
    for old in ["old-name", "new-name"] {
        let r = anon.get(&format!("/help/articles/{old}")).await;
        assert_eq!(r.status, 301, "{old}: {}", r.body);
        assert_eq!(r.location(), "/help/articles/newest-name");
    }
    assert_eq!(anon.get("/help/articles/newest-name").await.status, 200);
    // The answer form at the old address follows too.
    let r = anon.get("/help/articles/old-name/feedback?helpful=yes").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.location(), "/help/articles/newest-name/feedback?helpful=yes");
    // An article a visitor may not read gives its new address to nobody.
    let (secret, _) = write(&writer, Art::new("Secret runbook", "x").audience("internal")).await;
    assert_eq!(edit(&writer, &secret, &[("slug", "secret-runbook-2")]).await.status, 303);
    assert_eq!(anon.get("/help/articles/secret-runbook").await.status, 404);
    let sales = app.signed_in("sales").await;
    assert_eq!(sales.get("/help/articles/secret-runbook").await.location(), "/help/articles/secret-runbook-2");
    // Another article may take an old address: it is then that article's.
    let (_, taken) = write(&writer, Art::new("Old name", "Another article.")).await;
    assert_eq!(taken, "old-name");
    let page = anon.get("/help/articles/old-name").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Another article."), "{}", page.body);

    // Categories.
    let cat = add_category(&writer, &[("name", "Printers")]).await;
    write(&writer, Art::new("Printer setup", "x").with("category", &cat)).await;
    let r = writer
        .submit(
            "/help/manage/categories",
            &format!("/help/manage/categories/{cat}"),
            &[("name", "Printers"), ("slug", "printing")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = anon.get("/help/categories/printers").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.location(), "/help/categories/printing");
    assert_eq!(anon.get("/help/categories/printing").await.status, 200);
});

// ---------- 8, 9. plain text, heading ids ----------

both!(snippets_summaries_and_descriptions_are_plain_text_and_heading_ids_stay_unique, |app| {
    let writer = app.signed_in("support").await;
    let body = "<!-- secret plan: zanzibar -->\n\nConnect through [the portal](https://portal.example/login) with your **badge**.\n\n## Main\n\nPress the button.\n\n## Feedback\n\nTell us.\n\n## Related\n\nMore.";
    let (_, slug) = write(&writer, Art::new("Badge access", body)).await;
    let anon = app.browser();

    let page = anon.get(&format!("/help/articles/{slug}")).await;
    assert!(
        page.contains("<meta name=\"description\" content=\"Connect through the portal with your badge. Main Press the button. Feedback Tell us. Related More.\">"),
        "{}",
        page.body
    );
    // Headings never take an id the page uses: one main, one feedback section, one related list.
    for id in ["main", "feedback", "related"] {
        assert_eq!(
            page.body.matches(&format!(" id=\"{id}\"")).count(),
            if id == "related" { 0 } else { 1 },
            "{id}: {}",
            page.body
        );
        assert!(page.contains(&format!("<h2 id=\"h-{id}\">")), "{id}: {}", page.body);
    }
    assert!(page.contains("href=\"#h-main\""), "the table of contents follows: {}", page.body);

    // Search reads the text a reader sees: no comment, no link target.
    assert!(results(&anon.get("/help/search?q=zanzibar").await.body).is_empty());
    assert!(results(&anon.get("/help/search?q=login").await.body).is_empty());
    let found = anon.get("/help/search?q=portal").await;
    assert_eq!(results(&found.body), vec![slug.clone()]);
    let snippet = between(&found.body, "<p class=\"snippet\">", "</p>");
    assert!(snippet.contains("<mark>portal</mark>"), "{snippet}");
    for raw in ["](", "https://", "&lt;!--", "zanzibar", "**"] {
        assert!(!snippet.contains(raw), "{raw}: {snippet}");
    }
    // A card without a summary shows the start of the text.
    let home = anon.get("/help").await;
    let card = between(&home.body, "Badge access</a>", "</li>");
    assert!(card.contains("Connect through the portal with your badge."), "{card}");
    assert!(!card.contains("zanzibar") && !card.contains("]("), "{card}");
});

// ---------- 10. known errors ----------

both!(fixed_in_release_follows_the_problem_and_a_shipped_problem_takes_no_new_workaround, |app| {
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
    let (a, a_slug) =
        write(&devops, Art::new("Retry the payment", "Use the backup gateway.").with("problem", "PRB-1")).await;
    let (c, c_slug) = write(&devops, Art::new("Pay by invoice", "Choose invoice.").with("problem", "PRB-1")).await;
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
    let fixed = |p: &Page| p.contains("Fixed in release 2026.3.1");
    assert!(fixed(&customer.get(&format!("/help/articles/{a_slug}")).await));
    assert!(fixed(&customer.get(&format!("/help/articles/{c_slug}")).await));

    // A new workaround for a problem whose fix shipped is refused, everything typed kept.
    let r = devops
        .submit(
            "/help/manage/articles/new",
            "/help/manage/articles",
            &[
                ("title", "Late workaround"),
                ("body", "Typed steps"),
                ("audience", "public"),
                ("status", "published"),
                ("problem", "PRB-1"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.contains("PRB-1&#39;s fix has shipped already") || r.contains("PRB-1's fix has shipped already"),
        "{}",
        r.body
    );
    assert!(r.contains("Typed steps"));
    // An article already linked keeps saving (and keeps its note).
    assert_eq!(edit(&devops, &a, &[("body", "Use the backup gateway, then retry.")]).await.status, 303);
    assert!(fixed(&customer.get(&format!("/help/articles/{a_slug}")).await));

    // Linked to another problem, the note of the first one goes.
    let r = devops
        .submit(
            &format!("/problems/new?incident={inc}"),
            "/problems",
            &[("from_incident", &inc), ("title", "Second cause"), ("category", "code_defect")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(edit(&devops, &c, &[("problem", "PRB-2")]).await.status, 303);
    assert!(!fixed(&customer.get(&format!("/help/articles/{c_slug}")).await));

    // The problem's fix taken back by hand: the note goes in the same change, and a writer is asked to look.
    let r = post_on(
        &devops,
        "/problems/PRB-1",
        "/problems/PRB-1/status",
        &[("status", "fix_in_progress"), ("resolution", "")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let after = customer.get(&format!("/help/articles/{a_slug}")).await;
    assert!(!fixed(&after), "{}", after.body);
    let review = devops.get("/help/review").await;
    let flagged = between(&review.body, "id=\"flagged\"", "</section>");
    assert!(
        flagged.contains("Retry the payment") && flagged.contains("PRB-1 moved from Fix released to Fix in progress"),
        "{flagged}"
    );
    // And now it may be linked again (the fix is not out).
    assert_eq!(edit(&devops, &c, &[("problem", "PRB-1")]).await.status, 303);
});

// ---------- 11. deleting categories ----------

both!(only_an_empty_category_can_be_deleted_and_the_deletion_is_audited, |app| {
    let writer = app.signed_in("support").await;
    let full = add_category(&writer, &[("name", "Full")]).await;
    let parent = add_category(&writer, &[("name", "Parent")]).await;
    add_category(&writer, &[("name", "Child"), ("parent", &parent)]).await;
    let empty = add_category(&writer, &[("name", "Empty")]).await;
    write(&writer, Art::new("Draft in full", "x").status("draft").with("category", &full)).await;

    let r = delete_category(&writer, &full).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        category_row(&r.body, &full).contains("still holds articles (drafts and archived ones count)"),
        "{}",
        r.body
    );
    let r = delete_category(&writer, &parent).await;
    assert_eq!(r.status, 422);
    assert!(category_row(&r.body, &parent).contains("has subcategories"), "{}", r.body);

    let r = delete_category(&writer, &empty).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = writer.follow(r).await;
    assert!(page.contains("Category “Empty” deleted."), "{}", page.body);
    assert!(!page.contains("aria-label=\"Category Empty\""));
    assert_eq!(writer.get("/help/categories/empty").await.status, 404);
    let audit = app.signed_in("admin").await.get("/admin/audit?action=help.category_delete").await;
    assert!(audit.contains(&format!("help_category:{empty}")), "{}", audit.body);
    let r = app.signed_in("sales").await.submit("/help", &format!("/help/manage/categories/{full}/delete"), &[]).await;
    assert_eq!(r.status, 403);
});

// ---------- 12. category caching ----------

both!(category_pages_are_cacheable_and_change_with_their_articles, |app| {
    let writer = app.signed_in("support").await;
    let cat = add_category(&writer, &[("name", "Network")]).await;
    let (id, _) = write(&writer, Art::new("Connect to VPN", "x").with("category", &cat)).await;
    let path = "/help/categories/network";
    let anon = app.browser();
    let first = anon.get(path).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), "public, max-age=0, must-revalidate");
    assert_eq!(first.header("vary"), "Cookie");
    assert!(first.header("set-cookie").is_empty());
    let (etag, modified) = (first.header("etag"), first.header("last-modified"));
    assert!(etag.starts_with('"') && modified.ends_with("GMT"), "{:?}", first.headers);
    assert_eq!(get_with(&anon, path, &[("if-none-match", &etag)]).await.status, 304);
    assert_eq!(get_with(&anon, path, &[("if-modified-since", &modified)]).await.status, 304);

    // An article in it changes: both validators are stale, the page shows the change.
    app.advance(Duration::minutes(3));
    assert_eq!(edit(&writer, &id, &[("title", "Connect to the VPN")]).await.status, 303);
    let changed = get_with(&anon, path, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert!(changed.contains("Connect to the VPN"), "{}", changed.body);
    assert_ne!(changed.header("etag"), etag);
    assert_ne!(changed.header("last-modified"), modified);
    assert_eq!(get_with(&anon, path, &[("if-modified-since", &modified)]).await.status, 200);
    // A new article in it, too.
    let etag = changed.header("etag");
    app.advance(Duration::minutes(3));
    write(&writer, Art::new("Reset the router", "x").with("category", &cat)).await;
    assert_eq!(get_with(&anon, path, &[("if-none-match", &etag)]).await.status, 200);
    // Signed-in pages are private.
    assert_eq!(writer.get(path).await.header("cache-control"), "no-store");
});

both!(a_recurrence_takes_the_fixed_in_release_note_away_in_the_same_change, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Checkout").await;
    let customer = login_as(&app, "customer", "cora@example.com").await;
    let fields = [("description", ""), ("service_id", svc.as_str()), ("impact", "low"), ("urgency", "low")];
    let mut first = vec![("title", "Checkout slow")];
    first.extend(fields);
    let inc = report(&customer, &first).await;
    let devops = login_as(&app, "devops", "dev@example.com").await;
    let release = chain(&devops, &inc, &svc, "2026.3.1").await;
    let (_, slug) =
        write(&devops, Art::new("Retry the payment", "Use the backup gateway.").with("problem", "PRB-1")).await;
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
    assert!(customer.get(&format!("/help/articles/{slug}")).await.contains("Fixed in release 2026.3.1"));

    // The same trouble again, linked to the problem: the fix did not hold.
    let mut again = vec![("title", "Checkout slow again")];
    again.extend(fields);
    let second = report(&customer, &again).await;
    let r = post_on(&devops, "/problems/PRB-1", "/problems/PRB-1/incidents", &[("incident", &second)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = customer.get(&format!("/help/articles/{slug}")).await;
    assert!(!page.contains("Fixed in release"), "{}", page.body);
    let flagged = devops.get("/help/review").await;
    assert!(
        between(&flagged.body, "id=\"flagged\"", "</section>").contains("PRB-1 recurred after its fix"),
        "{}",
        flagged.body
    );
});

both!(articles_written_before_plain_text_was_kept_get_it_at_startup, |app| {
    use diesel::RunQueryDsl;
    let writer = app.signed_in("support").await;
    let (_, slug) = write(
        &writer,
        Art::new("Old article", "<!-- hidden quokka -->\n\nVisit [the wombat](https://x.example/koala)."),
    )
    .await;
    // As a database from before the migration: no plain text, no excerpt.
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        diesel::sql_query("UPDATE help_articles SET body_text = NULL, excerpt = ''")
            .execute(&mut *conn)
            .expect("reset");
    })
    .await
    .expect("join");
    let anon = app.browser();
    assert!(results(&anon.get("/help/search?q=wombat").await.body).is_empty(), "not indexed yet");
    let state = app.state.clone();
    let n = tokio::task::spawn_blocking(move || firewatch::service::help::derive_texts(&state))
        .await
        .expect("join")
        .expect("derive");
    assert_eq!(n, 1);
    assert_eq!(results(&anon.get("/help/search?q=wombat").await.body), vec![slug]);
    assert!(results(&anon.get("/help/search?q=quokka").await.body).is_empty());
    assert!(results(&anon.get("/help/search?q=koala").await.body).is_empty());
    assert!(anon.get("/help").await.contains("Visit the wombat."));
});

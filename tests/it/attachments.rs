//! Files attached from the web: to a new incident and to replies and notes, size-limited,
//! downloaded by the same rules as mail attachments (internal ones for staff only).

use crate::both;
use crate::incidents::{incident, login_as, service};
use crate::support::*;

async fn post_files(b: &Browser, path: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Page {
    b.post_multipart(path, fields, files).await
}

/// The download links of a page: (href, file name).
fn file_links(body: &str) -> Vec<(String, String)> {
    body.split("href=\"/incidents/")
        .skip(1)
        .filter_map(|s| {
            let (path, rest) = s.split_once('"')?;
            path.contains("/attachments/").then(|| {
                let name = rest.split_once('>').map(|(_, r)| r.split('<').next().unwrap_or("")).unwrap_or("");
                (format!("/incidents/{path}"), html_unescape(name))
            })
        })
        .collect()
}

async fn download(b: &Browser, href: &str) -> (u16, Vec<u8>, String) {
    let resp = b.client.get(b.url(href)).send().await.expect("GET");
    let status = resp.status().as_u16();
    let disposition = resp.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(), disposition)
}

both!(a_customer_reports_with_files_and_staff_reply_with_more, |app| {
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let form = customer.get("/incidents/new").await;
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("name=\"files\" type=\"file\" multiple"));
    let log = b"2026-12-07T10:00:00Z ERROR upstream timeout\n".repeat(50);
    let r = post_files(
        &customer,
        "/incidents",
        &[
            ("csrf_token", &form.csrf()),
            ("title", "Upload page broken"),
            ("description", "See the screenshot and the log."),
            ("service_id", &svc),
            ("impact", "medium"),
            ("urgency", "medium"),
        ],
        &[("files", "screen.png", b"\x89PNG\r\n\x1a\nfake"), ("files", "../../etc/app.log", &log), ("files", "", b"")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let key = r.location().rsplit('/').next().unwrap_or_default().to_string();
    let page = incident(&customer, &key).await;
    let links = file_links(&page.body);
    let names: Vec<&str> = links.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["screen.png", "app.log"], "the empty file input is no file; paths are dropped");
    let (status, bytes, disposition) = download(&customer, &links[1].0).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, log);
    assert!(disposition.starts_with("attachment"), "{disposition}");

    // Staff reply publicly with a file and add a note with an internal one.
    let agent = login_as(&app, "support", "agent@example.com").await;
    let page = incident(&agent, &key).await;
    assert!(page.contains("action=\"/incidents/") && page.contains("/comments\" enctype=\"multipart/form-data\""));
    let path = format!("/incidents/{key}/comments");
    let r = post_files(
        &agent,
        &path,
        &[("csrf_token", &page.csrf()), ("body", "Here is the fix guide."), ("visibility", "public")],
        &[("files", "fix-guide.pdf", b"%PDF-1.4 guide")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = post_files(
        &agent,
        &path,
        &[("csrf_token", &page.csrf()), ("body", "Server dump, do not share."), ("visibility", "internal")],
        &[("files", "heap.dump", b"secret heap")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let staff_view = file_links(&incident(&agent, &key).await.body);
    assert_eq!(staff_view.len(), 4);
    let dump = staff_view.iter().find(|(_, n)| n == "heap.dump").expect("staff see the internal file").0.clone();
    let customer_view = file_links(&incident(&customer, &key).await.body);
    let names: Vec<&str> = customer_view.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["screen.png", "app.log", "fix-guide.pdf"]);
    assert_eq!(download(&customer, &dump).await.0, 404, "internal files are not there for customers");
    assert_eq!(download(&agent, &dump).await.1, b"secret heap");

    // The customer answers with a file too.
    let page = incident(&customer, &key).await;
    let r = post_files(
        &customer,
        &path,
        &[("csrf_token", &page.csrf()), ("body", "Still broken, new screenshot."), ("visibility", "public")],
        &[("files", "again.png", b"\x89PNG again")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(file_links(&incident(&agent, &key).await.body).iter().any(|(_, n)| n == "again.png"));

    // Without files the same forms still post as ordinary forms.
    let plain = customer
        .submit(&format!("/incidents/{key}"), &path, &[("body", "Plain text."), ("visibility", "public")])
        .await;
    assert_eq!(plain.status, 303);
});

both!(a_file_over_the_limit_brings_the_form_back_with_the_text, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| c.attachment_max_bytes = 1024).await;
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Portal").await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let form = customer.get("/incidents/new").await;
    assert!(form.contains("Up to 10 files, 1 KB each."));
    let big = vec![b'x'; 5000];
    let r = post_files(
        &customer,
        "/incidents",
        &[
            ("csrf_token", &form.csrf()),
            ("title", "Kept title"),
            ("description", "Kept description"),
            ("service_id", &svc),
            ("impact", "medium"),
            ("urgency", "medium"),
        ],
        &[("files", "big.log", &big), ("files", "small.txt", b"ok")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.contains("“big.log” is 5 KB; files up to 1 KB are accepted."), "{}", r.body);
    assert!(r.contains("value=\"Kept title\"") && r.contains("Kept description</textarea>"));
    assert!(r.contains("Choose the files again") && r.contains("big.log, small.txt"));
    assert!(customer.get("/incidents").await.body.find("Kept title").is_none(), "nothing was reported");

    // Too many files, on a reply: the text stays, nothing is posted.
    let key = crate::incidents::quick(&customer, &svc, "Another").await;
    let page = incident(&customer, &key).await;
    let files: Vec<(&str, &str, &[u8])> = (0..11).map(|_| ("files", "a.txt", b"a".as_slice())).collect();
    let r = post_files(
        &customer,
        &format!("/incidents/{key}/comments"),
        &[("csrf_token", &page.csrf()), ("body", "Eleven files"), ("visibility", "public")],
        &files,
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.contains("Attach at most 10 files at a time."));
    assert!(r.contains("Eleven files</textarea>"));
    assert!(!incident(&customer, &key).await.contains("Eleven files"));
});

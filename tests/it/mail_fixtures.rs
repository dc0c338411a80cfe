//! The fixture set of real-world messages (tests/fixtures/mail/): each raw message is posted to
//! /mail/inbound as `firewatch mailgate` posts it, and the answer and the incident page are
//! compared with tests/fixtures/mail/expected.json. Every fixture runs; what differed is collected
//! and reported for all of them at the end, so one run shows every failing fixture.

use crate::both;
use crate::incidents::{between, login_as, quick, reply, service};
use crate::support::*;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TOKEN: &str = "mail-fixtures-inbound-token-7f3a9c2e5b1d4086";
/// Senders in this domain without an account become customers of its organization.
const CUSTOMER_DOMAIN: &str = "acme.example";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail")
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: PartialEq + std::fmt::Debug> OneOrMany<T> {
    fn allows(&self, v: &T) -> bool {
        match self {
            Self::One(one) => one == v,
            Self::Many(many) => many.contains(v),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Display for OneOrMany<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::One(one) => write!(f, "{one:?}"),
            Self::Many(many) => write!(f, "one of {many:?}"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[allow(dead_code)]
    about: String,
    fixtures: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Setup {
    reporter: String,
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    references: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    class: String,
    #[allow(dead_code)]
    why: String,
    #[serde(default)]
    setup: Option<Setup>,
    #[serde(default)]
    generate: Option<Generate>,
    http: OneOrMany<u16>,
    status: OneOrMany<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    incident: Option<String>,
    #[serde(default)]
    reason_contains: Vec<String>,
    #[serde(default)]
    reason_lacks: Vec<String>,
    #[serde(default)]
    title_contains: Vec<String>,
    #[serde(default)]
    page_contains: Vec<String>,
    #[serde(default)]
    page_lacks: Vec<String>,
    #[serde(default)]
    attachments_min: Option<usize>,
    #[serde(default)]
    attachments_max: Option<usize>,
    #[serde(default)]
    attachment_names_lack: Vec<String>,
    #[serde(default)]
    max_seconds: Option<f64>,
    #[serde(default)]
    stored_lacks: Vec<String>,
}

fn load_manifest() -> Manifest {
    let path = fixture_dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len() + with.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `n` message ids, one per folded header line, oldest first.
fn references(n: usize) -> String {
    (0..n)
        .map(|i| format!("<ref-{i:05}.{:08x}@lists.partner.example>", i.wrapping_mul(2_654_435_761)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// A string for a failure message: control characters and invisible format characters shown.
fn shown(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn excerpt(s: &str, max: usize) -> String {
    let s: String = s.chars().take(max).collect();
    shown(&s)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Message-ID (in angle brackets) of the newest mail we sent to `to` about incident `key`.
async fn thread_id(app: &TestApp, to: &str, key: &str) -> String {
    let state = app.state.clone();
    let to = to.to_string();
    let id: i64 = key.trim_start_matches("INC-").parse().expect("an incident key");
    let found = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let all = firewatch::db::outbox::list(&mut conn, None, None, 2000).expect("outbox");
        all.into_iter().find(|m| m.to_address == to && m.incident_id == Some(id)).map(|m| m.message_id)
    })
    .await
    .expect("join")
    .unwrap_or_else(|| panic!("no mail to the reporter about {key}"));
    let bare = found.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{bare}>")
}

/// The attachment links (`/incidents/KEY/attachments/N`) on an incident page.
fn attachment_links(body: &str, key: &str) -> BTreeSet<String> {
    let prefix = format!("/incidents/{key}/attachments/");
    body.match_indices(&prefix)
        .map(|(i, _)| {
            let digits: String = body[i + prefix.len()..].chars().take_while(char::is_ascii_digit).collect();
            format!("{prefix}{digits}")
        })
        .filter(|l| !l.ends_with('/'))
        .collect()
}

struct Env<'a> {
    app: &'a TestApp,
    staff: &'a Browser,
    service_id: &'a str,
    client: reqwest::Client,
}

/// Runs one fixture; returns what differed from the manifest.
async fn run_case(env: &Env<'_>, case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let path = fixture_dir().join(&case.file);
    let mut raw = match std::fs::read(&path) {
        Ok(r) => r,
        Err(e) => return vec![format!("cannot read {}: {e}", path.display())],
    };

    let mut setup_key = None;
    if let Some(setup) = &case.setup {
        let reporter = login_as(env.app, "customer", &setup.reporter).await;
        let key = quick(&reporter, env.service_id, &setup.title).await;
        let r = reply(env.staff, &key, "We are looking into it.").await;
        assert_eq!(r.status, 303, "{}: the staff reply of the setup failed: {}", case.file, r.body);
        let ours = thread_id(env.app, &setup.reporter, &key).await;
        raw = replace_bytes(&raw, b"{{KEY}}", key.as_bytes());
        raw = replace_bytes(&raw, b"{{THREAD_ID}}", ours.as_bytes());
        setup_key = Some(key);
    }
    if let Some(g) = &case.generate {
        raw = replace_bytes(&raw, b"{{REFERENCES}}", references(g.references).as_bytes());
    }
    for placeholder in ["{{KEY}}", "{{THREAD_ID}}", "{{REFERENCES}}"] {
        if contains_bytes(&raw, placeholder.as_bytes()) {
            problems.push(format!("{placeholder} is left in the message: the manifest entry lacks its setup/generate"));
        }
    }
    let expected_incident = case.incident.as_ref().map(|i| i.replace("{{KEY}}", setup_key.as_deref().unwrap_or("")));

    let started = Instant::now();
    let sent = env
        .client
        .post(format!("{}/mail/inbound", env.app.base))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("no answer after {:.1} s: {e}", started.elapsed().as_secs_f64()));
            return problems;
        }
    };
    let http = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let took = started.elapsed().as_secs_f64();
    if let Some(max) = case.max_seconds
        && took > max
    {
        problems.push(format!("answered after {took:.1} s, more than {max} s"));
    }
    if !case.http.allows(&http) {
        problems.push(format!("HTTP {http}, expected {}: {}", case.http, excerpt(&text, 300)));
    }
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            problems.push(format!("the answer is not JSON: {}", excerpt(&text, 300)));
            return problems;
        }
    };
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let status = field("status");
    if !case.status.allows(&status) {
        problems.push(format!(
            "status {status:?}, expected {} (answer: {})",
            case.status,
            excerpt(&v.to_string(), 300)
        ));
    }
    let incident = v.get("incident").and_then(Value::as_str).map(str::to_string);
    if status == "accepted" {
        if let Some(outcome) = &case.outcome
            && field("outcome") != *outcome
        {
            problems.push(format!("outcome {:?}, expected {outcome:?}", field("outcome")));
        }
        if let Some(want) = &expected_incident
            && incident.as_deref() != Some(want.as_str())
        {
            problems.push(format!("filed on {incident:?}, expected {want}"));
        }
    } else if let Some(i) = &incident {
        problems.push(format!("status {status:?} but the answer names the incident {i}"));
    }
    if matches!(status.as_str(), "refused" | "review") || http == 422 {
        let reason = format!("{} {}", field("reason"), field("error"));
        for want in &case.reason_contains {
            if !reason.contains(want.as_str()) {
                problems.push(format!("reason {:?} lacks {want:?}", shown(reason.trim())));
            }
        }
        for unwanted in &case.reason_lacks {
            if reason.contains(unwanted.as_str()) {
                problems.push(format!("reason {:?} contains {unwanted:?}", shown(reason.trim())));
            }
        }
    }

    if !case.stored_lacks.is_empty() {
        problems.extend(check_stored(env.app, case, incident.as_deref()).await);
    }

    let page_checks = !(case.title_contains.is_empty()
        && case.page_contains.is_empty()
        && case.page_lacks.is_empty()
        && case.attachments_min.is_none()
        && case.attachments_max.is_none()
        && case.attachment_names_lack.is_empty());
    if status == "accepted"
        && page_checks
        && let Some(key) = &incident
    {
        problems.extend(check_page(env, case, key).await);
    }
    problems
}

/// What was stored of the message: the newest inbound record, and the incident it was filed on
/// with its reporter and comments.
async fn check_stored(app: &TestApp, case: &Case, key: Option<&str>) -> Vec<String> {
    let state = app.state.clone();
    let id: Option<i64> = key.and_then(|k| k.trim_start_matches("INC-").parse().ok());
    let stored: Vec<(String, String)> = tokio::task::spawn_blocking(move || {
        let mut conn = state.db.get().expect("conn");
        let mut all = Vec::new();
        if let Some(m) = firewatch::db::inbound::list(&mut conn, None, None, 1).expect("inbound").into_iter().next() {
            all.push(("the inbound record's Message-ID".into(), m.message_id));
            all.push(("the inbound record's sender".into(), m.from_address));
            all.push(("the inbound record's sender name".into(), m.from_name));
            all.push(("the inbound record's subject".into(), m.subject));
        }
        if let Some(id) = id {
            let inc = firewatch::db::incidents::find(&mut conn, id).expect("the incident");
            let reporter = firewatch::db::users::find(&mut conn, inc.reporter_id).expect("the reporter");
            all.push(("the reporter's email".into(), reporter.email));
            all.push(("the reporter's name".into(), reporter.display_name));
            all.push(("the title".into(), inc.title));
            all.push(("the description".into(), inc.description));
            for c in firewatch::db::incidents::comments_for(&mut conn, id, true).expect("comments") {
                all.push((format!("comment {}", c.id), c.body));
            }
        }
        all
    })
    .await
    .expect("join");
    let mut problems = Vec::new();
    for (what, value) in &stored {
        for unwanted in &case.stored_lacks {
            if value.contains(unwanted.as_str()) {
                problems.push(format!("{what} is stored with {:?}: {:?}", shown(unwanted), excerpt(value, 200)));
            }
        }
    }
    problems
}

/// The page with the numeric character references of the five HTML specials written the way
/// the manifest writes them (`&#60;` as `&lt;`), so that an escaped `<` reads the same whichever
/// escaper wrote it, and stays distinct from a tag.
fn normalize_entities(body: &str) -> String {
    let mut out = body.to_string();
    for (from, to) in [
        ("&#60;", "&lt;"),
        ("&#x3c;", "&lt;"),
        ("&#x3C;", "&lt;"),
        ("&#62;", "&gt;"),
        ("&#x3e;", "&gt;"),
        ("&#x3E;", "&gt;"),
        ("&#38;", "&amp;"),
        ("&#x26;", "&amp;"),
        ("&#34;", "&quot;"),
        ("&#x22;", "&quot;"),
        ("&#x27;", "&#39;"),
        ("&apos;", "&#39;"),
    ] {
        out = out.replace(from, to);
    }
    out
}

async fn check_page(env: &Env<'_>, case: &Case, key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut page = env.staff.get(&format!("/incidents/{key}")).await;
    if page.status != 200 {
        return vec![format!("GET /incidents/{key}: HTTP {}", page.status)];
    }
    page.body = normalize_entities(&page.body);
    let title = between(&page.body, "<h1>", "</h1>");
    for want in &case.title_contains {
        if !title.contains(want.as_str()) {
            problems.push(format!("the title {:?} lacks {:?}", shown(title), shown(want)));
        }
    }
    let description = between(&page.body, "<div class=\"markdown\">", "</div>");
    for want in &case.page_contains {
        if !page.body.contains(want.as_str()) {
            problems.push(format!(
                "the page of {key} lacks {:?} (title {:?}, description {:?})",
                shown(want),
                shown(title),
                excerpt(description, 400)
            ));
        }
    }
    for unwanted in &case.page_lacks {
        if let Some(at) = page.body.find(unwanted.as_str()) {
            let mut from = at.saturating_sub(60);
            while !page.body.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = (at + unwanted.len() + 60).min(page.body.len());
            while !page.body.is_char_boundary(to) {
                to += 1;
            }
            problems.push(format!("the page of {key} has {:?}: …{}…", shown(unwanted), shown(&page.body[from..to])));
        }
    }
    let links = attachment_links(&page.body, key);
    if let Some(min) = case.attachments_min
        && links.len() < min
    {
        problems.push(format!("{} attachment(s) on the page, expected at least {min}", links.len()));
    }
    if let Some(max) = case.attachments_max
        && links.len() > max
    {
        let names: Vec<&str> =
            page.body.split("download>").skip(1).filter_map(|s| s.split('<').next()).take(5).collect();
        problems.push(format!("{} attachment(s) on the page, expected at most {max} (first: {names:?})", links.len()));
    }
    if !case.attachment_names_lack.is_empty() {
        for link in &links {
            let file = env.staff.get(link).await;
            let disposition: String = file
                .headers
                .get_all("content-disposition")
                .iter()
                .map(|h| percent_decode(&String::from_utf8_lossy(h.as_bytes())))
                .collect();
            for unwanted in &case.attachment_names_lack {
                if disposition.contains(unwanted.as_str()) {
                    problems.push(format!(
                        "{link}: Content-Disposition {:?} has {:?}",
                        shown(&disposition),
                        shown(unwanted)
                    ));
                }
            }
        }
    }
    problems
}

both!(every_fixture_message_gets_its_expected_outcome, |app| {
    let db = app.db;
    drop(app);
    let app = TestApp::spawn_with(db, |c| {
        c.inbound_token = Some(TOKEN.into());
        c.mail_from = "Firewatch <help@firewatch.test>".into();
    })
    .await;
    let admin = app.signed_in("admin").await;
    let service_id = service(&admin, "Webshop").await;
    let r = admin
        .submit(
            "/admin/organizations/new",
            "/admin/organizations",
            &[("name", "Acme"), ("email_domains", CUSTOMER_DOMAIN)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let staff = login_as(&app, "support", "agent@ops.example").await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
    let env = Env { app: &app, staff: &staff, service_id: &service_id, client };

    let manifest = load_manifest();
    let mut failures: Vec<String> = Vec::new();
    let listed: BTreeSet<&str> = manifest.fixtures.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(listed.len(), manifest.fixtures.len(), "a file is listed twice in expected.json");
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/mail")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    for f in &on_disk {
        if !listed.contains(f.as_str()) {
            failures.push(format!("{f}: not in expected.json"));
        }
    }
    assert!(manifest.fixtures.len() >= 30, "the fixture set has {} messages", manifest.fixtures.len());

    for case in &manifest.fixtures {
        let problems = run_case(&env, case).await;
        if problems.is_empty() {
            println!("ok   {} [{}]", case.file, case.class);
        } else {
            println!("FAIL {} [{}]", case.file, case.class);
            failures.push(format!("{} [{}]:\n    - {}", case.file, case.class, problems.join("\n    - ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from tests/fixtures/mail/expected.json:\n{}",
        failures.len(),
        manifest.fixtures.len(),
        failures.join("\n")
    );
});

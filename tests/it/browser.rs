//! The main journeys in a real browser (headless Chromium through chromedriver): an agent at
//! 1366×900 works an incident from the queue to resolved, a customer at 390×844 follows and
//! answers theirs and reports a new one. axe-core checks every page visited against WCAG 2.1
//! A and AA, and no page scrolls sideways.
//!
//! Needs `chromedriver` (Debian's chromium-driver) and axe-core's `axe.min.js`
//! (`FIREWATCH_AXE_JS`, or `node_modules/axe-core/axe.min.js` under the crate). Without them
//! the journeys are skipped with a note, unless `FIREWATCH_BROWSER_TESTS=1` (CI) makes that a
//! failure.

use crate::both;
use crate::incidents::{login_as, quick, service};
use crate::support::*;
use fantoccini::{Client, ClientBuilder, Locator::Css};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Tools {
    chromedriver: PathBuf,
    axe: String,
}

fn tools() -> Option<Tools> {
    let required = std::env::var("FIREWATCH_BROWSER_TESTS").is_ok_and(|v| v == "1");
    let chromedriver = std::env::var_os("FIREWATCH_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    let axe_path = std::env::var_os("FIREWATCH_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js"));
    let axe = std::fs::read_to_string(&axe_path).ok();
    match (chromedriver.exists(), axe) {
        (true, Some(axe)) => Some(Tools { chromedriver, axe }),
        (has_driver, axe) => {
            let missing = format!(
                "browser journeys need chromedriver ({}: {}) and axe-core ({}: {})",
                chromedriver.display(),
                if has_driver { "found" } else { "missing" },
                axe_path.display(),
                if axe.is_some() { "found" } else { "missing" }
            );
            assert!(!required, "{missing}");
            eprintln!("skipped: {missing}");
            None
        }
    }
}

/// A chromedriver on a free port, stopped when dropped, with a browser session at a size.
struct Session {
    driver: Child,
    client: Option<Client>,
    _profile: tempfile::TempDir,
    axe: String,
    base: String,
    /// The viewport width every checked page must have.
    width: u32,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn open(tools: &Tools, base: &str, (width, height): (u32, u32)) -> Session {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let driver = Command::new(&tools.chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        format!("--user-data-dir={}", profile.path().display()),
        format!("--window-size={width},{height}"),
    ];
    let mut caps = serde_json::Map::new();
    let binary = std::env::var("FIREWATCH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut options = serde_json::json!({ "binary": binary, "args": args });
    if width < 500 {
        // Chromium's windows are at least 500 px wide: a phone is emulated instead.
        options["mobileEmulation"] = serde_json::json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true } });
    }
    caps.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    let mut last = String::new();
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => {
                return Session {
                    driver,
                    client: Some(client),
                    _profile: profile,
                    axe: tools.axe.clone(),
                    base: base.to_string(),
                    width,
                };
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last}");
}

impl Session {
    fn c(&self) -> &Client {
        self.client.as_ref().expect("client")
    }

    async fn eval(&self, script: &str) -> serde_json::Value {
        self.c().execute(script, vec![]).await.expect("script")
    }

    async fn go(&self, path: &str) {
        self.c().goto(&format!("{}{path}", self.base)).await.expect("goto");
    }

    async fn body(&self) -> String {
        self.c().source().await.expect("source")
    }

    /// Clicks and waits for the next page (the old body is gone).
    async fn submit(&self, css: &str) {
        self.eval("document.body.dataset.before = '1'; return 1").await;
        self.c().find(Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
        self.wait_new_page(css).await;
    }

    /// Presses a key where the focus is (the page itself when nothing is focused), as the
    /// keyboard does.
    async fn key(&self, key: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for c in key.chars() {
            actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        self.c().perform_actions(actions).await.expect("key");
    }

    /// Presses a key that leads to another page, and waits for it.
    async fn key_to_next_page(&self, key: &str) {
        self.eval("document.body.dataset.before = '1'; return 1").await;
        self.key(key).await;
        self.wait_new_page(key).await;
    }

    /// Waits (up to 30 s: CI runs this beside the rest of the suite) until a script says true.
    async fn wait_for(&self, script: &str, what: &str) {
        for _ in 0..600 {
            if self.c().execute(script, vec![]).await.is_ok_and(|v| v.as_bool() == Some(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("waited in vain for {what}");
    }

    async fn wait_new_page(&self, what: &str) {
        for _ in 0..600 {
            let v = self
                .c()
                .execute(
                    "return document.body && document.body.dataset.before === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if v.is_ok_and(|v| v.as_bool() == Some(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no page after {what}");
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.c().find(Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    async fn choose(&self, css: &str, value: &str) {
        let e = self.c().find(Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        e.select_by_value(value).await.unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    /// axe-core's WCAG 2.1 A/AA violations of the current page, and no sideways scrolling.
    async fn check(&self, what: &str) {
        self.c().execute(&self.axe, vec![]).await.expect("inject axe");
        let found = self
            .c()
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                 .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +\
                   v.nodes.map(n => n.target.join(' ')).join(', '))))\
                 .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe run");
        let violations: Vec<String> =
            serde_json::from_value(found.clone()).unwrap_or_else(|_| panic!("axe answered {found}"));
        assert!(violations.is_empty(), "{what}: {violations:#?}");
        let inner = self.eval("return window.innerWidth").await;
        assert_eq!(inner.as_u64(), Some(u64::from(self.width)), "{what}: viewport");
        let wide = self.eval("return document.documentElement.scrollWidth - window.innerWidth").await;
        assert!(wide.as_i64().unwrap_or(0) <= 0, "{what} scrolls sideways by {wide} px");
    }

    async fn sign_in(&self, email: &str) {
        self.go("/login").await;
        self.check("sign-in page").await;
        self.fill("#f-email", email).await;
        self.fill("#f-password", PASSWORD).await;
        self.submit("form[action='/login'] button[type=submit]").await;
    }

    async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

both!(an_agent_works_an_incident_in_the_browser_at_1366, |app| {
    let Some(tools) = tools() else { return };
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let key = quick(&customer, &svc, "Card payments fail").await;
    login_as(&app, "support", "agent@example.com").await;

    let s = open(&tools, &app.base, (1366, 900)).await;
    s.sign_in("agent@example.com").await;
    s.check("agent home").await;
    s.go("/incidents").await;
    s.check("queue").await;
    // The keyboard: j selects the first row, Enter opens it, a assigns it to me.
    s.key("j").await;
    let focused = s.eval("return document.activeElement.getAttribute('href')").await;
    assert_eq!(focused.as_str(), Some(format!("/incidents/{key}").as_str()));
    s.key_to_next_page("\u{E007}").await;
    s.check("incident page").await;
    s.key("?").await;
    assert_eq!(s.eval("return document.querySelector('dialog.shortcuts').open").await.as_bool(), Some(true));
    s.check("shortcut help").await;
    s.key("\u{E00C}").await;
    s.wait_for("return !document.querySelector('dialog.shortcuts').open", "the shortcut help to close").await;
    s.key_to_next_page("a").await;
    assert!(s.body().await.contains("Test support"), "assigned to the agent");
    s.check("incident page, assigned").await;

    // An internal note: the tab switches the box without a reload.
    s.c().find(Css("a[data-compose='internal']")).await.expect("note tab").click().await.expect("click");
    s.fill("#f-body", "Gateway logs show timeouts.").await;
    s.submit("#reply button.btn-primary").await;
    let page = s.body().await;
    assert!(page.contains("Internal note added."), "{page}");
    assert!(page.contains("Gateway logs show timeouts."));
    s.check("incident page after a note").await;

    s.c().find(Css("a[data-compose='public']")).await.expect("reply tab").click().await.expect("click");
    s.fill("#f-body", "We are on it.").await;
    s.submit("#reply button.btn-primary").await;
    assert!(s.body().await.contains("Reply posted."));

    s.c().find(Css("#escalate-h")).await.expect("escalation").click().await.expect("open");
    s.choose("#f-reason", "needs_expertise").await;
    s.submit("form[action$='/escalate'] button").await;
    assert!(s.body().await.contains("Tier 2 DevOps"));
    s.check("incident page after escalating").await;

    s.choose("#f-status", "in_progress").await;
    s.submit("form[action$='/status'] button").await;
    s.choose("#f-status", "resolved").await;
    s.fill("#f-resolution", "Gateway timeout raised.").await;
    s.submit("form[action$='/status'] button").await;
    assert!(s.body().await.contains("class=\"badge status-resolved\""));
    s.check("resolved incident").await;
    s.close().await;
});

both!(a_customer_follows_and_reports_in_the_browser_at_390, |app| {
    let Some(tools) = tools() else { return };
    let admin = app.signed_in("admin").await;
    let svc = service(&admin, "Payments").await;
    let customer = login_as(&app, "customer", "ada@example.com").await;
    let key = quick(&customer, &svc, "Invoices missing").await;
    let agent = login_as(&app, "support", "agent@example.com").await;
    assert_eq!(crate::incidents::reply(&agent, &key, "Which month?").await.status, 303);

    let s = open(&tools, &app.base, (390, 844)).await;
    s.sign_in("ada@example.com").await;
    s.check("customer home").await;
    s.go("/incidents").await;
    s.check("customer's incidents").await;
    s.go(&format!("/incidents/{key}")).await;
    assert!(s.body().await.contains("Which month?"));
    s.check("customer's incident").await;
    s.fill("#f-body", "November, all of them.").await;
    s.submit("#reply button.btn-primary").await;
    assert!(s.body().await.contains("November, all of them."));
    s.check("customer's incident after replying").await;

    s.go("/incidents/new").await;
    s.check("report form").await;
    s.fill("#f-title", "Receipts are blank").await;
    s.fill("#f-description", "Since this morning.").await;
    s.choose("#f-service_id", &svc).await;
    s.choose("#f-impact", "medium").await;
    s.choose("#f-urgency", "medium").await;
    s.submit("form[action='/incidents'] button.btn-primary").await;
    let page = s.body().await;
    assert!(page.contains("Receipts are blank") && page.contains("is reported."), "{page}");
    s.check("new incident").await;
    s.go("/account").await;
    s.check("account").await;
    s.close().await;
});

//! The test harness: a real server on 127.0.0.1:0 over a fresh database, and a browser-like
//! client with a cookie jar that reads CSRF tokens from forms.

use chrono::{DateTime, Utc};
use diesel::{Connection, RunQueryDsl};
use firewatch::config::Config;
use firewatch::domain::clock::ManualClock;
use firewatch::service::admin_users::{self, By, UserInput};
use firewatch::service::{AppState, RequestMeta};
use std::net::TcpListener;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite, or on PostgreSQL when FIREWATCH_TEST_DATABASE_URL is set.
#[macro_export]
macro_rules! both {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::support::TestApp::spawn($crate::support::Db::Sqlite).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if std::env::var("FIREWATCH_TEST_DATABASE_URL").is_err() {
                    return;
                }
                let $app = $crate::support::TestApp::spawn($crate::support::Db::Postgres).await;
                $body
            }
        }
    };
}

pub const PASSWORD: &str = "violet tractor harbour 42";

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z").map(|d| d.with_timezone(&Utc)).unwrap_or_else(|_| Utc::now())
}

pub struct TestApp {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub db: Db,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
    handle: actix_web::dev::ServerHandle,
}

fn pg_urls() -> (String, String) {
    let admin = std::env::var("FIREWATCH_TEST_DATABASE_URL").expect("FIREWATCH_TEST_DATABASE_URL");
    let name = format!("fw_test_{}", firewatch::crypto::random_token(6));
    let mut url = url::Url::parse(&admin).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    (admin, url.to_string())
}

/// Extra routes only the tests mount.
fn test_routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.route(
        "/__test/panic",
        firewatch::web::routes::gated(actix_web::http::Method::GET, firewatch::web::routes::Gate::Public, || async {
            if std::env::var("NEVER_SET_FIREWATCH").is_err() {
                panic!("deliberate test panic");
            }
            "unreachable"
        }),
    );
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut config = Config {
            base_url: base.clone(),
            bind: format!("127.0.0.1:{port}"),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let mut pg = None;
        match db {
            Db::Sqlite => config.database_url = Some(dir.path().join("fw.db").to_string_lossy().into_owned()),
            Db::Postgres => {
                let (admin, url) = pg_urls();
                let name = url::Url::parse(&url).expect("url").path().trim_start_matches('/').to_string();
                let mut c = diesel::PgConnection::establish(&admin).expect("connect to FIREWATCH_TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut c).expect("create database");
                config.database_url = Some(url);
                pg = Some((admin, name));
            }
        }
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(start_time()));
        let clock_dyn: Arc<dyn firewatch::domain::clock::Clock> = clock.clone();
        let state = tokio::task::spawn_blocking(move || firewatch::app::build_state(config, clock_dyn))
            .await
            .expect("join")
            .expect("build state");
        let server = firewatch::app::server(state.clone(), listener, 1, test_routes).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        TestApp { base, clock, state, db, dir, pg, handle }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// Creates a user directly through the service layer (arranging, not the thing tested).
    pub async fn user(&self, role: &str, email: &str) -> String {
        let state = self.state.clone();
        let email = email.to_string();
        let role = role.to_string();
        tokio::task::spawn_blocking(move || {
            let input = UserInput {
                email: email.clone(),
                display_name: format!("Test {role}"),
                role,
                time_zone: "UTC".into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
                ..Default::default()
            };
            admin_users::create(&state, &RequestMeta::default(), By::Operator, &input).expect("create user");
            email
        })
        .await
        .expect("join")
    }

    /// A browser signed in as a new user of the role.
    pub async fn signed_in(&self, role: &str) -> Browser {
        let email = format!("{role}-{}@example.com", firewatch::crypto::random_token(3));
        self.user(role, &email).await;
        let b = self.browser();
        let page = b.login(&email, PASSWORD).await;
        assert_eq!(page.status, 303, "login as {role} failed: {}", page.body);
        b
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    /// Runs every background job once, as a scheduler tick does; no job may fail.
    pub async fn run_jobs(&self) -> firewatch::jobs::JobReport {
        let state = self.state.clone();
        let r = tokio::task::spawn_blocking(move || firewatch::jobs::run_once(&state)).await.expect("join");
        assert!(r.failed.is_empty(), "jobs failed: {:?}", r.failed);
        r
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(handle.stop(false));
        if let Some((admin, name)) = self.pg.take() {
            // Best effort: drop the per-test database, closing the pool's connections.
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = diesel::PgConnection::establish(&admin) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut c);
                }
            })
            .join();
        }
    }
}

#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n")
    }

    pub fn location(&self) -> String {
        self.header("location")
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        form_value(&self.body, "csrf_token").unwrap_or_default()
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }
}

/// The value of the first hidden/text input with this name.
pub fn form_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html_unescape(&html[start..start + end]))
}

pub fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("firewatch-tests")
                .build()
                .expect("client"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn read(resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::read(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// A raw form POST with the given fields, sent as a same-origin browser would.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let resp = self
            .client
            .post(self.url(path))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(fields))
            .send()
            .await
            .expect("POST");
        Self::read(resp).await
    }

    /// Loads `form_page`, takes its CSRF token, and posts `fields` to `action`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        let token = page.csrf();
        assert!(!token.is_empty(), "no CSRF token on {form_page} ({}): {}", page.status, page.body);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// Posts a form as `multipart/form-data` with any number of files (field name, file name,
    /// bytes), as a browser sends a form with `enctype="multipart/form-data"` (built by hand:
    /// the HTTP client has no multipart support here).
    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Page {
        let boundary = "----firewatchTestBoundary7MA4YWxk";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        for (name, filename, data) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(self.url(path))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.submit("/login", "/login", &[("email", email), ("password", password)]).await
    }

    /// Follows a redirect chain (GETs) from a page; returns the final page.
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..5 {
            if !(300..400).contains(&page.status) {
                break;
            }
            let loc = page.location();
            page = self.get(&loc.replace(&self.base, "")).await;
        }
        page
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

//! The queue benchmark: the real server over a demo database, 16 concurrent clients, per
//! scenario throughput and p50/p99 latency, then each report page one request at a time.
//!
//!   cargo bench --bench queue -- --incidents 100000
//!   cargo bench --bench queue -- --db /path/to/firewatch.db --seconds 20
//!   cargo bench --bench queue -- --db /path/to/firewatch.db --db postgres://…/firewatch --only search
//!
//! Each `--db` (a SQLite file or a PostgreSQL URL) must have been filled by `firewatch demo-data
//! --password "bench password 2026"`. Without `--db` the benchmark loads `--incidents` demo
//! incidents into a new SQLite file, and also into a new PostgreSQL database on the server of
//! FIREWATCH_TEST_DATABASE_URL when that is set (dropped afterwards). With two backends it ends
//! with them side by side. Speed targets live here, never in a timed test.

use firewatch::config::Config;
use firewatch::domain::clock::SystemClock;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench password 2026";

/// Builds the i-th request path of a scenario.
type PathFn = Box<dyn Fn(u64) -> String + Send + Sync>;

struct Args {
    incidents: u64,
    dbs: Vec<String>,
    seconds: u64,
    clients: usize,
    /// Run only the scenarios whose name contains this.
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args { incidents: 100_000, dbs: Vec::new(), seconds: 10, clients: 16, only: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--incidents" => a.incidents = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.incidents),
            "--db" => a.dbs.extend(it.next()),
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.seconds),
            "--clients" => a.clients = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.clients),
            "--only" => a.only = it.next(),
            _ => {}
        }
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one backend measured: per scenario (name, req/s, p99 ms), per report (name, median ms).
#[derive(Default)]
struct Measured {
    backend: String,
    scenarios: Vec<(String, f64, f64)>,
    reports: Vec<(String, f64)>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let mut all = Vec::new();
    if a.dbs.is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        all.push(run(&a, dir.path().join("bench.db").to_string_lossy().into_owned(), true).await);
        if let Ok(server) = std::env::var("FIREWATCH_TEST_DATABASE_URL") {
            let (url, drop_it) = fresh_pg(&server);
            all.push(run(&a, url, true).await);
            drop_it();
        }
    } else {
        for db in &a.dbs {
            all.push(run(&a, db.clone(), false).await);
        }
    }
    if all.len() > 1 {
        side_by_side(&all);
    }
}

/// A new PostgreSQL database on the server of `server_url`, and what drops it.
fn fresh_pg(server_url: &str) -> (String, impl FnOnce()) {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("fw_bench_{}", std::process::id());
    let mut c = diesel::PgConnection::establish(server_url).expect("connect to FIREWATCH_TEST_DATABASE_URL");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut c).expect("create database");
    let mut url = url::Url::parse(server_url).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    let server = server_url.to_string();
    (url.to_string(), move || {
        if let Ok(mut c) = diesel::PgConnection::establish(&server) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut c);
        }
    })
}

/// Both backends' figures in one table, PostgreSQL against SQLite.
fn side_by_side(all: &[Measured]) {
    let (a, b) = (&all[0], &all[1]);
    println!();
    println!(
        "{:<34} {:>18} {:>10} {:>18} {:>10} {:>11}",
        "side by side",
        format!("{} req/s", a.backend),
        "p99 ms",
        format!("{} req/s", b.backend),
        "p99 ms",
        "p99 ratio"
    );
    for ((name, r1, p1), (_, r2, p2)) in a.scenarios.iter().zip(&b.scenarios) {
        println!("{name:<34} {r1:>18.0} {p1:>10.1} {r2:>18.0} {p2:>10.1} {:>11.2}", p2 / p1.max(0.001));
    }
    for ((name, m1), (_, m2)) in a.reports.iter().zip(&b.reports) {
        println!("{name:<34} {:>18} {m1:>10.1} {:>18} {m2:>10.1} {:>11.2}", "", "", m2 / m1.max(0.001));
    }
}

/// Starts the server on `db_url` (loading demo data first when `load`), runs every scenario and
/// report, prints them and returns what it measured.
async fn run(a: &Args, db_url: String, load: bool) -> Measured {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let config = Config {
        database_url: Some(db_url.clone()),
        data_dir: dir.path().to_path_buf(),
        base_url: base.clone(),
        session_idle_minutes: 600,
        ..Config::default()
    };
    let state = tokio::task::spawn_blocking(move || firewatch::app::build_state(config, Arc::new(SystemClock)))
        .await
        .expect("join")
        .expect("state");
    let total = if load {
        let st = state.clone();
        let n = a.incidents;
        let t = Instant::now();
        let r = tokio::task::spawn_blocking(move || {
            firewatch::demo::load(
                &st,
                &firewatch::demo::DemoOptions { incidents: n, seed: 7, password: Some(PASSWORD.into()) },
            )
        })
        .await
        .expect("join")
        .expect("demo data");
        println!("loaded {} incidents in {:.1} s", r.incidents, t.elapsed().as_secs_f64());
        n
    } else {
        let st = state.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::prelude::*;
            let mut c = st.db.get().expect("conn");
            firewatch::db::schema::incidents::table.count().get_result::<i64>(&mut *c).expect("count") as u64
        })
        .await
        .expect("join")
    };
    println!(
        "database: {} ({} incidents), {} clients, {} s per scenario",
        state.db.backend.name(),
        total,
        a.clients,
        a.seconds
    );
    let mut measured = Measured { backend: state.db.backend.name().to_string(), ..Measured::default() };
    let server = firewatch::app::server(state.clone(), listener, 2, |_| {}).expect("server");
    let handle = server.handle();
    tokio::spawn(server);

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(a.clients)
        .build()
        .expect("client");
    let login = client.get(format!("{base}/login")).send().await.expect("login page").text().await.unwrap_or_default();
    let token = login
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string();
    let resp = client
        .post(format!("{base}/login"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("csrf_token", token.as_str()),
                    ("email", "support1@firewatch.example"),
                    ("password", PASSWORD),
                ])
                .finish(),
        )
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 303, "login failed");

    let scenarios: Vec<(&str, PathFn)> = vec![
        ("queue", Box::new(|_| "/incidents".to_string())),
        (
            "filtered queue",
            Box::new(|i| {
                let sev = ["SEV1", "SEV2", "SEV3", "SEV4"][(i % 4) as usize];
                format!("/incidents?status=closed&severity={sev}&service={}", 1 + i % 12)
            }),
        ),
        ("incident page", Box::new(move |i| format!("/incidents/INC-{}", 1 + (i * 7919) % total.max(1)))),
        (
            "similar (fragment)",
            Box::new(move |i| format!("/incidents/INC-{}/similar?fragment=1", 1 + (i * 7919) % total.max(1))),
        ),
        (
            "search",
            Box::new(|i| {
                let words = ["certificate", "replication lag", "E4242", "timeout", "E0815", "pool exhausted", "index"];
                format!("/incidents?q={}", words[(i % words.len() as u64) as usize].replace(' ', "+"))
            }),
        ),
    ];
    println!(
        "{:<19} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "scenario", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for (name, url) in scenarios {
        if a.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let url = Arc::new(url);
        let deadline = Instant::now() + Duration::from_secs(a.seconds);
        let mut tasks = Vec::new();
        for c in 0..a.clients {
            let (client, base, url) = (client.clone(), base.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut i = c as u64 * 1_000_003;
                while Instant::now() < deadline {
                    i += 1;
                    let t = Instant::now();
                    match client.get(format!("{base}{}", url(i))).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("task");
            all.extend(l);
            errors += e;
        }
        all.sort();
        measured.scenarios.push((name.to_string(), all.len() as f64 / a.seconds as f64, ms(percentile(&all, 0.99))));
        println!(
            "{:<19} {:>9} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            name,
            all.len(),
            all.len() as f64 / a.seconds as f64,
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            ms(all.last().copied().unwrap_or_default()),
            errors
        );
    }
    measured.reports = reports(&client, &base, a.only.as_deref()).await;
    handle.stop(false).await;
    measured
}

/// The report pages, one request at a time (the speed target is for a single warm request):
/// each report over the last 90 days and over the last year.
async fn reports(client: &reqwest::Client, base: &str, only: Option<&str>) -> Vec<(String, f64)> {
    // `--only report` runs every report, `--only sla` (say) just that one.
    let kinds = ["", "/escalations", "/recurrence", "/sla", "/response", "/releases", "/self-service"];
    let wanted: Vec<&str> = match only {
        None => kinds.to_vec(),
        Some(o) if o.contains("report") => kinds.to_vec(),
        Some(o) => kinds.into_iter().filter(|k| !k.is_empty() && k.contains(o)).collect(),
    };
    let mut out = Vec::new();
    if wanted.is_empty() {
        return out;
    }
    let today = chrono::Utc::now().date_naive();
    let year = format!("period=custom&from={}&to={today}", today - chrono::Duration::days(364));
    println!("{:<34} {:>9} {:>9} {:>9}", "report (one request, warm)", "min ms", "median ms", "max ms");
    for kind in wanted {
        for (label, q) in [("90 days", "period=90d".to_string()), ("1 year", year.clone())] {
            // The overview always shows the last 30 days.
            if kind.is_empty() && label == "1 year" {
                continue;
            }
            let url = format!("{base}/reports{kind}?{q}");
            let mut times = Vec::new();
            for i in 0..6 {
                let t = Instant::now();
                let r = client.get(&url).send().await.expect("report");
                assert!(r.status().is_success(), "{url}: {}", r.status());
                let _ = r.bytes().await;
                if i > 0 {
                    times.push(t.elapsed());
                }
            }
            times.sort();
            let name =
                if kind.is_empty() { "overview (30 days)".to_string() } else { format!("{} {label}", &kind[1..]) };
            println!(
                "{:<34} {:>9.1} {:>9.1} {:>9.1}",
                name,
                ms(times[0]),
                ms(times[times.len() / 2]),
                ms(times[times.len() - 1])
            );
            out.push((name, ms(times[times.len() / 2])));
        }
    }
    out
}

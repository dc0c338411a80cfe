//! Demo data for the loops after the incidents: root-cause problems grouping recurring
//! incidents, bugs fixed in releases, releases deployed (some causing incidents, some rolled
//! back), watch periods that verified a fix or saw it recur, corrective actions (some overdue),
//! and help-centre feedback (votes, suggestions that answered the question, searches that found
//! nothing). Written straight to the tables with the dates they would have had, so that every
//! report has two years of history to show.

use crate::db::models::User;
use crate::db::reports::{Filter, Timing, created_between};
use crate::db::{DbConnection, bugs, help, problems, releases};
use crate::domain::problem::CATEGORIES;
use crate::service::{AppState, RequestMeta};
use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, Default)]
pub struct LoopReport {
    pub problems: usize,
    pub releases: usize,
    pub articles: usize,
}

const ACTIONS: &[&str] = &[
    "Add an alert on connection pool saturation",
    "Write a runbook for the failover",
    "Add a regression test for the edge case",
    "Review capacity limits before the next peak",
    "Automate the certificate rotation check",
    "Document the rollback procedure",
];

const ARTICLES: &[(&str, &str)] = &[
    ("Reset your password", "Use the sign-in page's “Forgot password” link; the mail arrives within a minute."),
    ("Checkout shows a payment error", "Clear the basket, check the card's 3-D Secure prompt, then try again."),
    ("Export your invoices", "Billing → Invoices → Export as CSV gives every invoice of the chosen year."),
    ("Set up single sign-on", "Add the identity provider's metadata URL under Settings → Authentication."),
    ("Mobile app does not sync", "Sign out and in again; sync needs the app version of the last three months."),
    ("Why did my search return nothing?", "Search matches whole words; try fewer words or the product code."),
];

const SEARCHES_FOUND: &[&str] = &["password", "invoice", "checkout payment", "single sign-on", "sync"];
const SEARCHES_MISSING: &[&str] = &["gdpr export", "api rate limit", "refund policy", "dark mode", "webhook retries"];

/// Incidents of one service created in [from, to).
fn of_service(
    conn: &mut DbConnection,
    service: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> anyhow::Result<Vec<Timing>> {
    Ok(created_between(conn, from, to, &Filter { service_id: Some(service), ..Default::default() })?)
}

pub fn load(state: &AppState, seed: u64, staff: &[i64], services: &[i64]) -> anyhow::Result<LoopReport> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_100b);
    let mut report = LoopReport::default();
    let now = state.clock.now_naive();
    let Some(&owner) = staff.first() else { return Ok(report) };
    let mut conn = state.db.get()?;
    crate::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
        // One or two problems per service per quarter over the last two years.
        let mut minor = 0;
        for quarter in (0..8).rev() {
            for &service in services {
                if !rng.random_bool(0.6) {
                    continue;
                }
                let at = now - Duration::days(91 * quarter + rng.random_range(20..80));
                problem_loop(conn, &mut rng, (service, owner, staff), at, now, &mut minor, &mut report)?;
            }
        }
        // Feature releases besides the fixes, about two a month.
        for month in 0..24 {
            for _ in 0..2 {
                let at = now - Duration::days(30 * month + rng.random_range(0..30));
                let service = services[rng.random_range(0..services.len())];
                minor += 1;
                release(
                    conn,
                    &mut rng,
                    (service, owner),
                    at,
                    now,
                    &format!("2025.{}.{minor}", 24 - month),
                    None,
                    &mut report,
                )?;
            }
        }
        Ok(())
    })?;
    drop(conn);
    help_feedback(state, &mut rng, now, &mut report)?;
    Ok(report)
}

/// A problem from a few incidents of the service around `at`, its fix released some weeks later
/// and watched; the watch verifies it or it recurs.
fn problem_loop(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    (service, owner, staff): (i64, i64, &[i64]),
    at: NaiveDateTime,
    now: NaiveDateTime,
    minor: &mut usize,
    report: &mut LoopReport,
) -> anyhow::Result<()> {
    let incidents = of_service(conn, service, at - Duration::days(20), at)?;
    if incidents.len() < 2 {
        return Ok(());
    }
    let linked: Vec<&Timing> = incidents.iter().take(rng.random_range(2..7)).collect();
    let (category, _) = CATEGORIES[rng.random_range(0..CATEGORIES.len() - 1)];
    let title = format!("Recurring: {}", linked[0].title);
    let fields = problems::ProblemFields {
        title: title.chars().take(200).collect(),
        statement: "Several customers hit the same failure; the incidents share one cause.".into(),
        category: category.into(),
        analysis: "Traced to one change in the service; the timeline and logs agree.".into(),
        owner_id: Some(staff[rng.random_range(0..staff.len())]),
        watch_days: 30,
        ..Default::default()
    };
    let p = problems::insert(conn, &fields, "investigating", owner, at)?;
    problems::set_services(conn, p.id, &[service])?;
    for i in &linked {
        problems::link_incident(conn, p.id, i.id, owner, false, at)?;
    }
    report.problems += 1;
    for k in 0..rng.random_range(1..4) {
        let due = (at + Duration::days(rng.random_range(7..60))).date();
        let action = problems::insert_action(
            conn,
            &problems::NewAction {
                problem_id: p.id,
                title: ACTIONS[(p.id as usize + k) % ACTIONS.len()],
                kind: if k == 0 { "corrective" } else { "preventive" },
                owner_id: Some(staff[rng.random_range(0..staff.len())]),
                due_date: Some(due),
                now: at,
            },
        )?;
        // Most actions get done; the rest stay open, some past their date.
        if rng.random_bool(0.7) && due < now.date() {
            problems::set_action_status(conn, action.id, "done", "", at + Duration::days(5))?;
        }
    }
    let fixed_at = at + Duration::days(rng.random_range(5..30));
    if fixed_at >= now || rng.random_bool(0.1) {
        problems::set_status(conn, p.id, p.version, "fix_in_progress", None, None, None, at)?;
        return Ok(());
    }
    let bug = bugs::insert(
        conn,
        &bugs::BugFields {
            title: format!("Fix: {}", fields.title).chars().take(200).collect(),
            description: "The defect behind the problem.".into(),
            service_id: Some(service),
            severity: "SEV2".into(),
            external_ref: String::new(),
            assignee_id: fields.owner_id,
        },
        owner,
        at,
    )?;
    bugs::link_problem(conn, bug.id, p.id)?;
    *minor += 1;
    let version = format!("2025.{}.{}", fixed_at.format("%m"), *minor);
    let rel = release(conn, rng, (service, owner), fixed_at, now, &version, Some(bug.id), report)?;
    let Some(deployed) = rel else { return Ok(()) };
    let p = problems::find(conn, p.id)?;
    problems::set_status(conn, p.id, p.version, "fix_released", None, Some(Some(deployed)), None, deployed)?;
    let watch_end = deployed + Duration::days(30);
    // Some fixes do not hold: a later incident of the service is linked as a recurrence.
    if rng.random_bool(0.3) {
        let later = of_service(conn, service, deployed + Duration::days(2), watch_end.min(now))?;
        if let Some(again) = later.first() {
            problems::link_incident(conn, p.id, again.id, owner, true, again.created_at + Duration::hours(2))?;
            let p = problems::find(conn, p.id)?;
            problems::set_status(conn, p.id, p.version, "recurred", None, None, None, again.created_at)?;
            bugs::set_ineffective(conn, bug.id, true, again.created_at)?;
            return Ok(());
        }
    }
    if watch_end <= now {
        let p = problems::find(conn, p.id)?;
        problems::set_status(conn, p.id, p.version, "verified", None, None, None, watch_end)?;
    }
    Ok(())
}

/// A release of the service deployed at `at` (unless that is in the future): some cause an
/// incident confirmed as theirs, a few are rolled back. Returns when it was deployed.
#[allow(clippy::too_many_arguments)]
fn release(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    (service, owner): (i64, i64),
    at: NaiveDateTime,
    now: NaiveDateTime,
    version: &str,
    bug: Option<i64>,
    report: &mut LoopReport,
) -> anyhow::Result<Option<NaiveDateTime>> {
    if releases::find_by_version(conn, version)?.is_some() {
        return Ok(None);
    }
    let fields = releases::ReleaseFields {
        version: version.into(),
        title: if bug.is_some() { "Fix release".into() } else { "Feature release".into() },
        notes: "Changes described in the linked bugs and the changelog.".into(),
        deployment_type: ["serverless", "self_hosted", "sovereign"][rng.random_range(0..3)].into(),
        window_start: Some(at),
        window_end: Some(at + Duration::hours(1)),
        rollback_plan: "Redeploy the previous image.".into(),
        monitor_hours: 72,
        maintenance_notice: String::new(),
    };
    let r = releases::insert(conn, &fields, owner, at - Duration::days(3))?;
    releases::set_services(conn, r.id, &[service])?;
    report.releases += 1;
    if let Some(b) = bug {
        releases::assign_bug(conn, b, Some(r.id), at)?;
    }
    if at >= now {
        return Ok(None);
    }
    let rolled_back = rng.random_bool(0.05);
    let monitor_until = at + Duration::hours(72);
    let status = if rolled_back {
        "rolled_back"
    } else if monitor_until <= now {
        "closed"
    } else {
        "monitoring"
    };
    let stamp = releases::ReleaseStamp {
        approved_by: Some(Some(owner)),
        approved_at: Some(Some(at - Duration::hours(4))),
        deployed_at: Some(Some(at)),
        monitor_until: Some(Some(monitor_until)),
        rolled_back_at: rolled_back.then_some(Some(at + Duration::hours(3))),
        rollback_reason: rolled_back.then(|| "Error rate rose after the deploy.".into()),
        ..Default::default()
    };
    releases::set_status(conn, r.id, r.lock_version, status, &stamp, at)?;
    // About one release in six causes an incident in its watch window.
    if rng.random_bool(0.17) {
        let after = of_service(conn, service, at, monitor_until.min(now))?;
        if let Some(first) = after.first() {
            releases::add_suspect(conn, r.id, first.id)?;
            releases::decide_suspect(conn, r.id, first.id, "confirmed", owner, first.created_at + Duration::hours(1))?;
        }
    }
    Ok(Some(at))
}

/// Help articles, their votes, suggestions opened from the new-incident form and searches.
fn help_feedback(
    state: &AppState,
    rng: &mut StdRng,
    now: NaiveDateTime,
    report: &mut LoopReport,
) -> anyhow::Result<()> {
    let mut conn = state.db.get()?;
    let Some(admin) = crate::db::users::find_by_email(&mut conn, "admin1@firewatch.example")? else { return Ok(()) };
    let customers: Vec<User> = crate::db::users::active_with_roles(&mut conn, &["customer"], 200)?;
    drop(conn);
    let mut ids = Vec::new();
    for (title, body) in ARTICLES {
        let input = crate::service::help::ArticleInput {
            title: (*title).into(),
            summary: body.chars().take(120).collect(),
            body: format!("{body}\n\nIf this does not help, report an incident and we will look into it."),
            audience: "public".into(),
            status: "published".into(),
            ..Default::default()
        };
        match crate::service::help::create(state, &RequestMeta::default(), &admin, &input) {
            Ok(a) => {
                ids.push(a.id);
                report.articles += 1;
            }
            // Loaded before: the slug is taken.
            Err(crate::service::ServiceError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if ids.is_empty() || customers.is_empty() {
        return Ok(());
    }
    let mut conn = state.db.get()?;
    let mut voted = std::collections::HashSet::new();
    crate::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
        for day in 0..180 {
            let date = now - Duration::days(day);
            for _ in 0..rng.random_range(0..4) {
                let at = date - Duration::minutes(rng.random_range(0..1440));
                let user = &customers[rng.random_range(0..customers.len())];
                let article = ids[rng.random_range(0..ids.len())];
                // One vote per person and article.
                if voted.insert((article, user.id)) {
                    help::insert_vote(
                        conn,
                        &help::NewVote {
                            article_id: article,
                            voter: &format!("user:{}", user.id),
                            user_id: Some(user.id),
                            helpful: rng.random_bool(0.75),
                            comment: "",
                            ip_hash: "",
                            now: at,
                        },
                    )?;
                }
                help::insert_open(conn, article, user.id, at)?;
                // Three in ten filed an incident anyway, within the hour.
                if rng.random_bool(0.3)
                    && let Some(filed) = created_between(conn, at, at + Duration::hours(1), &Filter::default())?.first()
                {
                    help::settle_opens(conn, user.id, at, filed.id)?;
                }
                let q = if rng.random_bool(0.2) {
                    SEARCHES_MISSING[rng.random_range(0..SEARCHES_MISSING.len())]
                } else {
                    SEARCHES_FOUND[rng.random_range(0..SEARCHES_FOUND.len())]
                };
                let found = if SEARCHES_MISSING.contains(&q) { 0 } else { rng.random_range(1..4) };
                crate::db::reports::record_search(conn, at, q, found)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

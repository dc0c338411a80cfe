//! `firewatch demo-data`: fills a database with realistic organizations, users of every role,
//! services and incidents with timelines and comments. Deterministic for a seed; batched so that
//! a million incidents load in minutes. It is how a new user sees a populated app, and what the
//! benchmark runs against.

use crate::db::bulk::{self, CommentRow, EventRow, IncidentRow, SearchDocRow};
use crate::db::{organizations, services, users};
use crate::demo_words::*;
use crate::domain::incident::{Level, Severity, Status, priority};
use crate::service::AppState;
use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub incidents: u64,
    pub seed: u64,
    /// The password every demo user gets; None: a random one, printed at the end.
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub organizations: usize,
    pub users: usize,
    pub services: usize,
    pub incidents: u64,
    pub comments: u64,
    pub events: u64,
    /// Root-cause problems, releases and help articles made for the loops and their reports.
    pub loops: crate::demo_loops::LoopReport,
    pub password: String,
    pub seconds: f64,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn level(rng: &mut StdRng) -> Level {
    match rng.random_range(0..10) {
        0..=1 => Level::High,
        2..=5 => Level::Medium,
        _ => Level::Low,
    }
}

struct People {
    customers: Vec<(i64, Option<i64>)>,
    workers: Vec<i64>,
}

/// Creates the organizations, users and services unless they exist already.
fn base_data(
    state: &AppState,
    rng: &mut StdRng,
    password_hash: &str,
    report: &mut DemoReport,
) -> anyhow::Result<(People, Vec<i64>)> {
    let mut conn = state.db.get()?;
    let conn = &mut *conn;
    let now = state.clock.now_naive();
    let mut org_ids = Vec::new();
    for (i, name) in ORGS.iter().enumerate() {
        let domain = format!("{}.example", name.to_lowercase().replace(' ', "-"));
        let existing = organizations::list(conn, name, 5)?.into_iter().find(|o| o.name == *name);
        let org = match existing {
            Some(o) => o,
            None => {
                report.organizations += 1;
                organizations::insert(conn, name, &domain, i % 3 == 0, now)?
            }
        };
        org_ids.push((org.id, domain));
    }
    let mut ensure_user = |conn: &mut crate::db::DbConnection,
                           email: String,
                           name: String,
                           role: &str,
                           org: Option<i64>|
     -> anyhow::Result<i64> {
        if let Some(u) = users::find_by_email(conn, &email)? {
            return Ok(u.id);
        }
        report.users += 1;
        let u = users::insert(
            conn,
            &users::NewUser {
                email: &email,
                display_name: &name,
                role,
                organization_id: org,
                time_zone: "UTC",
                password_hash: Some(password_hash),
                now,
            },
        )?;
        Ok(u.id)
    };
    let mut customers = Vec::new();
    for (org_id, domain) in &org_ids {
        for _ in 0..5 {
            let (f, l) = (*pick(rng, FIRST), *pick(rng, LAST));
            let email = format!("{}.{}@{domain}", f.to_lowercase(), l.to_lowercase());
            customers.push((ensure_user(conn, email, format!("{f} {l}"), "customer", Some(*org_id))?, Some(*org_id)));
        }
    }
    let mut workers = Vec::new();
    for (role, n) in [("support", 12), ("devops", 6), ("manager", 2), ("admin", 1), ("sales", 3)] {
        for i in 1..=n {
            let (f, l) = (*pick(rng, FIRST), *pick(rng, LAST));
            let id = ensure_user(conn, format!("{role}{i}@firewatch.example"), format!("{f} {l}"), role, None)?;
            if role != "sales" {
                workers.push(id);
            }
        }
    }
    let mut service_ids = Vec::new();
    let existing = services::all(conn)?;
    for (name, description) in SERVICES {
        let id = match existing.iter().find(|s| s.name == *name) {
            Some(s) => s.id,
            None => {
                report.services += 1;
                services::insert(conn, name, description, true, now)?.id
            }
        };
        service_ids.push(id);
    }
    customers.sort_unstable();
    customers.dedup();
    Ok((People { customers, workers }, service_ids))
}

/// A generated incident before it has an id.
struct Draft {
    row: IncidentRow,
    tags: Vec<String>,
    comments: Vec<CommentRow>,
    events: Vec<EventRow>,
    escalations: Vec<crate::db::bulk::EscalationRow>,
}

/// What every draft reads: the SLA policies and the tiers, in order.
struct History {
    book: crate::service::sla::SlaBook,
    tiers: Vec<crate::db::models::Tier>,
}

#[allow(clippy::too_many_arguments)]
fn ev(
    at: NaiveDateTime,
    actor: Option<i64>,
    kind: &str,
    field: &str,
    old: &str,
    new: &str,
    internal: bool,
    version: i32,
) -> EventRow {
    EventRow {
        incident_id: 0,
        at,
        actor_id: actor,
        kind: kind.into(),
        field: field.into(),
        old_value: old.into(),
        new_value: new.into(),
        internal,
        comment_id: None,
        version,
    }
}

fn draft(
    rng: &mut StdRng,
    people: &People,
    services: &[i64],
    (created, now): (NaiveDateTime, NaiveDateTime),
    history: &History,
) -> Draft {
    let service_idx = rng.random_range(0..services.len());
    let title = format!("{} {} {}", SERVICES[service_idx].0, pick(rng, SYMPTOMS), pick(rng, WHO));
    let description = format!(
        "{} {}\n\nError code E{:04} appears in the logs.",
        pick(rng, DETAIL),
        pick(rng, DETAIL),
        rng.random_range(0..10_000)
    );
    let (impact, urgency) = (level(rng), level(rng));
    let prio = priority(impact, urgency);
    let severity = if rng.random_range(0..10) == 0 { *pick(rng, &Severity::ALL) } else { Severity::default_for(prio) };
    let (reporter, org) =
        if rng.random_range(0..5) == 0 { (*pick(rng, &people.workers), None) } else { *pick(rng, &people.customers) };
    let age_days = (now - created).num_days();
    let status = if age_days < 3 {
        *pick(rng, &[Status::New, Status::Triaged, Status::InProgress, Status::WaitingOnCustomer, Status::Resolved])
    } else if age_days < 10 {
        *pick(rng, &[Status::InProgress, Status::WaitingOnCustomer, Status::Resolved, Status::Closed])
    } else if rng.random_range(0..50) == 0 {
        *pick(rng, &[Status::InProgress, Status::WaitingOnCustomer])
    } else {
        Status::Closed
    };
    let assignee = (status != Status::New || rng.random_bool(0.3)).then(|| *pick(rng, &people.workers));
    let mut t = created;
    let mut step = |rng: &mut StdRng| {
        t += Duration::minutes(rng.random_range(3..240));
        t.min(now)
    };
    let mut version = 1;
    let mut events = vec![ev(created, Some(reporter), "created", "", "", "reported", false, version)];
    let mut comments = Vec::new();
    let mut acknowledged = None;
    if let Some(a) = assignee {
        let at = step(rng);
        version += 1;
        events.push(ev(at, Some(a), "assigned", "assignee", "", "staff", false, version));
        events.push(ev(at, Some(a), "acknowledged", "", "", "assigned to themselves", true, version));
        acknowledged = Some(at);
    }
    let mut path: Vec<Status> = match status {
        Status::New => vec![],
        Status::Triaged => vec![Status::Triaged],
        Status::InProgress => vec![Status::Triaged, Status::InProgress],
        Status::WaitingOnCustomer => vec![Status::Triaged, Status::InProgress, Status::WaitingOnCustomer],
        Status::Resolved => vec![Status::Triaged, Status::InProgress, Status::Resolved],
        Status::Closed => vec![Status::Triaged, Status::InProgress, Status::Resolved, Status::Closed],
    };
    // Some waited on the customer on the way (the SLA clocks pause), and some were reopened once.
    if let Some(i) = path.iter().position(|s| *s == Status::Resolved) {
        if rng.random_bool(0.07) {
            path.splice(i + 1..i + 1, [Status::InProgress, Status::Resolved]);
        }
        if rng.random_bool(0.25) {
            path.splice(i..i, [Status::WaitingOnCustomer, Status::InProgress]);
        }
    }
    let n_comments = rng.random_range(0..4);
    let staff = assignee.unwrap_or(*pick(rng, &people.workers));
    for _ in 0..n_comments {
        let internal = rng.random_bool(0.3);
        let (author, body) = if internal {
            (staff, pick(rng, INTERNAL_NOTES).to_string())
        } else if rng.random_bool(0.5) {
            (reporter, pick(rng, PUBLIC_REPLIES).to_string())
        } else {
            (staff, pick(rng, PUBLIC_REPLIES).to_string())
        };
        comments.push(CommentRow { id: 0, incident_id: 0, author_id: author, body, internal, created_at: step(rng) });
    }
    let mut from = Status::New;
    let mut resolved_at = None;
    let mut closed_at = None;
    let mut resolution = String::new();
    for to in &path {
        let at = step(rng);
        version += 1;
        events.push(ev(
            at,
            assignee.or(Some(staff)),
            "status_changed",
            "status",
            from.as_str(),
            to.as_str(),
            false,
            version,
        ));
        if *to == Status::Resolved {
            resolution = pick(rng, RESOLUTIONS).to_string();
            resolved_at = Some(at);
            events.push(ev(
                at,
                assignee.or(Some(staff)),
                "field_changed",
                "resolution",
                "",
                &resolution,
                false,
                version,
            ));
        }
        if *to == Status::Closed {
            closed_at = Some(at);
        }
        from = *to;
    }
    // The first public reply by staff stops the first-response clock.
    let first_response_at =
        comments.iter().filter(|c| !c.internal && c.author_id != reporter).map(|c| c.created_at).min();
    let changes: Vec<(NaiveDateTime, String)> =
        events.iter().filter(|e| e.kind == "status_changed").map(|e| (e.at, e.new_value.clone())).collect();
    let first_resolved = changes.iter().find(|(_, s)| s == "resolved").map(|(at, _)| *at);
    let mut row = IncidentRow {
        id: 0,
        title,
        description,
        service_id: services[service_idx],
        impact: impact.as_str().into(),
        urgency: urgency.as_str().into(),
        priority: prio.as_str().into(),
        severity: severity.as_str().into(),
        status: status.as_str().into(),
        is_open: status.is_open(),
        reporter_id: reporter,
        organization_id: org,
        assignee_id: assignee,
        created_at: created,
        updated_at: created,
        acknowledged_at: acknowledged,
        resolved_at,
        closed_at,
        resolution,
        version,
        tier_id: history.tiers.first().map_or(1, |t| t.id),
        first_response_at,
        response_due_at: None,
        resolution_due_at: None,
        response_warn_at: None,
        resolution_warn_at: None,
        response_warned_at: None,
        resolution_warned_at: None,
        response_breached_at: None,
        resolution_breached_at: None,
    };
    let breach = crate::demo_history::first_response_breach(&history.book, &row, &changes, now);
    let moves = crate::demo_history::moves(
        rng,
        history.tiers.len(),
        &row.severity,
        created,
        first_resolved.unwrap_or(now),
        breach,
    );
    for m in &moves {
        version += 1;
        let (from, to) = (&history.tiers[m.from], &history.tiers[m.to]);
        let kind = if m.to > m.from { "escalated" } else { "deescalated" };
        let how = if m.automatic { "automatic" } else { "manual" };
        let reason = crate::domain::oncall::reason_label(m.reason).unwrap_or(m.reason);
        let actor = (!m.automatic).then_some(staff);
        events.push(ev(m.at, actor, kind, how, &from.name, &format!("{} ({reason})", to.name), true, version));
        row.tier_id = to.id;
    }
    events.sort_by_key(|e| e.at);
    row.version = version;
    crate::demo_history::sla_times(&history.book, &mut row, &changes, now);
    let escalations = crate::demo_history::escalation_rows(&moves, &history.tiers, staff);
    let updated = events
        .last()
        .map(|e| e.at)
        .unwrap_or(created)
        .max(comments.iter().map(|c| c.created_at).max().unwrap_or(created));
    let tags = (0..rng.random_range(0..3)).map(|_| pick(rng, TAGS).to_string()).collect::<Vec<_>>();
    row.updated_at = updated;
    Draft { row, tags, comments, events, escalations }
}

/// The report facts of a chunk's incidents, from their drafts (what the facts job would read
/// back: the row, the status changes and the tier moves, in time order).
fn facts_of_chunk(
    drafts: &[Draft],
    ids: &[i64],
    history: &History,
    now: NaiveDateTime,
) -> Vec<crate::db::reports::FactRow> {
    let position: std::collections::HashMap<i64, i32> = history.tiers.iter().map(|t| (t.id, t.position)).collect();
    drafts
        .iter()
        .zip(ids)
        .map(|(d, id)| {
            let r = &d.row;
            let t = crate::db::reports::Timing {
                id: *id,
                created_at: r.created_at,
                acknowledged_at: r.acknowledged_at,
                severity: r.severity.clone(),
                service_id: r.service_id,
                organization_id: r.organization_id,
                assignee_id: r.assignee_id,
                tier_id: r.tier_id,
                is_open: r.is_open,
                status: r.status.clone(),
                first_response_at: r.first_response_at,
                title: String::new(),
            };
            let changes: Vec<(NaiveDateTime, String)> =
                d.events.iter().filter(|e| e.kind == "status_changed").map(|e| (e.at, e.new_value.clone())).collect();
            let moves: Vec<crate::db::reports::EscalationRow> = d
                .escalations
                .iter()
                .map(|e| crate::db::reports::EscalationRow {
                    id: 0,
                    incident_id: *id,
                    at: e.at,
                    from_tier_id: e.from_tier_id,
                    to_tier_id: e.to_tier_id,
                    reason_code: e.reason_code.clone(),
                    automatic: e.automatic,
                })
                .collect();
            let moves: Vec<&crate::db::reports::EscalationRow> = moves.iter().collect();
            crate::service::reports::facts::of_new(&history.book, &position, now, &t, &changes, &moves)
        })
        .collect()
}

/// Writes one chunk of drafts: the incidents, then their comments, events, escalations,
/// search documents and tags with the new ids.
fn write_chunk(
    conn: &mut crate::db::DbConnection,
    drafts: &[Draft],
    (history, now): (&History, NaiveDateTime),
    report: &mut DemoReport,
) -> anyhow::Result<()> {
    let ids = bulk::reserve_ids(conn, bulk::Keyed::Incidents, drafts.len())?;
    let rows: Vec<IncidentRow> =
        drafts.iter().zip(&ids).map(|(d, id)| IncidentRow { id: *id, ..d.row.clone() }).collect();
    bulk::incidents(conn, &rows)?;
    let comment_ids = bulk::reserve_ids(conn, bulk::Keyed::Comments, drafts.iter().map(|d| d.comments.len()).sum())?;
    let mut comment_rows = Vec::new();
    for (d, id) in drafts.iter().zip(&ids) {
        for c in &d.comments {
            comment_rows.push(CommentRow { id: comment_ids[comment_rows.len()], incident_id: *id, ..c.clone() });
        }
    }
    bulk::comments(conn, &comment_rows)?;
    let mut events = Vec::new();
    let mut docs = Vec::new();
    let mut tags = Vec::new();
    let mut ci = 0usize;
    for (d, id) in drafts.iter().zip(&ids) {
        docs.push(SearchDocRow {
            id: crate::db::search::doc_key(*id, 0, false),
            incident_id: *id,
            comment_id: None,
            internal: false,
            title: d.row.title.clone(),
            body: d.row.description.clone(),
        });
        for e in &d.events {
            events.push(EventRow { incident_id: *id, ..e.clone() });
        }
        for (slot, c) in (1..).zip(&d.comments) {
            let cid = comment_ids[ci];
            ci += 1;
            let kind = if c.internal { "internal note" } else { "public reply" };
            events.push(EventRow {
                incident_id: *id,
                comment_id: Some(cid),
                ..ev(c.created_at, Some(c.author_id), "comment_added", "", "", kind, c.internal, d.row.version)
            });
            docs.push(SearchDocRow {
                id: crate::db::search::doc_key(*id, slot, c.internal),
                incident_id: *id,
                comment_id: Some(cid),
                internal: c.internal,
                title: String::new(),
                body: c.body.clone(),
            });
        }
        let mut seen = Vec::new();
        for t in &d.tags {
            if !seen.contains(t) {
                seen.push(t.clone());
                tags.push(bulk::TagRow { incident_id: *id, tag: t.clone() });
            }
        }
    }
    bulk::events(conn, &events)?;
    let escalations: Vec<_> = drafts
        .iter()
        .zip(&ids)
        .flat_map(|(d, id)| d.escalations.iter().map(|e| bulk::EscalationRow { incident_id: *id, ..e.clone() }))
        .collect();
    bulk::escalations(conn, &escalations)?;
    bulk::search_docs(conn, &docs)?;
    bulk::tags(conn, &tags)?;
    let facts = facts_of_chunk(drafts, &ids, history, now);
    bulk::facts(conn, &facts)?;
    crate::db::reports::mark_packs_of(conn, &facts)?;
    // SQLite's triggers marked them while the rows went in; PostgreSQL's are off for the load.
    crate::db::reports::forget_dirty(conn, &ids)?;
    report.comments += comment_rows.len() as u64;
    report.events += events.len() as u64;
    report.incidents += ids.len() as u64;
    Ok(())
}

/// Loads the demo data. Progress goes to the log.
pub fn load(state: &AppState, opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let password = opts.password.clone().unwrap_or_else(|| crate::crypto::random_token(8));
    let hash = state.hasher.hash(&password)?;
    let mut report = DemoReport { password, ..Default::default() };
    let (people, service_ids) = base_data(state, &mut rng, &hash, &mut report)?;
    let now = state.clock.now_naive();
    let history = {
        let mut conn = state.db.get()?;
        History { book: crate::service::sla::SlaBook::load(&mut conn)?, tiers: crate::db::tiers::all(&mut conn)? }
    };
    let span_minutes = 730 * 24 * 60;
    let start = now - Duration::minutes(span_minutes);
    const CHUNK: u64 = 2_000;
    let total = opts.incidents;
    // The drafts are made on a second thread while the database writes the previous chunk.
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Draft>>(2);
    let mut conn = state.db.get()?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (people, service_ids, history) = (&people, &service_ids, &history);
        scope.spawn(move || {
            let mut done = 0u64;
            while done < total {
                let n = CHUNK.min(total - done);
                let drafts: Vec<Draft> = (0..n)
                    .map(|i| {
                        let pos = done + i;
                        let offset = (span_minutes as f64 * pos as f64 / total.max(1) as f64) as i64;
                        let created = start + Duration::minutes(offset) + Duration::seconds(rng.random_range(0..59));
                        draft(&mut rng, people, service_ids, (created.min(now), now), history)
                    })
                    .collect();
                done += n;
                if send.send(drafts).is_err() {
                    return;
                }
            }
        });
        bulk::load(&mut conn, |conn| {
            for drafts in receive.iter() {
                bulk::chunk(conn, |conn| write_chunk(conn, &drafts, (history, now), &mut report))?;
                if report.incidents.is_multiple_of(50_000) || report.incidents == total {
                    tracing::info!(
                        done = report.incidents,
                        total,
                        seconds = started.elapsed().as_secs(),
                        "demo incidents loaded"
                    );
                }
            }
            Ok::<_, anyhow::Error>(())
        })
    })?;
    drop(conn);
    report.loops = crate::demo_loops::load(state, opts.seed, &people.workers, &service_ids)?;
    if let Some(agent) = people.workers.first() {
        crate::demo_macros::load(&mut *state.db.get()?, *agent, *agent, now)?;
    }
    // The report facts of everything just loaded, a batch per transaction.
    loop {
        let mut conn = state.db.get()?;
        let n = crate::db::write_transaction::<_, anyhow::Error, _>(&mut conn, |conn| {
            Ok(crate::service::reports::facts::refresh(conn, Some(20_000), state.clock.now_naive())?)
        })?;
        if n == 0 {
            break;
        }
    }
    while crate::service::reports::facts::pack(&mut *state.db.get()?, 500)? > 0 {}
    if let Some((customer, _)) = people.customers.first() {
        crate::demo_mail::load(state, *customer)?;
    }
    crate::db::analyze(&mut *state.db.get()?)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

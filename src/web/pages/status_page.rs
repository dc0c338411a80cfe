//! The public status page (`/status`, its incident pages, `/status.json`, the Atom feed); the
//! mail subscription is in `status_subscribe`, the staff forms that publish to it in
//! `status_publish`. `/status`, `/status.json` and the feed come from the shared snapshot
//! (`status_page::snapshot`) and answer conditional requests: a weak ETag of what they show
//! (and, for the page, of the visitor's form token), Last-Modified since when it looks so, 304.

use crate::crypto::sha256_hex;
use crate::domain::status_page::{MaintenanceNews, Phase, ServiceState};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::status_page::{self as sp, FeedEntry, Overview, PublicIncident, PublicUpdate, Snapshot};
use crate::web::ctx::{PageCtx, page};
use crate::web::run;
use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long browsers may keep the public pages: short, so an outage shows within half a minute.
const PAGE_CACHE: &str = "private, max-age=30";
/// The machine-readable views carry no per-visitor token and may sit in shared caches.
const FEED_CACHE: &str = "public, max-age=30";

fn rfc3339(t: &NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn cached(mut r: HttpResponse, value: &'static str) -> HttpResponse {
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(value));
    r
}

// ---------- conditional requests ----------

/// The validators of one representation of the snapshot.
struct Validators {
    etag: String,
    last_modified: SystemTime,
}

fn validators(snap: &Snapshot, variant: &str) -> Validators {
    let tag = &sha256_hex(&format!("{}|{variant}", snap.fingerprint))[..32];
    let secs = u64::try_from(snap.changed_at.and_utc().timestamp()).unwrap_or(0);
    Validators { etag: format!("W/\"{tag}\""), last_modified: UNIX_EPOCH + Duration::from_secs(secs) }
}

/// Whether the client's copy is current: If-None-Match (weak comparison) when sent, else
/// If-Modified-Since.
fn not_modified(req: &HttpRequest, v: &Validators) -> bool {
    let headers = req.headers();
    match headers.get(header::IF_NONE_MATCH).and_then(|h| h.to_str().ok()) {
        Some(list) => {
            let mine = v.etag.trim_start_matches("W/");
            list.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == mine)
        }
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<HttpDate>().ok())
            .is_some_and(|since| v.last_modified <= SystemTime::from(since)),
    }
}

/// The answer with its validators, or 304 when the client has it.
fn conditional(
    req: &HttpRequest,
    v: &Validators,
    cache: &'static str,
    content_type: &str,
    body: impl FnOnce() -> Result<String, AppError>,
) -> Result<HttpResponse, AppError> {
    let fresh = not_modified(req, v);
    let mut b = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    b.insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, v.etag.clone()))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(v.last_modified)));
    if fresh { Ok(b.finish()) } else { Ok(b.content_type(content_type.to_string()).body(body()?)) }
}

// ---------- the public page ----------

pub struct UpdateView {
    pub id: i64,
    pub phase: &'static str,
    pub phase_code: &'static str,
    pub at: String,
    pub body: String,
    /// The state the service was in when the update was posted.
    pub state: &'static str,
    pub state_code: &'static str,
    pub edited: Option<String>,
}

pub struct IncidentView {
    pub id: i64,
    pub title: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub service: String,
    pub active: bool,
    pub published: String,
    pub ended: Option<String>,
    pub updates: Vec<UpdateView>,
}

pub(super) fn update_view(ctx: &PageCtx, u: &PublicUpdate) -> UpdateView {
    let st = u.state.filter(|_| u.phase != Phase::Resolved);
    UpdateView {
        id: u.id,
        phase: u.phase.label(),
        phase_code: u.phase.as_str(),
        at: ctx.time(&u.at),
        body: u.body.clone(),
        state: st.map(ServiceState::label).unwrap_or(""),
        state_code: st.map(ServiceState::as_str).unwrap_or(""),
        edited: u.edited_at.as_ref().map(|t| ctx.time(t)),
    }
}

fn incident_view(ctx: &PageCtx, i: &PublicIncident) -> IncidentView {
    IncidentView {
        id: i.id,
        title: i.title.clone(),
        state: if i.active { i.state.label() } else { "Resolved" },
        state_code: if i.active { i.state.as_str() } else { "operational" },
        service: i.service.clone(),
        active: i.active,
        published: ctx.time(&i.published_at),
        ended: i.ended_at.as_ref().map(|t| ctx.time(t)),
        updates: i.updates.iter().map(|u| update_view(ctx, u)).collect(),
    }
}

pub struct DayView {
    pub date: String,
    pub state: &'static str,
    pub state_code: &'static str,
    /// The day in words: date, worst state, and what caused it.
    pub text: String,
}

pub struct ServiceView {
    pub name: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub days: Vec<DayView>,
    /// The 90 days in words, e.g. "88 days operational, 2 days with a major outage".
    pub summary: String,
    /// The days that were not fully operational, in words, oldest first.
    pub bad_days: Vec<String>,
}

fn summary(days: &[sp::DayStatus]) -> String {
    let mut parts = Vec::new();
    for s in ServiceState::ALL {
        let n = days.iter().filter(|d| d.day.state == s).count();
        if n > 0 {
            let what = match s {
                ServiceState::Operational => "operational".to_string(),
                other => format!("with {}", other.label().to_lowercase()),
            };
            parts.push(format!("{n} {} {what}", if n == 1 { "day" } else { "days" }));
        }
    }
    parts.join(", ")
}

fn day_text(d: &sp::DayStatus) -> String {
    let mut t = format!("{}: {}", d.day.date, d.day.state.label());
    if !d.notes.is_empty() {
        t.push_str(" — ");
        t.push_str(&d.notes.join("; "));
    }
    t
}

pub struct MaintenanceView {
    pub id: i64,
    pub title: String,
    pub window: String,
    pub services: String,
    pub in_progress: bool,
}

pub struct LegendView {
    pub label: &'static str,
    pub code: &'static str,
}

#[derive(Template)]
#[template(path = "status/page.html")]
struct StatusPage {
    ctx: PageCtx,
    overall: &'static str,
    overall_code: &'static str,
    services: Vec<ServiceView>,
    active: Vec<IncidentView>,
    past: Vec<IncidentView>,
    maintenance: Vec<MaintenanceView>,
    legend: Vec<LegendView>,
    updated: String,
    days: u32,
}

fn status_page(ctx: PageCtx, o: &Overview) -> StatusPage {
    StatusPage {
        overall: o.overall.headline(),
        overall_code: o.overall.as_str(),
        services: o
            .services
            .iter()
            .map(|s| ServiceView {
                name: s.name.clone(),
                state: s.state.label(),
                state_code: s.state.as_str(),
                days: s
                    .days
                    .iter()
                    .map(|d| DayView {
                        date: d.day.date.to_string(),
                        state: d.day.state.label(),
                        state_code: d.day.state.as_str(),
                        text: day_text(d),
                    })
                    .collect(),
                summary: summary(&s.days),
                bad_days: s.days.iter().filter(|d| d.day.state != ServiceState::Operational).map(day_text).collect(),
            })
            .collect(),
        active: o.active.iter().map(|i| incident_view(&ctx, i)).collect(),
        past: o.past.iter().map(|i| incident_view(&ctx, i)).collect(),
        maintenance: o
            .maintenance
            .iter()
            .map(|m| MaintenanceView {
                id: m.release_id,
                title: m.title.clone(),
                window: format!("{} – {}", ctx.time(&m.starts_at), ctx.time(&m.ends_at)),
                services: m.services.join(", "),
                in_progress: m.in_progress,
            })
            .collect(),
        legend: ServiceState::ALL.iter().map(|s| LegendView { label: s.label(), code: s.as_str() }).collect(),
        updated: ctx.time(&o.generated_at),
        days: sp::HISTORY_DAYS,
        ctx,
    }
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let snap = run(move || sp::snapshot(&state)).await?;
    if ctx.user.is_some() || ctx.flash.is_some() {
        // Signed-in pages are the user's own (no-store); a flash message shows once.
        return Ok(cached(page(&status_page(ctx, &snap.overview))?, PAGE_CACHE));
    }
    // The page holds the visitor's form token: a copy with another token is not theirs.
    let v = validators(&snap, &format!("html|{}", ctx.csrf));
    conditional(&req, &v, PAGE_CACHE, "text/html; charset=utf-8", || Ok(status_page(ctx, &snap.overview).render()?))
}

#[derive(Template)]
#[template(path = "status/incidents.html")]
struct IncidentsPage {
    ctx: PageCtx,
    incidents: Vec<IncidentView>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    before: String,
}

/// `published_at` as microseconds and the id: the keyset cursor of `/status/incidents`.
fn decode_cursor(s: &str) -> Option<(NaiveDateTime, i64)> {
    let (micros, id) = s.split_once('-')?;
    let t = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((t, id.parse().ok()?))
}

fn encode_cursor((t, id): (NaiveDateTime, i64)) -> String {
    format!("{}-{id}", t.and_utc().timestamp_micros())
}

pub async fn incidents(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let before = decode_cursor(&q.before);
    let (list, next) = run(move || sp::incidents_page(&state, before)).await?;
    let tpl = IncidentsPage {
        incidents: list.iter().map(|i| incident_view(&ctx, i)).collect(),
        next: next.map(|c| format!("/status/incidents?before={}", encode_cursor(c))),
        ctx,
    };
    Ok(cached(page(&tpl)?, PAGE_CACHE))
}

#[derive(Template)]
#[template(path = "status/incident.html")]
struct IncidentPage {
    ctx: PageCtx,
    i: IncidentView,
}

pub async fn incident(state: web::Data<AppState>, ctx: PageCtx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let i = run(move || sp::public_incident(&state, id)).await?;
    let tpl = IncidentPage { i: incident_view(&ctx, &i), ctx };
    Ok(cached(page(&tpl)?, PAGE_CACHE))
}

// ---------- machine-readable ----------

#[derive(Serialize)]
struct JsonStatus {
    generated_at: String,
    status: JsonOverall,
    services: Vec<JsonService>,
    incidents: Vec<JsonIncident>,
    maintenance: Vec<JsonMaintenance>,
}

#[derive(Serialize)]
struct JsonOverall {
    state: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct JsonService {
    id: i64,
    name: String,
    state: &'static str,
}

#[derive(Serialize)]
struct JsonIncident {
    id: i64,
    title: String,
    state: &'static str,
    service: String,
    phase: Option<&'static str>,
    published_at: String,
    updated_at: String,
    url: String,
    updates: Vec<JsonUpdate>,
}

#[derive(Serialize)]
struct JsonUpdate {
    id: i64,
    phase: &'static str,
    /// The state the service was in when the update was posted.
    state: Option<&'static str>,
    body: String,
    created_at: String,
    edited_at: Option<String>,
}

#[derive(Serialize)]
struct JsonMaintenance {
    title: String,
    starts_at: String,
    ends_at: String,
    services: Vec<String>,
    in_progress: bool,
}

fn json_body(base: &str, o: &Overview) -> Result<String, AppError> {
    let body = JsonStatus {
        generated_at: rfc3339(&o.generated_at),
        status: JsonOverall { state: o.overall.as_str(), description: o.overall.headline() },
        services: o
            .services
            .iter()
            .map(|s| JsonService { id: s.id, name: s.name.clone(), state: s.state.as_str() })
            .collect(),
        incidents: o
            .active
            .iter()
            .map(|i| JsonIncident {
                id: i.id,
                title: i.title.clone(),
                state: i.state.as_str(),
                service: i.service.clone(),
                phase: i.phase().map(Phase::as_str),
                published_at: rfc3339(&i.published_at),
                updated_at: rfc3339(&i.updated_at),
                url: format!("{base}/status/incidents/{}", i.id),
                updates: i
                    .updates
                    .iter()
                    .map(|u| JsonUpdate {
                        id: u.id,
                        phase: u.phase.as_str(),
                        state: u.state.map(ServiceState::as_str),
                        body: u.body.clone(),
                        created_at: rfc3339(&u.at),
                        edited_at: u.edited_at.as_ref().map(rfc3339),
                    })
                    .collect(),
            })
            .collect(),
        maintenance: o
            .maintenance
            .iter()
            .map(|m| JsonMaintenance {
                title: m.title.clone(),
                starts_at: rfc3339(&m.starts_at),
                ends_at: rfc3339(&m.ends_at),
                services: m.services.clone(),
                in_progress: m.in_progress,
            })
            .collect(),
    };
    serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))
}

/// Current state per service, the open public incidents with their updates, and upcoming or
/// running maintenance. Field names are stable; states and phases use their `as_str` names.
pub async fn json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.config.base().to_string();
    let snap = run(move || sp::snapshot(&state)).await?;
    conditional(&req, &validators(&snap, "json"), FEED_CACHE, "application/json", || json_body(&base, &snap.overview))
}

pub struct FeedEntryView {
    pub id: String,
    pub title: String,
    pub link: String,
    pub published: String,
    pub updated: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "status/feed.xml")]
struct Feed {
    base: String,
    updated: String,
    entries: Vec<FeedEntryView>,
}

fn utc(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn feed_entry(base: &str, e: &FeedEntry) -> FeedEntryView {
    match e {
        FeedEntry::Update { incident_id, title, update } => {
            let link = format!("{base}/status/incidents/{incident_id}");
            FeedEntryView {
                id: format!("{link}#update-{}", update.id),
                title: format!("{title}: {}", update.phase.label()),
                published: rfc3339(&update.at),
                updated: rfc3339(&update.changed_at()),
                body: update.body.clone(),
                link,
            }
        }
        FeedEntry::Maintenance(m) => {
            let when = format!("{} – {}", utc(&m.starts_at), utc(&m.ends_at));
            let body = if m.news == MaintenanceNews::Cancelled {
                format!("Cancelled; it was planned for {when}. {}", m.notice)
            } else {
                format!("{when}. {}", m.notice)
            };
            FeedEntryView {
                id: format!("{base}/status#announcement-{}", m.id),
                title: format!("{}: {}", m.news.label(), m.services),
                published: rfc3339(&m.at),
                updated: rfc3339(&m.at),
                body,
                link: format!("{base}/status"),
            }
        }
    }
}

/// Atom 1.0: one entry per public update and per maintenance announcement, newest first.
pub async fn feed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.config.base().to_string();
    let st = state.clone();
    let snap = run(move || sp::snapshot(&st)).await?;
    let v = validators(&snap, "atom");
    conditional(&req, &v, FEED_CACHE, "application/atom+xml; charset=utf-8", || {
        let updated = snap.feed.first().map(FeedEntry::updated).unwrap_or(snap.changed_at);
        let tpl = Feed {
            updated: rfc3339(&updated),
            entries: snap.feed.iter().map(|e| feed_entry(&base, e)).collect(),
            base,
        };
        Ok(tpl.render()?)
    })
}

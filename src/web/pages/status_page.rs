//! The public status page (`/status`, its incident pages, `/status.json`, the Atom feed, the
//! mail subscription with double opt-in) and the staff forms on the incident page that publish
//! to it. `/status`, `/status.json` and the feed come from the shared snapshot
//! (`status_page::snapshot`) and answer conditional requests: a weak ETag of what they show
//! (and, for the page, of the visitor's form token), Last-Modified since when it looks so, 304.

use super::SelectOption;
use super::incidents::{Kept, id_of, show_page};
use crate::crypto::sha256_hex;
use crate::domain::incident::key;
use crate::domain::status_page::{MaintenanceNews, Phase, ServiceState};
use crate::error::AppError;
use crate::service::status_page::{self as sp, FeedEntry, Overview, PublicIncident, PublicUpdate, Snapshot};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, run};
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

fn update_view(ctx: &PageCtx, u: &PublicUpdate) -> UpdateView {
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

// ---------- subscription ----------

#[derive(Template)]
#[template(path = "status/subscribe.html")]
struct SubscribePage {
    ctx: PageCtx,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    pub email: String,
}

pub async fn subscribe_form(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    page(&SubscribePage { ctx, email: String::new(), errors: FieldErrors::default() })
}

/// The same answer whether the address is new, waiting for confirmation or subscribed.
pub async fn subscribe(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    form: web::Form<SubscribeForm>,
) -> Result<HttpResponse, AppError> {
    let email = form.into_inner().email;
    let e = email.clone();
    match blocking(move || sp::subscribe(&state, &meta, &e)).await? {
        Ok(()) => Ok(redirect(
            "/status/subscribe",
            Some("Thank you. If this address is not subscribed yet, a mail with a confirmation link is on its way."),
        )),
        Err(ServiceError::Invalid(errors)) => invalid(&SubscribePage { ctx, email, errors }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "status/message.html")]
struct MessagePage {
    ctx: PageCtx,
    title: &'static str,
    message: String,
    /// A button that posts to this address, when the page asks for a confirmation.
    action: Option<(String, &'static str)>,
    link: Option<(String, &'static str)>,
}

fn message(ctx: PageCtx, title: &'static str, message: impl Into<String>) -> MessagePage {
    MessagePage { ctx, title, message: message.into(), action: None, link: None }
}

fn dead_link(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let p = message(
        ctx,
        "This link does not work any more",
        "Confirmation links work once, for 48 hours. Subscribe again on the status page to get a new one.",
    );
    crate::web::ctx::render(actix_web::http::StatusCode::NOT_FOUND, &p)
}

/// Shows what the link confirms; the button confirms (a link scanner's GET changes nothing).
pub async fn confirm_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let t = token.clone();
    match blocking(move || sp::pending_confirmation(&state, &t)).await? {
        Ok(email) => {
            let mut p = message(ctx, "Confirm your subscription", format!("Send status updates to {email}?"));
            p.action = Some((format!("/status/confirm/{token}"), "Confirm the subscription"));
            page(&p)
        }
        Err(ServiceError::NotFound) => dead_link(ctx),
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    match blocking(move || sp::confirm(&state, &token)).await? {
        Ok(unsubscribe) => {
            let mut p = message(
                ctx,
                "You are subscribed",
                "You will get a mail whenever the status page is updated. Every mail has a link to unsubscribe.",
            );
            p.link = Some((unsubscribe, "Changed your mind? Unsubscribe"));
            page(&p)
        }
        Err(ServiceError::NotFound) => dead_link(ctx),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn unsubscribe_action(token: &str) -> String {
    let t: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("/status/unsubscribe?token={t}")
}

pub async fn unsubscribe_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    let t = token.clone();
    let found = run(move || sp::subscription_for(&state, &t)).await?;
    let p = match found {
        Some(email) => {
            let mut p = message(ctx, "Unsubscribe", format!("Stop sending status updates to {email}?"));
            p.action = Some((unsubscribe_action(&token), "Unsubscribe"));
            p
        }
        None => message(ctx, "Not subscribed", "This link belongs to no subscription: no status mail goes to it."),
    };
    page(&p)
}

/// The button on the page, and one-click unsubscription from mail clients (RFC 8058: a POST
/// with `List-Unsubscribe=One-Click` and no cookies). The token is the authority, so the route
/// is exempt from the CSRF check; its body is not read.
pub async fn unsubscribe(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    run(move || sp::unsubscribe(&state, &token)).await?;
    page(&message(ctx, "Unsubscribed", "No more status mail will be sent to this address."))
}

// ---------- staff: the incident page ----------

/// What the status page forms on the incident page typed, kept when one comes back with errors.
#[derive(Debug, Clone, Default)]
pub struct StatusKept {
    pub public_title: Option<String>,
    pub phase: String,
    pub update_body: String,
    pub state: Option<String>,
    /// The update being edited and the text typed for it.
    pub edit: Option<(i64, String)>,
    /// The update being retracted and the reason typed.
    pub retract: Option<(i64, String)>,
}

/// A posted update as staff see it, with its edit and retract forms.
pub struct StaffUpdateView {
    pub u: UpdateView,
    pub retracted: Option<String>,
    pub retract_reason: String,
    /// "Edited by … at …": each edit's time, newest last.
    pub edits: Vec<String>,
    /// The text in the edit form (what was typed, after an error).
    pub edit_body: String,
    pub kept_reason: String,
    /// This update's form came back with errors: open it.
    pub open: bool,
}

/// The status page section of the incident page.
pub struct IncidentSection {
    pub published: bool,
    pub shown: bool,
    pub public_title: String,
    pub state: &'static str,
    pub states: Vec<SelectOption>,
    pub phases: Vec<SelectOption>,
    pub update_body: String,
    pub link: Option<String>,
    pub updates: Vec<StaffUpdateView>,
}

pub fn incident_section(ctx: &PageCtx, panel: Option<&sp::Panel>, kept: &StatusKept) -> Option<IncidentSection> {
    let panel = panel?;
    let pub_ = panel.publication.as_ref();
    let current_override = pub_.and_then(|p| p.state_override.clone()).unwrap_or_default();
    let mut states = vec![(String::new(), "From the severity".to_string())];
    states.extend(ServiceState::OVERRIDES.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    let phase = if kept.phase.is_empty() {
        match panel.updates.iter().find(|u| u.retracted_at.is_none()).map(|u| u.update.phase) {
            Some(Phase::Investigating) => Phase::Identified,
            Some(Phase::Identified) => Phase::Monitoring,
            Some(Phase::Monitoring) | Some(Phase::Resolved) => Phase::Resolved,
            None => Phase::Investigating,
        }
        .as_str()
        .to_string()
    } else {
        kept.phase.clone()
    };
    Some(IncidentSection {
        published: pub_.is_some(),
        shown: pub_.is_some_and(|p| p.shown),
        public_title: kept.public_title.clone().or_else(|| pub_.map(|p| p.public_title.clone())).unwrap_or_default(),
        state: panel.state.label(),
        states: SelectOption::list(states, kept.state.as_deref().unwrap_or(&current_override)),
        phases: SelectOption::list(Phase::ALL.iter().map(|p| (p.as_str(), p.label())), &phase),
        update_body: kept.update_body.clone(),
        link: pub_.filter(|p| p.shown).map(|p| format!("/status/incidents/{}", p.id)),
        updates: panel
            .updates
            .iter()
            .map(|u| {
                let edit = kept.edit.as_ref().filter(|(id, _)| *id == u.update.id);
                let retract = kept.retract.as_ref().filter(|(id, _)| *id == u.update.id);
                StaffUpdateView {
                    u: update_view(ctx, &u.update),
                    retracted: u.retracted_at.as_ref().map(|t| ctx.time(t)),
                    retract_reason: u.retract_reason.clone(),
                    edits: u.edits.iter().map(|e| ctx.time(&e.at)).collect(),
                    edit_body: edit.map(|(_, b)| b.clone()).unwrap_or_else(|| u.update.body.clone()),
                    kept_reason: retract.map(|(_, r)| r.clone()).unwrap_or_default(),
                    open: edit.is_some() || retract.is_some(),
                }
            })
            .collect(),
    })
}

/// Redirect back on success; the incident page with messages and typed values on errors.
async fn finish<T: Send + 'static>(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: ServiceResult<T>,
    ok: &str,
    kept: StatusKept,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => Ok(redirect(&format!("/incidents/{}", key(id)), Some(ok))),
        Err(ServiceError::Invalid(errors)) => {
            let (st, user) = (state.clone(), cu.user.clone());
            let p = run(move || crate::service::incidents::incident_page(&st, &user, id, &Default::default())).await?;
            invalid(&show_page(ctx, p, Kept { status_page: kept, ..Default::default() }, errors))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublicationForm {
    /// A checkbox: present means shown.
    #[serde(default)]
    pub shown: Option<String>,
    #[serde(default)]
    pub public_title: String,
}

pub async fn publication(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<PublicationForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let shown = form.shown.is_some();
    let (st, user, title) = (state.clone(), cu.user.clone(), form.public_title.clone());
    let r = blocking(move || sp::set_publication(&st, &meta, &user, id, shown, &title)).await?;
    let ok = if shown { "Shown on the status page." } else { "Taken off the status page." };
    let kept = StatusKept { public_title: Some(form.public_title), ..Default::default() };
    finish(&state, ctx, &cu, id, r, ok, kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StateForm {
    #[serde(default)]
    pub state: String,
}

pub async fn set_state(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<StateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let value = form.into_inner().state;
    let (st, user, v) = (state.clone(), cu.user.clone(), value.clone());
    let r = blocking(move || sp::set_state(&st, &meta, &user, id, &v)).await?;
    let kept = StatusKept { state: Some(value), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "Status page state saved.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub update_body: String,
}

pub async fn post_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let (st, user, f) = (state.clone(), cu.user.clone(), form.clone());
    let r = blocking(move || sp::post_update(&st, &meta, &user, id, &f.phase, &f.update_body)).await?;
    let kept = StatusKept { phase: form.phase, update_body: form.update_body, ..Default::default() };
    finish(&state, ctx, &cu, id, r, "Update posted on the status page.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditUpdateForm {
    #[serde(default)]
    pub edit_body: String,
}

/// `POST /incidents/{key}/status-updates/{id}`: corrects a posted update's text.
pub async fn edit_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<EditUpdateForm>,
) -> Result<HttpResponse, AppError> {
    let (key_text, update_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let body = form.into_inner().edit_body;
    let (st, user, b) = (state.clone(), cu.user.clone(), body.clone());
    let r = blocking(move || sp::edit_update(&st, &meta, &user, id, update_id, &b)).await?;
    let kept = StatusKept { edit: Some((update_id, body)), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "The update was corrected on the status page.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RetractForm {
    #[serde(default)]
    pub retract_reason: String,
}

/// `POST /incidents/{key}/status-updates/{id}/retract`: takes a posted update off the public
/// views.
pub async fn retract_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<RetractForm>,
) -> Result<HttpResponse, AppError> {
    let (key_text, update_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let reason = form.into_inner().retract_reason;
    let (st, user, why) = (state.clone(), cu.user.clone(), reason.clone());
    let r = blocking(move || sp::retract_update(&st, &meta, &user, id, update_id, &why)).await?;
    let kept = StatusKept { retract: Some((update_id, reason)), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "The update was retracted from the status page.", kept).await
}

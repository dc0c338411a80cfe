//! The public status page (`/status`, its incident pages, `/status.json`, the Atom feed, the
//! mail subscription with double opt-in) and the staff forms on the incident page that publish
//! to it.

use super::SelectOption;
use super::incidents::{Kept, id_of, show_page};
use crate::domain::incident::key;
use crate::domain::status_page::{Phase, ServiceState};
use crate::error::AppError;
use crate::service::status_page::{self as sp, Overview, PublicIncident, PublicUpdate};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, run};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

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

// ---------- the public page ----------

pub struct UpdateView {
    pub id: i64,
    pub phase: &'static str,
    pub phase_code: &'static str,
    pub at: String,
    pub body: String,
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
    UpdateView {
        id: u.id,
        phase: u.phase.label(),
        phase_code: u.phase.as_str(),
        at: ctx.time(&u.at),
        body: u.body.clone(),
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
}

pub struct ServiceView {
    pub name: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub days: Vec<DayView>,
    /// The 90 days in words, e.g. "88 days operational, 2 days with a major outage".
    pub summary: String,
}

fn summary(days: &[crate::domain::status_page::Day]) -> String {
    let mut parts = Vec::new();
    for s in ServiceState::ALL {
        let n = days.iter().filter(|d| d.state == s).count();
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

pub struct MaintenanceView {
    pub title: String,
    pub window: String,
    pub services: String,
    pub in_progress: bool,
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
                    .map(|d| DayView { date: d.date.to_string(), state: d.state.label(), state_code: d.state.as_str() })
                    .collect(),
                summary: summary(&s.days),
            })
            .collect(),
        active: o.active.iter().map(|i| incident_view(&ctx, i)).collect(),
        past: o.past.iter().map(|i| incident_view(&ctx, i)).collect(),
        maintenance: o
            .maintenance
            .iter()
            .map(|m| MaintenanceView {
                title: m.title.clone(),
                window: format!("{} – {}", ctx.time(&m.starts_at), ctx.time(&m.ends_at)),
                services: m.services.join(", "),
                in_progress: m.in_progress,
            })
            .collect(),
        updated: ctx.time(&o.generated_at),
        days: sp::HISTORY_DAYS,
        ctx,
    }
}

pub async fn show(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let o = run(move || sp::overview(&state)).await?;
    Ok(cached(page(&status_page(ctx, &o))?, PAGE_CACHE))
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
    body: String,
    created_at: String,
}

#[derive(Serialize)]
struct JsonMaintenance {
    title: String,
    starts_at: String,
    ends_at: String,
    services: Vec<String>,
    in_progress: bool,
}

/// Current state per service, the open public incidents with their updates, and upcoming or
/// running maintenance. Field names are stable; states and phases use their `as_str` names.
pub async fn json(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.config.base().to_string();
    let o = run(move || sp::overview(&state)).await?;
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
                        body: u.body.clone(),
                        created_at: rfc3339(&u.at),
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
    let text = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(cached(HttpResponse::Ok().content_type("application/json").body(text), FEED_CACHE))
}

pub struct FeedEntryView {
    pub id: String,
    pub title: String,
    pub link: String,
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

/// Atom 1.0: one entry per public update, newest first.
pub async fn feed(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.config.base().to_string();
    let st = state.clone();
    let entries = run(move || sp::feed(&st)).await?;
    let updated = entries.first().map(|e| e.update.at).unwrap_or_else(|| state.clock.now_naive());
    let tpl = Feed {
        updated: rfc3339(&updated),
        entries: entries
            .iter()
            .map(|e| {
                let link = format!("{base}/status/incidents/{}", e.incident_id);
                FeedEntryView {
                    id: format!("{link}#update-{}", e.update.id),
                    title: format!("{}: {}", e.title, e.update.phase.label()),
                    updated: rfc3339(&e.update.at),
                    body: e.update.body.clone(),
                    link,
                }
            })
            .collect(),
        base,
    };
    let text = tpl.render()?;
    Ok(cached(HttpResponse::Ok().content_type("application/atom+xml; charset=utf-8").body(text), FEED_CACHE))
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
    pub updates: Vec<UpdateView>,
}

pub fn incident_section(ctx: &PageCtx, panel: Option<&sp::Panel>, kept: &StatusKept) -> Option<IncidentSection> {
    let panel = panel?;
    let pub_ = panel.publication.as_ref();
    let current_override = pub_.and_then(|p| p.state_override.clone()).unwrap_or_default();
    let mut states = vec![(String::new(), "From the severity".to_string())];
    states.extend(ServiceState::OVERRIDES.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    let phase = if kept.phase.is_empty() {
        match panel.updates.first().map(|u| u.phase) {
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
        updates: panel.updates.iter().map(|u| update_view(ctx, u)).collect(),
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
            let p = run(move || crate::service::incidents::incident_page(&st, &user, id)).await?;
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

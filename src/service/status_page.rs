//! The public status page: staff show incidents there and post customer-safe updates (each a
//! service function writing an incident timeline event in the same transaction); visitors
//! subscribe by mail with double opt-in; and the read models of `/status`, its incident pages,
//! `/status.json` and the Atom feed. Only public titles and public updates leave this module:
//! never an incident's own title, description, comments, reporter or organization.

use super::incidents::{check_body, event, load_visible};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::crypto::{hmac_hex, random_token, sha256_hex};
use crate::db::models::User;
use crate::db::status_page::{self as db, IncidentFacts, StatusIncident, StatusUpdate, Subscriber};
use crate::db::{DbConnection, services};
use crate::domain::incident::Status;
use crate::domain::policy::{Action, Resource};
use crate::domain::status_page::{
    CONFIRMATION_VALID_HOURS, Change, Day, Phase, ServiceState, Span, Stretch, SubscribeOutcome, active_spans, history,
    incident_state, state_at, subscribe_outcome, window,
};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// Days of history per service.
pub const HISTORY_DAYS: u32 = 90;
/// Past incidents on `/status` itself; the rest page through `/status/incidents`.
pub const PAST_ON_PAGE: usize = 10;
/// Incidents per page of `/status/incidents`.
pub const INCIDENTS_PAGE: i64 = 20;
/// Entries in the Atom feed.
pub const FEED_ENTRIES: i64 = 50;
/// Confirmation mails that requests from one IP address may cause per hour.
pub const IP_CONFIRMATIONS_PER_HOUR: i64 = 30;
/// Longest public update, in characters.
pub const MAX_UPDATE_CHARS: usize = 5000;
/// Unconfirmed subscriptions are forgotten this long after their last confirmation mail.
pub const FORGET_UNCONFIRMED_DAYS: i64 = 7;

// ---------- staff: from the incident page ----------

fn load_for_publishing(
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
) -> ServiceResult<crate::db::models::Incident> {
    let actor = actor_of(user);
    let (inc, _) = load_visible(conn, &actor, incident_id)?;
    authorize(&actor, Action::PublishStatus, Resource::None)?;
    Ok(inc)
}

/// Shows or hides the incident on the status page, with the title customers see there (typed
/// by staff; the incident's own title is never used). Hiding takes it off every public view.
pub fn set_publication(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    shown: bool,
    public_title: &str,
) -> ServiceResult<()> {
    let title = match crate::domain::validate::label(public_title, "The public title", 200) {
        Ok(t) => Some(t),
        Err(_) if !shown => None,
        Err(e) => return Err(ServiceError::Invalid(FieldErrors::single("public_title", e))),
    };
    state.tx(|conn| {
        let inc = load_for_publishing(conn, user, incident_id)?;
        let now = state.clock.now_naive();
        let existing = db::for_incident(conn, inc.id)?;
        let yes_no = |b: bool| if b { "shown" } else { "hidden" };
        match existing {
            None if !shown => Ok(()),
            None => {
                let title = title.unwrap_or_default();
                db::insert(conn, inc.id, &title, now)?;
                event(conn, &inc, Some(user.id), "status_page", "shown", "", &title, true, None, now)
            }
            Some(si) => {
                let title = title.unwrap_or_else(|| si.public_title.clone());
                if si.shown == shown && si.public_title == title {
                    return Ok(());
                }
                db::set_publication(conn, si.id, shown, &title, now)?;
                if si.shown != shown {
                    let new = if shown { title.as_str() } else { "" };
                    event(
                        conn,
                        &inc,
                        Some(user.id),
                        "status_page",
                        yes_no(shown),
                        yes_no(si.shown),
                        new,
                        true,
                        None,
                        now,
                    )?;
                }
                if si.public_title != title {
                    event(
                        conn,
                        &inc,
                        Some(user.id),
                        "status_page",
                        "public_title",
                        &si.public_title,
                        &title,
                        true,
                        None,
                        now,
                    )?;
                }
                Ok(())
            }
        }
    })
}

/// Sets the state the incident puts its service in ("" follows the severity).
pub fn set_state(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    value: &str,
) -> ServiceResult<()> {
    let chosen = match value.trim() {
        "" => None,
        v => match ServiceState::parse_override(v) {
            Some(s) => Some(s),
            None => return Err(ServiceError::Invalid(FieldErrors::single("state", "Choose a state from the list."))),
        },
    };
    state.tx(|conn| {
        let inc = load_for_publishing(conn, user, incident_id)?;
        let Some(si) = db::for_incident(conn, inc.id)? else {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "state",
                "Show the incident on the status page first.",
            )));
        };
        let new = chosen.map(ServiceState::as_str);
        if si.state_override.as_deref() == new {
            return Ok(());
        }
        let now = state.clock.now_naive();
        db::set_override(conn, si.id, new, now)?;
        let label = |s: Option<&str>| match s.and_then(ServiceState::parse) {
            Some(s) => s.label().to_string(),
            None => "from severity".to_string(),
        };
        event(
            conn,
            &inc,
            Some(user.id),
            "status_page",
            "state",
            &label(si.state_override.as_deref()),
            &label(new),
            true,
            None,
            now,
        )
    })
}

/// Posts a customer-safe update on an incident shown on the status page, and mails it to every
/// confirmed subscriber through the outbox, in the same transaction.
pub fn post_update(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    phase: &str,
    body: &str,
) -> ServiceResult<StatusUpdate> {
    let mut errors = FieldErrors::default();
    let phase = Phase::parse(phase);
    if phase.is_none() {
        errors.add("phase", "Choose what stage the work is at.");
    }
    let body = check_body(body, "update_body", "The update", &mut errors).map(|b| b.trim().to_string());
    match &body {
        Some(b) if b.is_empty() => errors.add("update_body", "Write the update customers will read."),
        Some(b) if b.chars().count() > MAX_UPDATE_CHARS => {
            errors.add("update_body", format!("The update must be at most {MAX_UPDATE_CHARS} characters."))
        }
        _ => {}
    }
    errors.into_result()?;
    let (Some(phase), Some(body)) = (phase, body) else {
        return Err(ServiceError::Internal("validated update missing".into()));
    };
    state.tx(|conn| {
        let inc = load_for_publishing(conn, user, incident_id)?;
        let si = match db::for_incident(conn, inc.id)? {
            Some(si) if si.shown => si,
            _ => {
                return Err(ServiceError::Invalid(FieldErrors::single(
                    "update_body",
                    "Show the incident on the status page before posting updates.",
                )));
            }
        };
        let now = state.clock.now_naive();
        let update = db::insert_update(conn, si.id, phase.as_str(), &body, user.id, now)?;
        event(conn, &inc, Some(user.id), "status_update", phase.as_str(), "", &body, false, None, now)?;
        let service = services::find(conn, inc.service_id)?.name;
        let facts = crate::mail::status_page::UpdateFacts {
            status_incident_id: si.id,
            title: si.public_title.clone(),
            phase: phase.label().to_string(),
            state: incident_state(&inc.severity, si.state_override.as_deref()).label().to_string(),
            service,
            body: body.clone(),
            at: now,
        };
        let subscribers = db::confirmed(conn)?;
        crate::mail::status_page::update(state, conn, &facts, &subscribers)?;
        Ok(update)
    })
}

/// The status page section of the incident page (for those who may publish).
#[derive(Debug, Clone)]
pub struct Panel {
    pub publication: Option<StatusIncident>,
    /// The state the incident puts its service in now (override or severity).
    pub state: ServiceState,
    pub updates: Vec<PublicUpdate>,
}

/// The panel for the incident page, inside its read: None for those who may not publish.
pub fn panel(
    conn: &mut DbConnection,
    actor: &crate::domain::policy::Actor,
    inc: &crate::db::models::Incident,
) -> ServiceResult<Option<Panel>> {
    if !crate::domain::policy::allows(Some(actor), Action::PublishStatus, Resource::None) {
        return Ok(None);
    }
    let publication = db::for_incident(conn, inc.id)?;
    let updates = match &publication {
        Some(si) => db::updates_for(conn, &[si.id])?.into_iter().rev().map(PublicUpdate::from_row).collect(),
        None => Vec::new(),
    };
    let st = incident_state(&inc.severity, publication.as_ref().and_then(|p| p.state_override.as_deref()));
    Ok(Some(Panel { publication, state: st, updates }))
}

// ---------- subscriptions ----------

fn unsubscribe_token(state: &AppState, seed: &str) -> String {
    hmac_hex(&state.secret, &format!("status-unsubscribe|{seed}"))
}

/// The one-click unsubscribe address for a subscriber.
pub fn unsubscribe_link(state: &AppState, s: &Subscriber) -> String {
    format!("{}/status/unsubscribe?token={}", state.config.base(), unsubscribe_token(state, &s.unsubscribe_seed))
}

/// Asks for a subscription. The answer is the same whether the address is new, pending or
/// confirmed; at most one confirmation mail goes to an address per hour, and requests from one
/// IP address cause at most `IP_CONFIRMATIONS_PER_HOUR` of them.
pub fn subscribe(state: &AppState, meta: &RequestMeta, email: &str) -> ServiceResult<()> {
    let email =
        crate::domain::validate::email(email).map_err(|e| ServiceError::Invalid(FieldErrors::single("email", e)))?;
    let r = state.tx(|conn| {
        let now = state.clock.now_naive();
        db::prune_unconfirmed(conn, now - Duration::days(FORGET_UNCONFIRMED_DAYS))?;
        // Checked before looking at the address, so that this answer says nothing about it.
        if db::confirmations_from_ip(conn, &meta.ip, now - Duration::hours(1))? >= IP_CONFIRMATIONS_PER_HOUR {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "email",
                "Too many subscription requests came from your network. Please try again in an hour.",
            )));
        }
        let existing = db::subscriber_by_email(conn, &email)?;
        let outcome = match &existing {
            Some(s) => subscribe_outcome(s.confirmed_at.is_some(), s.confirm_sent_at, now),
            None => SubscribeOutcome::SendConfirmation,
        };
        if outcome == SubscribeOutcome::Quiet {
            return Ok(());
        }
        let token = random_token(32);
        let expires = now + Duration::hours(CONFIRMATION_VALID_HOURS);
        let subscriber = match existing {
            Some(s) => {
                db::renew_confirmation(conn, s.id, &sha256_hex(&token), expires, &meta.ip, now)?;
                s
            }
            None => {
                let seed = random_token(32);
                db::insert_subscriber(
                    conn,
                    &db::NewSubscriber {
                        email: &email,
                        confirm_hash: &sha256_hex(&token),
                        confirm_expires_at: expires,
                        unsubscribe_seed: &seed,
                        unsubscribe_hash: &sha256_hex(&unsubscribe_token(state, &seed)),
                        request_ip: &meta.ip,
                        now,
                    },
                )?
            }
        };
        let confirm_link = format!("{}/status/confirm/{token}", state.config.base());
        crate::mail::status_page::confirmation(state, conn, &subscriber, &confirm_link, expires)?;
        Ok(())
    });
    match r {
        // Two requests for one new address at once: the other one sent the mail.
        Err(ServiceError::Conflict(_)) => Ok(()),
        other => other,
    }
}

/// "a•••@example.com": enough for the owner to recognise, not a full address on a page.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

/// The (masked) address a live confirmation link is for; NotFound when used or expired.
pub fn pending_confirmation(state: &AppState, token: &str) -> ServiceResult<String> {
    let mut conn = state.conn()?;
    let s = db::by_live_confirmation(&mut conn, &sha256_hex(token), state.clock.now_naive())?
        .ok_or(ServiceError::NotFound)?;
    Ok(masked(&s.email))
}

/// Confirms a subscription with its one-time link; returns the unsubscribe address.
pub fn confirm(state: &AppState, token: &str) -> ServiceResult<String> {
    state.tx(|conn| {
        let s = db::confirm(conn, &sha256_hex(token), state.clock.now_naive())?.ok_or(ServiceError::NotFound)?;
        Ok(unsubscribe_link(state, &s))
    })
}

/// The (masked) address an unsubscribe link is for, if it still is subscribed.
pub fn subscription_for(state: &AppState, token: &str) -> ServiceResult<Option<String>> {
    let mut conn = state.conn()?;
    Ok(db::by_unsubscribe(&mut conn, &sha256_hex(token))?.map(|s| masked(&s.email)))
}

/// Ends a subscription (pending or confirmed) and forgets the address. Unknown or used links
/// answer the same: nothing is sent to that address any more either way.
pub fn unsubscribe(state: &AppState, token: &str) -> ServiceResult<bool> {
    state.tx(|conn| match db::by_unsubscribe(conn, &sha256_hex(token))? {
        Some(s) => Ok(db::delete_subscriber(conn, s.id)?),
        None => Ok(false),
    })
}

// ---------- read models ----------

#[derive(Debug, Clone)]
pub struct PublicUpdate {
    pub id: i64,
    pub phase: Phase,
    pub body: String,
    pub at: NaiveDateTime,
}

impl PublicUpdate {
    fn from_row(u: StatusUpdate) -> PublicUpdate {
        PublicUpdate {
            id: u.id,
            phase: Phase::parse(&u.phase).unwrap_or(Phase::Investigating),
            body: u.body,
            at: u.created_at,
        }
    }
}

/// An incident as the public sees it: the public title, its state, its service, its updates.
#[derive(Debug, Clone)]
pub struct PublicIncident {
    pub id: i64,
    pub title: String,
    pub state: ServiceState,
    pub service: String,
    /// Active now: the incident is open and its latest update is not "resolved".
    pub active: bool,
    pub published_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When its last active span ended (None while active, or if it never was).
    pub ended_at: Option<NaiveDateTime>,
    /// Newest first.
    pub updates: Vec<PublicUpdate>,
}

impl PublicIncident {
    /// The latest update's phase, if any update was posted.
    pub fn phase(&self) -> Option<Phase> {
        self.updates.first().map(|u| u.phase)
    }
}

#[derive(Debug, Clone)]
pub struct ServiceStatus {
    pub id: i64,
    pub name: String,
    pub state: ServiceState,
    /// Oldest first, `HISTORY_DAYS` of them, ending today (UTC).
    pub days: Vec<Day>,
}

#[derive(Debug, Clone)]
pub struct Maintenance {
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub services: Vec<String>,
    pub in_progress: bool,
}

#[derive(Debug, Clone)]
pub struct Overview {
    pub generated_at: NaiveDateTime,
    pub overall: ServiceState,
    pub services: Vec<ServiceStatus>,
    pub active: Vec<PublicIncident>,
    pub past: Vec<PublicIncident>,
    pub maintenance: Vec<Maintenance>,
}

/// Builds public incidents from their rows, with their updates and active spans: a fixed
/// handful of queries however many rows.
fn build(
    conn: &mut DbConnection,
    rows: Vec<(StatusIncident, IncidentFacts)>,
    names: &HashMap<i64, String>,
) -> ServiceResult<Vec<(PublicIncident, Vec<Span>, i64)>> {
    let incident_ids: Vec<i64> = rows.iter().map(|(_, f)| f.id).collect();
    let status_ids: Vec<i64> = rows.iter().map(|(s, _)| s.id).collect();
    let mut changes: HashMap<i64, Vec<(NaiveDateTime, Change)>> = HashMap::new();
    for (incident_id, at, new_status) in db::status_changes(conn, &incident_ids)? {
        let open = Status::parse(&new_status).is_none_or(Status::is_open);
        changes.entry(incident_id).or_default().push((at, Change::Open(open)));
    }
    let mut updates: HashMap<i64, Vec<StatusUpdate>> = HashMap::new();
    for u in db::updates_for(conn, &status_ids)? {
        updates.entry(u.status_incident_id).or_default().push(u);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (si, facts) in rows {
        let ups = updates.remove(&si.id).unwrap_or_default();
        let mut ch = changes.remove(&facts.id).unwrap_or_default();
        ch.extend(ups.iter().filter_map(|u| Phase::parse(&u.phase).map(|p| (u.created_at, Change::Update(p)))));
        if !facts.is_open {
            // The stored state has the last word, even where the event history is incomplete.
            let closed = facts.resolved_at.or(facts.closed_at).unwrap_or(facts.updated_at);
            let last = ch.iter().map(|c| c.0).max().unwrap_or(closed);
            ch.push((closed.max(last), Change::Open(false)));
        }
        ch.sort_by_key(|(at, _)| *at);
        let spans = active_spans(si.published_at, &ch);
        let active = spans.last().is_some_and(|s| s.to.is_none());
        let ended_at = if active { None } else { spans.last().and_then(|s| s.to) };
        let public = PublicIncident {
            id: si.id,
            title: si.public_title.clone(),
            state: incident_state(&facts.severity, si.state_override.as_deref()),
            service: names.get(&facts.service_id).cloned().unwrap_or_default(),
            active,
            published_at: si.published_at,
            updated_at: si.updated_at,
            ended_at,
            updates: ups.into_iter().rev().map(PublicUpdate::from_row).collect(),
        };
        out.push((public, spans, facts.service_id));
    }
    Ok(out)
}

/// Everything `/status` and `/status.json` show.
pub fn overview(state: &AppState) -> ServiceResult<Overview> {
    let now = state.clock.now_naive();
    let today = now.date();
    let from = (today - Duration::days(i64::from(HISTORY_DAYS) - 1)).and_hms_opt(0, 0, 0).unwrap_or(now);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let all_services = services::all(conn)?;
    let names: HashMap<i64, String> = all_services.iter().map(|s| (s.id, s.name.clone())).collect();
    let rows = db::shown_since(conn, from, 500)?;
    let built = build(conn, rows, &names)?;
    let mut stretches: HashMap<i64, Vec<Stretch>> = HashMap::new();
    for (inc, spans, service_id) in &built {
        for span in spans {
            stretches.entry(*service_id).or_default().push(Stretch { span: *span, state: inc.state });
        }
    }
    let mut maintenance: Vec<Maintenance> = Vec::new();
    let mut release_order: Vec<i64> = Vec::new();
    let mut by_release: HashMap<i64, Maintenance> = HashMap::new();
    for (release_id, title, start, end, service_id) in db::windows_after(conn, from, 2000)? {
        let Some(span) = window(Some(start), Some(end)) else { continue };
        stretches.entry(service_id).or_default().push(Stretch { span, state: ServiceState::Maintenance });
        if end <= now {
            continue;
        }
        let entry = by_release.entry(release_id).or_insert_with(|| {
            release_order.push(release_id);
            Maintenance { title, starts_at: start, ends_at: end, services: Vec::new(), in_progress: start <= now }
        });
        if let Some(n) = names.get(&service_id) {
            entry.services.push(n.clone());
        }
    }
    for id in release_order {
        if let Some(m) = by_release.remove(&id) {
            maintenance.push(m);
        }
    }
    let services: Vec<ServiceStatus> = all_services
        .iter()
        .filter(|s| s.active)
        .map(|s| {
            let st = stretches.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            ServiceStatus {
                id: s.id,
                name: s.name.clone(),
                state: state_at(st, now),
                days: history(st, today, HISTORY_DAYS, now),
            }
        })
        .collect();
    let (active, mut past): (Vec<PublicIncident>, Vec<PublicIncident>) =
        built.into_iter().map(|(i, _, _)| i).partition(|i| i.active);
    past.sort_by_key(|i| std::cmp::Reverse(i.ended_at.unwrap_or(i.updated_at)));
    past.truncate(PAST_ON_PAGE);
    let overall = services
        .iter()
        .map(|s| s.state)
        .chain(active.iter().map(|i| i.state))
        .max()
        .unwrap_or(ServiceState::Operational);
    Ok(Overview { generated_at: now, overall, services, active, past, maintenance })
}

/// A page of every incident shown on the status page, newest first; the cursor for the next.
/// Where a page of `/status/incidents` starts: before this (published_at, id).
pub type IncidentCursor = (NaiveDateTime, i64);

pub fn incidents_page(
    state: &AppState,
    before: Option<IncidentCursor>,
) -> ServiceResult<(Vec<PublicIncident>, Option<IncidentCursor>)> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let names: HashMap<i64, String> = services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    let mut rows = db::shown_page(conn, before, INCIDENTS_PAGE + 1)?;
    let more = rows.len() as i64 > INCIDENTS_PAGE;
    rows.truncate(INCIDENTS_PAGE as usize);
    let next = if more { rows.last().map(|(s, _)| (s.published_at, s.id)) } else { None };
    Ok((build(conn, rows, &names)?.into_iter().map(|(i, _, _)| i).collect(), next))
}

/// One incident shown on the status page.
pub fn public_incident(state: &AppState, id: i64) -> ServiceResult<PublicIncident> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let row = db::shown_one(conn, id)?.ok_or(ServiceError::NotFound)?;
    let names: HashMap<i64, String> = services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    build(conn, vec![row], &names)?.into_iter().next().map(|(i, _, _)| i).ok_or(ServiceError::NotFound)
}

/// One entry of the Atom feed: a public update and its incident's public title.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub incident_id: i64,
    pub title: String,
    pub update: PublicUpdate,
}

pub fn feed(state: &AppState) -> ServiceResult<Vec<FeedEntry>> {
    let mut conn = state.conn()?;
    Ok(db::recent_updates(&mut conn, FEED_ENTRIES)?
        .into_iter()
        .map(|(u, si)| FeedEntry { incident_id: si.id, title: si.public_title, update: PublicUpdate::from_row(u) })
        .collect())
}

//! The public status page: staff show incidents there and post customer-safe updates, edit
//! and retract them (each a service function writing an incident timeline event in the same
//! transaction); visitors subscribe by mail with double opt-in; releases announce their
//! scheduled maintenance; and the read models of `/status`, its incident pages, `/status.json`
//! and the Atom feed. Only public titles, public updates and public maintenance notices leave
//! this module: never an incident's own title, description, comments, reporter or
//! organization, nor a release's title, version or notes.
//!
//! Each shown incident keeps a state log (`status_states`: the service and state it put there,
//! from when), written at publication and at every change of override, severity or service;
//! the history and the mails read what was true at the time. Mail to subscribers is one
//! `status_mailings` row in the change's transaction, fanned out by the `status_mail` job.

use super::incidents::{check_body, event, load_visible};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::crypto::{random_token, sha256_hex};
use crate::db::models::{Incident, Release, User};
use crate::db::status_page::{
    self as db, Announcement, IncidentFacts, StateEntry, StatusIncident, StatusUpdate, UpdateEdit,
};
use crate::db::{DbConnection, services};
use crate::domain::incident::{Status, key as inc_key};
use crate::domain::policy::{Action, Resource};
use crate::domain::release::ReleaseStatus;
use crate::domain::status_page::{
    Announced, CONFIRMATION_VALID_HOURS, Change, Day, GENERIC_MAINTENANCE, MaintenanceNews, Phase, ServiceState, Span,
    Stretch, SubscribeOutcome, active_spans, history, incident_state, maintenance_news, maintenance_span, split_by_log,
    state_at, subscribe_outcome,
};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;
use std::sync::Arc;

mod public;
mod subscriptions;
pub use public::*;
pub use subscriptions::*;

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
/// Longest public maintenance notice, in characters.
pub const MAX_NOTICE_CHARS: usize = 1000;
/// Longest reason for retracting an update, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Unconfirmed subscriptions are forgotten this long after their last confirmation mail.
pub const FORGET_UNCONFIRMED_DAYS: i64 = 7;
/// How long a computed status page serves before it is computed again (writes through
/// `AppState::tx` drop it at once).
pub const SNAPSHOT_SECONDS: i64 = 10;
/// Subscribers per fan-out transaction.
pub const FAN_OUT_BATCH: i64 = 500;

// ---------- staff: from the incident page ----------

fn load_for_publishing(conn: &mut DbConnection, user: &User, incident_id: i64) -> ServiceResult<Incident> {
    let actor = actor_of(user);
    let (inc, _) = load_visible(conn, &actor, incident_id)?;
    authorize(&actor, Action::PublishStatus, Resource::None)?;
    Ok(inc)
}

/// Adds an entry to the incident's state log when the service or the state it puts there
/// differs from the last entry. `override_state` is the status incident's override as it is now.
fn log_state(
    conn: &mut DbConnection,
    status_incident_id: i64,
    inc: &Incident,
    override_state: Option<&str>,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let st = incident_state(&inc.severity, override_state);
    let same = db::last_state(conn, status_incident_id)?
        .is_some_and(|e| e.service_id == inc.service_id && e.state == st.as_str());
    if !same {
        db::insert_state(conn, status_incident_id, inc.service_id, st.as_str(), now)?;
    }
    Ok(())
}

/// Called in the transaction of a triage change (severity, service): a shown incident's state
/// log records what it puts its service in from now on; what it was before stays as it was.
pub(crate) fn incident_changed(conn: &mut DbConnection, inc: &Incident, now: NaiveDateTime) -> ServiceResult<()> {
    if let Some(si) = db::for_incident(conn, inc.id)? {
        log_state(conn, si.id, inc, si.state_override.as_deref(), now)?;
    }
    Ok(())
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
                let si = db::insert(conn, inc.id, &title, now)?;
                log_state(conn, si.id, &inc, None, now)?;
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
        log_state(conn, si.id, &inc, new, now)?;
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

/// Checks an update's text: 1 to `MAX_UPDATE_CHARS` characters, control characters dropped.
fn check_update_body(body: &str, field: &'static str, errors: &mut FieldErrors) -> Option<String> {
    let body = check_body(body, field, "The update", errors).map(|b| b.trim().to_string())?;
    if body.is_empty() {
        errors.add(field, "Write the update customers will read.");
        return None;
    }
    if body.chars().count() > MAX_UPDATE_CHARS {
        errors.add(field, format!("The update must be at most {MAX_UPDATE_CHARS} characters."));
        return None;
    }
    Some(body)
}

/// Posts a customer-safe update on an incident shown on the status page, recording the state
/// its service is in now, and queues one mail to all subscribers (fanned out by the
/// `status_mail` job), in the same transaction.
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
    let body = check_update_body(body, "update_body", &mut errors);
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
        log_state(conn, si.id, &inc, si.state_override.as_deref(), now)?;
        let st = incident_state(&inc.severity, si.state_override.as_deref());
        let event_id = crate::db::incidents::insert_event_id(
            conn,
            &crate::db::incidents::NewEvent {
                incident_id: inc.id,
                actor_id: Some(user.id),
                kind: "status_update",
                field: phase.as_str(),
                old_value: "",
                new_value: &body,
                internal: false,
                comment_id: None,
                version: inc.version,
                at: now,
            },
        )?;
        let update = db::insert_update(
            conn,
            &db::NewUpdate {
                status_incident_id: si.id,
                phase: phase.as_str(),
                body: &body,
                author_id: user.id,
                state: st.as_str(),
                event_id,
                now,
            },
        )?;
        let facts = crate::mail::status_page::UpdateFacts {
            status_incident_id: si.id,
            title: si.public_title.clone(),
            phase: phase.label().to_string(),
            state: st.label().to_string(),
            resolved: phase == Phase::Resolved,
            service: services::find(conn, inc.service_id)?.name,
            body: body.clone(),
            at: now,
        };
        crate::mail::status_page::update(state, conn, &facts, update.id)?;
        Ok(update)
    })
}

/// The update `update_id` of this incident's status page entry, for staff who may publish.
fn load_update(
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
    update_id: i64,
) -> ServiceResult<(Incident, StatusIncident, StatusUpdate)> {
    let inc = load_for_publishing(conn, user, incident_id)?;
    let si = db::for_incident(conn, inc.id)?.ok_or(ServiceError::NotFound)?;
    let u = match db::find_update(conn, update_id) {
        Ok(u) if u.status_incident_id == si.id => u,
        Ok(_) | Err(crate::db::DbError::NotFound) => return Err(ServiceError::NotFound),
        Err(e) => return Err(e.into()),
    };
    Ok((inc, si, u))
}

fn audit_target(incident_id: i64, update_id: i64) -> String {
    format!("{}/status-update/{update_id}", inc_key(incident_id))
}

/// Corrects a public update's text. The edit is recorded (old and new text, who, when) and
/// audited; the public views and the incident's timeline show the new text, marked edited.
pub fn edit_update(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    update_id: i64,
    body: &str,
) -> ServiceResult<()> {
    let mut errors = FieldErrors::default();
    let body = check_update_body(body, "edit_body", &mut errors);
    errors.into_result()?;
    let body = body.unwrap_or_default();
    state.tx(|conn| {
        let (inc, _, u) = load_update(conn, user, incident_id, update_id)?;
        if u.retracted_at.is_some() {
            return Err(ServiceError::Conflict("This update was retracted; it can no longer be edited.".into()));
        }
        if u.body == body {
            return Ok(());
        }
        let now = state.clock.now_naive();
        db::edit_update(conn, &u, &body, user.id, now)?;
        if let Some(event_id) = u.event_id {
            db::set_event_text(conn, event_id, &body)?;
        }
        event(conn, &inc, Some(user.id), "status_update_edited", &u.phase, &u.body, &body, true, None, now)?;
        state.audit(conn, meta, Some(user), "status_update.edit", &audit_target(inc.id, u.id), &body)
    })
}

/// Retracts a public update: it disappears from `/status`, its incident pages, the JSON, the
/// feed and the incident's customer timeline (and its mail, if not fanned out yet, is not
/// sent). Staff keep seeing it, with who retracted it, when and why; the retraction is audited.
pub fn retract_update(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    update_id: i64,
    reason: &str,
) -> ServiceResult<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::Invalid(FieldErrors::single(
            "retract_reason",
            "Say why the update is retracted (staff only read this).",
        )));
    }
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(FieldErrors::single(
            "retract_reason",
            format!("The reason is one line of at most {MAX_REASON_CHARS} characters."),
        )));
    }
    state.tx(|conn| {
        let (inc, _, u) = load_update(conn, user, incident_id, update_id)?;
        let now = state.clock.now_naive();
        if !db::retract_update(conn, &u, user.id, reason, now)? {
            return Ok(());
        }
        if let Some(event_id) = u.event_id {
            db::hide_event(conn, event_id)?;
        }
        event(conn, &inc, Some(user.id), "status_update_retracted", &u.phase, &u.body, reason, true, None, now)?;
        state.audit(conn, meta, Some(user), "status_update.retract", &audit_target(inc.id, u.id), reason)
    })
}

// ---------- releases: scheduled maintenance ----------

/// What the status page announces of a release now: its scheduled window (see
/// `domain::status_page::maintenance_span`) while it has not ended, with the public notice and
/// the affected services' names. None for drafts, windows past, and releases without a window.
pub(crate) fn announced(conn: &mut DbConnection, r: &Release, now: NaiveDateTime) -> ServiceResult<Option<Announced>> {
    let status = ReleaseStatus::parse(&r.status).unwrap_or(ReleaseStatus::Planned);
    let Some(span) = maintenance_span(status, r.window_start, r.window_end, r.rolled_back_at) else {
        return Ok(None);
    };
    let Some(to) = span.to.filter(|to| *to > now) else { return Ok(None) };
    let ids = crate::db::releases::services_of(conn, r.id)?;
    let mut names: Vec<String> =
        services::all(conn)?.into_iter().filter(|s| ids.contains(&s.id)).map(|s| s.name).collect();
    names.sort();
    Ok(Some(Announced { notice: r.maintenance_notice.trim().to_string(), services: names, from: span.from, to }))
}

/// The notice as the public reads it: the release's own, or the generic one.
pub fn notice_text(notice: &str) -> &str {
    if notice.trim().is_empty() { GENERIC_MAINTENANCE } else { notice }
}

fn services_text(names: &[String]) -> String {
    if names.is_empty() { "All services".to_string() } else { names.join(", ") }
}

/// Called in the transaction of a release change with what was announced before and what is
/// to be announced now: records the announcement (the feed's entry) and queues its mail to all
/// subscribers. A window that already began and now ends early is not "cancelled": the page
/// shows it over, and nobody is mailed.
pub(crate) fn maintenance_changed(
    state: &AppState,
    conn: &mut DbConnection,
    release_id: i64,
    before: Option<&Announced>,
    after: Option<&Announced>,
    now: NaiveDateTime,
) -> ServiceResult<Option<MaintenanceNews>> {
    let Some(news) = maintenance_news(before, after) else { return Ok(None) };
    let (shown, cancelled) = match (news, before, after) {
        (MaintenanceNews::Cancelled, Some(b), _) if b.from <= now => return Ok(None),
        (MaintenanceNews::Cancelled, Some(b), _) => (b, true),
        (_, _, Some(a)) => (a, false),
        _ => return Ok(None),
    };
    let services = services_text(&shown.services);
    db::insert_announcement(
        conn,
        &db::NewAnnouncement {
            release_id,
            kind: news.as_str(),
            notice: &shown.notice,
            services: &services,
            starts_at: shown.from,
            ends_at: shown.to,
            now,
        },
    )?;
    let facts = crate::mail::status_page::MaintenanceFacts {
        headline: news.label().to_string(),
        notice: notice_text(&shown.notice).to_string(),
        services,
        starts_at: shown.from,
        ends_at: shown.to,
        cancelled,
    };
    crate::mail::status_page::maintenance(state, conn, &facts, release_id)?;
    Ok(Some(news))
}

/// Validates a public maintenance notice (may be empty).
pub fn check_notice(notice: &str, errors: &mut FieldErrors) -> Option<String> {
    let n = check_body(notice, "maintenance_notice", "The maintenance notice", errors)?.trim().to_string();
    if n.chars().count() > MAX_NOTICE_CHARS {
        errors.add(
            "maintenance_notice",
            format!("The maintenance notice must be at most {MAX_NOTICE_CHARS} characters."),
        );
        return None;
    }
    Some(n)
}

// ---------- the mail job ----------

/// The status-mail job's lock (PostgreSQL advisory lock key).
const FAN_OUT_LOCK: i64 = 0x5f1a_0007;

/// The `status_mail` job: copies every pending mailing into the outbox, once per subscriber
/// confirmed when it was made, `FAN_OUT_BATCH` subscribers per transaction (the mailing's
/// cursor moves with each batch, so a crash repeats nothing and loses nothing). A retracted
/// update's mailing stops. Returns the messages queued.
pub fn fan_out(state: &AppState) -> ServiceResult<usize> {
    let pending = db::pending_mailings(&mut *state.conn()?, 100)?;
    let mut queued = 0;
    for m in pending {
        loop {
            match state.tx(|conn| fan_out_batch(state, conn, m.id)) {
                Ok((n, done)) => {
                    queued += n;
                    if done {
                        break;
                    }
                }
                // Another run took this batch; it goes on with the mailing.
                Err(ServiceError::Conflict(_)) => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(queued)
}

/// One batch of one mailing: (messages queued, whether the mailing is finished or another run
/// has it).
fn fan_out_batch(state: &AppState, conn: &mut DbConnection, id: i64) -> ServiceResult<(usize, bool)> {
    if !crate::db::try_job_lock(conn, FAN_OUT_LOCK)? {
        return Ok((0, true));
    }
    let m = db::find_mailing(conn, id)?;
    if m.done_at.is_some() {
        return Ok((0, true));
    }
    let now = state.clock.now_naive();
    if let Some(update_id) = m.status_update_id
        && db::find_update(conn, update_id)?.retracted_at.is_some()
    {
        db::advance_mailing(conn, m.id, m.last_subscriber_id, m.last_subscriber_id, Some(now))?;
        return Ok((0, true));
    }
    let subscribers = db::confirmed_after(conn, m.last_subscriber_id, m.created_at, FAN_OUT_BATCH)?;
    let rows: Vec<db::OutboxRow> =
        subscribers.iter().map(|s| crate::mail::status_page::personal(state, &m, s, now)).collect();
    db::queue_many(conn, &rows)?;
    let done = (subscribers.len() as i64) < FAN_OUT_BATCH;
    let to = subscribers.last().map_or(m.last_subscriber_id, |s| s.id);
    if !db::advance_mailing(conn, m.id, m.last_subscriber_id, to, done.then_some(now))? {
        return Err(ServiceError::Conflict("another run fanned this batch out".into()));
    }
    Ok((rows.len(), done))
}

/// A posted update as staff see it on the incident page: retracted ones too, with their edits.
#[derive(Debug, Clone)]
pub struct StaffUpdate {
    pub update: PublicUpdate,
    pub retracted_at: Option<NaiveDateTime>,
    pub retract_reason: String,
    pub edits: Vec<UpdateEdit>,
}

/// The status page section of the incident page (for those who may publish).
#[derive(Debug, Clone)]
pub struct Panel {
    pub publication: Option<StatusIncident>,
    /// The state the incident puts its service in now (override or severity).
    pub state: ServiceState,
    /// Newest first.
    pub updates: Vec<StaffUpdate>,
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
        Some(si) => {
            let rows = db::updates_for(conn, &[si.id], true)?;
            let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
            let mut edits: HashMap<i64, Vec<UpdateEdit>> = HashMap::new();
            for e in db::edits_for(conn, &ids)? {
                edits.entry(e.status_update_id).or_default().push(e);
            }
            rows.into_iter()
                .rev()
                .map(|u| StaffUpdate {
                    retracted_at: u.retracted_at,
                    retract_reason: u.retract_reason.clone(),
                    edits: edits.remove(&u.id).unwrap_or_default(),
                    update: PublicUpdate::from_row(u),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let st = incident_state(&inc.severity, publication.as_ref().and_then(|p| p.state_override.as_deref()));
    Ok(Some(Panel { publication, state: st, updates }))
}

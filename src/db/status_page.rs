//! The status page's tables: incidents shown there (`status_incidents`), the state log of each
//! (`status_states`), their public updates (`status_updates`, with `status_update_edits`), mail
//! subscribers (`status_subscribers`), maintenance announcements (`status_announcements`) and
//! mail waiting to be fanned out to subscribers (`status_mailings`); and the few incident, event
//! and release facts the page derives states from.

use super::schema::{
    incident_events, incidents, outbox, release_services, releases, status_announcements, status_incidents,
    status_mailings, status_states, status_subscribers, status_update_edits, status_updates,
};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_incidents)]
pub struct StatusIncident {
    pub id: i64,
    pub incident_id: i64,
    pub shown: bool,
    pub public_title: String,
    pub state_override: Option<String>,
    pub published_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_updates)]
pub struct StatusUpdate {
    pub id: i64,
    pub status_incident_id: i64,
    pub phase: String,
    pub body: String,
    pub author_id: Option<i64>,
    pub created_at: NaiveDateTime,
    /// The state the update's service was in when it was posted (a `ServiceState` name).
    pub state: String,
    /// The timeline event that shows the update to the incident's customers.
    pub event_id: Option<i64>,
    pub edited_at: Option<NaiveDateTime>,
    /// Retracted updates are gone from every public view; staff still see them.
    pub retracted_at: Option<NaiveDateTime>,
    pub retracted_by: Option<i64>,
    pub retract_reason: String,
}

/// One entry of a shown incident's state log.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_states)]
pub struct StateEntry {
    pub id: i64,
    pub status_incident_id: i64,
    pub service_id: i64,
    pub state: String,
    pub at: NaiveDateTime,
}

/// One edit of a public update.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_update_edits)]
pub struct UpdateEdit {
    pub id: i64,
    pub status_update_id: i64,
    pub old_body: String,
    pub new_body: String,
    pub editor_id: Option<i64>,
    pub at: NaiveDateTime,
}

/// A maintenance announcement, as it stood when made.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_announcements)]
pub struct Announcement {
    pub id: i64,
    pub release_id: i64,
    pub kind: String,
    pub notice: String,
    pub services: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// A mail to every subscriber, rendered once; `marker` stands for each one's unsubscribe link.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_mailings)]
pub struct Mailing {
    pub id: i64,
    pub kind: String,
    pub status_update_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub marker: String,
    pub thread: String,
    pub message_prefix: String,
    pub created_at: NaiveDateTime,
    pub last_subscriber_id: i64,
    pub done_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = status_subscribers)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub confirm_hash: Option<String>,
    pub confirm_expires_at: Option<NaiveDateTime>,
    pub confirm_sent_at: Option<NaiveDateTime>,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribe_seed: String,
    pub unsubscribe_hash: String,
    pub request_ip: String,
    pub created_at: NaiveDateTime,
}

/// What the status page needs of an incident: never its title, description or people.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct IncidentFacts {
    pub id: i64,
    pub service_id: i64,
    pub severity: String,
    pub is_open: bool,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<StatusIncident> {
    Ok(status_incidents::table.find(id).select(StatusIncident::as_select()).first(conn)?)
}

pub fn for_incident(conn: &mut DbConnection, incident_id: i64) -> DbResult<Option<StatusIncident>> {
    Ok(status_incidents::table
        .filter(status_incidents::incident_id.eq(incident_id))
        .select(StatusIncident::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, incident_id: i64, title: &str, now: NaiveDateTime) -> DbResult<StatusIncident> {
    Ok(diesel::insert_into(status_incidents::table)
        .values((
            status_incidents::incident_id.eq(incident_id),
            status_incidents::shown.eq(true),
            status_incidents::public_title.eq(title),
            status_incidents::published_at.eq(now),
            status_incidents::updated_at.eq(now),
        ))
        .returning(status_incidents::all_columns)
        .get_result(conn)?)
}

pub fn set_publication(conn: &mut DbConnection, id: i64, shown: bool, title: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(status_incidents::table.find(id))
        .set((
            status_incidents::shown.eq(shown),
            status_incidents::public_title.eq(title),
            status_incidents::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_override(conn: &mut DbConnection, id: i64, state: Option<&str>, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(status_incidents::table.find(id))
        .set((status_incidents::state_override.eq(state), status_incidents::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub struct NewUpdate<'a> {
    pub status_incident_id: i64,
    pub phase: &'a str,
    pub body: &'a str,
    pub author_id: i64,
    pub state: &'a str,
    pub event_id: i64,
    pub now: NaiveDateTime,
}

pub fn insert_update(conn: &mut DbConnection, n: &NewUpdate<'_>) -> DbResult<StatusUpdate> {
    let u = diesel::insert_into(status_updates::table)
        .values((
            status_updates::status_incident_id.eq(n.status_incident_id),
            status_updates::phase.eq(n.phase),
            status_updates::body.eq(n.body),
            status_updates::author_id.eq(Some(n.author_id)),
            status_updates::created_at.eq(n.now),
            status_updates::state.eq(n.state),
            status_updates::event_id.eq(Some(n.event_id)),
        ))
        .returning(status_updates::all_columns)
        .get_result(conn)?;
    touch(conn, n.status_incident_id, n.now)?;
    Ok(u)
}

fn touch(conn: &mut DbConnection, status_incident_id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(status_incidents::table.find(status_incident_id))
        .set(status_incidents::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn find_update(conn: &mut DbConnection, id: i64) -> DbResult<StatusUpdate> {
    Ok(status_updates::table.find(id).select(StatusUpdate::as_select()).first(conn)?)
}

/// The updates of these status incidents, oldest first; retracted ones only when asked.
pub fn updates_for(conn: &mut DbConnection, ids: &[i64], include_retracted: bool) -> DbResult<Vec<StatusUpdate>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = status_updates::table.filter(status_updates::status_incident_id.eq_any(ids)).into_boxed();
    if !include_retracted {
        q = q.filter(status_updates::retracted_at.is_null());
    }
    Ok(q.order((status_updates::created_at.asc(), status_updates::id.asc()))
        .select(StatusUpdate::as_select())
        .load(conn)?)
}

/// Replaces an update's text and records the edit (old and new text, who, when).
pub fn edit_update(
    conn: &mut DbConnection,
    u: &StatusUpdate,
    body: &str,
    editor_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(status_update_edits::table)
        .values((
            status_update_edits::status_update_id.eq(u.id),
            status_update_edits::old_body.eq(&u.body),
            status_update_edits::new_body.eq(body),
            status_update_edits::editor_id.eq(Some(editor_id)),
            status_update_edits::at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(status_updates::table.find(u.id))
        .set((status_updates::body.eq(body), status_updates::edited_at.eq(Some(now))))
        .execute(conn)?;
    touch(conn, u.status_incident_id, now)
}

/// Takes an update off every public view (the row stays for staff, with who and why).
pub fn retract_update(
    conn: &mut DbConnection,
    u: &StatusUpdate,
    by: i64,
    reason: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let n = diesel::update(status_updates::table.find(u.id).filter(status_updates::retracted_at.is_null()))
        .set((
            status_updates::retracted_at.eq(Some(now)),
            status_updates::retracted_by.eq(Some(by)),
            status_updates::retract_reason.eq(reason),
        ))
        .execute(conn)?;
    touch(conn, u.status_incident_id, now)?;
    Ok(n == 1)
}

/// The edits of these updates, oldest first.
pub fn edits_for(conn: &mut DbConnection, update_ids: &[i64]) -> DbResult<Vec<UpdateEdit>> {
    if update_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(status_update_edits::table
        .filter(status_update_edits::status_update_id.eq_any(update_ids))
        .order(status_update_edits::id.asc())
        .select(UpdateEdit::as_select())
        .load(conn)?)
}

/// Points the update's customer-facing timeline event at its new text.
pub fn set_event_text(conn: &mut DbConnection, event_id: i64, body: &str) -> DbResult<()> {
    diesel::update(incident_events::table.find(event_id)).set(incident_events::new_value.eq(body)).execute(conn)?;
    Ok(())
}

/// Hides the update's timeline event from the incident's customers (staff still see it).
pub fn hide_event(conn: &mut DbConnection, event_id: i64) -> DbResult<()> {
    diesel::update(incident_events::table.find(event_id)).set(incident_events::internal.eq(true)).execute(conn)?;
    Ok(())
}

// ---------- the state log ----------

/// The latest entry of a shown incident's state log.
pub fn last_state(conn: &mut DbConnection, status_incident_id: i64) -> DbResult<Option<StateEntry>> {
    Ok(status_states::table
        .filter(status_states::status_incident_id.eq(status_incident_id))
        .order((status_states::at.desc(), status_states::id.desc()))
        .select(StateEntry::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_state(
    conn: &mut DbConnection,
    status_incident_id: i64,
    service_id: i64,
    state: &str,
    at: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(status_states::table)
        .values((
            status_states::status_incident_id.eq(status_incident_id),
            status_states::service_id.eq(service_id),
            status_states::state.eq(state),
            status_states::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The state logs of these shown incidents, each in time order.
pub fn states_for(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<StateEntry>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(status_states::table
        .filter(status_states::status_incident_id.eq_any(ids))
        .order((status_states::at.asc(), status_states::id.asc()))
        .select(StateEntry::as_select())
        .load(conn)?)
}

/// Shown incidents that may have been active since `since`: still open, or changed since then.
pub fn shown_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<(StatusIncident, IncidentFacts)>> {
    Ok(status_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(status_incidents::incident_id)))
        .filter(status_incidents::shown.eq(true))
        .filter(
            incidents::is_open.eq(true).or(incidents::updated_at.ge(since)).or(status_incidents::updated_at.ge(since)),
        )
        .order((status_incidents::published_at.desc(), status_incidents::id.desc()))
        .limit(limit)
        .select((StatusIncident::as_select(), IncidentFacts::as_select()))
        .load(conn)?)
}

/// Shown incidents newest first, keyset before (published_at, id).
pub fn shown_page(
    conn: &mut DbConnection,
    before: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> DbResult<Vec<(StatusIncident, IncidentFacts)>> {
    let mut q = status_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(status_incidents::incident_id)))
        .filter(status_incidents::shown.eq(true))
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(
            status_incidents::published_at
                .lt(at)
                .or(status_incidents::published_at.eq(at).and(status_incidents::id.lt(id))),
        );
    }
    Ok(q.order((status_incidents::published_at.desc(), status_incidents::id.desc()))
        .limit(limit)
        .select((StatusIncident::as_select(), IncidentFacts::as_select()))
        .load(conn)?)
}

/// One shown incident with its facts (None when hidden or missing).
pub fn shown_one(conn: &mut DbConnection, id: i64) -> DbResult<Option<(StatusIncident, IncidentFacts)>> {
    Ok(status_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(status_incidents::incident_id)))
        .filter(status_incidents::shown.eq(true))
        .filter(status_incidents::id.eq(id))
        .select((StatusIncident::as_select(), IncidentFacts::as_select()))
        .first(conn)
        .optional()?)
}

/// Every workflow status change of these incidents: (incident, at, new status), in time order.
pub fn status_changes(conn: &mut DbConnection, incident_ids: &[i64]) -> DbResult<Vec<(i64, NaiveDateTime, String)>> {
    if incident_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(incident_events::table
        .filter(incident_events::incident_id.eq_any(incident_ids))
        .filter(incident_events::kind.eq("status_changed"))
        .order((incident_events::at.asc(), incident_events::id.asc()))
        .select((incident_events::incident_id, incident_events::at, incident_events::new_value))
        .load(conn)?)
}

/// The newest public updates of shown incidents (not retracted), with their incident.
pub fn recent_updates(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(StatusUpdate, StatusIncident)>> {
    Ok(status_updates::table
        .inner_join(status_incidents::table.on(status_incidents::id.eq(status_updates::status_incident_id)))
        .filter(status_incidents::shown.eq(true))
        .filter(status_updates::retracted_at.is_null())
        .order((status_updates::created_at.desc(), status_updates::id.desc()))
        .limit(limit)
        .select((StatusUpdate::as_select(), StatusIncident::as_select()))
        .load(conn)?)
}

/// What the status page may know of a release's window on one service: never its title, notes
/// or version; only the public notice, the status (which decides whether the window is
/// scheduled) and the times.
#[derive(Debug, Clone, Queryable)]
pub struct WindowRow {
    pub release_id: i64,
    pub notice: String,
    pub status: String,
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    pub rolled_back_at: Option<NaiveDateTime>,
    pub service_id: i64,
}

/// Release windows ending after `after` on each affected service, earliest first: those of
/// releases past planning (drafts never show); the caller applies `maintenance_span`.
pub fn windows_after(conn: &mut DbConnection, after: NaiveDateTime, limit: i64) -> DbResult<Vec<WindowRow>> {
    Ok(releases::table
        .inner_join(release_services::table.on(release_services::release_id.eq(releases::id)))
        .filter(releases::status.ne("planned"))
        .filter(releases::window_start.is_not_null())
        .filter(releases::window_end.gt(after))
        .order((releases::window_start.asc(), releases::id.asc(), release_services::service_id.asc()))
        .limit(limit)
        .select((
            releases::id,
            releases::maintenance_notice,
            releases::status,
            releases::window_start,
            releases::window_end,
            releases::rolled_back_at,
            release_services::service_id,
        ))
        .load(conn)?)
}

// ---------- maintenance announcements ----------

pub struct NewAnnouncement<'a> {
    pub release_id: i64,
    pub kind: &'a str,
    pub notice: &'a str,
    pub services: &'a str,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub now: NaiveDateTime,
}

pub fn insert_announcement(conn: &mut DbConnection, a: &NewAnnouncement<'_>) -> DbResult<Announcement> {
    Ok(diesel::insert_into(status_announcements::table)
        .values((
            status_announcements::release_id.eq(a.release_id),
            status_announcements::kind.eq(a.kind),
            status_announcements::notice.eq(a.notice),
            status_announcements::services.eq(a.services),
            status_announcements::starts_at.eq(a.starts_at),
            status_announcements::ends_at.eq(a.ends_at),
            status_announcements::created_at.eq(a.now),
        ))
        .returning(status_announcements::all_columns)
        .get_result(conn)?)
}

/// The newest announcements, newest first.
pub fn recent_announcements(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<Announcement>> {
    Ok(status_announcements::table
        .order((status_announcements::created_at.desc(), status_announcements::id.desc()))
        .limit(limit)
        .select(Announcement::as_select())
        .load(conn)?)
}

// ---------- mail to all subscribers ----------

pub struct NewMailing<'a> {
    pub kind: &'a str,
    pub status_update_id: Option<i64>,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub marker: &'a str,
    pub thread: &'a str,
    pub message_prefix: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert_mailing(conn: &mut DbConnection, m: &NewMailing<'_>) -> DbResult<()> {
    diesel::insert_into(status_mailings::table)
        .values((
            status_mailings::kind.eq(m.kind),
            status_mailings::status_update_id.eq(m.status_update_id),
            status_mailings::subject.eq(m.subject),
            status_mailings::body_text.eq(m.body_text),
            status_mailings::body_html.eq(m.body_html),
            status_mailings::marker.eq(m.marker),
            status_mailings::thread.eq(m.thread),
            status_mailings::message_prefix.eq(m.message_prefix),
            status_mailings::created_at.eq(m.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mailings not fanned out completely yet, oldest first.
pub fn pending_mailings(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<Mailing>> {
    Ok(status_mailings::table
        .filter(status_mailings::done_at.is_null())
        .order(status_mailings::id.asc())
        .limit(limit)
        .select(Mailing::as_select())
        .load(conn)?)
}

pub fn find_mailing(conn: &mut DbConnection, id: i64) -> DbResult<Mailing> {
    Ok(status_mailings::table.find(id).select(Mailing::as_select()).first(conn)?)
}

/// Subscribers confirmed by `confirmed_by`, with ids above `after`, in id order.
pub fn confirmed_after(
    conn: &mut DbConnection,
    after: i64,
    confirmed_by: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<Subscriber>> {
    Ok(status_subscribers::table
        .filter(status_subscribers::id.gt(after))
        .filter(status_subscribers::confirmed_at.le(confirmed_by))
        .order(status_subscribers::id.asc())
        .limit(limit)
        .select(Subscriber::as_select())
        .load(conn)?)
}

/// Moves a mailing's cursor from `from` to `to` (and marks it done), only if no other run moved
/// it meanwhile: false means the batch was another run's, and the caller rolls back.
pub fn advance_mailing(
    conn: &mut DbConnection,
    id: i64,
    from: i64,
    to: i64,
    done: Option<NaiveDateTime>,
) -> DbResult<bool> {
    let n = diesel::update(
        status_mailings::table
            .find(id)
            .filter(status_mailings::last_subscriber_id.eq(from))
            .filter(status_mailings::done_at.is_null()),
    )
    .set((status_mailings::last_subscriber_id.eq(to), status_mailings::done_at.eq(done)))
    .execute(conn)?;
    Ok(n == 1)
}

/// One subscriber's copy of a mailing, for the outbox.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
#[diesel(treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub created_at: NaiveDateTime,
    pub kind: String,
    pub user_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub list_unsubscribe: String,
}

/// Rows per INSERT: 15 columns each, well under SQLite's bound-variable limit.
const OUTBOX_ROWS_PER_STATEMENT: usize = 200;

/// Writes many outbox rows with few statements (batch inserts do not go through the
/// MultiConnection enum, so each backend runs the same builder).
pub fn queue_many(conn: &mut DbConnection, rows: &[OutboxRow]) -> DbResult<()> {
    for chunk in rows.chunks(OUTBOX_ROWS_PER_STATEMENT) {
        match conn {
            DbConnection::Sqlite(c) => diesel::insert_into(outbox::table).values(chunk).execute(c)?,
            DbConnection::Pg(c) => diesel::insert_into(outbox::table).values(chunk).execute(c)?,
        };
    }
    Ok(())
}

// ---------- subscribers ----------

pub fn subscriber_by_email(conn: &mut DbConnection, email: &str) -> DbResult<Option<Subscriber>> {
    Ok(status_subscribers::table
        .filter(status_subscribers::email.eq(email))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()?)
}

/// A new pending subscription with its confirmation token hash.
pub struct NewSubscriber<'a> {
    pub email: &'a str,
    pub confirm_hash: &'a str,
    pub confirm_expires_at: NaiveDateTime,
    pub unsubscribe_seed: &'a str,
    pub unsubscribe_hash: &'a str,
    pub request_ip: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert_subscriber(conn: &mut DbConnection, s: &NewSubscriber<'_>) -> DbResult<Subscriber> {
    Ok(diesel::insert_into(status_subscribers::table)
        .values((
            status_subscribers::email.eq(s.email),
            status_subscribers::confirm_hash.eq(Some(s.confirm_hash)),
            status_subscribers::confirm_expires_at.eq(Some(s.confirm_expires_at)),
            status_subscribers::confirm_sent_at.eq(Some(s.now)),
            status_subscribers::unsubscribe_seed.eq(s.unsubscribe_seed),
            status_subscribers::unsubscribe_hash.eq(s.unsubscribe_hash),
            status_subscribers::request_ip.eq(s.request_ip),
            status_subscribers::created_at.eq(s.now),
        ))
        .returning(status_subscribers::all_columns)
        .get_result(conn)?)
}

/// A fresh confirmation token for a pending subscription (the old link stops working).
pub fn renew_confirmation(
    conn: &mut DbConnection,
    id: i64,
    confirm_hash: &str,
    expires_at: NaiveDateTime,
    request_ip: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(status_subscribers::table.find(id).filter(status_subscribers::confirmed_at.is_null()))
        .set((
            status_subscribers::confirm_hash.eq(Some(confirm_hash)),
            status_subscribers::confirm_expires_at.eq(Some(expires_at)),
            status_subscribers::confirm_sent_at.eq(Some(now)),
            status_subscribers::request_ip.eq(request_ip),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many confirmation mails requests from this IP caused since `since`.
pub fn confirmations_from_ip(conn: &mut DbConnection, ip: &str, since: NaiveDateTime) -> DbResult<i64> {
    Ok(status_subscribers::table
        .filter(status_subscribers::request_ip.eq(ip))
        .filter(status_subscribers::confirm_sent_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// The pending subscription a live confirmation token belongs to.
pub fn by_live_confirmation(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> DbResult<Option<Subscriber>> {
    Ok(status_subscribers::table
        .filter(status_subscribers::confirm_hash.eq(hash))
        .filter(status_subscribers::confirmed_at.is_null())
        .filter(status_subscribers::confirm_expires_at.gt(now))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()?)
}

/// Confirms with a live token, once: false when it was used, expired or never existed.
pub fn confirm(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> DbResult<Option<Subscriber>> {
    let n = diesel::update(
        status_subscribers::table
            .filter(status_subscribers::confirm_hash.eq(hash))
            .filter(status_subscribers::confirmed_at.is_null())
            .filter(status_subscribers::confirm_expires_at.gt(now)),
    )
    .set((
        status_subscribers::confirmed_at.eq(Some(now)),
        status_subscribers::confirm_hash.eq(None::<String>),
        status_subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
    ))
    .returning(status_subscribers::all_columns)
    .get_results::<Subscriber>(conn)?;
    Ok(n.into_iter().next())
}

pub fn by_unsubscribe(conn: &mut DbConnection, hash: &str) -> DbResult<Option<Subscriber>> {
    Ok(status_subscribers::table
        .filter(status_subscribers::unsubscribe_hash.eq(hash))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete_subscriber(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(diesel::delete(status_subscribers::table.find(id)).execute(conn)? == 1)
}

/// Drops subscriptions never confirmed whose last confirmation mail went out before `before`.
pub fn prune_unconfirmed(conn: &mut DbConnection, before: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::delete(
        status_subscribers::table
            .filter(status_subscribers::confirmed_at.is_null())
            .filter(status_subscribers::confirm_sent_at.lt(before)),
    )
    .execute(conn)?)
}

/// Queues one mail to a subscriber (no user, no incident: replies to it are not filed on the
/// incident) with its List-Unsubscribe header.
pub struct SubscriberMail<'a> {
    pub kind: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: &'a str,
    pub list_unsubscribe: &'a str,
    pub now: NaiveDateTime,
}

pub fn queue_mail(conn: &mut DbConnection, m: &SubscriberMail<'_>) -> DbResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::created_at.eq(m.now),
            outbox::kind.eq(m.kind),
            outbox::user_id.eq(None::<i64>),
            outbox::incident_id.eq(None::<i64>),
            outbox::to_address.eq(m.to),
            outbox::to_name.eq(""),
            outbox::subject.eq(m.subject),
            outbox::body_text.eq(m.body_text),
            outbox::body_html.eq(m.body_html),
            outbox::message_id.eq(m.message_id),
            outbox::in_reply_to.eq(m.in_reply_to),
            outbox::status.eq("queued"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(m.now),
            outbox::list_unsubscribe.eq(m.list_unsubscribe),
        ))
        .execute(conn)?;
    Ok(())
}

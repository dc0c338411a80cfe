//! The status page's tables: incidents shown there (`status_incidents`), their public updates
//! (`status_updates`), mail subscribers (`status_subscribers`); and the few incident, event and
//! release facts the page derives states from.

use super::schema::{
    incident_events, incidents, release_services, releases, status_incidents, status_subscribers, status_updates,
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

pub fn insert_update(
    conn: &mut DbConnection,
    status_incident_id: i64,
    phase: &str,
    body: &str,
    author_id: i64,
    now: NaiveDateTime,
) -> DbResult<StatusUpdate> {
    let u = diesel::insert_into(status_updates::table)
        .values((
            status_updates::status_incident_id.eq(status_incident_id),
            status_updates::phase.eq(phase),
            status_updates::body.eq(body),
            status_updates::author_id.eq(Some(author_id)),
            status_updates::created_at.eq(now),
        ))
        .returning(status_updates::all_columns)
        .get_result(conn)?;
    diesel::update(status_incidents::table.find(status_incident_id))
        .set(status_incidents::updated_at.eq(now))
        .execute(conn)?;
    Ok(u)
}

/// The updates of these status incidents, oldest first.
pub fn updates_for(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<StatusUpdate>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(status_updates::table
        .filter(status_updates::status_incident_id.eq_any(ids))
        .order((status_updates::created_at.asc(), status_updates::id.asc()))
        .select(StatusUpdate::as_select())
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

/// The newest public updates of shown incidents, with their incident.
pub fn recent_updates(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(StatusUpdate, StatusIncident)>> {
    Ok(status_updates::table
        .inner_join(status_incidents::table.on(status_incidents::id.eq(status_updates::status_incident_id)))
        .filter(status_incidents::shown.eq(true))
        .order((status_updates::created_at.desc(), status_updates::id.desc()))
        .limit(limit)
        .select((StatusUpdate::as_select(), StatusIncident::as_select()))
        .load(conn)?)
}

/// A release's planned window on one service: (release id, title, start, end, service id).
pub type WindowRow = (i64, String, NaiveDateTime, NaiveDateTime, i64);

/// Planned release windows ending after `after`, on each affected service, earliest first.
pub fn windows_after(conn: &mut DbConnection, after: NaiveDateTime, limit: i64) -> DbResult<Vec<WindowRow>> {
    type Row = (i64, String, Option<NaiveDateTime>, Option<NaiveDateTime>, i64);
    let rows: Vec<Row> = releases::table
        .inner_join(release_services::table.on(release_services::release_id.eq(releases::id)))
        .filter(releases::window_start.is_not_null())
        .filter(releases::window_end.gt(after))
        .order((releases::window_start.asc(), releases::id.asc(), release_services::service_id.asc()))
        .limit(limit)
        .select((
            releases::id,
            releases::title,
            releases::window_start,
            releases::window_end,
            release_services::service_id,
        ))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, title, s, e, svc)| Some((id, title, s?, e?, svc))).collect())
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

/// Every confirmed subscriber, in id order.
pub fn confirmed(conn: &mut DbConnection) -> DbResult<Vec<Subscriber>> {
    Ok(status_subscribers::table
        .filter(status_subscribers::confirmed_at.is_not_null())
        .order(status_subscribers::id.asc())
        .select(Subscriber::as_select())
        .load(conn)?)
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
    use super::schema::outbox;
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

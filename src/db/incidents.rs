//! Incidents, their tags, watchers, comments, events and links; the queue query.

use super::models::{Comment, Incident, IncidentEvent, IncidentLink};
use super::schema::{comments, incident_events, incident_links, incident_tags, incident_watchers, incidents};
use super::{DbConnection, DbResult, search};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub struct NewIncident<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub service_id: i64,
    pub impact: &'a str,
    pub urgency: &'a str,
    pub priority: &'a str,
    pub severity: &'a str,
    pub status: &'a str,
    pub reporter_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub tier_id: i64,
    /// markdown or text.
    pub description_format: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, n: &NewIncident<'_>) -> DbResult<Incident> {
    let inc: Incident = diesel::insert_into(incidents::table)
        .values((
            incidents::title.eq(n.title),
            incidents::description.eq(n.description),
            incidents::service_id.eq(n.service_id),
            incidents::impact.eq(n.impact),
            incidents::urgency.eq(n.urgency),
            incidents::priority.eq(n.priority),
            incidents::severity.eq(n.severity),
            incidents::status.eq(n.status),
            incidents::is_open.eq(true),
            incidents::reporter_id.eq(n.reporter_id),
            incidents::organization_id.eq(n.organization_id),
            incidents::assignee_id.eq(n.assignee_id),
            incidents::created_at.eq(n.now),
            incidents::updated_at.eq(n.now),
            incidents::acknowledged_at.eq(n.acknowledged_at),
            incidents::resolution.eq(""),
            incidents::version.eq(1),
            incidents::tier_id.eq(n.tier_id),
            incidents::description_format.eq(n.description_format),
        ))
        .returning(incidents::all_columns)
        .get_result(conn)?;
    search::index_incident(conn, inc.id, &inc.title, &inc.description)?;
    Ok(inc)
}

/// The incident as the access policy sees it.
pub fn resource(conn: &mut DbConnection, inc: &Incident) -> DbResult<crate::domain::policy::Resource> {
    let org_shares = match inc.organization_id {
        Some(o) => super::organizations::find(conn, o)?.share_incidents,
        None => false,
    };
    Ok(crate::domain::policy::Resource::Incident {
        reporter_id: inc.reporter_id,
        organization_id: inc.organization_id,
        org_shares,
    })
}

/// The incident with what deciding who may see it needs (its organization's sharing), in one
/// statement.
pub fn find_with_resource(conn: &mut DbConnection, id: i64) -> DbResult<(Incident, crate::domain::policy::Resource)> {
    use super::schema::organizations;
    let (inc, shares): (Incident, Option<bool>) = incidents::table
        .left_join(organizations::table.on(incidents::organization_id.eq(organizations::id.nullable())))
        .filter(incidents::id.eq(id))
        .select((Incident::as_select(), organizations::share_incidents.nullable()))
        .first(conn)?;
    let res = crate::domain::policy::Resource::Incident {
        reporter_id: inc.reporter_id,
        organization_id: inc.organization_id,
        org_shares: shares.unwrap_or(false),
    };
    Ok((inc, res))
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Incident> {
    Ok(incidents::table.find(id).select(Incident::as_select()).first(conn)?)
}

pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<Incident>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(incidents::table.filter(incidents::id.eq_any(ids)).select(Incident::as_select()).load(conn)?)
}

/// A change to an incident. `None` leaves a column alone; the version always moves on.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = incidents)]
pub struct IncidentChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub service_id: Option<i64>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    pub priority: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub is_open: Option<bool>,
    pub assignee_id: Option<Option<i64>>,
    pub acknowledged_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    pub resolution: Option<String>,
    pub tier_id: Option<i64>,
}

/// Applies `changes` if the incident is still at `expected_version`; returns the new row, or
/// None when somebody else changed it first.
pub fn update_versioned(
    conn: &mut DbConnection,
    id: i64,
    expected_version: i32,
    changes: &IncidentChanges,
    now: NaiveDateTime,
) -> DbResult<Option<Incident>> {
    let n =
        diesel::update(incidents::table.filter(incidents::id.eq(id)).filter(incidents::version.eq(expected_version)))
            .set((changes, incidents::updated_at.eq(now), incidents::version.eq(expected_version + 1)))
            .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let inc = find(conn, id)?;
    if changes.title.is_some() || changes.description.is_some() {
        search::index_incident(conn, inc.id, &inc.title, &inc.description)?;
    }
    Ok(Some(inc))
}

/// Sets acknowledged_at unless it is set already; true when this call set it.
pub fn set_acknowledged(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    let n = diesel::update(incidents::table.find(id).filter(incidents::acknowledged_at.is_null()))
        .set(incidents::acknowledged_at.eq(Some(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the incident updated without moving its version (comments, links).
pub fn mark_updated(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(incidents::table.find(id)).set(incidents::updated_at.eq(now)).execute(conn)?;
    Ok(())
}

// ---- tags and watchers ----

pub fn set_tags(conn: &mut DbConnection, id: i64, tags: &[String]) -> DbResult<()> {
    diesel::delete(incident_tags::table.filter(incident_tags::incident_id.eq(id))).execute(conn)?;
    for t in tags {
        diesel::insert_into(incident_tags::table)
            .values((incident_tags::incident_id.eq(id), incident_tags::tag.eq(t)))
            .execute(conn)?;
    }
    Ok(())
}

/// (incident id, tag) for the given incidents, in tag order.
pub fn tags_for(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(incident_tags::table
        .filter(super::in_ids(conn, "incident_tags.incident_id", ids))
        .select((incident_tags::incident_id, incident_tags::tag))
        .order((incident_tags::incident_id.asc(), incident_tags::tag.asc()))
        .load(conn)?)
}

pub fn add_watcher(conn: &mut DbConnection, id: i64, user_id: i64) -> DbResult<bool> {
    if is_watching(conn, id, user_id)? {
        return Ok(false);
    }
    diesel::insert_into(incident_watchers::table)
        .values((incident_watchers::incident_id.eq(id), incident_watchers::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(true)
}

pub fn remove_watcher(conn: &mut DbConnection, id: i64, user_id: i64) -> DbResult<bool> {
    Ok(diesel::delete(
        incident_watchers::table
            .filter(incident_watchers::incident_id.eq(id))
            .filter(incident_watchers::user_id.eq(user_id)),
    )
    .execute(conn)?
        > 0)
}

/// The incident's tags in order and whether the user watches it, in one statement.
pub fn tags_and_watching(conn: &mut DbConnection, id: i64, user_id: i64) -> DbResult<(Vec<String>, bool)> {
    let watched = incident_watchers::table
        .filter(incident_watchers::incident_id.eq(id))
        .filter(incident_watchers::user_id.eq(user_id));
    let (tags, watching): (Option<String>, bool) = incidents::table
        .find(id)
        .select((super::models::TagList, diesel::dsl::exists(watched)))
        .first(conn)
        .optional()?
        .unwrap_or((None, false));
    Ok((super::models::TagList::split(tags), watching))
}

pub fn is_watching(conn: &mut DbConnection, id: i64, user_id: i64) -> DbResult<bool> {
    let n: i64 = incident_watchers::table
        .filter(incident_watchers::incident_id.eq(id))
        .filter(incident_watchers::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn watchers(conn: &mut DbConnection, id: i64) -> DbResult<Vec<i64>> {
    Ok(incident_watchers::table
        .filter(incident_watchers::incident_id.eq(id))
        .select(incident_watchers::user_id)
        .load(conn)?)
}

// ---- comments ----

pub fn insert_comment(
    conn: &mut DbConnection,
    incident_id: i64,
    author_id: i64,
    body: &str,
    (internal, format): (bool, &str),
    now: NaiveDateTime,
) -> DbResult<Comment> {
    let c: Comment = diesel::insert_into(comments::table)
        .values((
            comments::incident_id.eq(incident_id),
            comments::author_id.eq(author_id),
            comments::body.eq(body),
            comments::internal.eq(internal),
            comments::format.eq(format),
            comments::created_at.eq(now),
        ))
        .returning(comments::all_columns)
        .get_result(conn)?;
    search::index_comment(conn, &c)?;
    Ok(c)
}

pub fn find_comment(conn: &mut DbConnection, id: i64) -> DbResult<Comment> {
    Ok(comments::table.find(id).select(Comment::as_select()).first(conn)?)
}

pub fn update_comment(conn: &mut DbConnection, id: i64, body: &str, now: NaiveDateTime) -> DbResult<Comment> {
    let c: Comment = diesel::update(comments::table.find(id))
        .set((comments::body.eq(body), comments::edited_at.eq(Some(now))))
        .returning(comments::all_columns)
        .get_result(conn)?;
    search::index_comment(conn, &c)?;
    Ok(c)
}

pub fn comments_for(conn: &mut DbConnection, incident_id: i64, include_internal: bool) -> DbResult<Vec<Comment>> {
    let mut q = comments::table.filter(comments::incident_id.eq(incident_id)).select(Comment::as_select()).into_boxed();
    if !include_internal {
        q = q.filter(comments::internal.eq(false));
    }
    Ok(q.order((comments::created_at.asc(), comments::id.asc())).load(conn)?)
}

/// Comments by id (public ones only unless asked).
pub fn comments_by_ids(conn: &mut DbConnection, ids: &[i64], include_internal: bool) -> DbResult<Vec<Comment>> {
    let mut q = comments::table.filter(comments::id.eq_any(ids)).select(Comment::as_select()).into_boxed();
    if !include_internal {
        q = q.filter(comments::internal.eq(false));
    }
    Ok(q.load(conn)?)
}

// ---- events ----

pub struct NewEvent<'a> {
    pub incident_id: i64,
    pub actor_id: Option<i64>,
    pub kind: &'a str,
    pub field: &'a str,
    pub old_value: &'a str,
    pub new_value: &'a str,
    pub internal: bool,
    pub comment_id: Option<i64>,
    pub version: i32,
    pub at: NaiveDateTime,
}

pub fn insert_event(conn: &mut DbConnection, e: &NewEvent<'_>) -> DbResult<()> {
    insert_event_id(conn, e).map(|_| ())
}

/// Writes a timeline event and returns its id (for records that point at their event).
pub fn insert_event_id(conn: &mut DbConnection, e: &NewEvent<'_>) -> DbResult<i64> {
    Ok(diesel::insert_into(incident_events::table)
        .values((
            incident_events::incident_id.eq(e.incident_id),
            incident_events::at.eq(e.at),
            incident_events::actor_id.eq(e.actor_id),
            incident_events::kind.eq(e.kind),
            incident_events::field.eq(e.field),
            incident_events::old_value.eq(e.old_value),
            incident_events::new_value.eq(e.new_value),
            incident_events::internal.eq(e.internal),
            incident_events::comment_id.eq(e.comment_id),
            incident_events::version.eq(e.version),
        ))
        .returning(incident_events::id)
        .get_result(conn)?)
}

/// The timeline, oldest first. Customers pass `include_internal = false`.
pub fn events_for(conn: &mut DbConnection, incident_id: i64, include_internal: bool) -> DbResult<Vec<IncidentEvent>> {
    let mut q = incident_events::table
        .filter(incident_events::incident_id.eq(incident_id))
        .select(IncidentEvent::as_select())
        .into_boxed();
    if !include_internal {
        q = q.filter(incident_events::internal.eq(false));
    }
    Ok(q.order((incident_events::at.asc(), incident_events::id.asc())).load(conn)?)
}

/// Events written after `version` (what changed since a user loaded the page).
pub fn events_since(
    conn: &mut DbConnection,
    incident_id: i64,
    version: i32,
    include_internal: bool,
) -> DbResult<Vec<IncidentEvent>> {
    let mut q = incident_events::table
        .filter(incident_events::incident_id.eq(incident_id))
        .filter(incident_events::version.gt(version))
        .select(IncidentEvent::as_select())
        .into_boxed();
    if !include_internal {
        q = q.filter(incident_events::internal.eq(false));
    }
    Ok(q.order((incident_events::at.asc(), incident_events::id.asc())).load(conn)?)
}

// ---- links ----

pub fn insert_link(
    conn: &mut DbConnection,
    from_id: i64,
    to_id: i64,
    kind: &str,
    by: i64,
    now: NaiveDateTime,
) -> DbResult<IncidentLink> {
    Ok(diesel::insert_into(incident_links::table)
        .values((
            incident_links::from_id.eq(from_id),
            incident_links::to_id.eq(to_id),
            incident_links::kind.eq(kind),
            incident_links::created_at.eq(now),
            incident_links::created_by.eq(Some(by)),
        ))
        .returning(incident_links::all_columns)
        .get_result(conn)?)
}

pub fn find_link(conn: &mut DbConnection, id: i64) -> DbResult<IncidentLink> {
    Ok(incident_links::table.find(id).select(IncidentLink::as_select()).first(conn)?)
}

pub fn delete_link(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(incident_links::table.find(id)).execute(conn)?;
    Ok(())
}

/// Links where the incident is on either side.
pub fn links_for(conn: &mut DbConnection, id: i64) -> DbResult<Vec<IncidentLink>> {
    Ok(incident_links::table
        .filter(incident_links::from_id.eq(id).or(incident_links::to_id.eq(id)))
        .select(IncidentLink::as_select())
        .order(incident_links::id.asc())
        .load(conn)?)
}

/// Any link between the two incidents, either direction.
pub fn link_exists(conn: &mut DbConnection, a: i64, b: i64) -> DbResult<bool> {
    let n: i64 = incident_links::table
        .filter(
            incident_links::from_id
                .eq(a)
                .and(incident_links::to_id.eq(b))
                .or(incident_links::from_id.eq(b).and(incident_links::to_id.eq(a))),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

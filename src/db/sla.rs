//! SLA policies and calendars; the stored SLA times of incidents.

use super::models::{SlaCalendar, SlaPolicy};
use super::schema::{incident_events, incidents, sla_calendars, sla_policies};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The organization's override for the severity, else the default policy.
pub fn policy_for(
    conn: &mut DbConnection,
    severity: &str,
    organization_id: Option<i64>,
) -> DbResult<Option<SlaPolicy>> {
    if let Some(org) = organization_id {
        let own = sla_policies::table
            .filter(sla_policies::severity.eq(severity))
            .filter(sla_policies::organization_id.eq(org))
            .select(SlaPolicy::as_select())
            .first(conn)
            .optional()?;
        if own.is_some() {
            return Ok(own);
        }
    }
    Ok(sla_policies::table
        .filter(sla_policies::severity.eq(severity))
        .filter(sla_policies::organization_id.is_null())
        .select(SlaPolicy::as_select())
        .first(conn)
        .optional()?)
}

pub fn policies(conn: &mut DbConnection) -> DbResult<Vec<SlaPolicy>> {
    Ok(sla_policies::table
        .select(SlaPolicy::as_select())
        .order((
            sla_policies::organization_id.is_null().desc(),
            sla_policies::organization_id.asc(),
            sla_policies::severity.asc(),
        ))
        .load(conn)?)
}

pub fn find_policy(conn: &mut DbConnection, id: i64) -> DbResult<SlaPolicy> {
    Ok(sla_policies::table.find(id).select(SlaPolicy::as_select()).first(conn)?)
}

pub fn update_policy(
    conn: &mut DbConnection,
    id: i64,
    first_response_minutes: i32,
    resolution_minutes: i32,
    calendar_id: i64,
    auto_escalate: bool,
) -> DbResult<()> {
    diesel::update(sla_policies::table.find(id))
        .set((
            sla_policies::first_response_minutes.eq(first_response_minutes),
            sla_policies::resolution_minutes.eq(resolution_minutes),
            sla_policies::calendar_id.eq(calendar_id),
            sla_policies::auto_escalate.eq(auto_escalate),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_override(
    conn: &mut DbConnection,
    severity: &str,
    organization_id: i64,
    from: &SlaPolicy,
) -> DbResult<i64> {
    Ok(diesel::insert_into(sla_policies::table)
        .values((
            sla_policies::severity.eq(severity),
            sla_policies::organization_id.eq(Some(organization_id)),
            sla_policies::first_response_minutes.eq(from.first_response_minutes),
            sla_policies::resolution_minutes.eq(from.resolution_minutes),
            sla_policies::calendar_id.eq(from.calendar_id),
            sla_policies::auto_escalate.eq(from.auto_escalate),
        ))
        .returning(sla_policies::id)
        .get_result(conn)?)
}

pub fn delete_policy(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(sla_policies::table.find(id).filter(sla_policies::organization_id.is_not_null())).execute(conn)?;
    Ok(())
}

pub fn calendars(conn: &mut DbConnection) -> DbResult<Vec<SlaCalendar>> {
    Ok(sla_calendars::table.select(SlaCalendar::as_select()).order(sla_calendars::id.asc()).load(conn)?)
}

pub fn calendar(conn: &mut DbConnection, id: i64) -> DbResult<SlaCalendar> {
    Ok(sla_calendars::table.find(id).select(SlaCalendar::as_select()).first(conn)?)
}

pub fn update_calendar(
    conn: &mut DbConnection,
    id: i64,
    name: &str,
    always: bool,
    time_zone: &str,
    week: &str,
    holidays: &str,
) -> DbResult<()> {
    diesel::update(sla_calendars::table.find(id))
        .set((
            sla_calendars::name.eq(name),
            sla_calendars::always.eq(always),
            sla_calendars::time_zone.eq(time_zone),
            sla_calendars::week.eq(week),
            sla_calendars::holidays.eq(holidays),
        ))
        .execute(conn)?;
    Ok(())
}

/// (time, new status) of each status change, oldest first.
pub fn status_changes(conn: &mut DbConnection, incident_id: i64) -> DbResult<Vec<(NaiveDateTime, String)>> {
    Ok(incident_events::table
        .filter(incident_events::incident_id.eq(incident_id))
        .filter(incident_events::kind.eq("status_changed"))
        .order((incident_events::at.asc(), incident_events::id.asc()))
        .select((incident_events::at, incident_events::new_value))
        .load(conn)?)
}

/// The derived SLA times of an incident.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaTimes {
    pub first_response_at: Option<NaiveDateTime>,
    pub response_due_at: Option<NaiveDateTime>,
    pub resolution_due_at: Option<NaiveDateTime>,
    pub response_warn_at: Option<NaiveDateTime>,
    pub resolution_warn_at: Option<NaiveDateTime>,
}

/// Stores the SLA times without moving the incident's version (they are derived, not edited).
pub fn set_times(conn: &mut DbConnection, id: i64, t: &SlaTimes) -> DbResult<()> {
    diesel::update(incidents::table.find(id))
        .set((
            incidents::first_response_at.eq(t.first_response_at),
            incidents::response_due_at.eq(t.response_due_at),
            incidents::resolution_due_at.eq(t.resolution_due_at),
            incidents::response_warn_at.eq(t.response_warn_at),
            incidents::resolution_warn_at.eq(t.resolution_warn_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_first_response(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> DbResult<()> {
    diesel::update(incidents::table.find(id).filter(incidents::first_response_at.is_null()))
        .set(incidents::first_response_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Open incidents whose warning or breach moment has come and has not been acted on.
pub fn due_for_check(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> DbResult<Vec<i64>> {
    Ok(incidents::table
        .filter(incidents::is_open.eq(true))
        .filter(
            incidents::response_warn_at
                .le(now)
                .and(incidents::response_warned_at.is_null())
                .or(incidents::response_due_at.le(now).and(incidents::response_breached_at.is_null()))
                .or(incidents::resolution_warn_at.le(now).and(incidents::resolution_warned_at.is_null()))
                .or(incidents::resolution_due_at.le(now).and(incidents::resolution_breached_at.is_null())),
        )
        .select(incidents::id)
        .order(incidents::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Which SLA moment the job recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    ResponseWarned,
    ResolutionWarned,
    ResponseBreached,
    ResolutionBreached,
}

/// Records that the job acted; false when another instance did so first.
pub fn mark(conn: &mut DbConnection, id: i64, m: Mark, at: NaiveDateTime) -> DbResult<bool> {
    let q = incidents::table.find(id);
    let n = match m {
        Mark::ResponseWarned => diesel::update(q.filter(incidents::response_warned_at.is_null()))
            .set(incidents::response_warned_at.eq(Some(at)))
            .execute(conn)?,
        Mark::ResolutionWarned => diesel::update(q.filter(incidents::resolution_warned_at.is_null()))
            .set(incidents::resolution_warned_at.eq(Some(at)))
            .execute(conn)?,
        Mark::ResponseBreached => diesel::update(q.filter(incidents::response_breached_at.is_null()))
            .set(incidents::response_breached_at.eq(Some(at)))
            .execute(conn)?,
        Mark::ResolutionBreached => diesel::update(q.filter(incidents::resolution_breached_at.is_null()))
            .set(incidents::resolution_breached_at.eq(Some(at)))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Which recorded SLA moments to forget (`true`: set back to NULL, so the job acts again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkReset {
    pub response_warned: bool,
    pub resolution_warned: bool,
    pub response_breached: bool,
    pub resolution_breached: bool,
}

#[derive(AsChangeset)]
#[diesel(table_name = incidents)]
struct MarkNulls {
    response_warned_at: Option<Option<NaiveDateTime>>,
    resolution_warned_at: Option<Option<NaiveDateTime>>,
    response_breached_at: Option<Option<NaiveDateTime>>,
    resolution_breached_at: Option<Option<NaiveDateTime>>,
}

pub fn reset_marks(conn: &mut DbConnection, id: i64, r: MarkReset) -> DbResult<()> {
    if r == MarkReset::default() {
        return Ok(());
    }
    let null = |on: bool| on.then_some(None);
    let set = MarkNulls {
        response_warned_at: null(r.response_warned),
        resolution_warned_at: null(r.resolution_warned),
        response_breached_at: null(r.response_breached),
        resolution_breached_at: null(r.resolution_breached),
    };
    diesel::update(incidents::table.find(id)).set(set).execute(conn)?;
    Ok(())
}

/// Resolved incidents whose resolution is older than `before` (auto-close candidates).
pub fn resolved_before(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> DbResult<Vec<i64>> {
    Ok(incidents::table
        .filter(incidents::status.eq("resolved"))
        .filter(incidents::resolved_at.le(before))
        .select(incidents::id)
        .order(incidents::id.asc())
        .limit(limit)
        .load(conn)?)
}

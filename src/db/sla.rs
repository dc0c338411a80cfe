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

/// Stores the SLA times without moving the incident's version (they are derived, not edited).
pub fn set_times(
    conn: &mut DbConnection,
    id: i64,
    first_response_at: Option<NaiveDateTime>,
    response_due_at: Option<NaiveDateTime>,
    resolution_due_at: Option<NaiveDateTime>,
) -> DbResult<()> {
    diesel::update(incidents::table.find(id))
        .set((
            incidents::first_response_at.eq(first_response_at),
            incidents::response_due_at.eq(response_due_at),
            incidents::resolution_due_at.eq(resolution_due_at),
        ))
        .execute(conn)?;
    Ok(())
}

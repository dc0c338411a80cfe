//! Problems (root-cause records), their services, linked incidents, events and actions.

use super::models::{Incident, IncidentEvent, Problem, ProblemAction, ProblemIncident};
use super::schema::{incident_events, incidents, problem_actions, problem_incidents, problem_services, problems};
use super::{DbConnection, DbResult};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The editable text of a problem.
#[derive(Debug, Clone, Default, AsChangeset, Insertable)]
#[diesel(table_name = problems)]
pub struct ProblemFields {
    pub title: String,
    pub statement: String,
    pub category: String,
    pub analysis: String,
    pub contributing_factors: String,
    pub five_whys: String,
    pub customer_impact: String,
    pub workaround: String,
    #[diesel(treat_none_as_null = true)]
    pub owner_id: Option<i64>,
    /// Quiet days after the fix release before the problem counts as verified.
    pub watch_days: i32,
}

pub fn insert(
    conn: &mut DbConnection,
    f: &ProblemFields,
    status: &str,
    created_by: i64,
    now: NaiveDateTime,
) -> DbResult<Problem> {
    Ok(diesel::insert_into(problems::table)
        .values((
            f,
            problems::status.eq(status),
            problems::created_by.eq(Some(created_by)),
            problems::created_at.eq(now),
            problems::updated_at.eq(now),
        ))
        .returning(problems::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Problem> {
    Ok(problems::table.find(id).select(Problem::as_select()).first(conn)?)
}

/// Writes the fields if the problem is still at `version`; None when someone changed it first.
pub fn update_fields(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    f: &ProblemFields,
    now: NaiveDateTime,
) -> DbResult<Option<Problem>> {
    let n = diesel::update(problems::table.find(id).filter(problems::version.eq(version)))
        .set((f, problems::updated_at.eq(now), problems::version.eq(version + 1)))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, id)?)) }
}

/// Moves the status (and what comes with it) if the problem is still at `version`.
#[allow(clippy::too_many_arguments)]
pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    status: &str,
    resolution: Option<&str>,
    fix_released_at: Option<Option<NaiveDateTime>>,
    closed_at: Option<Option<NaiveDateTime>>,
    now: NaiveDateTime,
) -> DbResult<Option<Problem>> {
    let n = diesel::update(problems::table.find(id).filter(problems::version.eq(version)))
        .set((
            problems::status.eq(status),
            resolution.map(|r| problems::resolution.eq(r.to_string())),
            fix_released_at.map(|t| problems::fix_released_at.eq(t)),
            closed_at.map(|t| problems::closed_at.eq(t)),
            problems::updated_at.eq(now),
            problems::version.eq(version + 1),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, id)?)) }
}

pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(problems::table.find(id)).set(problems::updated_at.eq(now)).execute(conn)?;
    Ok(())
}

/// One page, most recently updated first, after (updated_at, id); optionally one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> DbResult<Vec<Problem>> {
    let mut q = problems::table.select(Problem::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(problems::status.eq(s.to_string()));
    }
    if let Some((t, id)) = after {
        q = q.filter(problems::updated_at.lt(t).or(problems::updated_at.eq(t).and(problems::id.lt(id))));
    }
    Ok(q.order((problems::updated_at.desc(), problems::id.desc())).limit(limit).load(conn)?)
}

pub fn set_services(conn: &mut DbConnection, problem_id: i64, service_ids: &[i64]) -> DbResult<()> {
    diesel::delete(problem_services::table.filter(problem_services::problem_id.eq(problem_id))).execute(conn)?;
    for s in service_ids {
        diesel::insert_into(problem_services::table)
            .values((problem_services::problem_id.eq(problem_id), problem_services::service_id.eq(*s)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn services_of(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<i64>> {
    Ok(problem_services::table
        .filter(problem_services::problem_id.eq(problem_id))
        .select(problem_services::service_id)
        .order(problem_services::service_id.asc())
        .load(conn)?)
}

pub fn link_incident(
    conn: &mut DbConnection,
    problem_id: i64,
    incident_id: i64,
    by: i64,
    after_fix: bool,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(problem_incidents::table)
        .values((
            problem_incidents::problem_id.eq(problem_id),
            problem_incidents::incident_id.eq(incident_id),
            problem_incidents::linked_at.eq(now),
            problem_incidents::linked_by.eq(Some(by)),
            problem_incidents::after_fix.eq(after_fix),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn unlink_incident(conn: &mut DbConnection, problem_id: i64, incident_id: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        problem_incidents::table
            .filter(problem_incidents::problem_id.eq(problem_id))
            .filter(problem_incidents::incident_id.eq(incident_id)),
    )
    .execute(conn)?)
}

pub fn links_of(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<ProblemIncident>> {
    Ok(problem_incidents::table
        .filter(problem_incidents::problem_id.eq(problem_id))
        .select(ProblemIncident::as_select())
        .order(problem_incidents::linked_at.asc())
        .load(conn)?)
}

/// The links of many problems at once (the list page).
pub fn links_of_many(conn: &mut DbConnection, problem_ids: &[i64]) -> DbResult<Vec<ProblemIncident>> {
    Ok(problem_incidents::table
        .filter(problem_incidents::problem_id.eq_any(problem_ids))
        .select(ProblemIncident::as_select())
        .load(conn)?)
}

/// (problem, the linked incident's creation time) for the links of many problems: recurrence
/// counts go by the incidents' own dates.
pub fn incident_dates_of_many(conn: &mut DbConnection, problem_ids: &[i64]) -> DbResult<Vec<(i64, NaiveDateTime)>> {
    Ok(problem_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(problem_incidents::incident_id)))
        .filter(problem_incidents::problem_id.eq_any(problem_ids))
        .select((problem_incidents::problem_id, incidents::created_at))
        .load(conn)?)
}

/// The problems an incident is linked to.
pub fn for_incident(conn: &mut DbConnection, incident_id: i64) -> DbResult<Vec<Problem>> {
    Ok(problems::table
        .inner_join(problem_incidents::table.on(problem_incidents::problem_id.eq(problems::id)))
        .filter(problem_incidents::incident_id.eq(incident_id))
        .select(Problem::as_select())
        .order(problems::id.asc())
        .load(conn)?)
}

pub fn incidents_of(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<Incident>> {
    Ok(incidents::table
        .inner_join(problem_incidents::table.on(problem_incidents::incident_id.eq(incidents::id)))
        .filter(problem_incidents::problem_id.eq(problem_id))
        .select(Incident::as_select())
        .order(incidents::created_at.asc())
        .load(conn)?)
}

/// The timeline events of the problem's incidents (public ones only unless asked).
pub fn incident_events_of(conn: &mut DbConnection, problem_id: i64, internal: bool) -> DbResult<Vec<IncidentEvent>> {
    let ids = problem_incidents::table
        .filter(problem_incidents::problem_id.eq(problem_id))
        .select(problem_incidents::incident_id);
    let mut q = incident_events::table
        .filter(incident_events::incident_id.eq_any(ids))
        .select(IncidentEvent::as_select())
        .into_boxed();
    if !internal {
        q = q.filter(incident_events::internal.eq(false));
    }
    Ok(q.order((incident_events::at.asc(), incident_events::id.asc())).load(conn)?)
}

pub struct NewAction<'a> {
    pub problem_id: i64,
    pub title: &'a str,
    pub kind: &'a str,
    pub owner_id: Option<i64>,
    pub due_date: Option<NaiveDate>,
    pub now: NaiveDateTime,
}

pub fn insert_action(conn: &mut DbConnection, a: &NewAction<'_>) -> DbResult<ProblemAction> {
    Ok(diesel::insert_into(problem_actions::table)
        .values((
            problem_actions::problem_id.eq(a.problem_id),
            problem_actions::title.eq(a.title),
            problem_actions::kind.eq(a.kind),
            problem_actions::owner_id.eq(a.owner_id),
            problem_actions::due_date.eq(a.due_date),
            problem_actions::status.eq("open"),
            problem_actions::created_at.eq(a.now),
            problem_actions::updated_at.eq(a.now),
        ))
        .returning(problem_actions::all_columns)
        .get_result(conn)?)
}

pub fn find_action(conn: &mut DbConnection, id: i64) -> DbResult<ProblemAction> {
    Ok(problem_actions::table.find(id).select(ProblemAction::as_select()).first(conn)?)
}

pub fn set_action_status(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    reason: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(problem_actions::table.find(id))
        .set((
            problem_actions::status.eq(status),
            problem_actions::reason.eq(reason),
            problem_actions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn actions_of(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<ProblemAction>> {
    Ok(problem_actions::table
        .filter(problem_actions::problem_id.eq(problem_id))
        .select(ProblemAction::as_select())
        .order(problem_actions::id.asc())
        .load(conn)?)
}

/// Open and in-progress actions, those due first (overdue at the top), then undated ones.
pub fn open_actions(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<ProblemAction>> {
    let mut rows: Vec<ProblemAction> = problem_actions::table
        .filter(problem_actions::status.eq_any(["open", "in_progress"]))
        .select(ProblemAction::as_select())
        .order((problem_actions::due_date.asc(), problem_actions::id.asc()))
        .limit(limit)
        .load(conn)?;
    // NULL sorts first on SQLite and last on PostgreSQL: put undated actions last on both.
    rows.sort_by_key(|a| (a.due_date.is_none(), a.due_date, a.id));
    Ok(rows)
}

/// Open actions past their due date whose owner has not been told yet.
pub fn overdue_unnotified(conn: &mut DbConnection, today: NaiveDate) -> DbResult<Vec<ProblemAction>> {
    Ok(problem_actions::table
        .filter(problem_actions::status.eq_any(["open", "in_progress"]))
        .filter(problem_actions::due_date.lt(today))
        .filter(problem_actions::overdue_notified_at.is_null())
        .select(ProblemAction::as_select())
        .order(problem_actions::id.asc())
        .load(conn)?)
}

pub fn mark_overdue_notified(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(problem_actions::table.find(id))
        .set(problem_actions::overdue_notified_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<Problem>> {
    Ok(problems::table.filter(problems::id.eq_any(ids)).select(Problem::as_select()).load(conn)?)
}

/// Problems whose fix is out (released before `now`), oldest release first.
pub fn fix_released_before(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<Vec<Problem>> {
    Ok(problems::table
        .filter(problems::status.eq("fix_released"))
        .filter(problems::fix_released_at.le(now))
        .select(Problem::as_select())
        .order(problems::fix_released_at.asc())
        .load(conn)?)
}

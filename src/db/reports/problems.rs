//! Problem rows for the recurrence report.

use super::super::models::{Problem, ProblemAction};
use super::super::schema::{incidents, problem_actions, problem_incidents, problem_services, problems};
use super::super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// (problem, incident) links of these incidents.
pub fn problem_links_of(conn: &mut DbConnection, incident_ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    if incident_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(problem_incidents::table
        .filter(super::super::in_ids(conn, "problem_incidents.incident_id", incident_ids))
        .select((problem_incidents::problem_id, problem_incidents::incident_id))
        .load(conn)?)
}

/// The earliest creation time of an incident linked to each of these problems.
pub fn first_incident_of(conn: &mut DbConnection, problem_ids: &[i64]) -> DbResult<Vec<(i64, Option<NaiveDateTime>)>> {
    if problem_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(problem_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(problem_incidents::incident_id)))
        .filter(super::super::in_ids(conn, "problem_incidents.problem_id", problem_ids))
        .group_by(problem_incidents::problem_id)
        .select((problem_incidents::problem_id, diesel::dsl::min(incidents::created_at)))
        .load(conn)?)
}

/// (problem, incident, incident created at) for every link of these problems.
pub fn linked_incident_dates(conn: &mut DbConnection, problem_ids: &[i64]) -> DbResult<Vec<(i64, i64, NaiveDateTime)>> {
    if problem_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(problem_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(problem_incidents::incident_id)))
        .filter(super::super::in_ids(conn, "problem_incidents.problem_id", problem_ids))
        .select((problem_incidents::problem_id, problem_incidents::incident_id, incidents::created_at))
        .load(conn)?)
}

pub fn problems_by_ids(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<Problem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(problems::table
        .filter(super::super::in_ids(conn, "problems.id", ids))
        .select(Problem::as_select())
        .load(conn)?)
}

/// Problems whose fix was released at some time (the watch periods).
pub fn problems_with_fix(conn: &mut DbConnection) -> DbResult<Vec<Problem>> {
    Ok(problems::table
        .filter(problems::fix_released_at.is_not_null())
        .select(Problem::as_select())
        .order(problems::id.asc())
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Problems whose fix was released in [from, to).
pub fn problems_fixed_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<Problem>> {
    Ok(problems::table
        .filter(problems::fix_released_at.ge(from))
        .filter(problems::fix_released_at.lt(to))
        .select(Problem::as_select())
        .order(problems::id.asc())
        .load(conn)?)
}

/// (problem, service) for these problems.
pub fn problem_services_of(conn: &mut DbConnection, problem_ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    if problem_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(problem_services::table
        .filter(super::super::in_ids(conn, "problem_services.problem_id", problem_ids))
        .select((problem_services::problem_id, problem_services::service_id))
        .load(conn)?)
}

/// Every open or in-progress corrective action, due first.
pub fn all_open_actions(conn: &mut DbConnection) -> DbResult<Vec<ProblemAction>> {
    let mut rows: Vec<ProblemAction> = problem_actions::table
        .filter(problem_actions::status.eq_any(["open", "in_progress"]))
        .select(ProblemAction::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?;
    rows.sort_by_key(|a| (a.due_date.is_none(), a.due_date, a.id));
    Ok(rows)
}

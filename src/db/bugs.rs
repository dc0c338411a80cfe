//! Bugs, their links to problems and incidents, and their history.

use super::models::{Bug, Incident, Problem};
use super::schema::{bug_incidents, bug_problems, bugs, incidents, problem_incidents, problems};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Default, AsChangeset, Insertable)]
#[diesel(table_name = bugs)]
pub struct BugFields {
    pub title: String,
    pub description: String,
    #[diesel(treat_none_as_null = true)]
    pub service_id: Option<i64>,
    pub severity: String,
    pub external_ref: String,
    #[diesel(treat_none_as_null = true)]
    pub assignee_id: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, f: &BugFields, by: i64, now: NaiveDateTime) -> DbResult<Bug> {
    Ok(diesel::insert_into(bugs::table)
        .values((
            f,
            bugs::status.eq("open"),
            bugs::created_by.eq(Some(by)),
            bugs::created_at.eq(now),
            bugs::updated_at.eq(now),
        ))
        .returning(bugs::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Bug> {
    Ok(bugs::table.find(id).select(Bug::as_select()).first(conn)?)
}

pub fn update_fields(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    f: &BugFields,
    now: NaiveDateTime,
) -> DbResult<Option<Bug>> {
    let n = diesel::update(bugs::table.find(id).filter(bugs::version.eq(version)))
        .set((f, bugs::updated_at.eq(now), bugs::version.eq(version + 1)))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, id)?)) }
}

pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    status: &str,
    now: NaiveDateTime,
) -> DbResult<Option<Bug>> {
    let n = diesel::update(bugs::table.find(id).filter(bugs::version.eq(version)))
        .set((bugs::status.eq(status), bugs::updated_at.eq(now), bugs::version.eq(version + 1)))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, id)?)) }
}

pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(bugs::table.find(id)).set(bugs::updated_at.eq(now)).execute(conn)?;
    Ok(())
}

/// Bugs, newest first; `done` includes verified and won't-fix ones.
pub fn list(conn: &mut DbConnection, status: Option<&str>, limit: i64) -> DbResult<Vec<Bug>> {
    let mut q = bugs::table.select(Bug::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(bugs::status.eq(s.to_string()));
    }
    Ok(q.order(bugs::id.desc()).limit(limit).load(conn)?)
}

/// One incident a bug touches, for its impact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFact {
    pub bug_id: i64,
    pub incident_id: i64,
    pub severity: String,
    pub organization_id: Option<i64>,
}

/// Every incident these bugs touch, linked to the bug directly or to one of its problems, each
/// (bug, incident) pair once; two queries.
pub fn incident_facts(conn: &mut DbConnection, bug_ids: &[i64]) -> DbResult<Vec<IncidentFact>> {
    if bug_ids.is_empty() {
        return Ok(Vec::new());
    }
    let direct: Vec<(i64, i64, String, Option<i64>)> = bug_incidents::table
        .inner_join(incidents::table.on(incidents::id.eq(bug_incidents::incident_id)))
        .filter(bug_incidents::bug_id.eq_any(bug_ids))
        .select((bug_incidents::bug_id, incidents::id, incidents::severity, incidents::organization_id))
        .load(conn)?;
    let via_problems: Vec<(i64, i64, String, Option<i64>)> = bug_problems::table
        .inner_join(problem_incidents::table.on(problem_incidents::problem_id.eq(bug_problems::problem_id)))
        .inner_join(incidents::table.on(incidents::id.eq(problem_incidents::incident_id)))
        .filter(bug_problems::bug_id.eq_any(bug_ids))
        .select((bug_problems::bug_id, incidents::id, incidents::severity, incidents::organization_id))
        .load(conn)?;
    let mut all: Vec<IncidentFact> = direct
        .into_iter()
        .chain(via_problems)
        .map(|(bug_id, incident_id, severity, organization_id)| IncidentFact {
            bug_id,
            incident_id,
            severity,
            organization_id,
        })
        .collect();
    all.sort_by_key(|f| (f.bug_id, f.incident_id));
    all.dedup_by_key(|f| (f.bug_id, f.incident_id));
    Ok(all)
}

pub fn link_problem(conn: &mut DbConnection, bug_id: i64, problem_id: i64) -> DbResult<()> {
    diesel::insert_into(bug_problems::table)
        .values((bug_problems::bug_id.eq(bug_id), bug_problems::problem_id.eq(problem_id)))
        .execute(conn)?;
    Ok(())
}

pub fn link_incident(conn: &mut DbConnection, bug_id: i64, incident_id: i64) -> DbResult<()> {
    diesel::insert_into(bug_incidents::table)
        .values((bug_incidents::bug_id.eq(bug_id), bug_incidents::incident_id.eq(incident_id)))
        .execute(conn)?;
    Ok(())
}

pub fn unlink_problem(conn: &mut DbConnection, bug_id: i64, problem_id: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        bug_problems::table.filter(bug_problems::bug_id.eq(bug_id)).filter(bug_problems::problem_id.eq(problem_id)),
    )
    .execute(conn)?)
}

pub fn unlink_incident(conn: &mut DbConnection, bug_id: i64, incident_id: i64) -> DbResult<usize> {
    Ok(diesel::delete(
        bug_incidents::table
            .filter(bug_incidents::bug_id.eq(bug_id))
            .filter(bug_incidents::incident_id.eq(incident_id)),
    )
    .execute(conn)?)
}

pub fn problems_of(conn: &mut DbConnection, bug_id: i64) -> DbResult<Vec<Problem>> {
    Ok(problems::table
        .inner_join(bug_problems::table.on(bug_problems::problem_id.eq(problems::id)))
        .filter(bug_problems::bug_id.eq(bug_id))
        .select(Problem::as_select())
        .order(problems::id.asc())
        .load(conn)?)
}

pub fn incidents_of(conn: &mut DbConnection, bug_id: i64) -> DbResult<Vec<Incident>> {
    Ok(incidents::table
        .inner_join(bug_incidents::table.on(bug_incidents::incident_id.eq(incidents::id)))
        .filter(bug_incidents::bug_id.eq(bug_id))
        .select(Incident::as_select())
        .order(incidents::id.asc())
        .load(conn)?)
}

/// The bugs behind a problem.
pub fn for_problem(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<Bug>> {
    Ok(bugs::table
        .inner_join(bug_problems::table.on(bug_problems::bug_id.eq(bugs::id)))
        .filter(bug_problems::problem_id.eq(problem_id))
        .select(Bug::as_select())
        .order(bugs::id.asc())
        .load(conn)?)
}

/// The fix did not hold (`true`), or a new fix shipped since (`false`).
pub fn set_ineffective(conn: &mut DbConnection, id: i64, ineffective: bool, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(bugs::table.find(id))
        .set((bugs::fix_ineffective.eq(ineffective), bugs::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

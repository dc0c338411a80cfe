//! Releases, their services, readiness checks, suspect incidents and history; the checklist
//! template.

use super::models::{Bug, ChecklistItem, Incident, Release, ReleaseCheck, ReleaseSuspect};
use super::schema::{
    bugs, checklist_items, incidents, release_checks, release_overrides, release_services, release_suspects, releases,
};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Default, AsChangeset, Insertable)]
#[diesel(table_name = releases)]
pub struct ReleaseFields {
    pub version: String,
    pub title: String,
    pub notes: String,
    pub deployment_type: String,
    #[diesel(treat_none_as_null = true)]
    pub window_start: Option<NaiveDateTime>,
    #[diesel(treat_none_as_null = true)]
    pub window_end: Option<NaiveDateTime>,
    pub rollback_plan: String,
    pub monitor_hours: i32,
    pub maintenance_notice: String,
}

/// A new release, with the active checklist items copied onto it.
pub fn insert(conn: &mut DbConnection, f: &ReleaseFields, by: i64, now: NaiveDateTime) -> DbResult<Release> {
    let r: Release = diesel::insert_into(releases::table)
        .values((
            f,
            releases::status.eq("planned"),
            releases::created_by.eq(Some(by)),
            releases::created_at.eq(now),
            releases::updated_at.eq(now),
        ))
        .returning(releases::all_columns)
        .get_result(conn)?;
    for item in checklist(conn, true)? {
        diesel::insert_into(release_checks::table)
            .values((
                release_checks::release_id.eq(r.id),
                release_checks::position.eq(item.position),
                release_checks::label.eq(item.label),
            ))
            .execute(conn)?;
    }
    Ok(r)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Release> {
    Ok(releases::table.find(id).select(Release::as_select()).first(conn)?)
}

pub fn find_by_version(conn: &mut DbConnection, version: &str) -> DbResult<Option<Release>> {
    Ok(releases::table.filter(releases::version.eq(version)).select(Release::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConnection, status: Option<&str>, limit: i64) -> DbResult<Vec<Release>> {
    let mut q = releases::table.select(Release::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(releases::status.eq(s.to_string()));
    }
    Ok(q.order(releases::id.desc()).limit(limit).load(conn)?)
}

pub fn update_fields(
    conn: &mut DbConnection,
    id: i64,
    lock: i32,
    f: &ReleaseFields,
    now: NaiveDateTime,
) -> DbResult<Option<Release>> {
    let n = diesel::update(releases::table.find(id).filter(releases::lock_version.eq(lock)))
        .set((f, releases::updated_at.eq(now), releases::lock_version.eq(lock + 1)))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, id)?)) }
}

/// What a status change writes besides the status.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = releases)]
pub struct ReleaseStamp {
    pub approved_by: Option<Option<i64>>,
    pub approved_at: Option<Option<NaiveDateTime>>,
    pub override_reason: Option<String>,
    pub deployed_at: Option<Option<NaiveDateTime>>,
    pub monitor_until: Option<Option<NaiveDateTime>>,
    pub rolled_back_at: Option<Option<NaiveDateTime>>,
    pub rollback_reason: Option<String>,
}

pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    lock: i32,
    status: &str,
    stamp: &ReleaseStamp,
    now: NaiveDateTime,
) -> DbResult<Option<Release>> {
    let n = diesel::update(releases::table.find(id).filter(releases::lock_version.eq(lock)))
        .set((releases::status.eq(status), releases::updated_at.eq(now), releases::lock_version.eq(lock + 1)))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    if stamp.approved_by.is_some()
        || stamp.approved_at.is_some()
        || stamp.override_reason.is_some()
        || stamp.deployed_at.is_some()
        || stamp.monitor_until.is_some()
        || stamp.rolled_back_at.is_some()
        || stamp.rollback_reason.is_some()
    {
        diesel::update(releases::table.find(id)).set(stamp).execute(conn)?;
    }
    Ok(Some(find(conn, id)?))
}

/// Records the approval (without moving the status).
pub fn approve(conn: &mut DbConnection, id: i64, by: i64, override_reason: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(releases::table.find(id))
        .set((
            releases::approved_by.eq(Some(by)),
            releases::approved_at.eq(Some(now)),
            releases::override_reason.eq(override_reason),
            releases::updated_at.eq(now),
            releases::lock_version.eq(releases::lock_version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_services(conn: &mut DbConnection, release_id: i64, service_ids: &[i64]) -> DbResult<()> {
    diesel::delete(release_services::table.filter(release_services::release_id.eq(release_id))).execute(conn)?;
    for s in service_ids {
        diesel::insert_into(release_services::table)
            .values((release_services::release_id.eq(release_id), release_services::service_id.eq(*s)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn services_of(conn: &mut DbConnection, release_id: i64) -> DbResult<Vec<i64>> {
    Ok(release_services::table
        .filter(release_services::release_id.eq(release_id))
        .select(release_services::service_id)
        .order(release_services::service_id.asc())
        .load(conn)?)
}

/// Releases watching a service at `now`: in monitoring, their window not yet over.
pub fn watching(conn: &mut DbConnection, service_id: i64, now: NaiveDateTime) -> DbResult<Vec<i64>> {
    Ok(releases::table
        .inner_join(release_services::table.on(release_services::release_id.eq(releases::id)))
        .filter(release_services::service_id.eq(service_id))
        .filter(releases::status.eq("monitoring"))
        .filter(releases::monitor_until.gt(now))
        .select(releases::id)
        .load(conn)?)
}

/// Releases whose watch window ended before `now`.
pub fn watch_over(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<Vec<Release>> {
    Ok(releases::table
        .filter(releases::status.eq("monitoring"))
        .filter(releases::monitor_until.le(now))
        .select(Release::as_select())
        .load(conn)?)
}

/// Every open SEV1/SEV2 incident on any of the services (what an override at approval covers).
pub fn blocking_incidents(conn: &mut DbConnection, service_ids: &[i64]) -> DbResult<Vec<i64>> {
    if service_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(incidents::table
        .filter(incidents::is_open.eq(true))
        .filter(incidents::severity.eq_any(["SEV1", "SEV2"]))
        .filter(incidents::service_id.eq_any(service_ids))
        .select(incidents::id)
        .order(incidents::id.asc())
        .load(conn)?)
}

/// Open SEV1/SEV2 incidents on the services that the release's override does not cover: those
/// that hold it back. At most 50, oldest first.
pub fn uncovered_blocking(conn: &mut DbConnection, release_id: i64, service_ids: &[i64]) -> DbResult<Vec<i64>> {
    if service_ids.is_empty() {
        return Ok(Vec::new());
    }
    let covered = release_overrides::table
        .filter(release_overrides::release_id.eq(release_id))
        .select(release_overrides::incident_id);
    Ok(incidents::table
        .filter(incidents::is_open.eq(true))
        .filter(incidents::severity.eq_any(["SEV1", "SEV2"]))
        .filter(incidents::service_id.eq_any(service_ids))
        .filter(diesel::dsl::not(incidents::id.eq_any(covered)))
        .select(incidents::id)
        .order(incidents::id.asc())
        .limit(50)
        .load(conn)?)
}

/// Records which incidents the approval's override covers (replacing what was recorded).
pub fn set_overrides(conn: &mut DbConnection, release_id: i64, incident_ids: &[i64]) -> DbResult<()> {
    diesel::delete(release_overrides::table.filter(release_overrides::release_id.eq(release_id))).execute(conn)?;
    for i in incident_ids {
        diesel::insert_into(release_overrides::table)
            .values((release_overrides::release_id.eq(release_id), release_overrides::incident_id.eq(*i)))
            .execute(conn)?;
    }
    Ok(())
}

/// The incidents the release's override covers.
pub fn overrides_of(conn: &mut DbConnection, release_id: i64) -> DbResult<Vec<i64>> {
    Ok(release_overrides::table
        .filter(release_overrides::release_id.eq(release_id))
        .select(release_overrides::incident_id)
        .order(release_overrides::incident_id.asc())
        .load(conn)?)
}

pub fn checks_of(conn: &mut DbConnection, release_id: i64) -> DbResult<Vec<ReleaseCheck>> {
    Ok(release_checks::table
        .filter(release_checks::release_id.eq(release_id))
        .select(ReleaseCheck::as_select())
        .order((release_checks::position.asc(), release_checks::id.asc()))
        .load(conn)?)
}

pub fn find_check(conn: &mut DbConnection, id: i64) -> DbResult<ReleaseCheck> {
    Ok(release_checks::table.find(id).select(ReleaseCheck::as_select()).first(conn)?)
}

pub fn set_check(conn: &mut DbConnection, id: i64, by: Option<i64>, at: Option<NaiveDateTime>) -> DbResult<()> {
    diesel::update(release_checks::table.find(id))
        .set((release_checks::checked_by.eq(by), release_checks::checked_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

pub fn add_suspect(conn: &mut DbConnection, release_id: i64, incident_id: i64) -> DbResult<()> {
    diesel::insert_into(release_suspects::table)
        .values((
            release_suspects::release_id.eq(release_id),
            release_suspects::incident_id.eq(incident_id),
            release_suspects::status.eq("suspect"),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn suspects_of(conn: &mut DbConnection, release_id: i64) -> DbResult<Vec<(ReleaseSuspect, Incident)>> {
    Ok(release_suspects::table
        .inner_join(incidents::table.on(incidents::id.eq(release_suspects::incident_id)))
        .filter(release_suspects::release_id.eq(release_id))
        .select((ReleaseSuspect::as_select(), Incident::as_select()))
        .order(incidents::id.asc())
        .load(conn)?)
}

pub fn decide_suspect(
    conn: &mut DbConnection,
    release_id: i64,
    incident_id: i64,
    status: &str,
    by: i64,
    now: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::update(
        release_suspects::table
            .filter(release_suspects::release_id.eq(release_id))
            .filter(release_suspects::incident_id.eq(incident_id)),
    )
    .set((
        release_suspects::status.eq(status),
        release_suspects::decided_by.eq(Some(by)),
        release_suspects::decided_at.eq(Some(now)),
    ))
    .execute(conn)?)
}

pub fn bugs_of(conn: &mut DbConnection, release_id: i64) -> DbResult<Vec<Bug>> {
    Ok(bugs::table.filter(bugs::release_id.eq(release_id)).select(Bug::as_select()).order(bugs::id.asc()).load(conn)?)
}

pub fn assign_bug(conn: &mut DbConnection, bug_id: i64, release_id: Option<i64>, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(bugs::table.find(bug_id))
        .set((bugs::release_id.eq(release_id), bugs::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn checklist(conn: &mut DbConnection, only_active: bool) -> DbResult<Vec<ChecklistItem>> {
    let mut q = checklist_items::table.select(ChecklistItem::as_select()).into_boxed();
    if only_active {
        q = q.filter(checklist_items::active.eq(true));
    }
    Ok(q.order((checklist_items::position.asc(), checklist_items::id.asc())).load(conn)?)
}

pub fn add_checklist_item(conn: &mut DbConnection, label: &str) -> DbResult<()> {
    let last: Option<i32> = checklist_items::table.select(diesel::dsl::max(checklist_items::position)).first(conn)?;
    diesel::insert_into(checklist_items::table)
        .values((checklist_items::position.eq(last.unwrap_or(0) + 1), checklist_items::label.eq(label)))
        .execute(conn)?;
    Ok(())
}

pub fn set_checklist_item_active(conn: &mut DbConnection, id: i64, active: bool) -> DbResult<usize> {
    Ok(diesel::update(checklist_items::table.find(id)).set(checklist_items::active.eq(active)).execute(conn)?)
}

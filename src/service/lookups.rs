//! Reads the admin pages and form lists show, each checking that the viewer may see it, so
//! that page handlers never reach for the database themselves.

use super::{AppState, ServiceResult, actor_of, authorize};
use crate::db::{audit, organizations, services, sla, users};
use crate::domain::policy::{Action, Resource};
use std::collections::HashMap;

pub use crate::db::audit::AuditFilter;
pub use crate::db::models::AuditEntry;
pub use crate::db::models::{ChecklistItem, InboundMessage, Organization, Service, SlaCalendar, SlaPolicy, User};

/// Whether the database answers and every migration is applied (`/readyz`).
pub fn readiness(state: &AppState) -> Result<bool, String> {
    let mut conn = state.db.get().map_err(|e| e.to_string())?;
    crate::db::ping(&mut conn).map_err(|e| e.to_string())?;
    drop(conn);
    state.db.migrations_current().map_err(|e| e.to_string())
}

/// Every service, active or not (services are what customers pick from too).
pub fn all_services(state: &AppState) -> ServiceResult<Vec<Service>> {
    Ok(services::all(&mut *state.conn()?)?)
}

/// The active services as (id, name), for a form's list.
pub fn active_services(state: &AppState) -> ServiceResult<Vec<(i64, String)>> {
    Ok(all_services(state)?.into_iter().filter(|s| s.active).map(|s| (s.id, s.name)).collect())
}

pub fn service(state: &AppState, viewer: &User, id: i64) -> ServiceResult<Service> {
    authorize(&actor_of(viewer), Action::ManageServices, Resource::None)?;
    Ok(services::find(&mut *state.conn()?, id)?)
}

/// Organization names by id, for the user form's list.
pub fn organization_names(state: &AppState, viewer: &User) -> ServiceResult<Vec<(i64, String)>> {
    authorize(&actor_of(viewer), Action::ManageUsers, Resource::None)?;
    Ok(organizations::names(&mut *state.conn()?)?)
}

/// One page of users matching `q`, after (name, id), with their organizations' names.
pub fn users_page(
    state: &AppState,
    viewer: &User,
    q: &str,
    after: Option<(&str, i64)>,
    limit: i64,
) -> ServiceResult<(Vec<User>, HashMap<i64, String>)> {
    authorize(&actor_of(viewer), Action::ManageUsers, Resource::None)?;
    let mut conn = state.conn()?;
    let rows = users::list(&mut conn, q, after, limit)?;
    let orgs = organizations::names(&mut conn)?.into_iter().collect();
    Ok((rows, orgs))
}

pub fn user(state: &AppState, viewer: &User, id: i64) -> ServiceResult<User> {
    authorize(&actor_of(viewer), Action::ManageUsers, Resource::None)?;
    Ok(users::find(&mut *state.conn()?, id)?)
}

/// Organizations matching `q` (up to `limit`) and how many users each has.
pub fn organizations_page(
    state: &AppState,
    viewer: &User,
    q: &str,
    limit: i64,
) -> ServiceResult<(Vec<Organization>, HashMap<i64, i64>)> {
    authorize(&actor_of(viewer), Action::ManageOrganizations, Resource::None)?;
    let mut conn = state.conn()?;
    let list = organizations::list(&mut conn, q, limit)?;
    let counts = organizations::member_counts(&mut conn)?.into_iter().filter_map(|(o, n)| o.map(|o| (o, n))).collect();
    Ok((list, counts))
}

pub fn organization(state: &AppState, viewer: &User, id: i64) -> ServiceResult<Organization> {
    authorize(&actor_of(viewer), Action::ManageOrganizations, Resource::None)?;
    Ok(organizations::find(&mut *state.conn()?, id)?)
}

/// One page of the audit log: the entries (up to `limit`), every action name for the filter,
/// and whether `actor_email` named nobody (then no entries).
pub fn audit_page(
    state: &AppState,
    viewer: &User,
    mut filter: AuditFilter,
    actor_email: &str,
    limit: i64,
) -> ServiceResult<(Vec<AuditEntry>, Vec<String>, bool)> {
    authorize(&actor_of(viewer), Action::ViewAudit, Resource::None)?;
    let mut conn = state.conn()?;
    let mut unknown_user = false;
    if !actor_email.trim().is_empty() {
        match users::find_by_email(&mut conn, &actor_email.trim().to_lowercase())? {
            Some(u) => filter.actor_id = Some(u.id),
            None => unknown_user = true,
        }
    }
    let entries = if unknown_user { Vec::new() } else { audit::list(&mut conn, &filter, limit)? };
    Ok((entries, audit::distinct_actions(&mut conn)?, unknown_user))
}

/// What the SLA page shows: the policies, the calendars and the organizations' names.
pub type SlaSetup = (Vec<SlaPolicy>, Vec<SlaCalendar>, Vec<(i64, String)>);

pub fn sla_setup(state: &AppState, viewer: &User) -> ServiceResult<SlaSetup> {
    authorize(&actor_of(viewer), Action::ManageSla, Resource::None)?;
    let mut conn = state.conn()?;
    Ok((sla::policies(&mut conn)?, sla::calendars(&mut conn)?, organizations::names(&mut conn)?))
}

pub fn sla_calendar(state: &AppState, viewer: &User, id: i64) -> ServiceResult<SlaCalendar> {
    authorize(&actor_of(viewer), Action::ManageSla, Resource::None)?;
    Ok(sla::calendar(&mut *state.conn()?, id)?)
}

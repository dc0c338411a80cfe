//! Administering organizations.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::{Organization, User};
use crate::db::organizations;
use crate::domain::policy::{Action, Resource};
use crate::domain::validate;

#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: String,
    pub email_domains: String,
    pub share_incidents: bool,
}

fn validate_input(input: &OrgInput) -> ServiceResult<(String, String)> {
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.name, "Name", 120).map_err(|e| errors.add("name", e)).ok();
    let domains = validate::email_domains(&input.email_domains).map_err(|e| errors.add("email_domains", e)).ok();
    errors.into_result()?;
    match (name, domains) {
        (Some(n), Some(d)) => Ok((n, d.join(","))),
        _ => Err(ServiceError::Internal("validated fields missing".into())),
    }
}

fn name_taken() -> ServiceError {
    ServiceError::Invalid(FieldErrors::single("name", "An organization with this name exists already."))
}

pub fn create(state: &AppState, meta: &RequestMeta, admin: &User, input: &OrgInput) -> ServiceResult<Organization> {
    authorize(&actor_of(admin), Action::ManageOrganizations, Resource::None)?;
    let (name, domains) = validate_input(input)?;
    state.tx(|conn| {
        let org = organizations::insert(conn, &name, &domains, input.share_incidents, state.clock.now_naive())
            .map_err(|e| match e {
                crate::db::DbError::Conflict => name_taken(),
                other => other.into(),
            })?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "organization.create",
            &format!("organization:{}", org.id),
            &format!("{} (domains: {}; sharing {})", org.name, org.email_domains, on_off(org.share_incidents)),
        )?;
        Ok(org)
    })
}

pub fn update(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    id: i64,
    input: &OrgInput,
) -> ServiceResult<Organization> {
    authorize(&actor_of(admin), Action::ManageOrganizations, Resource::None)?;
    let (name, domains) = validate_input(input)?;
    state.tx(|conn| {
        let before = organizations::find(conn, id)?;
        let after = organizations::update(conn, id, &name, &domains, input.share_incidents, state.clock.now_naive())
            .map_err(|e| match e {
                crate::db::DbError::Conflict => name_taken(),
                other => other.into(),
            })?;
        let mut changed = Vec::new();
        if before.name != after.name {
            changed.push(format!("name {} → {}", before.name, after.name));
        }
        if before.email_domains != after.email_domains {
            changed.push(format!("domains {} → {}", before.email_domains, after.email_domains));
        }
        if before.share_incidents != after.share_incidents {
            changed.push(format!("sharing {}", on_off(after.share_incidents)));
        }
        state.audit(
            conn,
            meta,
            Some(admin),
            "organization.update",
            &format!("organization:{id}"),
            &changed.join("; "),
        )?;
        Ok(after)
    })
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

//! Administering services (what incidents affect).

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::{Service, User};
use crate::db::services;
use crate::domain::policy::{Action, Resource};
use crate::domain::validate;

#[derive(Debug, Clone, Default)]
pub struct ServiceInput {
    pub name: String,
    pub description: String,
    pub active: bool,
}

fn validate_input(input: &ServiceInput) -> ServiceResult<(String, String)> {
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.name, "Name", 100).map_err(|e| errors.add("name", e)).ok();
    let description = input.description.trim().to_string();
    if description.chars().count() > 2000 {
        errors.add("description", "Description must be at most 2000 characters.");
    }
    errors.into_result()?;
    name.map(|n| (n, description)).ok_or_else(|| ServiceError::Internal("validated fields missing".into()))
}

fn map_conflict(e: crate::db::DbError) -> ServiceError {
    match e {
        crate::db::DbError::Conflict => {
            ServiceError::Invalid(FieldErrors::single("name", "A service with this name exists already."))
        }
        other => other.into(),
    }
}

pub fn create(state: &AppState, meta: &RequestMeta, admin: &User, input: &ServiceInput) -> ServiceResult<Service> {
    authorize(&actor_of(admin), Action::ManageServices, Resource::None)?;
    let (name, description) = validate_input(input)?;
    state.tx(|conn| {
        let s =
            services::insert(conn, &name, &description, input.active, state.clock.now_naive()).map_err(map_conflict)?;
        state.audit(conn, meta, Some(admin), "service.create", &format!("service:{}", s.id), &s.name)?;
        Ok(s)
    })
}

pub fn update(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    id: i64,
    input: &ServiceInput,
) -> ServiceResult<Service> {
    authorize(&actor_of(admin), Action::ManageServices, Resource::None)?;
    let (name, description) = validate_input(input)?;
    state.tx(|conn| {
        let before = services::find(conn, id)?;
        let s = services::update(conn, id, &name, &description, input.active, state.clock.now_naive())
            .map_err(map_conflict)?;
        let mut changed = Vec::new();
        if before.name != s.name {
            changed.push(format!("name {} → {}", before.name, s.name));
        }
        if before.active != s.active {
            changed.push(if s.active { "reactivated".to_string() } else { "retired".to_string() });
        }
        if before.description != s.description {
            changed.push("description".to_string());
        }
        state.audit(conn, meta, Some(admin), "service.update", &format!("service:{id}"), &changed.join("; "))?;
        Ok(s)
    })
}

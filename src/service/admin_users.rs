//! Administering users: create, edit (role, organization, active), password reset links.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize, check_new_password};
use crate::crypto::{random_token, sha256_hex};
use crate::db::models::User;
use crate::db::{DbConnection, organizations, password_resets, sessions, users};
use crate::domain::policy::{Action, Resource};
use crate::domain::role::Role;
use crate::domain::validate;
use chrono::Duration;

/// Who asks for a user to be created: an admin through the web, or the operator at the CLI.
pub enum By<'a> {
    User(&'a User),
    Operator,
}

#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub organization_id: String,
    pub time_zone: String,
    /// Only on create; empty means "no password yet, issue a reset link".
    pub password: String,
    pub password_confirm: String,
    /// Only on edit.
    pub active: bool,
}

struct Valid {
    email: String,
    name: String,
    role: Role,
    organization_id: Option<i64>,
    time_zone: String,
}

fn validate_input(
    conn: &mut DbConnection,
    input: &UserInput,
    errors: &mut FieldErrors,
) -> ServiceResult<Option<Valid>> {
    let email = validate::email(&input.email).map_err(|e| errors.add("email", e)).ok();
    let name = validate::label(&input.display_name, "Name", 100).map_err(|e| errors.add("display_name", e)).ok();
    let role = input.role.parse::<Role>().map_err(|_| errors.add("role", "Choose a role from the list.")).ok();
    let organization_id = match input.organization_id.trim() {
        "" => Some(None),
        s => match s.parse::<i64>() {
            Ok(id) => match organizations::find(conn, id) {
                Ok(_) => Some(Some(id)),
                Err(crate::db::DbError::NotFound) => {
                    errors.add("organization_id", "Choose an organization from the list.");
                    None
                }
                Err(e) => return Err(e.into()),
            },
            Err(_) => {
                errors.add("organization_id", "Choose an organization from the list.");
                None
            }
        },
    };
    let tz_input = if input.time_zone.trim().is_empty() { "UTC" } else { input.time_zone.as_str() };
    let time_zone = validate::time_zone(tz_input).map_err(|e| errors.add("time_zone", e)).ok();
    Ok(match (email, name, role, organization_id, time_zone) {
        (Some(email), Some(name), Some(role), Some(organization_id), Some(time_zone)) => {
            Some(Valid { email, name, role, organization_id, time_zone })
        }
        _ => None,
    })
}

/// Creates a user. With no password given, the answer carries a one-time link for setting one.
pub fn create(
    state: &AppState,
    meta: &RequestMeta,
    by: By<'_>,
    input: &UserInput,
) -> ServiceResult<(User, Option<String>)> {
    let actor_user = match by {
        By::User(u) => {
            authorize(&actor_of(u), Action::ManageUsers, Resource::None)?;
            Some(u)
        }
        By::Operator => None,
    };
    let mut conn = state.conn()?;
    let mut errors = FieldErrors::default();
    let valid = validate_input(&mut conn, input, &mut errors)?;
    if let Some(v) = &valid
        && users::find_by_email(&mut conn, &v.email)?.is_some()
    {
        errors.add("email", "A user with this email address exists already.");
    }
    if !input.password.is_empty() {
        check_new_password(
            &mut errors,
            "password",
            &input.password,
            &input.password_confirm,
            &input.email,
            &input.display_name,
        );
    }
    errors.into_result()?;
    drop(conn);
    let Some(v) = valid else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    let hash = if input.password.is_empty() { None } else { Some(state.hasher.hash(&input.password)?) };
    let now = state.clock.now_naive();
    state.tx(|conn| {
        let user = users::insert(
            conn,
            &users::NewUser {
                email: &v.email,
                display_name: &v.name,
                role: v.role.as_str(),
                organization_id: v.organization_id,
                time_zone: &v.time_zone,
                password_hash: hash.as_deref(),
                now,
            },
        )
        .map_err(|e| match e {
            crate::db::DbError::Conflict => {
                ServiceError::Invalid(FieldErrors::single("email", "A user with this email address exists already."))
            }
            other => other.into(),
        })?;
        state.audit(
            conn,
            meta,
            actor_user,
            "user.create",
            &format!("user:{}", user.id),
            &format!("{} as {}", user.email, user.role),
        )?;
        let link = if hash.is_none() { Some(issue_reset_in(state, conn, meta, actor_user, &user)?) } else { None };
        Ok((user, link))
    })
}

/// Edits a user. A role change, deactivation or reactivation each get their own audit entry;
/// deactivation ends every session of the user at once.
pub fn update(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    user_id: i64,
    input: &UserInput,
) -> ServiceResult<User> {
    authorize(&actor_of(admin), Action::ManageUsers, Resource::None)?;
    let mut conn = state.conn()?;
    let before = users::find(&mut conn, user_id)?;
    let mut errors = FieldErrors::default();
    let valid = validate_input(&mut conn, input, &mut errors)?;
    if let Some(v) = &valid {
        if let Some(other) = users::find_by_email(&mut conn, &v.email)?
            && other.id != user_id
        {
            errors.add("email", "A user with this email address exists already.");
        }
        let demotes_admin = before.role == "admin" && (v.role != Role::Admin || !input.active);
        if demotes_admin && before.active && users::count_active_admins(&mut conn)? <= 1 {
            errors.add("role", "This is the last active administrator; make another one first.");
        }
    }
    errors.into_result()?;
    drop(conn);
    let Some(v) = valid else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    state.tx(|conn| {
        let after = users::update(
            conn,
            user_id,
            &users::UserChanges {
                email: &v.email,
                display_name: &v.name,
                role: v.role.as_str(),
                organization_id: v.organization_id,
                time_zone: &v.time_zone,
                active: input.active,
            },
            state.clock.now_naive(),
        )?;
        let target = format!("user:{user_id}");
        if before.role != after.role {
            state.audit(
                conn,
                meta,
                Some(admin),
                "user.role_change",
                &target,
                &format!("{} → {}", before.role, after.role),
            )?;
        }
        if before.active && !after.active {
            let n = sessions::delete_for_user(conn, user_id, None)?;
            state.audit(conn, meta, Some(admin), "user.deactivate", &target, &format!("{n} session(s) ended"))?;
        } else if !before.active && after.active {
            state.audit(conn, meta, Some(admin), "user.reactivate", &target, "")?;
        }
        let mut changed = Vec::new();
        if before.email != after.email {
            changed.push(format!("email {} → {}", before.email, after.email));
            // ASVS 2.5.5: both the old and the new address hear about the change.
            for to in [&before, &after] {
                crate::mail::compose::email_changed(state, conn, to, &before.email, &after.email)?;
            }
        }
        if before.display_name != after.display_name {
            changed.push("name".to_string());
        }
        if before.organization_id != after.organization_id {
            changed.push("organization".to_string());
        }
        if before.time_zone != after.time_zone {
            changed.push("time zone".to_string());
        }
        if !changed.is_empty() {
            state.audit(conn, meta, Some(admin), "user.update", &target, &changed.join(", "))?;
        }
        Ok(after)
    })
}

/// A single-use link, valid for one hour, for the user to set a new password. Only its hash is
/// stored; the link is shown to the admin once.
pub fn issue_reset(state: &AppState, meta: &RequestMeta, admin: &User, user_id: i64) -> ServiceResult<String> {
    authorize(&actor_of(admin), Action::ManageUsers, Resource::None)?;
    state.tx(|conn| {
        let user = users::find(conn, user_id)?;
        if !user.active {
            return Err(ServiceError::Conflict("Reactivate the user before issuing a reset link.".into()));
        }
        issue_reset_in(state, conn, meta, Some(admin), &user)
    })
}

pub(crate) fn issue_reset_in(
    state: &AppState,
    conn: &mut DbConnection,
    meta: &RequestMeta,
    admin: Option<&User>,
    user: &User,
) -> ServiceResult<String> {
    let token = random_token(16);
    let now = state.clock.now_naive();
    let expires_at = now + Duration::hours(1);
    password_resets::insert(conn, user.id, &sha256_hex(&token), now, expires_at)?;
    state.audit(conn, meta, admin, "password.reset_issued", &format!("user:{}", user.id), "link valid for 1 hour")?;
    let link = format!("{}/password-reset/{token}", state.config.base());
    crate::mail::compose::password_reset(state, conn, user, &link, expires_at)?;
    Ok(link)
}

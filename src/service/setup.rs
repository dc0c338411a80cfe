//! First run: a one-time link creates the first admin. There is no default account.

use super::auth::{NewSession, start_session};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, check_new_password};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{setup_tokens, users};
use crate::domain::validate;

/// When there are no users yet, makes a fresh setup token and returns the link to print.
pub fn issue_link_if_needed(state: &AppState) -> ServiceResult<Option<String>> {
    let mut conn = state.conn()?;
    if users::count(&mut conn)? > 0 {
        return Ok(None);
    }
    let token = random_token(16);
    setup_tokens::replace(&mut conn, &sha256_hex(&token), state.clock.now_naive())?;
    Ok(Some(format!("{}/setup?token={token}", state.config.base())))
}

/// No user exists yet: the sign-in page points to the setup link instead.
pub fn instance_is_empty(state: &AppState) -> ServiceResult<bool> {
    Ok(users::count(&mut *state.conn()?)? == 0)
}

pub fn token_is_live(state: &AppState, token: &str) -> ServiceResult<bool> {
    let mut conn = state.conn()?;
    Ok(users::count(&mut conn)? == 0 && setup_tokens::is_valid(&mut conn, &sha256_hex(token))?)
}

#[derive(Debug, Clone, Default)]
pub struct SetupInput {
    pub token: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates the first admin and signs them in. The token dies in the same transaction. A dead
/// token is refused before anything else, above all before the (deliberately slow) hashing.
pub fn complete(state: &AppState, meta: &RequestMeta, input: &SetupInput) -> ServiceResult<NewSession> {
    if !token_is_live(state, &input.token)? {
        return Err(ServiceError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.display_name, "Name", 100).map_err(|e| errors.add("display_name", e)).ok();
    let email = validate::email(&input.email).map_err(|e| errors.add("email", e)).ok();
    check_new_password(
        &mut errors,
        "password",
        &input.password,
        &input.password_confirm,
        email.as_deref().unwrap_or(&input.email),
        name.as_deref().unwrap_or(&input.display_name),
    );
    errors.into_result()?;
    let (Some(name), Some(email)) = (name, email) else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    let hash = state.hasher.hash(&input.password)?;
    let now = state.clock.now_naive();
    state.tx(|conn| {
        if users::count(conn)? > 0 || !setup_tokens::consume(conn, &sha256_hex(&input.token), now)? {
            return Err(ServiceError::NotFound);
        }
        let user = users::insert(
            conn,
            &users::NewUser {
                email: &email,
                display_name: &name,
                role: "admin",
                organization_id: None,
                time_zone: "UTC",
                password_hash: Some(&hash),
                now,
            },
        )?;
        state.audit(conn, meta, Some(&user), "setup", &format!("user:{}", user.id), "first administrator created")?;
        start_session(state, conn, meta, &user)
    })
}

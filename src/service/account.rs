//! What a signed-in user does to their own account, and password reset by link.

use super::{
    AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, auth, authorize, check_new_password,
};
use crate::crypto::sha256_hex;
use crate::db::models::{Session, User};
use crate::db::{password_resets, sessions, users};
use crate::domain::policy::{Action, Resource};
use crate::domain::validate;

#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub display_name: String,
    pub time_zone: String,
}

pub fn update_profile(state: &AppState, meta: &RequestMeta, user: &User, input: &ProfileInput) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.display_name, "Name", 100).map_err(|e| errors.add("display_name", e)).ok();
    let tz = validate::time_zone(&input.time_zone).map_err(|e| errors.add("time_zone", e)).ok();
    errors.into_result()?;
    let (Some(name), Some(tz)) = (name, tz) else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    state.tx(|conn| {
        users::update_profile(conn, user.id, &name, &tz, state.clock.now_naive())?;
        let mut changed = Vec::new();
        if name != user.display_name {
            changed.push("name");
        }
        if tz != user.time_zone {
            changed.push("time zone");
        }
        state.audit(conn, meta, Some(user), "account.update", &format!("user:{}", user.id), &changed.join(", "))
    })
}

#[derive(Debug, Clone, Default)]
pub struct PasswordChangeInput {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

/// Changes the password (the current one is required) and ends every other session. A wrong
/// current password counts towards the account's sign-in lockout, and a locked account is
/// refused without hashing, as sign-in is.
pub fn change_password(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    current_session_id: i64,
    input: &PasswordChangeInput,
) -> ServiceResult<usize> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    let mut errors = FieldErrors::default();
    let email = user.email.to_lowercase();
    if auth::is_locked(state, &mut *state.conn()?, &email)? {
        errors.add("current_password", "Too many wrong passwords for this account: wait 15 minutes and try again.");
        return Err(ServiceError::Invalid(errors));
    }
    if !state.hasher.verify(&input.current_password, user.password_hash.as_deref()) {
        state.tx(|conn| {
            state.audit(conn, meta, Some(user), "password.change_failure", &format!("user:{}", user.id), "")?;
            auth::count_failure(state, conn, meta, Some(user), &email)
        })?;
        errors.add("current_password", "That is not your current password.");
    }
    check_new_password(
        &mut errors,
        "password",
        &input.password,
        &input.password_confirm,
        &user.email,
        &user.display_name,
    );
    errors.into_result()?;
    let hash = state.hasher.hash(&input.password)?;
    state.tx(|conn| {
        users::set_password_hash(conn, user.id, &hash, state.clock.now_naive())?;
        let ended = sessions::delete_for_user(conn, user.id, Some(current_session_id))?;
        crate::mail::compose::password_changed(state, conn, user)?;
        state.audit(
            conn,
            meta,
            Some(user),
            "password.change",
            &format!("user:{}", user.id),
            &format!("{ended} other session(s) ended"),
        )?;
        Ok(ended)
    })
}

pub fn list_sessions(state: &AppState, user: &User) -> ServiceResult<Vec<Session>> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    let mut conn = state.conn()?;
    Ok(sessions::list_for_user(&mut conn, user.id)?)
}

/// Ends one of the user's own sessions. Another user's session id answers NotFound, as a
/// missing one does.
pub fn revoke_session(state: &AppState, meta: &RequestMeta, user: &User, session_id: i64) -> ServiceResult<()> {
    state.tx(|conn| {
        let Some(session) = sessions::find(conn, session_id)? else {
            return Err(ServiceError::NotFound);
        };
        if authorize(&actor_of(user), Action::RevokeSession, Resource::Session { owner_id: session.user_id }).is_err() {
            return Err(ServiceError::NotFound);
        }
        sessions::delete(conn, session.id)?;
        state.audit(conn, meta, Some(user), "session.revoke", &format!("session:{}", session.id), "")
    })
}

/// The user a live reset token belongs to.
pub fn reset_target(state: &AppState, token: &str) -> ServiceResult<Option<User>> {
    let mut conn = state.conn()?;
    match password_resets::find_live(&mut conn, &sha256_hex(token), state.clock.now_naive())? {
        Some(user_id) => Ok(Some(users::find(&mut conn, user_id)?).filter(|u| u.active)),
        None => Ok(None),
    }
}

/// Sets a new password through a reset link; the link dies and every session of the user ends.
pub fn reset_password(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    password: &str,
    password_confirm: &str,
) -> ServiceResult<User> {
    let Some(user) = reset_target(state, token)? else {
        return Err(ServiceError::NotFound);
    };
    let mut errors = FieldErrors::default();
    check_new_password(&mut errors, "password", password, password_confirm, &user.email, &user.display_name);
    errors.into_result()?;
    let hash = state.hasher.hash(password)?;
    let now = state.clock.now_naive();
    state.tx(|conn| {
        if !password_resets::consume(conn, &sha256_hex(token), now)? {
            return Err(ServiceError::NotFound);
        }
        users::set_password_hash(conn, user.id, &hash, now)?;
        sessions::delete_for_user(conn, user.id, None)?;
        crate::db::login_throttle::clear(conn, &user.email)?;
        crate::mail::compose::password_changed(state, conn, &user)?;
        state.audit(
            conn,
            meta,
            Some(&user),
            "password.reset",
            &format!("user:{}", user.id),
            "set through a reset link",
        )?;
        Ok(user.clone())
    })
}

/// Links one account may be sent per hour, and requests one client address may make per 15
/// minutes, through "forgot your password".
const RESET_LINKS_PER_HOUR: i64 = 3;
const RESET_REQUESTS_PER_ADDRESS: i64 = 5;

/// What a "forgot your password" request came to; the page says the same for every outcome
/// but `TooMany`, so nobody learns which addresses have accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRequest {
    /// Done (a link was mailed, or there was nothing to send: no such active account, or it
    /// already got its links for this hour).
    Answered,
    /// This client address asked too often; it may try again later.
    TooMany,
}

/// Self-service reset: mails a single-use link (valid one hour) to the active account with this
/// address. Every request is audited, which also counts them for the limits.
pub fn request_reset(state: &AppState, meta: &RequestMeta, email: &str) -> ServiceResult<ResetRequest> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || !email.contains('@') || email.chars().count() > 254 {
        return Err(ServiceError::Invalid(FieldErrors::single("email", "Enter the address you sign in with.")));
    }
    state.tx(|conn| {
        let now = state.clock.now_naive();
        let from_here = crate::db::audit::count_recent(
            conn,
            "password.reset_requested",
            None,
            Some(&meta.ip),
            now - chrono::Duration::minutes(15),
        )?;
        if from_here >= RESET_REQUESTS_PER_ADDRESS {
            return Ok(ResetRequest::TooMany);
        }
        let user = users::find_by_email(conn, &email)?.filter(|u| u.active);
        let outcome = match &user {
            None => "no active account",
            Some(u) => {
                let target = format!("user:{}", u.id);
                let sent = crate::db::audit::count_recent(
                    conn,
                    "password.reset_issued",
                    Some(&target),
                    None,
                    now - chrono::Duration::hours(1),
                )?;
                if sent >= RESET_LINKS_PER_HOUR {
                    "refused: enough links this hour"
                } else {
                    super::admin_users::issue_reset_in(state, conn, meta, None, u)?;
                    "link mailed"
                }
            }
        };
        state.audit(conn, meta, None, "password.reset_requested", &email, outcome)?;
        Ok(ResetRequest::Answered)
    })
}

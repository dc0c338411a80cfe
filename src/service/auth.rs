//! Signing in and out, and turning a session cookie back into a user.

use super::{AppState, RequestMeta, ServiceResult};
use crate::crypto::{random_token, sha256_hex};
use crate::db::models::{Session, User};
use crate::db::{DbConnection, login_throttle, sessions, users};
use chrono::Duration;

/// Failures within this window count towards a lockout; a lockout lasts as long.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 15;
pub const LOCKOUT_FAILURES: i64 = 10;

/// A new session: the raw token goes into the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// Wrong email or password, inactive account, or a locked account: one answer for all.
    BadCredentials,
    /// Too many failures from this address.
    TooManyFromAddress,
}

pub fn start_session(
    state: &AppState,
    conn: &mut DbConnection,
    meta: &RequestMeta,
    user: &User,
) -> ServiceResult<NewSession> {
    let token = random_token(32);
    let ua: String = meta.user_agent.chars().take(300).collect();
    sessions::insert(conn, &sha256_hex(&token), user.id, &meta.ip, &ua, state.clock.now_naive())?;
    Ok(NewSession { token, user: user.clone() })
}

/// Checks the credentials with throttling. A throttled address or a locked account is refused
/// before any hashing (the answer is the same, and an attacker must not get the server to run
/// argon2 at will); otherwise every path verifies one argon2 hash, so an unknown account costs
/// the same time as a known one. Lockouts go by email, known or not, so a fast answer tells
/// nothing about whether the account exists.
pub fn login(
    state: &AppState,
    meta: &RequestMeta,
    email_input: &str,
    password: &str,
) -> ServiceResult<Result<NewSession, LoginRefused>> {
    let email: String = email_input.trim().to_lowercase().chars().take(254).collect();
    let now = state.clock.now_naive();
    let window_start = now - Duration::minutes(LOCKOUT_WINDOW_MINUTES);
    let mut conn = state.conn()?;
    let conn = &mut *conn;

    if login_throttle::failures_for_ip_since(conn, &meta.ip, window_start)? >= state.config.login_ip_limit {
        state.audit(conn, meta, None, "login.failure", &email, "refused: too many failures from this address")?;
        return Ok(Err(LoginRefused::TooManyFromAddress));
    }
    if is_locked(state, conn, &email)? {
        let user = users::find_by_email(conn, &email)?;
        state.audit(conn, meta, user.as_ref(), "login.failure", &email, "account locked")?;
        return Ok(Err(LoginRefused::BadCredentials));
    }

    let user = users::find_by_email(conn, &email)?;
    let password_ok = state.hasher.verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref()));

    if let Some(user) = user.as_ref().filter(|u| password_ok && u.active) {
        return state
            .tx(|conn| {
                login_throttle::clear(conn, &email)?;
                let s = start_session(state, conn, meta, user)?;
                state.audit(conn, meta, Some(user), "login.success", &format!("user:{}", user.id), "")?;
                Ok(s)
            })
            .map(Ok);
    }

    let reason = if user.is_none() {
        "unknown email"
    } else if user.as_ref().is_some_and(|u| !u.active) {
        "account inactive"
    } else {
        "wrong password"
    };
    state.tx(|conn| {
        state.audit(conn, meta, user.as_ref(), "login.failure", &email, reason)?;
        count_failure(state, conn, meta, user.as_ref(), &email)
    })?;
    Ok(Err(LoginRefused::BadCredentials))
}

/// Whether the account behind this (normalized) email is locked out now.
pub fn is_locked(state: &AppState, conn: &mut DbConnection, email: &str) -> ServiceResult<bool> {
    Ok(login_throttle::locked_until(conn, email)?.is_some_and(|until| until > state.clock.now_naive()))
}

/// Counts a wrong password against the account and the address it came from, and locks the
/// account when that makes `LOCKOUT_FAILURES` within the window. Sign-in and the account page's
/// "current password" both count here: a stolen session must not be a way around the lockout.
pub fn count_failure(
    state: &AppState,
    conn: &mut DbConnection,
    meta: &RequestMeta,
    user: Option<&User>,
    email: &str,
) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    login_throttle::record_failure(conn, email, &meta.ip, now)?;
    let window_start = now - Duration::minutes(LOCKOUT_WINDOW_MINUTES);
    if login_throttle::failures_for_email_since(conn, email, window_start)? >= LOCKOUT_FAILURES {
        login_throttle::lock(conn, email, now + Duration::minutes(LOCKOUT_WINDOW_MINUTES))?;
        state.audit(
            conn,
            meta,
            user,
            "login.lockout",
            email,
            &format!("{LOCKOUT_FAILURES} failures in {LOCKOUT_WINDOW_MINUTES} minutes"),
        )?;
    }
    Ok(())
}

/// The live session behind a cookie token, enforcing idle and absolute timeouts and the user's
/// active flag. An expired session is deleted on the spot.
pub fn resolve_session(state: &AppState, token: &str) -> ServiceResult<Option<(Session, User)>> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let Some((session, user)) = sessions::find_with_user(conn, &sha256_hex(token))? else {
        return Ok(None);
    };
    let now = state.clock.now_naive();
    let idle = Duration::minutes(state.config.session_idle_minutes);
    let absolute = Duration::hours(state.config.session_absolute_hours);
    if now - session.last_seen_at >= idle || now - session.created_at >= absolute || !user.active {
        sessions::delete(conn, session.id)?;
        return Ok(None);
    }
    // Writing on every request would serialize SQLite; a minute's resolution is plenty.
    if now - session.last_seen_at >= Duration::seconds(60) {
        sessions::touch(conn, session.id, now)?;
    }
    Ok(Some((session, user)))
}

pub fn logout(state: &AppState, meta: &RequestMeta, session_id: i64, user: &User) -> ServiceResult<()> {
    state.tx(|conn| {
        sessions::delete(conn, session_id)?;
        state.audit(conn, meta, Some(user), "logout", &format!("user:{}", user.id), "")
    })
}

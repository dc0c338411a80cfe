//! What users and admins change about mail: notification preferences, retrying a message.

use super::{AppState, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::User;
use crate::db::outbox;
use crate::domain::policy::{Action, Resource};
use crate::mail::compose::KINDS;

/// The modes a notification kind can have.
pub const MODES: [&str; 3] = ["immediate", "digest", "off"];

/// Saves the user's choices; unknown kinds and modes are ignored.
pub fn set_preferences(state: &AppState, user: &User, choices: &[(String, String)]) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    state.tx(|conn| {
        for (kind, mode) in choices {
            if KINDS.iter().any(|(k, _)| k == kind) && MODES.contains(&mode.as_str()) {
                outbox::set_pref(conn, user.id, kind, mode)?;
            }
        }
        // The weekly report summary is opt-in: a checkbox, sent (on) or absent (off).
        if super::reports::may_get_weekly(user) {
            let (kind, on) = super::reports::WEEKLY_PREF;
            let wanted = choices.iter().any(|(k, _)| k == kind);
            outbox::set_pref(conn, user.id, kind, if wanted { on } else { "immediate" })?;
        }
        Ok(())
    })
}

/// Puts a failed message back in the queue.
pub fn retry(state: &AppState, meta: &RequestMeta, admin: &User, id: i64) -> ServiceResult<()> {
    authorize(&actor_of(admin), Action::ManageOutbox, Resource::None)?;
    state.tx(|conn| {
        outbox::find(conn, id)?;
        if !outbox::retry(conn, id, state.clock.now_naive())? {
            return Err(ServiceError::Conflict("Only failed messages can be retried.".into()));
        }
        state.audit(conn, meta, Some(admin), "outbox.retry", &format!("outbox:{id}"), "")
    })
}

//! What users and admins change about mail: notification preferences, retrying a message.

use super::{AppState, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::User;
use crate::db::outbox;
use crate::domain::policy::{Action, Resource};
use crate::mail::compose::KINDS;

/// The modes a notification kind can have.
pub const MODES: [&str; 3] = ["immediate", "digest", "off"];

/// The user's notification choices: (kind, label, mode) for each kind, and for the weekly
/// report summary whether it is offered to them and whether they chose it.
pub struct Preferences {
    pub kinds: Vec<(&'static str, &'static str, String)>,
    pub weekly: (bool, bool),
}

pub fn preferences(state: &AppState, user: &User) -> ServiceResult<Preferences> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    let prefs = outbox::prefs_for(&mut *state.conn()?, &[user.id])?;
    let mode_of = |kind: &str| prefs.iter().find(|(_, k, _)| k == kind).map(|(_, _, m)| m.clone());
    let (weekly, on) = super::reports::WEEKLY_PREF;
    Ok(Preferences {
        kinds: KINDS
            .iter()
            .map(|(kind, label)| (*kind, *label, mode_of(kind).unwrap_or_else(|| "immediate".into())))
            .collect(),
        weekly: (super::reports::may_get_weekly(user), mode_of(weekly).is_some_and(|m| m == on)),
    })
}

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

//! What users and admins change about mail: notification preferences, retrying a message.

use super::{AppState, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::User;
use crate::db::{DbConnection, outbox, settings};
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
            .filter(|(kind, _)| applies_to(user, kind))
            .map(|(kind, label)| (*kind, *label, mode_of(kind).unwrap_or_else(|| "immediate".into())))
            .collect(),
        weekly: (super::reports::may_get_weekly(user), mode_of(weekly).is_some_and(|m| m == on)),
    })
}

/// Whether mail of this kind can reach the user at all: staff-only kinds go to those who read
/// internal notes, so nobody else is offered a choice about them.
fn applies_to(user: &User, kind: &str) -> bool {
    crate::domain::notify::reaches_customers(kind)
        || crate::domain::policy::role_may(actor_of(user).role, Action::UseInternalNotes)
}

/// Saves the user's choices; unknown kinds and modes are ignored.
pub fn set_preferences(state: &AppState, user: &User, choices: &[(String, String)]) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageOwnAccount, Resource::None)?;
    state.tx(|conn| {
        for (kind, mode) in choices {
            if KINDS.iter().any(|(k, _)| k == kind) && applies_to(user, kind) && MODES.contains(&mode.as_str()) {
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

const KEY_ACKNOWLEDGE: &str = "mail.acknowledge_reporter";

/// Whether a customer who files an incident gets a mail saying it arrived (on unless an admin
/// turned it off).
pub fn acknowledges(conn: &mut DbConnection) -> ServiceResult<bool> {
    Ok(settings::get(conn, KEY_ACKNOWLEDGE)?.as_deref() != Some("off"))
}

/// The outbox page: the newest messages (of one status, if given) and whether reporters get an
/// acknowledgement.
pub fn outbox_page(
    state: &AppState,
    admin: &User,
    status: Option<&str>,
) -> ServiceResult<(Vec<crate::db::models::OutboxMessage>, bool)> {
    authorize(&actor_of(admin), Action::ManageOutbox, Resource::None)?;
    let mut conn = state.conn()?;
    Ok((outbox::list(&mut conn, status, None, 200)?, acknowledges(&mut conn)?))
}

pub fn set_acknowledgement(state: &AppState, meta: &RequestMeta, admin: &User, on: bool) -> ServiceResult<()> {
    authorize(&actor_of(admin), Action::ManageOutbox, Resource::None)?;
    state.tx(|conn| {
        let value = if on { "on" } else { "off" };
        settings::set(conn, KEY_ACKNOWLEDGE, value, state.clock.now_naive())?;
        state.audit(conn, meta, Some(admin), "mail.acknowledge_reporter", "", value)
    })
}

//! Saved queue views: a user names the queue's current filter; managers may share one with all
//! staff. The queue shows them as links with their counts.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::User;
use crate::db::views::{self as db, SavedView};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::validate;

/// The most views one user keeps.
pub const MAX_OWN_VIEWS: usize = 20;

/// One view as the queue lists it.
#[derive(Debug, Clone)]
pub struct ViewLink {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub shared: bool,
    /// The viewer may delete it (their own; shared ones for managers).
    pub deletable: bool,
}

fn can_share(user: &User) -> bool {
    policy::allows(Some(&actor_of(user)), Action::ShareQueueViews, Resource::None)
}

/// The views the user sees above the queue (customers only their own), and whether they may
/// share; read on the queue page's own connection and remembered like the queue's other lists
/// until the next write.
pub(crate) fn list(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    user: &User,
) -> ServiceResult<(Vec<ViewLink>, bool)> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewIncidents, Resource::None)?;
    let share = can_share(user);
    let staff = actor.role.is_staff();
    let stored = state.cache.saved_views((user.id, staff), || db::visible_to(conn, user.id, staff))?;
    let views = stored
        .iter()
        .map(|v| ViewLink {
            deletable: v.owner_id.is_some() || share,
            shared: v.owner_id.is_none(),
            id: v.id,
            name: v.name.clone(),
            query: v.query.clone(),
        })
        .collect();
    Ok((views, share))
}

/// Saves the queue's filter (its query string without paging) under a name.
pub fn save(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    name: &str,
    query: &str,
    shared: bool,
) -> ServiceResult<SavedView> {
    authorize(&actor_of(user), Action::ViewIncidents, Resource::None)?;
    let mut errors = FieldErrors::default();
    let name = validate::label(name, "The view's name", 60).map_err(|e| errors.add("view_name", e)).ok();
    if query.len() > 2000 {
        errors.add("view_name", "This filter is too long to save.");
    }
    if shared && !can_share(user) {
        errors.add("view_name", "Only managers and admins share views.");
    }
    state.tx(|conn| {
        if !shared && db::visible_to(conn, user.id, false)?.len() >= MAX_OWN_VIEWS {
            errors.add("view_name", format!("You have {MAX_OWN_VIEWS} views: delete one first."));
        }
        errors.clone().into_result()?;
        let name = name.clone().ok_or_else(|| ServiceError::Internal("validated name missing".into()))?;
        let owner = if shared { None } else { Some(user.id) };
        let v = db::insert(conn, &name, query, owner, user.id, state.clock.now_naive()).map_err(|e| match e {
            crate::db::DbError::Conflict => {
                ServiceError::Invalid(FieldErrors::single("view_name", "A view with this name exists already."))
            }
            other => other.into(),
        })?;
        if shared {
            state.audit(conn, meta, Some(user), "view.share", &format!("view:{}", v.id), &v.name)?;
        }
        Ok(v)
    })
}

pub fn delete(state: &AppState, meta: &RequestMeta, user: &User, id: i64) -> ServiceResult<SavedView> {
    authorize(&actor_of(user), Action::ViewIncidents, Resource::None)?;
    state.tx(|conn| {
        let v = db::find(conn, id)?;
        match v.owner_id {
            Some(o) if o != user.id => return Err(ServiceError::NotFound),
            None if !actor_of(user).role.is_staff() => return Err(ServiceError::NotFound),
            None if !can_share(user) => return Err(ServiceError::Forbidden),
            _ => {}
        }
        db::delete(conn, id)?;
        if v.owner_id.is_none() {
            state.audit(conn, meta, Some(user), "view.delete", &format!("view:{}", v.id), &v.name)?;
        }
        Ok(v)
    })
}

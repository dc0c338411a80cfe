use super::work::apply;
use super::{event, load_for, load_visible, status_of};
use crate::db::DbConnection;
use crate::db::incidents::{self, IncidentChanges};
use crate::db::models::{Incident, User};
use crate::db::users;
use crate::domain::incident::{
    DUPLICATE_HIDDEN, LinkKind, Status, duplicate_original, duplicate_resolution, key, parse_key,
};
use crate::domain::policy::{Action, Actor};
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of};

/// Links this incident to another by key. `kind` is duplicate_of, related_to, parent_of or
/// child_of (stored as the other's parent_of). Marking a duplicate closes it, pointing to the
/// original.
pub fn link(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    other_key: &str,
    kind: &str,
) -> ServiceResult<()> {
    state.tx(|conn| link_in(state, conn, user, id, other_key, kind))
}

/// `link` inside the caller's transaction.
fn link_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    id: i64,
    other_key: &str,
    kind: &str,
) -> ServiceResult<()> {
    let actor = actor_of(user);
    let (inc, _) = load_for(conn, &actor, id, Action::WorkIncident)?;
    let invalid = |m: &str| ServiceError::Invalid(FieldErrors::single("other", m));
    let Some(other_id) = parse_key(other_key.trim().to_uppercase().as_str()) else {
        return Err(invalid("Enter an incident key like INC-42."));
    };
    if other_id == inc.id {
        return Err(invalid("An incident cannot be linked to itself."));
    }
    let other = match load_visible(conn, &actor, other_id) {
        Ok((o, _)) => o,
        Err(ServiceError::NotFound) => return Err(invalid("There is no incident with that key.")),
        Err(e) => return Err(e),
    };
    let (from, to, stored) = match kind {
        "duplicate_of" => (&inc, &other, LinkKind::DuplicateOf),
        "related_to" => (&inc, &other, LinkKind::RelatedTo),
        "parent_of" => (&inc, &other, LinkKind::ParentOf),
        "child_of" => (&other, &inc, LinkKind::ParentOf),
        _ => {
            return Err(ServiceError::Invalid(FieldErrors::single("kind", "Choose how the incidents are linked.")));
        }
    };
    if incidents::link_exists(conn, inc.id, other.id)? {
        return Err(invalid("These incidents are linked already."));
    }
    record_link(state, conn, from, to, stored, user)
}

/// Stores a link with its event on both sides; marking a duplicate closes it.
pub(crate) fn record_link(
    state: &AppState,
    conn: &mut DbConnection,
    from: &Incident,
    to: &Incident,
    stored: LinkKind,
    user: &User,
) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    incidents::insert_link(conn, from.id, to.id, stored.as_str(), user.id, now)?;
    let (from_phrase, to_phrase) = stored.phrases();
    event(
        conn,
        from,
        Some(user.id),
        "linked",
        stored.as_str(),
        "",
        &format!("{from_phrase} {}", key(to.id)),
        true,
        None,
        now,
    )?;
    event(
        conn,
        to,
        Some(user.id),
        "linked",
        stored.as_str(),
        "",
        &format!("{to_phrase} {}", key(from.id)),
        true,
        None,
        now,
    )?;
    incidents::mark_updated(conn, from.id, now)?;
    incidents::mark_updated(conn, to.id, now)?;
    if stored == LinkKind::DuplicateOf && status_of(from) != Status::Closed {
        close_as_duplicate(state, conn, from, to, user)?;
    }
    Ok(())
}

fn close_as_duplicate(
    state: &AppState,
    conn: &mut crate::db::DbConnection,
    dup: &Incident,
    original: &Incident,
    user: &User,
) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    let resolution = duplicate_resolution(original.id);
    let changes = IncidentChanges {
        status: Some(Status::Closed.as_str().into()),
        is_open: Some(false),
        resolution: Some(resolution.clone()),
        resolved_at: Some(Some(dup.resolved_at.unwrap_or(now))),
        closed_at: Some(Some(now)),
        ..Default::default()
    };
    let inc = apply(conn, dup, dup.version, &changes, now)?;
    event(
        conn,
        &inc,
        Some(user.id),
        "status_changed",
        "status",
        &dup.status,
        Status::Closed.as_str(),
        false,
        None,
        now,
    )?;
    event(conn, &inc, Some(user.id), "field_changed", "resolution", &dup.resolution, &resolution, false, None, now)?;
    crate::service::sla::refresh(state, conn, inc.id)?;
    let told = as_reporter_sees(conn, &inc)?;
    crate::mail::compose::status(state, conn, &told, Status::Closed.as_str(), Some(user.id))?;
    Ok(())
}

/// The incident with its resolution as its reporter may read it: for the status mails, which go
/// to the reporter.
pub(crate) fn as_reporter_sees(conn: &mut DbConnection, inc: &Incident) -> ServiceResult<Incident> {
    let mut told = inc.clone();
    let reporter = actor_of(&users::find(conn, inc.reporter_id)?);
    hide_unseen_originals(conn, &reporter, [&mut told.resolution])?;
    Ok(told)
}

/// The resolution texts in events (old and new), which may name a duplicate's original.
pub(crate) fn resolution_texts(events: &mut [crate::db::models::IncidentEvent]) -> impl Iterator<Item = &mut String> {
    events
        .iter_mut()
        .filter(|e| e.kind == "field_changed" && e.field == "resolution")
        .flat_map(|e| [&mut e.old_value, &mut e.new_value])
}

/// A duplicate's resolution names its original ("Duplicate of INC-3."). A viewer who may not see
/// the original reads `DUPLICATE_HIDDEN` instead: the key would tell them that the other incident
/// exists, and where to look for it.
pub(crate) fn hide_unseen_originals<'a>(
    conn: &mut DbConnection,
    viewer: &Actor,
    texts: impl IntoIterator<Item = &'a mut String>,
) -> ServiceResult<()> {
    if viewer.role.is_staff() {
        return Ok(());
    }
    for text in texts {
        let Some(original) = duplicate_original(text) else { continue };
        match load_visible(conn, viewer, original) {
            Ok(_) => {}
            Err(ServiceError::NotFound) => *text = DUPLICATE_HIDDEN.to_string(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn unlink(state: &AppState, _meta: &RequestMeta, user: &User, id: i64, link_id: i64) -> ServiceResult<()> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let (inc, _) = load_for(conn, &actor, id, Action::WorkIncident)?;
        let l = incidents::find_link(conn, link_id)?;
        if l.from_id != inc.id && l.to_id != inc.id {
            return Err(ServiceError::NotFound);
        }
        let other_id = if l.from_id == inc.id { l.to_id } else { l.from_id };
        let other = incidents::find(conn, other_id)?;
        incidents::delete_link(conn, l.id)?;
        let now = state.clock.now_naive();
        event(conn, &inc, Some(user.id), "unlinked", &l.kind, &key(other.id), "", true, None, now)?;
        event(conn, &other, Some(user.id), "unlinked", &l.kind, &key(inc.id), "", true, None, now)?;
        Ok(())
    })
}

/// Starts or stops watching. Returns whether the user now watches.
pub fn watch(state: &AppState, user: &User, id: i64, on: bool) -> ServiceResult<bool> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let (inc, _) = load_for(conn, &actor, id, Action::WatchIncident)?;
        if on {
            incidents::add_watcher(conn, inc.id, user.id)?;
        } else {
            incidents::remove_watcher(conn, inc.id, user.id)?;
        }
        Ok(on)
    })
}

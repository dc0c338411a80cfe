use super::files::{FileUpload, check_files, store_files};
use super::{acknowledge_once, check_body, event, load_for, load_visible};
use crate::db::models::{Comment, User};
use crate::db::{DbConnection, incidents};
use crate::domain::incident::BodyFormat;
use crate::domain::incident::{Mover, Status};
use crate::domain::policy::{self, Action, Resource};
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of};
use chrono::Duration;

/// How long an author may edit their comment.
pub const COMMENT_EDIT_MINUTES: i64 = 15;

/// A public reply or (staff only) an internal note, with the files attached to it.
pub fn add_comment(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    body: &str,
    internal: bool,
    files: &[FileUpload],
) -> ServiceResult<Comment> {
    state.tx(|conn| add_web_comment_in(state, conn, user, incident_id, body, internal, files))
}

/// A comment written in the web form, inside the caller's transaction: the reply checked for
/// the help articles it links, the text and the files checked together (one answer naming
/// every problem), the files stored with the comment's visibility.
pub(crate) fn add_web_comment_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
    body: &str,
    internal: bool,
    files: &[FileUpload],
) -> ServiceResult<Comment> {
    if !internal {
        // A public reply written here never names an article its readers may not open.
        let (inc, _) = load_visible(conn, &actor_of(user), incident_id)?;
        crate::service::help::check_public_reply(conn, user, &inc, body, "body")?;
    }
    let mut file_errors = FieldErrors::default();
    check_files(state, files, &mut file_errors);
    let c = match add_comment_in(state, conn, user, incident_id, body, (internal, BodyFormat::Markdown)) {
        Err(ServiceError::Invalid(mut e)) => {
            e.0.extend(file_errors.0);
            return Err(ServiceError::Invalid(e));
        }
        other => other?,
    };
    file_errors.into_result()?;
    store_files(state, conn, (c.incident_id, Some(c.id)), internal, files, user.id)?;
    Ok(c)
}

/// `add_comment` inside the caller's transaction.
pub(crate) fn add_comment_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
    body: &str,
    (internal, format): (bool, BodyFormat),
) -> ServiceResult<Comment> {
    let actor = actor_of(user);
    let action = if internal { Action::UseInternalNotes } else { Action::CommentPublic };
    let (inc, _) = load_for(conn, &actor, incident_id, action)?;
    let mut errors = FieldErrors::default();
    if body.trim().is_empty() {
        errors.add("body", "Write something first.");
    }
    let body = check_body(body, "body", "A comment", &mut errors);
    errors.into_result()?;
    let body = body.unwrap_or_default();
    let now = state.clock.now_naive();
    let c = incidents::insert_comment(conn, inc.id, user.id, &body, (internal, format.as_str()), now)?;
    incidents::mark_updated(conn, inc.id, now)?;
    crate::mail::compose::comment(state, conn, &inc, &c, user)?;
    let kind = if internal { "internal note" } else { "public reply" };
    event(conn, &inc, Some(user.id), "comment_added", "", "", kind, internal, Some(c.id), now)?;
    if !internal {
        acknowledge_once(state, conn, &inc, &actor, "first public reply")?;
        if policy::allows(Some(&actor), Action::WorkIncident, Resource::None) {
            crate::service::sla::first_response(state, conn, inc.id)?;
        } else if inc.status == Status::WaitingOnCustomer.as_str() {
            // The customer answered: the incident is back with support and its clocks run again.
            let inc = incidents::find(conn, inc.id)?;
            let to = Status::InProgress.as_str();
            super::change_status_in(state, conn, user, inc.id, inc.version, to, "", Some(Mover::Staff))?;
        }
    }
    Ok(c)
}

/// The author edits their comment within 15 minutes; the previous text stays on the timeline
/// (with the comment's own visibility).
pub fn edit_comment(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    comment_id: i64,
    body: &str,
) -> ServiceResult<Comment> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let c = incidents::find_comment(conn, comment_id)?;
        if c.incident_id != incident_id {
            return Err(ServiceError::NotFound);
        }
        let (inc, res) = load_visible(conn, &actor, c.incident_id)?;
        if c.internal && !policy::allows(Some(&actor), Action::UseInternalNotes, res) {
            return Err(ServiceError::NotFound);
        }
        if c.author_id != user.id {
            return Err(ServiceError::Forbidden);
        }
        let now = state.clock.now_naive();
        if now - c.created_at > Duration::minutes(COMMENT_EDIT_MINUTES) {
            return Err(ServiceError::Conflict(format!(
                "Comments can be edited for {COMMENT_EDIT_MINUTES} minutes after posting; add a new comment instead."
            )));
        }
        let mut errors = FieldErrors::default();
        if body.trim().is_empty() {
            errors.add("body", "Write something first.");
        }
        let body = check_body(body, "body", "A comment", &mut errors);
        errors.into_result()?;
        let body = body.unwrap_or_default();
        if body == c.body {
            return Ok(c);
        }
        if !c.internal {
            crate::service::help::check_public_reply(conn, user, &inc, &body, "body")?;
        }
        let updated = incidents::update_comment(conn, c.id, &body, now)?;
        event(conn, &inc, Some(user.id), "comment_edited", "comment", &c.body, &body, c.internal, Some(c.id), now)?;
        Ok(updated)
    })
}

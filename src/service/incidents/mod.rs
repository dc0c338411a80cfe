//! Incidents: one function per state change (create, assign, status, fields, comment, link,
//! watch), each writing its timeline events in the same transaction; and the read models the
//! pages show.

mod bulk;
mod comments;
mod create;
mod files;
mod home;
mod links;
mod queue;
mod queue_filters;
mod read;
mod similar;
mod work;

/// The rows the form lists are made of.
pub use crate::db::models::{Service, User};
pub use bulk::{BulkInput, BulkOutcome, MAX_BULK, bulk_change};
pub use comments::{COMMENT_EDIT_MINUTES, add_comment, edit_comment};
pub(crate) use comments::{add_comment_in, add_web_comment_in};
pub(crate) use create::create_in;
pub use create::{NewIncidentInput, create};
pub(crate) use files::store_attachments;
pub use files::{FileUpload, MAX_FILES_PER_POST};
pub use home::{Dashboard, HomeHeadline, HomeKind, dashboard, report_headlines};
pub(crate) use links::record_link;
pub use links::{link, unlink, watch};
pub(crate) use queue::lists;
pub use queue::{
    PAGE_SIZES, QueueCount, QueueParams, QueueRow, QueueView, ViewsAbove, form_lists, queue_with_views, working_roles,
};
pub use read::{
    IncidentPage, LinkView, PickerAsk, SlaLine, TimelineItem, attachment, changes_since, describe_event, incident_page,
};
pub use similar::{SUGGESTIONS, SimilarIncident, SimilarPanel, SimilarProblem, panel as similar_panel, similar_titles};
pub use work::{AssignTarget, FieldsInput, assign, change_status, update_fields};
pub(crate) use work::{add_tags_in, apply, change_status_in};

use super::{AppState, FieldErrors, ServiceError, ServiceResult, actor_of};
use crate::db::models::Incident;
use crate::db::{DbConnection, incidents, users};
use crate::domain::incident::{Mover, Status};
use crate::domain::policy::{self, Action, Actor, Resource};
use chrono::NaiveDateTime;

/// Description and comment bodies: Markdown up to 100 KB.
pub const MAX_BODY_BYTES: usize = 100 * 1024;

/// The policy's view of an incident.
pub fn resource_of(conn: &mut DbConnection, inc: &Incident) -> ServiceResult<Resource> {
    Ok(incidents::resource(conn, inc)?)
}

/// Loads an incident the actor may see. Not seeing it and it not existing answer alike: 404.
pub fn load_visible(conn: &mut DbConnection, actor: &Actor, id: i64) -> ServiceResult<(Incident, Resource)> {
    let (inc, res) = incidents::find_with_resource(conn, id)?;
    if !policy::allows(Some(actor), Action::ViewIncident, res) {
        return Err(ServiceError::NotFound);
    }
    Ok((inc, res))
}

/// Visible, and the actor may take `action` on it (403 when visible but not allowed).
pub fn load_for(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    action: Action,
) -> ServiceResult<(Incident, Resource)> {
    let (inc, res) = load_visible(conn, actor, id)?;
    if !policy::allows(Some(actor), action, res) {
        return Err(ServiceError::Forbidden);
    }
    Ok((inc, res))
}

pub fn mover(actor: &Actor, inc: &Incident, res: Resource) -> Mover {
    if policy::allows(Some(actor), Action::WorkIncident, res) {
        Mover::Staff
    } else if inc.reporter_id == actor.user_id {
        Mover::Reporter
    } else {
        Mover::OtherCustomer
    }
}

pub fn status_of(inc: &Incident) -> Status {
    Status::parse(&inc.status).unwrap_or(Status::New)
}

/// A staff user who may be assigned incidents.
pub fn check_assignable(
    conn: &mut DbConnection,
    user_id: i64,
    errors: &mut FieldErrors,
    field: &'static str,
) -> ServiceResult<Option<User>> {
    match users::find(conn, user_id) {
        Ok(u) if u.active && policy::role_may(actor_of(&u).role, Action::WorkIncident) => Ok(Some(u)),
        Ok(_) | Err(crate::db::DbError::NotFound) => {
            errors.add(field, "Choose an active staff member who works incidents.");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes one timeline event.
#[allow(clippy::too_many_arguments)]
pub fn event(
    conn: &mut DbConnection,
    inc: &Incident,
    actor_id: Option<i64>,
    kind: &str,
    field: &str,
    old_value: &str,
    new_value: &str,
    internal: bool,
    comment_id: Option<i64>,
    at: NaiveDateTime,
) -> ServiceResult<()> {
    incidents::insert_event(
        conn,
        &incidents::NewEvent {
            incident_id: inc.id,
            actor_id,
            kind,
            field,
            old_value,
            new_value,
            internal,
            comment_id,
            version: inc.version,
            at,
        },
    )?;
    Ok(())
}

/// Validates a title: 1–200 characters on one line.
pub fn check_title(title: &str, errors: &mut FieldErrors) -> Option<String> {
    crate::domain::validate::label(title, "Title", 200).map_err(|e| errors.add("title", e)).ok()
}

/// Validates a Markdown body (at most 100 KB). Control characters other than newlines and tabs
/// are dropped: they mean nothing in text, and the search engines use two of them as markers.
pub fn check_body(body: &str, field: &'static str, what: &str, errors: &mut FieldErrors) -> Option<String> {
    if body.len() > MAX_BODY_BYTES {
        errors.add(field, format!("{what} must be at most 100 KB."));
        return None;
    }
    Some(body.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect())
}

/// Sets acknowledged_at once, with its event, if not yet set.
pub(crate) fn acknowledge_once(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    actor: &Actor,
    how: &str,
) -> ServiceResult<Option<Incident>> {
    if inc.acknowledged_at.is_some() || !policy::allows(Some(actor), Action::WorkIncident, Resource::None) {
        return Ok(None);
    }
    let now = state.clock.now_naive();
    if !incidents::set_acknowledged(conn, inc.id, now)? {
        return Ok(None);
    }
    let inc = incidents::find(conn, inc.id)?;
    event(conn, &inc, Some(actor.user_id), "acknowledged", "", "", how, true, None, now)?;
    Ok(Some(inc))
}

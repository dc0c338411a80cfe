//! Files stored with incidents and comments. They live in the database so every app instance
//! behind a load balancer serves the same files and a backup holds them with their incident.

use super::models::AttachmentMeta;
use super::schema::attachments;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub struct NewAttachment<'a> {
    pub incident_id: i64,
    pub comment_id: Option<i64>,
    pub internal: bool,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
    pub created_by: Option<i64>,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, a: &NewAttachment<'_>) -> DbResult<i64> {
    Ok(diesel::insert_into(attachments::table)
        .values((
            attachments::incident_id.eq(a.incident_id),
            attachments::comment_id.eq(a.comment_id),
            attachments::internal.eq(a.internal),
            attachments::filename.eq(a.filename),
            attachments::content_type.eq(a.content_type),
            attachments::size.eq(i64::try_from(a.data.len()).unwrap_or(i64::MAX)),
            attachments::data.eq(a.data),
            attachments::created_at.eq(a.now),
            attachments::created_by.eq(a.created_by),
        ))
        .returning(attachments::id)
        .get_result(conn)?)
}

/// An incident's attachments in upload order; internal ones only when asked for.
pub fn list_for(conn: &mut DbConnection, incident_id: i64, with_internal: bool) -> DbResult<Vec<AttachmentMeta>> {
    let mut q = attachments::table
        .filter(attachments::incident_id.eq(incident_id))
        .select(AttachmentMeta::as_select())
        .order(attachments::id.asc())
        .into_boxed();
    if !with_internal {
        q = q.filter(attachments::internal.eq(false));
    }
    Ok(q.load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<AttachmentMeta> {
    Ok(attachments::table.find(id).select(AttachmentMeta::as_select()).first(conn)?)
}

pub fn data(conn: &mut DbConnection, id: i64) -> DbResult<Vec<u8>> {
    Ok(attachments::table.find(id).select(attachments::data).first(conn)?)
}

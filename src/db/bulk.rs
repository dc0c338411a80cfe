//! Batched inserts for loading demo data: many rows per statement, many statements per
//! transaction. Only the demo loader uses this; the application writes through the other
//! modules one change at a time.

use super::schema::{comments, escalations, incident_events, incident_tags, incidents, search_docs};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Runs the same batch-insert builder on the inner connection: diesel's batch inserts do not
/// go through the MultiConnection enum.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConnection::Sqlite($c) => $body,
            DbConnection::Pg($c) => $body,
        }
    };
}

/// Rows per INSERT statement: below SQLite's bound-variable limit for the widest table.
pub const BATCH: usize = 400;

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = incidents)]
pub struct IncidentRow {
    pub title: String,
    pub description: String,
    pub service_id: i64,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub severity: String,
    pub status: String,
    pub is_open: bool,
    pub reporter_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub resolution: String,
    pub version: i32,
    pub tier_id: i64,
    pub first_response_at: Option<NaiveDateTime>,
    pub response_due_at: Option<NaiveDateTime>,
    pub resolution_due_at: Option<NaiveDateTime>,
    pub response_warn_at: Option<NaiveDateTime>,
    pub resolution_warn_at: Option<NaiveDateTime>,
    pub response_warned_at: Option<NaiveDateTime>,
    pub resolution_warned_at: Option<NaiveDateTime>,
    pub response_breached_at: Option<NaiveDateTime>,
    pub resolution_breached_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = escalations)]
pub struct EscalationRow {
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub reason_text: String,
    pub automatic: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub incident_id: i64,
    pub author_id: i64,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = incident_events)]
pub struct EventRow {
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub internal: bool,
    pub comment_id: Option<i64>,
    pub version: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = search_docs)]
pub struct SearchDocRow {
    /// `search::doc_key` of the incident and the document's slot.
    pub id: i64,
    pub incident_id: i64,
    pub comment_id: Option<i64>,
    pub internal: bool,
    pub title: String,
    pub body: String,
}

/// Inserts incidents and returns their ids in order.
pub fn incidents(conn: &mut DbConnection, rows: &[IncidentRow]) -> DbResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(BATCH / 2) {
        let mut got: Vec<i64> = per_backend!(&mut *conn, |c| diesel::insert_into(incidents::table)
            .values(chunk)
            .returning(incidents::id)
            .get_results(c)?);
        // RETURNING order follows VALUES order on both engines; sorting guards the assumption
        // for autoincrement ids.
        got.sort_unstable();
        ids.extend(got);
    }
    Ok(ids)
}

pub fn comments(conn: &mut DbConnection, rows: &[CommentRow]) -> DbResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(BATCH) {
        let mut got: Vec<i64> = per_backend!(&mut *conn, |c| diesel::insert_into(comments::table)
            .values(chunk)
            .returning(comments::id)
            .get_results(c)?);
        got.sort_unstable();
        ids.extend(got);
    }
    Ok(ids)
}

pub fn events(conn: &mut DbConnection, rows: &[EventRow]) -> DbResult<()> {
    for chunk in rows.chunks(BATCH / 2) {
        per_backend!(&mut *conn, |c| diesel::insert_into(incident_events::table).values(chunk).execute(c)?);
    }
    Ok(())
}

pub fn search_docs(conn: &mut DbConnection, rows: &[SearchDocRow]) -> DbResult<()> {
    for chunk in rows.chunks(BATCH) {
        per_backend!(&mut *conn, |c| diesel::insert_into(search_docs::table).values(chunk).execute(c)?);
    }
    Ok(())
}

pub fn tags(conn: &mut DbConnection, rows: &[(i64, String)]) -> DbResult<()> {
    for chunk in rows.chunks(BATCH) {
        let values: Vec<_> =
            chunk.iter().map(|(id, t)| (incident_tags::incident_id.eq(*id), incident_tags::tag.eq(t))).collect();
        per_backend!(&mut *conn, |c| diesel::insert_into(incident_tags::table).values(&values).execute(c)?);
    }
    Ok(())
}

pub fn escalations(conn: &mut DbConnection, rows: &[EscalationRow]) -> DbResult<()> {
    for chunk in rows.chunks(BATCH) {
        per_backend!(&mut *conn, |c| diesel::insert_into(escalations::table).values(chunk).execute(c)?);
    }
    Ok(())
}

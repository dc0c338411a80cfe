use super::models::AuditEntry;
use super::schema::audit_log;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// One audit record. `details` is free text for people; never a password or a token.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub request_id: String,
    pub details: String,
}

pub fn insert(conn: &mut DbConnection, e: &NewAudit, at: NaiveDateTime) -> DbResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(at),
            audit_log::actor_id.eq(e.actor_id),
            audit_log::actor_label.eq(&e.actor_label),
            audit_log::action.eq(&e.action),
            audit_log::target.eq(&e.target),
            audit_log::ip.eq(&e.ip),
            audit_log::request_id.eq(&e.request_id),
            audit_log::details.eq(&e.details),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Keyset: entries strictly older than this (at, id).
    pub before: Option<(NaiveDateTime, i64)>,
}

/// Newest first, keyset-paginated.
pub fn list(conn: &mut DbConnection, f: &AuditFilter, limit: i64) -> DbResult<Vec<AuditEntry>> {
    let mut q = audit_log::table.select(AuditEntry::as_select()).into_boxed();
    if let Some(a) = f.actor_id {
        q = q.filter(audit_log::actor_id.eq(a));
    }
    if let Some(action) = &f.action {
        q = q.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(audit_log::at.lt(until));
    }
    if let Some((at, id)) = f.before {
        q = q.filter(audit_log::at.lt(at).or(audit_log::at.eq(at).and(audit_log::id.lt(id))));
    }
    Ok(q.order((audit_log::at.desc(), audit_log::id.desc())).limit(limit).load(conn)?)
}

pub fn distinct_actions(conn: &mut DbConnection) -> DbResult<Vec<String>> {
    Ok(audit_log::table.select(audit_log::action).distinct().order(audit_log::action.asc()).load(conn)?)
}

/// How many records of `action` since `since`, for one target or from one client address (the
/// `(action, at)` index narrows them first).
pub fn count_recent(
    conn: &mut DbConnection,
    action: &str,
    target: Option<&str>,
    ip: Option<&str>,
    since: NaiveDateTime,
) -> DbResult<i64> {
    let mut q = audit_log::table.filter(audit_log::action.eq(action)).filter(audit_log::at.ge(since)).into_boxed();
    if let Some(t) = target {
        q = q.filter(audit_log::target.eq(t.to_string()));
    }
    if let Some(ip) = ip {
        q = q.filter(audit_log::ip.eq(ip.to_string()));
    }
    Ok(q.count().get_result(conn)?)
}

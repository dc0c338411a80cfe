//! Escalation rows for the escalation report.

use super::super::schema::escalations;
use super::super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = escalations)]
pub struct EscalationRow {
    pub id: i64,
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub automatic: bool,
}

/// Tier moves (up or down) made in [from, to), in time order.
pub fn escalations_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<EscalationRow>> {
    Ok(escalations::table
        .filter(escalations::at.ge(from))
        .filter(escalations::at.lt(to))
        .order((escalations::at.asc(), escalations::id.asc()))
        .select(EscalationRow::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Every tier move of these incidents, in time order.
pub fn escalations_of(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<EscalationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(escalations::table
        .filter(super::super::in_ids(conn, "escalations.incident_id", ids))
        .order((escalations::at.asc(), escalations::id.asc()))
        .select(EscalationRow::as_select())
        .load(conn)?)
}

/// Incidents moved to a higher tier at least once.
pub fn escalated_ids(conn: &mut DbConnection) -> DbResult<Vec<i64>> {
    let position: std::collections::HashMap<i64, i32> =
        super::super::tiers::all(conn)?.into_iter().map(|t| (t.id, t.position)).collect();
    let moves: Vec<(i64, i64, i64)> = escalations::table
        .select((escalations::incident_id, escalations::from_tier_id, escalations::to_tier_id))
        .load(conn)?;
    let pos = |id: i64| position.get(&id).copied().unwrap_or(0);
    let mut ids: Vec<i64> = moves.into_iter().filter(|(_, f, t)| pos(*t) > pos(*f)).map(|(i, _, _)| i).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

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

/// A tier move with the groups of its incident (from the report facts).
#[derive(Debug, Clone, Queryable)]
pub struct MoveRow {
    pub incident_id: i64,
    /// When, in whole Unix seconds (interval bounds are whole seconds).
    pub at_s: i64,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub automatic: bool,
    pub service_id: i64,
    pub organization_id: Option<i64>,
}

/// Tier moves (up or down) made in [from, to) of incidents that pass the filter, in time
/// order: one query over the moves' time index joined to the facts by key.
pub fn moves_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    f: &super::Filter,
) -> DbResult<Vec<MoveRow>> {
    use super::super::schema::incident_facts as facts;
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    let seconds = match conn {
        DbConnection::Sqlite(_) => sql::<BigInt>("unixepoch(escalations.at)"),
        DbConnection::Pg(_) => sql::<BigInt>("FLOOR(EXTRACT(EPOCH FROM escalations.at))::bigint"),
    };
    let mut q = escalations::table
        .inner_join(facts::table)
        .filter(escalations::at.ge(from))
        .filter(escalations::at.lt(to))
        .select((
            escalations::incident_id,
            seconds,
            escalations::from_tier_id,
            escalations::to_tier_id,
            escalations::reason_code,
            escalations::automatic,
            facts::service_id,
            facts::organization_id,
        ))
        .order((escalations::at, escalations::id))
        .limit(super::MAX_ROWS)
        .into_boxed();
    if let Some(s) = f.service_id {
        q = q.filter(facts::service_id.eq(s));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(facts::organization_id.eq(o));
    }
    if let Some(s) = &f.severity {
        q = q.filter(facts::severity.eq(s.as_str()));
    }
    if let Some(t) = f.tier_id {
        q = q.filter(facts::tier_id.eq(t));
    }
    Ok(q.load(conn)?)
}

/// How many tier moves made in [from, to) of incidents that pass the filter went up, went up
/// automatically, and went down (or sideways): counted in the database.
pub fn move_counts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    f: &super::Filter,
) -> DbResult<(i64, i64, i64)> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        ups: i64,
        #[diesel(sql_type = BigInt)]
        automatic: i64,
        #[diesel(sql_type = BigInt)]
        downs: i64,
    }
    let filtered = *f != super::Filter::default();
    // Without a filter the moves alone answer; with one, each move's facts are looked up.
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN tt.position > tf.position THEN 1 ELSE 0 END), 0) AS ups,            COALESCE(SUM(CASE WHEN tt.position > tf.position AND e.automatic THEN 1 ELSE 0 END), 0) AS automatic,            COALESCE(SUM(CASE WHEN tt.position > tf.position THEN 0 ELSE 1 END), 0) AS downs          FROM escalations e JOIN tiers tf ON tf.id = e.from_tier_id JOIN tiers tt ON tt.id = e.to_tier_id {}          WHERE e.at >= $1 AND e.at < $2 {}",
        if filtered { "JOIN incident_facts f ON f.incident_id = e.incident_id" } else { "" },
        if filtered {
            "AND ($3 IS NULL OR f.service_id = $3) AND ($4 IS NULL OR f.organization_id = $4) \
             AND ($5 IS NULL OR f.severity = $5) AND ($6 IS NULL OR f.tier_id = $6)"
        } else {
            ""
        }
    );
    let q = diesel::sql_query(sql).bind::<Timestamp, _>(from).bind::<Timestamp, _>(to);
    let c: Counts = if filtered {
        q.bind::<Nullable<BigInt>, _>(f.service_id)
            .bind::<Nullable<BigInt>, _>(f.organization_id)
            .bind::<Nullable<Text>, _>(f.severity.as_deref())
            .bind::<Nullable<BigInt>, _>(f.tier_id)
            .get_result(conn)?
    } else {
        q.get_result(conn)?
    };
    Ok((c.ups, c.automatic, c.downs))
}

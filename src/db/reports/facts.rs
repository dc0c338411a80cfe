//! The report facts: one narrow row per incident (`incident_facts`), recomputed for the
//! incidents that triggers marked dirty (`report_dirty`).

use super::super::schema::{incident_facts, report_dirty};
use super::super::{DbConnection, DbResult};
use super::Filter;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = incident_facts)]
#[diesel(treat_none_as_default_value = false)]
pub struct FactRow {
    pub incident_id: i64,
    pub created_s: i64,
    pub acknowledged_s: Option<i64>,
    pub first_resolved_s: Option<i64>,
    pub reopened_s: Option<i64>,
    pub done_since_s: Option<i64>,
    pub done_spans: String,
    pub service_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tier_id: i64,
    pub severity: String,
    pub business_mttr_s: Option<i64>,
    pub fr_met_s: Option<i64>,
    pub fr_breach_s: Option<i64>,
    pub fr_due_s: Option<i64>,
    pub fr_warn_s: Option<i64>,
    pub fr_outcome_s: Option<i64>,
    pub res_met_s: Option<i64>,
    pub res_breach_s: Option<i64>,
    pub res_due_s: Option<i64>,
    pub res_warn_s: Option<i64>,
    pub res_outcome_s: Option<i64>,
    pub paused_s: i64,
    pub waiting_since_s: Option<i64>,
    pub start_tier_id: Option<i64>,
    pub top_tier_id: Option<i64>,
    pub tier_stints: String,
}

/// What every report reads of a fact: the incident, when it was created and acknowledged,
/// whether it is done, and the groups it counts in.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incident_facts)]
pub struct FactGroups {
    pub incident_id: i64,
    pub created_s: i64,
    pub acknowledged_s: Option<i64>,
    pub done_since_s: Option<i64>,
    pub service_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tier_id: i64,
    pub severity: String,
}

/// The response and escalation times of a fact.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incident_facts)]
pub struct FactTimes {
    #[diesel(embed)]
    pub g: FactGroups,
    pub first_resolved_s: Option<i64>,
    pub reopened_s: Option<i64>,
    pub business_mttr_s: Option<i64>,
    pub start_tier_id: Option<i64>,
    pub top_tier_id: Option<i64>,
}

/// The SLA outcomes of a fact.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incident_facts)]
pub struct FactSla {
    #[diesel(embed)]
    pub g: FactGroups,
    pub fr_met_s: Option<i64>,
    pub fr_breach_s: Option<i64>,
    pub fr_due_s: Option<i64>,
    pub fr_warn_s: Option<i64>,
    pub fr_outcome_s: Option<i64>,
    pub res_met_s: Option<i64>,
    pub res_breach_s: Option<i64>,
    pub res_due_s: Option<i64>,
    pub res_warn_s: Option<i64>,
    pub res_outcome_s: Option<i64>,
    pub paused_s: i64,
    pub waiting_since_s: Option<i64>,
}

/// The runs of resolved/closed of a fact (the backlog).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incident_facts)]
pub struct FactSpans {
    #[diesel(embed)]
    pub g: FactGroups,
    pub done_spans: String,
}

/// Up to `limit` incidents whose facts are out of date.
pub fn dirty_ids(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<i64>> {
    Ok(report_dirty::table
        .select(report_dirty::incident_id)
        .order(report_dirty::incident_id)
        .limit(limit)
        .load(conn)?)
}

/// Marks every incident's facts out of date (an SLA policy or calendar changed: business-hours
/// figures are computed again).
pub fn mark_all_dirty(conn: &mut DbConnection) -> DbResult<()> {
    use super::super::schema::incidents;
    let ids = incidents::table.select(incidents::id);
    match &mut *conn {
        DbConnection::Sqlite(c) => diesel::insert_or_ignore_into(report_dirty::table)
            .values(ids)
            .into_columns(report_dirty::incident_id)
            .execute(c)?,
        DbConnection::Pg(c) => diesel::insert_into(report_dirty::table)
            .values(ids)
            .into_columns(report_dirty::incident_id)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// How many incidents wait for their facts.
pub fn dirty_count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(report_dirty::table.count().get_result(conn)?)
}

/// Replaces the facts of `ids` with `rows` (an id without a row: the incident is gone) and
/// clears their dirty marks.
pub fn write_facts(conn: &mut DbConnection, ids: &[i64], rows: &[FactRow]) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::delete(incident_facts::table.filter(super::super::in_ids(conn, "incident_facts.incident_id", ids)))
        .execute(conn)?;
    for chunk in rows.chunks(200) {
        // Batch inserts do not go through the MultiConnection enum.
        match &mut *conn {
            DbConnection::Sqlite(c) => diesel::insert_into(incident_facts::table).values(chunk).execute(c)?,
            DbConnection::Pg(c) => diesel::insert_into(incident_facts::table).values(chunk).execute(c)?,
        };
    }
    diesel::delete(report_dirty::table.filter(super::super::in_ids(conn, "report_dirty.incident_id", ids)))
        .execute(conn)?;
    Ok(())
}

type Boxed<'a> = incident_facts::BoxedQuery<'a, super::super::MultiBackend>;

fn filtered(f: &Filter) -> Boxed<'_> {
    let mut q = incident_facts::table.into_boxed();
    if let Some(s) = f.service_id {
        q = q.filter(incident_facts::service_id.eq(s));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(incident_facts::organization_id.eq(o));
    }
    if let Some(s) = &f.severity {
        q = q.filter(incident_facts::severity.eq(s.as_str()));
    }
    if let Some(t) = f.tier_id {
        q = q.filter(incident_facts::tier_id.eq(t));
    }
    q
}

/// The facts that pass the filter, of incidents created in [from, to).
fn created_in(f: &Filter, from: i64, to: i64) -> Boxed<'_> {
    filtered(f).filter(incident_facts::created_s.ge(from)).filter(incident_facts::created_s.lt(to))
}

/// The facts that pass the filter, of incidents first resolved in [from, to).
fn resolved_in(f: &Filter, from: i64, to: i64) -> Boxed<'_> {
    filtered(f).filter(incident_facts::first_resolved_s.ge(from)).filter(incident_facts::first_resolved_s.lt(to))
}

/// Facts of incidents created in [from, to) (Unix seconds) that pass the filter.
pub fn facts_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    Ok(created_in(f, from, to).select(FactTimes::as_select()).limit(super::MAX_ROWS).load(conn)?)
}

/// Three times of a fact (Unix seconds), for a previous period's headlines.
pub type BriefTimes = (i64, Option<i64>, Option<i64>);

/// The previous period's headline times of incidents created in [from, to): (created,
/// acknowledged, highest tier reached), nothing else.
pub fn facts_created_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    Ok(created_in(f, from, to)
        .select((incident_facts::created_s, incident_facts::acknowledged_s, incident_facts::top_tier_id))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// The previous period's headline times of incidents first resolved in [from, to): (created,
/// first resolved, reopened), nothing else.
pub fn facts_resolved_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    Ok(resolved_in(f, from, to)
        .select((incident_facts::created_s, incident_facts::first_resolved_s, incident_facts::reopened_s))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Facts of incidents created in [from, to) that pass the filter and are linked to a problem.
pub fn facts_linked_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactGroups>> {
    use super::super::schema::problem_incidents;
    Ok(created_in(f, from, to)
        .filter(incident_facts::incident_id.eq_any(problem_incidents::table.select(problem_incidents::incident_id)))
        .select(FactGroups::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Time in each tier ("tier:secs;...") of incidents first resolved in [from, to).
pub fn facts_stints(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<(i64, String)>> {
    Ok(resolved_in(f, from, to)
        .select((incident_facts::incident_id, incident_facts::tier_stints))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Facts of incidents first resolved in [from, to) that pass the filter.
pub fn facts_resolved(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    Ok(resolved_in(f, from, to).select(FactTimes::as_select()).limit(super::MAX_ROWS).load(conn)?)
}

/// Facts of incidents with an SLA outcome (or, for a running clock, its due moment) in
/// [from, to): two index walks, each incident once.
pub fn facts_sla_between(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactSla>> {
    let mut rows: Vec<FactSla> = filtered(f)
        .filter(incident_facts::fr_outcome_s.ge(from))
        .filter(incident_facts::fr_outcome_s.lt(to))
        .select(FactSla::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?;
    let seen: std::collections::HashSet<i64> = rows.iter().map(|r| r.g.incident_id).collect();
    let more: Vec<FactSla> = filtered(f)
        .filter(incident_facts::res_outcome_s.ge(from))
        .filter(incident_facts::res_outcome_s.lt(to))
        .select(FactSla::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?;
    rows.extend(more.into_iter().filter(|r| !seen.contains(&r.g.incident_id)));
    Ok(rows)
}

/// Facts of incidents that may have been open at some moment of [from, to): created before
/// `to` and open now or done only since `from`.
pub fn facts_maybe_open(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactSpans>> {
    let mut rows: Vec<FactSpans> = filtered(f)
        .filter(incident_facts::done_since_s.is_null())
        .filter(incident_facts::created_s.lt(to))
        .select(FactSpans::as_select())
        .limit(super::MAX_ROWS)
        .load(conn)?;
    rows.extend(
        filtered(f)
            .filter(incident_facts::done_since_s.ge(from))
            .filter(incident_facts::created_s.lt(to))
            .select(FactSpans::as_select())
            .limit(super::MAX_ROWS)
            .load::<FactSpans>(conn)?,
    );
    Ok(rows)
}

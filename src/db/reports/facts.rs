//! The report facts: one narrow row per incident (`incident_facts`), recomputed for the
//! incidents that triggers marked dirty (`report_dirty`).

use super::super::schema::{incident_facts, report_dirty};
use super::super::{DbConnection, DbResult};
use super::Filter;
use super::pack_codec::{FactRef, text};
use super::packs::{PackKind, day_of, pick_facts};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
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
#[derive(Debug, Clone)]
pub struct FactGroups {
    pub incident_id: i64,
    pub created_s: i64,
    pub acknowledged_s: Option<i64>,
    pub done_since_s: Option<i64>,
    pub service_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tier_id: i64,
    /// One of `Severity::ALL`'s names ("?" for none of them).
    pub severity: &'static str,
}

/// The response and escalation times of a fact.
#[derive(Debug, Clone)]
pub struct FactTimes {
    pub g: FactGroups,
    pub first_resolved_s: Option<i64>,
    pub reopened_s: Option<i64>,
    pub business_mttr_s: Option<i64>,
    pub start_tier_id: Option<i64>,
    pub top_tier_id: Option<i64>,
}

/// The SLA outcomes of a fact.
#[derive(Debug, Clone)]
pub struct FactSla {
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
    // The packs the facts were in and the ones they are in now.
    let mut packs = std::collections::BTreeSet::new();
    for a in super::packs::stored_anchors(conn, ids)?
        .iter()
        .chain(rows.iter().map(super::packs::anchors_of).collect::<Vec<_>>().iter())
    {
        super::packs::packs_of(a, &mut packs);
    }
    super::packs::mark_dirty(conn, &packs)?;
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

/// The fact passes the filter bar.
fn passes(f: &Filter, r: &FactRef) -> bool {
    f.service_id.is_none_or(|s| r.service_id == s)
        && f.organization_id.is_none_or(|o| r.organization_id == Some(o))
        && f.severity.as_deref().is_none_or(|s| r.severity == s.as_bytes())
        && f.tier_id.is_none_or(|t| r.tier_id == t)
}

/// The columns of [`FactGroups`], in its order.
type GroupColumns = (i64, i64, Option<i64>, Option<i64>, i64, Option<i64>, Option<i64>, i64, String);

const GROUP_COLUMNS: (
    incident_facts::incident_id,
    incident_facts::created_s,
    incident_facts::acknowledged_s,
    incident_facts::done_since_s,
    incident_facts::service_id,
    incident_facts::organization_id,
    incident_facts::assignee_id,
    incident_facts::tier_id,
    incident_facts::severity,
) = (
    incident_facts::incident_id,
    incident_facts::created_s,
    incident_facts::acknowledged_s,
    incident_facts::done_since_s,
    incident_facts::service_id,
    incident_facts::organization_id,
    incident_facts::assignee_id,
    incident_facts::tier_id,
    incident_facts::severity,
);

fn groups_of(r: GroupColumns) -> FactGroups {
    FactGroups {
        incident_id: r.0,
        created_s: r.1,
        acknowledged_s: r.2,
        done_since_s: r.3,
        service_id: r.4,
        organization_id: r.5,
        assignee_id: r.6,
        tier_id: r.7,
        severity: severity_name(&r.8),
    }
}

/// The severity's name as `Severity` spells it, without a copy.
fn severity_name(s: &str) -> &'static str {
    crate::domain::incident::Severity::parse(s).map_or("?", |s| s.as_str())
}

impl From<&FactRef<'_>> for FactGroups {
    fn from(r: &FactRef<'_>) -> FactGroups {
        FactGroups {
            incident_id: r.incident_id,
            created_s: r.created_s,
            acknowledged_s: r.acknowledged_s,
            done_since_s: r.done_since_s,
            service_id: r.service_id,
            organization_id: r.organization_id,
            assignee_id: r.assignee_id,
            tier_id: r.tier_id,
            severity: severity_name(text(r.severity)),
        }
    }
}

impl From<&FactRef<'_>> for FactTimes {
    fn from(r: &FactRef<'_>) -> FactTimes {
        FactTimes {
            g: r.into(),
            first_resolved_s: r.first_resolved_s,
            reopened_s: r.reopened_s,
            business_mttr_s: r.business_mttr_s,
            start_tier_id: r.start_tier_id,
            top_tier_id: r.top_tier_id,
        }
    }
}

impl From<&FactRef<'_>> for FactSla {
    fn from(r: &FactRef<'_>) -> FactSla {
        FactSla {
            g: r.into(),
            fr_met_s: r.fr_met_s,
            fr_breach_s: r.fr_breach_s,
            fr_due_s: r.fr_due_s,
            fr_warn_s: r.fr_warn_s,
            fr_outcome_s: r.fr_outcome_s,
            res_met_s: r.res_met_s,
            res_breach_s: r.res_breach_s,
            res_due_s: r.res_due_s,
            res_warn_s: r.res_warn_s,
            res_outcome_s: r.res_outcome_s,
            paused_s: r.paused_s,
            waiting_since_s: r.waiting_since_s,
        }
    }
}

/// `t` lies in [from, to) and on the pack's day (a fact is read from one pack only).
fn on(day: i64, t: Option<i64>, from: i64, to: i64) -> bool {
    t.is_some_and(|t| from <= t && t < to && day_of(t) == day)
}

/// What `make` builds of the facts that pass the filter whose moment of `kind` (read by `at`)
/// lies in [from, to).
fn packed<T>(
    conn: &mut DbConnection,
    kind: PackKind,
    (from, to): (i64, i64),
    f: &Filter,
    at: impl Fn(&FactRef) -> Option<i64>,
    make: impl Fn(&FactRef) -> T,
) -> DbResult<Vec<T>> {
    if from >= to {
        return Ok(Vec::new());
    }
    pick_facts(conn, kind, (day_of(from), day_of(to - 1)), |day, r| {
        (on(day, at(r), from, to) && passes(f, r)).then(|| make(r))
    })
}

fn created(r: &FactRef) -> Option<i64> {
    Some(r.created_s)
}

fn first_resolved(r: &FactRef) -> Option<i64> {
    r.first_resolved_s
}

/// Facts of incidents created in [from, to) (Unix seconds) that pass the filter.
pub fn facts_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    packed(conn, PackKind::Created, (from, to), f, created, |r| FactTimes::from(r))
}

/// Three times of a fact (Unix seconds), for a previous period's headlines.
pub type BriefTimes = (i64, Option<i64>, Option<i64>);

/// The previous period's headline times of incidents created in [from, to): (created,
/// acknowledged, highest tier reached), nothing else.
pub fn facts_created_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    packed(conn, PackKind::Created, (from, to), f, created, |r| (r.created_s, r.acknowledged_s, r.top_tier_id))
}

/// The previous period's headline times of incidents first resolved in [from, to): (created,
/// first resolved, reopened), nothing else.
pub fn facts_resolved_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    packed(conn, PackKind::FirstResolved, (from, to), f, first_resolved, |r| {
        (r.created_s, r.first_resolved_s, r.reopened_s)
    })
}

/// Facts of incidents created in [from, to) that pass the filter and are linked to a problem:
/// few, so read from the facts table starting at the links.
pub fn facts_linked_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactGroups>> {
    use super::super::schema::problem_incidents;
    let rows: Vec<GroupColumns> = filtered(f)
        .filter(incident_facts::created_s.ge(from))
        .filter(incident_facts::created_s.lt(to))
        .filter(incident_facts::incident_id.eq_any(problem_incidents::table.select(problem_incidents::incident_id)))
        .select(GROUP_COLUMNS)
        .limit(super::MAX_ROWS)
        .load(conn)?;
    Ok(rows.into_iter().map(groups_of).collect())
}

/// The group columns of the facts of `ids` that pass the filter (narrow rows, by primary key).
pub fn facts_groups_of(conn: &mut DbConnection, ids: &[i64], f: &Filter) -> DbResult<Vec<FactGroups>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<GroupColumns> = filtered(f)
        .filter(super::super::in_ids(conn, "incident_facts.incident_id", ids))
        .select(GROUP_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(groups_of).collect())
}

/// Time in each tier ("tier:secs;...") of incidents first resolved in [from, to).
pub fn facts_stints(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<(i64, String)>> {
    packed(conn, PackKind::FirstResolved, (from, to), f, first_resolved, |r| {
        (r.incident_id, text(r.tier_stints).to_string())
    })
}

/// Facts of incidents first resolved in [from, to) that pass the filter.
pub fn facts_resolved(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    packed(conn, PackKind::FirstResolved, (from, to), f, first_resolved, |r| FactTimes::from(r))
}

/// Facts of incidents with an SLA outcome (or, for a running clock, its due moment) in
/// [from, to), each incident once (from the pack of its earliest such moment).
pub fn facts_sla_between(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactSla>> {
    let within = |t: Option<i64>| t.filter(|t| from <= *t && *t < to);
    let earliest = |r: &FactRef| match (within(r.fr_outcome_s), within(r.res_outcome_s)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    packed(conn, PackKind::SlaOutcome, (from, to), f, earliest, |r| FactSla::from(r))
}

/// What `make` builds of (incident, created, runs of resolved/closed) of the incidents that
/// pass the filter and may have been open at some moment of [from, to): created before `to`
/// and open now or done only since `from`.
pub fn facts_maybe_open<T>(
    conn: &mut DbConnection,
    from: i64,
    to: i64,
    f: &Filter,
    make: impl Fn(i64, i64, &str) -> T,
) -> DbResult<Vec<T>> {
    let open: Vec<(i64, i64, String)> = filtered(f)
        .filter(incident_facts::done_since_s.is_null())
        .filter(incident_facts::created_s.lt(to))
        .select((incident_facts::incident_id, incident_facts::created_s, incident_facts::done_spans))
        .load(conn)?;
    let mut rows: Vec<T> = open.iter().map(|(id, c, spans)| make(*id, *c, spans)).collect();
    let done_since = |r: &FactRef| r.done_since_s.filter(|_| r.created_s < to);
    rows.extend(packed(conn, PackKind::DoneSince, (from, i64::MAX - 86_400), f, done_since, |r| {
        make(r.incident_id, r.created_s, text(r.done_spans))
    })?);
    Ok(rows)
}

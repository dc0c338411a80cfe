//! The report facts: one narrow row per incident (`incident_facts`), recomputed for the
//! incidents that triggers marked dirty (`report_dirty`).

use super::super::schema::{incident_facts, report_dirty};
use super::super::{DbConnection, DbResult};
use super::Filter;
use super::pack_codec::{Col, Fact};
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
    /// Every tier move, in time order: "at:from:to:automatic:reason;…" (`encode_moves`).
    pub moves: String,
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

/// Before working through a large backlog of out-of-date facts: PostgreSQL's picture of the
/// queue table may still be of the near-empty table it usually is, and then it deletes a batch
/// of ids by comparing each with every row (seconds a batch at 100,000 queued, against
/// milliseconds by the primary key). SQLite looks ids up by key whatever it knows.
pub fn note_backlog(conn: &mut DbConnection) -> DbResult<()> {
    if let DbConnection::Pg(c) = conn {
        diesel::connection::SimpleConnection::batch_execute(c, "ANALYZE report_dirty")?;
    }
    Ok(())
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
    forget_dirty(conn, ids)
}

/// Marks these incidents' facts as current (their rows were just written).
pub fn forget_dirty(conn: &mut DbConnection, ids: &[i64]) -> DbResult<()> {
    diesel::delete(report_dirty::table.filter(super::super::in_ids(conn, "report_dirty.incident_id", ids)))
        .execute(conn)?;
    Ok(())
}

/// Marks the packs that facts written in bulk (new incidents, no earlier facts) belong to.
pub fn mark_packs_of(conn: &mut DbConnection, rows: &[FactRow]) -> DbResult<()> {
    let mut packs = std::collections::BTreeSet::new();
    for r in rows {
        super::packs::packs_of(&super::packs::anchors_of(r), &mut packs);
    }
    super::packs::mark_dirty(conn, &packs)
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

/// The fact passes the filter bar (its columns are among `FILTER`).
pub(super) fn passes(f: &Filter, r: &Fact) -> bool {
    f.service_id.is_none_or(|s| r.int(Col::Service) == s)
        && f.organization_id.is_none_or(|o| r.opt(Col::Organization) == Some(o))
        && f.severity.as_deref().is_none_or(|s| r.bytes(Col::Severity) == s.as_bytes())
        && f.tier_id.is_none_or(|t| r.int(Col::Tier) == t)
}

/// The columns the filter bar reads.
pub(super) const FILTER: [Col; 4] = [Col::Service, Col::Organization, Col::Severity, Col::Tier];

/// The columns of [`FactGroups`].
const GROUPS: [Col; 7] =
    [Col::Acknowledged, Col::DoneSince, Col::Service, Col::Organization, Col::Assignee, Col::Tier, Col::Severity];

/// The columns of [`FactTimes`] besides its groups.
const TIMES: [Col; 5] = [Col::FirstResolved, Col::Reopened, Col::BusinessMttr, Col::StartTier, Col::TopTier];

/// The columns of [`FactSla`] besides its groups.
const SLA: [Col; 12] = [
    Col::FrMet,
    Col::FrBreach,
    Col::FrDue,
    Col::FrWarn,
    Col::FrOutcome,
    Col::ResMet,
    Col::ResBreach,
    Col::ResDue,
    Col::ResWarn,
    Col::ResOutcome,
    Col::Paused,
    Col::WaitingSince,
];

/// The columns of [`FactGroups`], in its order.
type GroupColumns = (i64, i64, Option<i64>, Option<i64>, i64, Option<i64>, Option<i64>, i64, String);

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

impl From<Fact<'_, '_>> for FactGroups {
    fn from(r: Fact<'_, '_>) -> FactGroups {
        FactGroups {
            incident_id: r.id(),
            created_s: r.created(),
            acknowledged_s: r.opt(Col::Acknowledged),
            done_since_s: r.opt(Col::DoneSince),
            service_id: r.int(Col::Service),
            organization_id: r.opt(Col::Organization),
            assignee_id: r.opt(Col::Assignee),
            tier_id: r.int(Col::Tier),
            severity: severity_name(r.str(Col::Severity)),
        }
    }
}

impl From<Fact<'_, '_>> for FactTimes {
    fn from(r: Fact<'_, '_>) -> FactTimes {
        FactTimes {
            g: r.into(),
            first_resolved_s: r.opt(Col::FirstResolved),
            reopened_s: r.opt(Col::Reopened),
            business_mttr_s: r.opt(Col::BusinessMttr),
            start_tier_id: r.opt(Col::StartTier),
            top_tier_id: r.opt(Col::TopTier),
        }
    }
}

impl From<Fact<'_, '_>> for FactSla {
    fn from(r: Fact<'_, '_>) -> FactSla {
        FactSla {
            g: r.into(),
            fr_met_s: r.opt(Col::FrMet),
            fr_breach_s: r.opt(Col::FrBreach),
            fr_due_s: r.opt(Col::FrDue),
            fr_warn_s: r.opt(Col::FrWarn),
            fr_outcome_s: r.opt(Col::FrOutcome),
            res_met_s: r.opt(Col::ResMet),
            res_breach_s: r.opt(Col::ResBreach),
            res_due_s: r.opt(Col::ResDue),
            res_warn_s: r.opt(Col::ResWarn),
            res_outcome_s: r.opt(Col::ResOutcome),
            paused_s: r.int(Col::Paused),
            waiting_since_s: r.opt(Col::WaitingSince),
        }
    }
}

/// `t` lies in [from, to) and on the pack's day (a fact is read from one pack only).
fn on(day: i64, t: Option<i64>, from: i64, to: i64) -> bool {
    t.is_some_and(|t| from <= t && t < to && day_of(t) == day)
}

/// What `make` builds of the facts that pass the filter whose moment of `kind` (read by `at`)
/// lies in [from, to); `want`: the columns `at` and `make` read.
fn packed<T>(
    conn: &mut DbConnection,
    (kind, want): (PackKind, &[Col]),
    (from, to): (i64, i64),
    f: &Filter,
    at: impl Fn(&Fact) -> Option<i64>,
    mut make: impl FnMut(Fact) -> T,
) -> DbResult<Vec<T>> {
    if from >= to {
        return Ok(Vec::new());
    }
    let want: Vec<Col> = want.iter().chain(&FILTER).copied().collect();
    pick_facts(conn, kind, (day_of(from), day_of(to - 1)), &want, |day, r| {
        (on(day, at(&r), from, to) && passes(f, &r)).then(|| make(r))
    })
}

fn created(r: &Fact) -> Option<i64> {
    Some(r.created())
}

fn first_resolved(r: &Fact) -> Option<i64> {
    r.opt(Col::FirstResolved)
}

/// The columns of [`FactTimes`].
fn times() -> Vec<Col> {
    GROUPS.iter().chain(&TIMES).copied().collect()
}

/// Facts of incidents created in [from, to) (Unix seconds) that pass the filter.
pub fn facts_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    packed(conn, (PackKind::Created, &times()), (from, to), f, created, |r| FactTimes::from(r))
}

/// Three times of a fact (Unix seconds), for a previous period's headlines.
pub type BriefTimes = (i64, Option<i64>, Option<i64>);

/// The previous period's headline times of incidents created in [from, to): (created,
/// acknowledged, highest tier reached), nothing else.
pub fn facts_created_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    let want = [Col::Acknowledged, Col::TopTier];
    packed(conn, (PackKind::Created, &want), (from, to), f, created, |r| {
        (r.created(), r.opt(Col::Acknowledged), r.opt(Col::TopTier))
    })
}

/// The previous period's headline times of incidents first resolved in [from, to): (created,
/// first resolved, reopened), nothing else.
pub fn facts_resolved_brief(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<BriefTimes>> {
    let want = [Col::FirstResolved, Col::Reopened];
    packed(conn, (PackKind::FirstResolved, &want), (from, to), f, first_resolved, |r| {
        (r.created(), r.opt(Col::FirstResolved), r.opt(Col::Reopened))
    })
}

/// Facts of incidents created in [from, to) that pass the filter and are linked to a problem:
/// few, so the links are read first and their facts looked up by key (PostgreSQL would
/// otherwise hash-join every fact of the period against the links).
pub fn facts_linked_created(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactGroups>> {
    use super::super::schema::problem_incidents;
    let mut linked: Vec<i64> = problem_incidents::table.select(problem_incidents::incident_id).load(conn)?;
    linked.sort_unstable();
    linked.dedup();
    let rows: Vec<GroupColumns> = filtered(f)
        .filter(incident_facts::created_s.ge(from))
        .filter(incident_facts::created_s.lt(to))
        .filter(super::super::in_ids(conn, "incident_facts.incident_id", &linked))
        .select((
            incident_facts::incident_id,
            incident_facts::created_s,
            incident_facts::acknowledged_s,
            incident_facts::done_since_s,
            incident_facts::service_id,
            incident_facts::organization_id,
            incident_facts::assignee_id,
            incident_facts::tier_id,
            incident_facts::severity,
        ))
        .limit(super::MAX_ROWS)
        .load(conn)?;
    Ok(rows.into_iter().map(groups_of).collect())
}

/// Time in each tier of incidents first resolved in [from, to): (incident, tier, seconds).
pub fn facts_stints(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<(i64, i64, i64)>> {
    let want = [Col::FirstResolved, Col::TierStints];
    let mut out = Vec::new();
    packed(conn, (PackKind::FirstResolved, &want), (from, to), f, first_resolved, |r| {
        // Stored as "tier:secs;tier:secs".
        for (tier, d) in r.str(Col::TierStints).split(';').filter_map(|s| s.split_once(':')) {
            if let (Ok(tier), Ok(d)) = (tier.parse::<i64>(), d.parse::<i64>()) {
                out.push((r.id(), tier, d));
            }
        }
    })?;
    Ok(out)
}

/// The tiers of an incident: (incident, current tier, starting tier, highest tier an upward
/// move reached).
pub type CreatedTiers = (i64, i64, Option<i64>, Option<i64>);

/// The tiers of incidents created in [from, to) that pass the filter.
pub fn facts_created_tiers(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<CreatedTiers>> {
    let want = [Col::StartTier, Col::TopTier];
    packed(conn, (PackKind::Created, &want), (from, to), f, created, |r| {
        (r.id(), r.int(Col::Tier), r.opt(Col::StartTier), r.opt(Col::TopTier))
    })
}

/// Facts of incidents first resolved in [from, to) that pass the filter.
pub fn facts_resolved(conn: &mut DbConnection, from: i64, to: i64, f: &Filter) -> DbResult<Vec<FactTimes>> {
    packed(conn, (PackKind::FirstResolved, &times()), (from, to), f, first_resolved, |r| FactTimes::from(r))
}

/// What `make` builds of the facts of incidents with an SLA outcome (or, for a running clock,
/// its due moment) in [from, to), each incident once (from the pack of its earliest such
/// moment).
pub fn facts_sla_between<T>(
    conn: &mut DbConnection,
    (from, to): (i64, i64),
    f: &Filter,
    make: impl Fn(&FactSla) -> T,
) -> DbResult<Vec<T>> {
    let within = |t: Option<i64>| t.filter(|t| from <= *t && *t < to);
    let earliest = |r: &Fact| match (within(r.opt(Col::FrOutcome)), within(r.opt(Col::ResOutcome))) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let want: Vec<Col> = GROUPS.iter().chain(&SLA).copied().collect();
    packed(conn, (PackKind::SlaOutcome, &want), (from, to), f, earliest, |r| make(&FactSla::from(r)))
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
    let done_since = |r: &Fact| r.opt(Col::DoneSince).filter(|_| r.created() < to);
    let want = [Col::DoneSince, Col::DoneSpans];
    rows.extend(packed(conn, (PackKind::DoneSince, &want), (from, i64::MAX - 86_400), f, done_since, |r| {
        make(r.id(), r.created(), r.str(Col::DoneSpans))
    })?);
    Ok(rows)
}

//! The rows reports are computed from. Each function loads only the columns a figure needs, for
//! one period and filter; the arithmetic is in `domain::report` and the service.

mod escalations;
mod facts;
mod pack_codec;
mod packs;
mod problems;
mod releases;

pub use escalations::*;
pub use facts::*;
pub use packs::{dirty_packs, rebuild_dirty as rebuild_dirty_packs};
pub use problems::*;
pub use releases::*;

use super::schema::{incident_events, incidents};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The filter bar's choices; None: all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub service_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub severity: Option<String>,
    pub tier_id: Option<i64>,
}

/// The most incidents one report reads for a period.
pub const MAX_ROWS: i64 = 500_000;

/// What reports read of an incident.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct Timing {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub severity: String,
    pub service_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tier_id: i64,
    pub is_open: bool,
    pub status: String,
    pub first_response_at: Option<NaiveDateTime>,
    pub title: String,
}

type Boxed<'a> = incidents::BoxedQuery<'a, super::MultiBackend>;

pub(super) fn filtered(f: &Filter) -> Boxed<'_> {
    let mut q = incidents::table.into_boxed();
    if let Some(s) = f.service_id {
        q = q.filter(incidents::service_id.eq(s));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(incidents::organization_id.eq(o));
    }
    if let Some(s) = &f.severity {
        q = q.filter(incidents::severity.eq(s.as_str()));
    }
    if let Some(t) = f.tier_id {
        q = q.filter(incidents::tier_id.eq(t));
    }
    q
}

/// Incidents created in [from, to) that pass the filter.
pub fn created_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    f: &Filter,
) -> DbResult<Vec<Timing>> {
    Ok(filtered(f)
        .filter(incidents::created_at.ge(from))
        .filter(incidents::created_at.lt(to))
        .select(Timing::as_select())
        .limit(MAX_ROWS)
        .load(conn)?)
}

/// Incidents whose *first* resolution falls in [from, to) and that pass the filter, with that
/// first resolution time.
pub fn first_resolved_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    f: &Filter,
) -> DbResult<Vec<(Timing, NaiveDateTime)>> {
    let resolved = || {
        incident_events::table
            .filter(incident_events::kind.eq("status_changed"))
            .filter(incident_events::new_value.eq("resolved"))
    };
    let in_period: Vec<(i64, NaiveDateTime)> = resolved()
        .filter(incident_events::at.ge(from))
        .filter(incident_events::at.lt(to))
        .select((incident_events::incident_id, incident_events::at))
        .limit(MAX_ROWS)
        .load(conn)?;
    let mut first: std::collections::HashMap<i64, NaiveDateTime> = std::collections::HashMap::new();
    for (id, at) in in_period {
        first.entry(id).and_modify(|t| *t = (*t).min(at)).or_insert(at);
    }
    let ids: Vec<i64> = first.keys().copied().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let earlier: Vec<i64> = resolved()
        .filter(incident_events::at.lt(from))
        .filter(super::in_ids(conn, "incident_events.incident_id", &ids))
        .select(incident_events::incident_id)
        .load(conn)?;
    for id in earlier {
        first.remove(&id);
    }
    let ids: Vec<i64> = first.keys().copied().collect();
    let rows: Vec<Timing> =
        filtered(f).filter(super::in_ids(conn, "incidents.id", &ids)).select(Timing::as_select()).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| first.get(&r.id).copied().map(|t| (r, t))).collect())
}

/// Of these incidents, each with the time it was resolved, those moved out of resolved to
/// anything but closed later on (reopened).
pub fn reopened_after(conn: &mut DbConnection, resolved: &[(i64, NaiveDateTime)]) -> DbResult<Vec<i64>> {
    let ids: Vec<i64> = resolved.iter().map(|(id, _)| *id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let moves: Vec<(i64, NaiveDateTime)> = incident_events::table
        .filter(incident_events::kind.eq("status_changed"))
        .filter(incident_events::old_value.eq("resolved"))
        .filter(incident_events::new_value.ne("closed"))
        .filter(super::in_ids(conn, "incident_events.incident_id", &ids))
        .select((incident_events::incident_id, incident_events::at))
        .load(conn)?;
    // The latest move out of resolved per incident decides whether one came after `at`.
    let mut latest: std::collections::HashMap<i64, NaiveDateTime> = std::collections::HashMap::new();
    for (id, t) in moves {
        latest.entry(id).and_modify(|l| *l = (*l).max(t)).or_insert(t);
    }
    let mut out: Vec<i64> =
        resolved.iter().filter(|(id, at)| latest.get(id).is_some_and(|t| t > at)).map(|(id, _)| *id).collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Incidents that may have been open at some moment of [from, to): created before `to`, and
/// open now or changed since `from` (an incident done before `from` and untouched since was
/// done throughout).
pub fn maybe_open_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    f: &Filter,
) -> DbResult<Vec<Timing>> {
    // Two index walks rather than one OR, which would read every incident.
    let mut rows: Vec<Timing> = filtered(f)
        .filter(incidents::is_open.eq(true))
        .filter(incidents::created_at.lt(to))
        .select(Timing::as_select())
        .limit(MAX_ROWS)
        .load(conn)?;
    let changed: Vec<Timing> = filtered(f)
        .filter(incidents::updated_at.ge(from))
        .filter(incidents::created_at.lt(to))
        .filter(incidents::is_open.eq(false))
        .select(Timing::as_select())
        .limit(MAX_ROWS)
        .load(conn)?;
    rows.extend(changed);
    Ok(rows)
}

/// The status changes of these incidents, (incident, at, new status), in time order.
pub fn status_changes_of(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<(i64, NaiveDateTime, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // `kind || ''`: the kind must not be an index term here. Without statistics (a new
    // database, or right after a bulk load) both engines otherwise read every status change
    // through the kind index for each batch, instead of the given incidents' events.
    Ok(incident_events::table
        .filter(incident_events::kind.concat("").eq("status_changed"))
        .filter(super::in_ids(conn, "incident_events.incident_id", ids))
        .order((incident_events::at.asc(), incident_events::id.asc()))
        .select((incident_events::incident_id, incident_events::at, incident_events::new_value))
        .load(conn)?)
}

/// These incidents as reports read them.
pub fn timings_of(conn: &mut DbConnection, ids: &[i64], f: &Filter) -> DbResult<Vec<Timing>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(filtered(f).filter(super::in_ids(conn, "incidents.id", ids)).select(Timing::as_select()).load(conn)?)
}

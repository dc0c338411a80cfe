//! The incident queue: filters, allow-listed sorts, keyset pagination and a capped count.

use super::models::QueueItem;
use super::schema::{incident_events, incident_tags, incidents};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Counting stops here: an exact count over a million rows on every request is what made
/// older help desks' queues slow.
pub const COUNT_CAP: i64 = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    User(i64),
}

/// Which incidents a viewer may list at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    #[default]
    Everything,
    /// A customer: their own incidents, and their organization's when it shares.
    Reporter { user_id: i64, shared_org: Option<i64> },
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Empty: any status (or open ones only, with `open_only`).
    pub statuses: Vec<String>,
    pub open_only: bool,
    pub severities: Vec<String>,
    pub priorities: Vec<String>,
    pub service_id: Option<i64>,
    pub assignee: AssigneeFilter,
    pub organization_id: Option<i64>,
    /// Only incidents in these tiers.
    pub tier_ids: Option<Vec<i64>>,
    pub tag: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub visibility: Visibility,
    /// Restrict to these ids (the incidents a text search matched).
    pub ids: Option<Vec<i64>>,
    /// Restrict to these ids too (the incidents a report figure counts, the escalated ones).
    pub within: Option<Vec<i64>>,
    /// Only incidents moved from resolved back to work at some time.
    pub reopened: bool,
    pub breached: Option<Breached>,
    /// Only incidents whose first resolution falls in [from, before).
    pub resolved_from: Option<NaiveDateTime>,
    pub resolved_before: Option<NaiveDateTime>,
    /// Only incidents with a running SLA clock past its warning (80 %) but not yet due, at
    /// this moment.
    pub at_risk_at: Option<NaiveDateTime>,
    /// Only open incidents nobody on the staff has answered publicly yet.
    pub unanswered: bool,
    /// Only incidents waiting on the customer since before this moment.
    pub waiting_since_before: Option<NaiveDateTime>,
}

/// Which SLA target the job recorded as breached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breached {
    /// The first response came late (or has not come): acknowledged late.
    Response,
    Resolution,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Priority, then oldest first: the staff default.
    #[default]
    Priority,
    Severity,
    /// Newest first.
    Created,
    /// Most recently updated first.
    Updated,
    /// Soonest resolution due first; then those whose clock does not run (paused, stopped, no
    /// policy), oldest first.
    Due,
}

impl Sort {
    pub const ALL: [Sort; 5] = [Sort::Priority, Sort::Severity, Sort::Created, Sort::Updated, Sort::Due];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Priority => "priority",
            Sort::Severity => "severity",
            Sort::Created => "created",
            Sort::Updated => "updated",
            Sort::Due => "due",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where the previous page ended: the sort key of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub rank: String,
    pub at: NaiveDateTime,
    pub id: i64,
}

const STAMP: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl Cursor {
    pub fn of(sort: Sort, i: &QueueItem) -> Cursor {
        let (rank, at) = match sort {
            Sort::Priority => (i.priority.clone(), i.created_at),
            Sort::Severity => (i.severity.clone(), i.created_at),
            Sort::Created => (String::new(), i.created_at),
            Sort::Updated => (String::new(), i.updated_at),
            // "n": past the incidents with a due time, among those without one (by id).
            Sort::Due => match i.resolution_due_at {
                Some(due) => (String::new(), due),
                None => ("n".to_string(), i.created_at),
            },
        };
        Cursor { rank, at, id: i.id }
    }

    pub fn encode(&self) -> String {
        format!("{}~{}~{}", self.rank, self.at.format(STAMP), self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let mut parts = s.splitn(3, '~');
        let rank = parts.next()?.to_string();
        let at = NaiveDateTime::parse_from_str(parts.next()?, STAMP).ok()?;
        let id = parts.next()?.parse().ok()?;
        if rank.len() > 4 || !rank.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Cursor { rank, at, id })
    }
}

type Boxed<'a> = incidents::BoxedQuery<'a, super::MultiBackend>;

/// `incidents.id IN (…)` for up to ten thousand ids as one JSON parameter.
fn id_in(
    conn: &DbConnection,
    ids: &[i64],
    ordered_page: bool,
) -> Box<dyn BoxableExpression<incidents::table, super::MultiBackend, SqlType = diesel::sql_types::Bool>> {
    // With many ids, `+` keeps SQLite from looking each one up and sorting them all: it walks
    // the sort order's index instead and stops after a page.
    let plus = matches!(conn, DbConnection::Sqlite(_)) && ordered_page && ids.len() > 500;
    super::in_ids(conn, if plus { "+incidents.id" } else { "incidents.id" }, ids)
}

/// The filtered incidents. `ordered_page` says the caller wants one sorted page (rather than a
/// count), which changes how a long id list is best matched.
fn filtered<'a>(conn: &DbConnection, f: &QueueFilter, ordered_page: bool) -> Boxed<'a> {
    let mut q = incidents::table.into_boxed();
    // One chosen value is matched with `=`: PostgreSQL reads an index in order only past
    // equalities (`= ANY` of one value would make it sort, or walk the wrong index).
    macro_rules! one_of {
        ($column:expr, $values:expr) => {
            match $values.as_slice() {
                [] => {}
                [one] => q = q.filter($column.eq(one.clone())),
                many => q = q.filter($column.eq_any(many.to_vec())),
            }
        };
    }
    if f.statuses.is_empty() && f.open_only {
        q = q.filter(incidents::is_open.eq(true));
    }
    one_of!(incidents::status, f.statuses);
    one_of!(incidents::severity, f.severities);
    one_of!(incidents::priority, f.priorities);
    if let Some(s) = f.service_id {
        q = q.filter(incidents::service_id.eq(s));
    }
    match f.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => q = q.filter(incidents::assignee_id.is_null()),
        AssigneeFilter::User(u) => q = q.filter(incidents::assignee_id.eq(u)),
    }
    if let Some(o) = f.organization_id {
        q = q.filter(incidents::organization_id.eq(o));
    }
    if let Some(t) = &f.tier_ids {
        q = q.filter(incidents::tier_id.eq_any(t.clone()));
    }
    if let Some(t) = &f.tag {
        q =
            q.filter(incidents::id.eq_any(
                incident_tags::table.filter(incident_tags::tag.eq(t.clone())).select(incident_tags::incident_id),
            ));
    }
    if let Some(from) = f.created_from {
        q = q.filter(incidents::created_at.ge(from));
    }
    if let Some(before) = f.created_before {
        q = q.filter(incidents::created_at.lt(before));
    }
    match &f.visibility {
        Visibility::Everything => {}
        Visibility::Reporter { user_id, shared_org: Some(org) } => {
            q = q.filter(incidents::reporter_id.eq(*user_id).or(incidents::organization_id.eq(*org)))
        }
        Visibility::Reporter { user_id, shared_org: None } => q = q.filter(incidents::reporter_id.eq(*user_id)),
    }
    if let Some(ids) = &f.ids {
        q = q.filter(id_in(conn, ids, ordered_page));
    }
    if let Some(ids) = &f.within {
        q = q.filter(super::in_ids(conn, "incidents.id", ids));
    }
    if f.reopened {
        q = q.filter(
            incidents::id.eq_any(
                incident_events::table
                    .filter(incident_events::kind.eq("status_changed"))
                    .filter(incident_events::old_value.eq("resolved"))
                    .filter(incident_events::new_value.ne("closed"))
                    .select(incident_events::incident_id),
            ),
        );
    }
    match f.breached {
        None => {}
        Some(Breached::Response) => q = q.filter(incidents::response_breached_at.is_not_null()),
        Some(Breached::Resolution) => q = q.filter(incidents::resolution_breached_at.is_not_null()),
        Some(Breached::Either) => {
            q = q.filter(
                incidents::response_breached_at.is_not_null().or(incidents::resolution_breached_at.is_not_null()),
            )
        }
    }
    if let Some(now) = f.at_risk_at {
        q = q.filter(
            incidents::response_warn_at
                .le(now)
                .and(incidents::response_due_at.gt(now))
                .or(incidents::resolution_warn_at.le(now).and(incidents::resolution_due_at.gt(now))),
        );
    }
    if f.unanswered {
        q = q.filter(incidents::first_response_at.is_null()).filter(incidents::is_open.eq(true));
    }
    if let Some(cutoff) = f.waiting_since_before {
        // Waiting now, and no status change since the cutoff: it has waited since before it.
        q = q.filter(incidents::status.eq("waiting_on_customer")).filter(diesel::dsl::not(
            incidents::id.eq_any(
                incident_events::table
                    .filter(incident_events::kind.eq("status_changed"))
                    .filter(incident_events::at.gt(cutoff))
                    .select(incident_events::incident_id),
            ),
        ));
    }
    let resolved = || {
        incident_events::table
            .filter(incident_events::kind.eq("status_changed"))
            .filter(incident_events::new_value.eq("resolved"))
    };
    if let Some(from) = f.resolved_from {
        // First resolved at or after `from`: resolved then, and never before.
        q = q
            .filter(
                incidents::id
                    .eq_any(resolved().filter(incident_events::at.ge(from)).select(incident_events::incident_id)),
            )
            .filter(diesel::dsl::not(
                incidents::id
                    .eq_any(resolved().filter(incident_events::at.lt(from)).select(incident_events::incident_id)),
            ));
    }
    if let Some(before) = f.resolved_before {
        q = q.filter(
            incidents::id
                .eq_any(resolved().filter(incident_events::at.lt(before)).select(incident_events::incident_id)),
        );
    }
    q
}

impl QueueFilter {
    /// True when nothing narrows the list beyond what the viewer may see.
    pub fn is_unfiltered(&self) -> bool {
        self.statuses.is_empty()
            && !self.open_only
            && self.severities.is_empty()
            && self.priorities.is_empty()
            && self.service_id.is_none()
            && self.assignee == AssigneeFilter::Any
            && self.organization_id.is_none()
            && self.tier_ids.is_none()
            && self.tag.is_none()
            && self.created_from.is_none()
            && self.created_before.is_none()
            && self.ids.is_none()
            && self.within.is_none()
            && !self.reopened
            && self.breached.is_none()
            && self.resolved_from.is_none()
            && self.resolved_before.is_none()
            && self.at_risk_at.is_none()
            && !self.unanswered
            && self.waiting_since_before.is_none()
    }
}

/// The incidents among `ids` that pass the filter, newest (highest number) first.
pub fn among(conn: &mut DbConnection, f: &QueueFilter, ids: &[i64]) -> DbResult<Vec<QueueItem>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let f = QueueFilter { ids: Some(ids.to_vec()), ..f.clone() };
    Ok(filtered(conn, &f, false).select(QueueItem::as_select()).order(incidents::id.desc()).load(conn)?)
}

/// One page of a text search, newest incidents first: the matching documents are walked from
/// the newest, a chunk at a time, and each chunk's incidents pass through the filter until the
/// page is full. Returns at most `limit` rows, each with one of its matching documents (for the
/// snippet); `after` is the last incident of the previous page.
pub fn search_page(
    conn: &mut DbConnection,
    f: &QueueFilter,
    words: &[String],
    scope: &super::search::Scope,
    after: Option<i64>,
    limit: usize,
) -> DbResult<Vec<(QueueItem, i64)>> {
    // Unfiltered, every match is a row: the first chunk need hold little more than a page.
    let everyone = f.is_unfiltered() && f.visibility == Visibility::Everything;
    let first_chunk = if everyone { 3 * limit as i64 } else { 8 * limit as i64 };
    let mut out: Vec<(QueueItem, i64)> = Vec::new();
    super::search::walk_matches(conn, words, scope, after, first_chunk, |conn, found| {
        let wanted = if everyone { &found[..found.len().min(limit - out.len())] } else { found };
        let ids: Vec<i64> = wanted.iter().map(|(id, _)| *id).collect();
        let keys: std::collections::HashMap<i64, i64> = wanted.iter().copied().collect();
        for item in among(conn, f, &ids)? {
            let key = keys.get(&item.id).copied().unwrap_or_default();
            out.push((item, key));
        }
        Ok(out.len() < limit)
    })?;
    out.truncate(limit);
    Ok(out)
}

/// One page in the chosen order, starting after `after`.
pub fn page(
    conn: &mut DbConnection,
    f: &QueueFilter,
    sort: Sort,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<QueueItem>> {
    if sort == Sort::Due {
        return due_page(conn, f, after, limit);
    }
    let mut q = filtered(conn, f, true).select(QueueItem::as_select());
    if let Some(c) = after {
        q = match sort {
            Sort::Priority => {
                q.filter(incidents::priority.gt(c.rank.clone()).or(incidents::priority.eq(c.rank.clone()).and(
                    incidents::created_at.gt(c.at).or(incidents::created_at.eq(c.at).and(incidents::id.gt(c.id))),
                )))
            }
            Sort::Severity => {
                q.filter(incidents::severity.gt(c.rank.clone()).or(incidents::severity.eq(c.rank.clone()).and(
                    incidents::created_at.gt(c.at).or(incidents::created_at.eq(c.at).and(incidents::id.gt(c.id))),
                )))
            }
            Sort::Created => {
                q.filter(incidents::created_at.lt(c.at).or(incidents::created_at.eq(c.at).and(incidents::id.lt(c.id))))
            }
            Sort::Updated => {
                q.filter(incidents::updated_at.lt(c.at).or(incidents::updated_at.eq(c.at).and(incidents::id.lt(c.id))))
            }
            Sort::Due => q,
        };
    }
    q = match sort {
        Sort::Priority => q.order((incidents::priority.asc(), incidents::created_at.asc(), incidents::id.asc())),
        Sort::Severity => q.order((incidents::severity.asc(), incidents::created_at.asc(), incidents::id.asc())),
        Sort::Created => q.order((incidents::created_at.desc(), incidents::id.desc())),
        Sort::Updated => q.order((incidents::updated_at.desc(), incidents::id.desc())),
        Sort::Due => q,
    };
    Ok(q.limit(limit).load(conn)?)
}

/// The due order in two runs, each along an index: the incidents with a due time, soonest
/// first, then those without one by id (the backends place NULLs at opposite ends).
fn due_page(conn: &mut DbConnection, f: &QueueFilter, after: Option<&Cursor>, limit: i64) -> DbResult<Vec<QueueItem>> {
    let among_undated = after.is_some_and(|c| c.rank == "n");
    let mut rows = Vec::new();
    if !among_undated {
        let mut q =
            filtered(conn, f, true).select(QueueItem::as_select()).filter(incidents::resolution_due_at.is_not_null());
        if let Some(c) = after {
            q = q.filter(
                incidents::resolution_due_at
                    .gt(c.at)
                    .or(incidents::resolution_due_at.eq(c.at).and(incidents::id.gt(c.id))),
            );
        }
        rows = q.order((incidents::resolution_due_at.asc(), incidents::id.asc())).limit(limit).load(conn)?;
    }
    let left = limit - rows.len() as i64;
    if left > 0 {
        let mut q =
            filtered(conn, f, true).select(QueueItem::as_select()).filter(incidents::resolution_due_at.is_null());
        if let Some(c) = after.filter(|_| among_undated) {
            q = q.filter(incidents::id.gt(c.id));
        }
        rows.extend(q.order(incidents::id.asc()).limit(left).load::<QueueItem>(conn)?);
    }
    Ok(rows)
}

/// How many incidents match, counting no further than `COUNT_CAP + 1`.
pub fn count_capped(conn: &mut DbConnection, f: &QueueFilter) -> DbResult<i64> {
    // Probe for the (cap + 1)-th match first: the database steps over the index entries without
    // handing thousands of rows back, and only a short list is counted exactly.
    let beyond: Option<i64> =
        filtered(conn, f, false).select(incidents::id).limit(1).offset(COUNT_CAP).first(conn).optional()?;
    if beyond.is_some() {
        return Ok(COUNT_CAP + 1);
    }
    Ok(filtered(conn, f, false).count().get_result(conn)?)
}

/// (value, count) pairs.
pub type Counts = Vec<(String, i64)>;

/// Counts of open incidents by status and by severity, for the dashboard.
pub fn open_counts(conn: &mut DbConnection, visibility: &Visibility) -> DbResult<(Counts, Counts)> {
    macro_rules! grouped {
        ($col:expr) => {{
            let base = incidents::table.filter(incidents::is_open.eq(true));
            match visibility {
                Visibility::Everything => {
                    base.group_by($col).select(($col, diesel::dsl::count_star())).load::<(String, i64)>(conn)?
                }
                Visibility::Reporter { user_id, shared_org } => base
                    .filter(
                        incidents::reporter_id.eq(*user_id).or(incidents::organization_id.eq(shared_org.unwrap_or(-1))),
                    )
                    .group_by($col)
                    .select(($col, diesel::dsl::count_star()))
                    .load::<(String, i64)>(conn)?,
            }
        }};
    }
    let by_status = grouped!(incidents::status);
    let by_severity = grouped!(incidents::severity);
    Ok((by_status, by_severity))
}

/// Incidents whose first response or resolution target was breached at or after `since`.
pub fn count_breached_since(conn: &mut DbConnection, since: NaiveDateTime) -> DbResult<i64> {
    Ok(incidents::table
        .filter(incidents::response_breached_at.ge(since).or(incidents::resolution_breached_at.ge(since)))
        .count()
        .get_result(conn)?)
}

/// Moves to a higher tier at or after `since` (by hand or by the SLA job).
pub fn count_escalations_since(conn: &mut DbConnection, since: NaiveDateTime) -> DbResult<i64> {
    use super::schema::{escalations, tiers};
    let (from, to) = diesel::alias!(tiers as from_tier, tiers as to_tier);
    Ok(escalations::table
        .inner_join(from.on(from.field(tiers::id).eq(escalations::from_tier_id)))
        .inner_join(to.on(to.field(tiers::id).eq(escalations::to_tier_id)))
        .filter(escalations::at.ge(since))
        .filter(to.field(tiers::position).gt(from.field(tiers::position)))
        .count()
        .get_result(conn)?)
}

/// Open incidents per organization, most first: (organization id, count).
pub fn open_by_organization(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(i64, i64)>> {
    let rows: Vec<(Option<i64>, i64)> = incidents::table
        .filter(incidents::is_open.eq(true))
        .filter(incidents::organization_id.is_not_null())
        .group_by(incidents::organization_id)
        .select((incidents::organization_id, diesel::dsl::count_star()))
        .order(diesel::dsl::count_star().desc())
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(o, n)| o.map(|o| (o, n))).collect())
}

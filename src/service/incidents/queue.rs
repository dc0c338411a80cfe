//! The queue's read model: filters (the report filters too), keyset pages, capped counts, and
//! the rows with names, tags and search snippets that queue and dashboard show.

use crate::db::models::{QueueItem, Service, User};
use crate::db::queue::{self, AssigneeFilter, Cursor, QueueFilter, Sort, Visibility};
use crate::db::{DbConnection, organizations, search, services, users};
use crate::domain::incident::Status;
use crate::domain::policy::{self, Action, Actor, Resource};
use crate::domain::role::Role;
use crate::service::read_cache::{Count, Lists};
use crate::service::{AppState, ServiceError, ServiceResult, actor_of, authorize};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use std::collections::HashMap;

pub const PAGE_SIZE: i64 = 50;
/// The page sizes a user may choose.
pub const PAGE_SIZES: [i64; 3] = [25, 50, 100];

/// The queue's parameters as the URL carries them.
#[derive(Debug, Clone, Default)]
pub struct QueueParams {
    pub statuses: Vec<String>,
    pub severities: Vec<String>,
    pub priorities: Vec<String>,
    pub service: Option<i64>,
    /// "", "me", "none" or a user id.
    pub assignee: String,
    pub organization: Option<i64>,
    /// "", "mine" (the viewer's tiers) or a tier id.
    pub tier: String,
    pub tag: String,
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    pub text: String,
    /// priority, severity, created, updated or relevance; empty for the default.
    pub sort: String,
    pub after: String,
    /// Rows per page: one of `PAGE_SIZES`; 0 for the default.
    pub per: i64,
    /// Incidents moved to a higher tier at least once.
    pub escalated: bool,
    /// Incidents moved from resolved back to work at some time.
    pub reopened: bool,
    /// "response" (first response late), "resolution" or "any": SLA targets breached.
    pub breached: String,
    /// First resolved within these local days.
    pub resolved_from: Option<NaiveDate>,
    pub resolved_to: Option<NaiveDate>,
    /// Running SLA clocks past 80 % of their target, not yet due.
    pub at_risk: bool,
    /// Open and not yet answered by the staff.
    pub unanswered: bool,
    /// Waiting on the customer for more than this many days.
    pub waiting_days: Option<u32>,
    /// Exactly the incidents one report figure counts: (report, figure, the report's filter bar).
    pub counted_by: Option<(String, String, crate::service::reports::ReportQuery)>,
}

#[derive(Debug, Clone)]
pub struct QueueRow {
    pub incident: QueueItem,
    pub service: String,
    pub assignee: String,
    pub organization: String,
    pub tags: Vec<String>,
    /// Highlighted HTML (already escaped) when searching.
    pub snippet: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueView {
    pub rows: Vec<QueueRow>,
    pub count: i64,
    pub count_capped: bool,
    /// A search with filters counted only the newest matches: there may be more.
    pub count_at_least: bool,
    pub next: Option<String>,
    pub sort: String,
    /// Rows per page, as used.
    pub per: i64,
    /// Staff see (and filter and sort by) severity, priority, tags, assignees, organizations.
    pub staff: bool,
    pub services: Vec<Service>,
    /// (id, name) of the staff who work incidents, for the assignee filter.
    pub assignees: Vec<(i64, String)>,
    pub organizations: Vec<(i64, String)>,
    pub tiers: Vec<crate::db::models::Tier>,
    /// The report figure the list is narrowed to, in words.
    pub counted_by: Option<String>,
}

/// The lists forms offer: every service and, when `with_staff`, the staff who work incidents.
pub fn form_lists(state: &AppState, with_staff: bool) -> ServiceResult<(Vec<Service>, Vec<User>)> {
    let mut conn = state.conn()?;
    let staff = if with_staff { users::active_with_roles(&mut conn, &working_roles(), 500)? } else { Vec::new() };
    Ok((services::all(&mut conn)?, staff))
}

/// The roles that work incidents (assignment lists).
pub fn working_roles() -> Vec<&'static str> {
    Role::ALL.into_iter().filter(|r| policy::role_may(*r, Action::WorkIncident)).map(Role::as_str).collect()
}

pub(super) fn visibility(conn: &mut DbConnection, actor: &Actor) -> ServiceResult<Visibility> {
    if actor.role.is_staff() {
        return Ok(Visibility::Everything);
    }
    let shared_org = match actor.organization_id {
        Some(o) if organizations::find(conn, o)?.share_incidents => Some(o),
        _ => None,
    };
    Ok(Visibility::Reporter { user_id: actor.user_id, shared_org })
}

/// Local midnight of a date in the user's zone, as UTC.
fn local_midnight(d: NaiveDate, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    let naive = d.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&naive).earliest().map(|t| t.naive_utc())
}

/// A queue's filter as the viewer's role allows it, before any paging.
struct Built {
    f: QueueFilter,
    words: Vec<String>,
    internal: bool,
    staff: bool,
}

fn build(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    p: &QueueParams,
    narrowed: super::queue_filters::Narrowed,
) -> ServiceResult<Built> {
    let actor = actor_of(user);
    let staff = actor.role.is_staff();
    let internal = policy::allows(Some(&actor), Action::UseInternalNotes, Resource::None);
    let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let words = search::words(&p.text);
    let mut f = QueueFilter {
        statuses: p.statuses.iter().filter(|s| Status::parse(s).is_some()).cloned().collect(),
        // Staff work open incidents unless they pick statuses; a search looks at everything.
        open_only: staff && p.statuses.is_empty() && words.is_empty() && !p.any_report_filter(),
        // Severity and priority are staff's triage, as on the incident page: a customer's filter
        // by them would tell what the page does not show.
        severities: if staff { p.severities.clone() } else { Vec::new() },
        priorities: if staff { p.priorities.clone() } else { Vec::new() },
        service_id: p.service,
        assignee: match p.assignee.as_str() {
            "" => AssigneeFilter::Any,
            "me" => AssigneeFilter::User(user.id),
            "none" => AssigneeFilter::Unassigned,
            other => other.parse().map(AssigneeFilter::User).unwrap_or(AssigneeFilter::Any),
        },
        organization_id: if staff { p.organization } else { None },
        tier_ids: match (staff, p.tier.as_str()) {
            (false, _) | (_, "") => None,
            (true, "mine") => Some(crate::db::tiers::tiers_of(conn, user.id)?),
            (true, other) => other.parse().ok().map(|t| vec![t]),
        },
        // Tags are internal triage vocabulary: a customer's tag filter would tell them which of
        // their incidents carry a tag they cannot see.
        tag: Some(p.tag.trim().to_lowercase()).filter(|t| staff && !t.is_empty()),
        created_from: p.created_from.and_then(|d| local_midnight(d, tz)),
        created_before: p.created_to.and_then(|d| d.succ_opt()).and_then(|d| local_midnight(d, tz)),
        visibility: visibility(conn, &actor)?,
        ids: None,
        ..Default::default()
    };
    if staff {
        super::queue_filters::apply(p, tz, narrowed, &mut f);
        super::queue_filters::attention(p, state.clock.now_naive(), &mut f);
    }
    Ok(Built { f, words, internal, staff })
}

/// How many incidents a built filter matches (remembered until the next write).
fn count_of(state: &AppState, conn: &mut DbConnection, b: &Built) -> ServiceResult<Count> {
    let (words, internal, base) = (&b.words, b.internal, &b.f);
    let scope = search::Scope::new(internal, &base.visibility);
    let key = format!("{words:?} {internal} {base:?}");
    state.cache.get_or(key, || {
        if words.is_empty() {
            return Ok::<_, ServiceError>(Count::exact(queue::count_capped(conn, base)?));
        }
        if base.is_unfiltered() {
            let (n, more) = search::count_matching(conn, words, &scope)?;
            return Ok(Count { n, at_least: more && n <= queue::COUNT_CAP });
        }
        // Filters apply within the newest matches: when those fill the window, older ones may
        // pass too.
        let window = search::window_incident_ids(conn, words, &scope)?;
        let full = window.len() as i64 >= search::SEARCH_WINDOW;
        let n = queue::count_capped(conn, &QueueFilter { ids: Some(window), ..base.clone() })?;
        Ok(Count { n, at_least: full && n <= queue::COUNT_CAP })
    })
}

/// A count as the queue shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCount {
    pub n: i64,
    /// More than `COUNT_CAP`: shown as "10,000+".
    pub capped: bool,
    /// At least `n`: only the newest matches of a search were counted.
    pub at_least: bool,
}

impl QueueCount {
    fn of(c: Count) -> QueueCount {
        QueueCount { n: c.n.min(queue::COUNT_CAP), capped: c.n > queue::COUNT_CAP, at_least: c.at_least }
    }
}

/// The saved views above a queue, each with its count.
pub struct ViewsAbove {
    pub views: Vec<(crate::service::views::ViewLink, QueueCount)>,
    /// The viewer may share a view with all staff.
    pub can_share: bool,
}

/// The queue with the viewer's saved views and their counts, on one connection where it can
/// (a view counted from a report figure narrows with connections of its own first).
pub fn queue_with_views(
    state: &AppState,
    user: &User,
    p: &QueueParams,
    parse: impl Fn(&str) -> QueueParams,
) -> ServiceResult<(QueueView, ViewsAbove)> {
    authorize(&actor_of(user), Action::ViewIncidents, Resource::None)?;
    let narrowed = super::queue_filters::narrow(state, user, p)?;
    let mut conn = state.conn()?;
    let (links, can_share) = crate::service::views::list(state, &mut conn, user)?;
    let params: Vec<QueueParams> = links.iter().map(|v| parse(&v.query)).collect();
    let narrowed_views = if params.iter().any(|v| super::queue_filters::narrows(user, v)) {
        drop(conn);
        let n = params.iter().map(|v| super::queue_filters::narrow(state, user, v)).collect::<ServiceResult<_>>()?;
        conn = state.conn()?;
        n
    } else {
        params.iter().map(|_| super::queue_filters::Narrowed::default()).collect()
    };
    let counts = counts_on(state, &mut conn, user, &params, narrowed_views)?;
    let view = queue_on(state, &mut conn, user, p, narrowed)?;
    Ok((view, ViewsAbove { views: links.into_iter().zip(counts).collect(), can_share }))
}

fn counts_on(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    params: &[QueueParams],
    narrowed: Vec<super::queue_filters::Narrowed>,
) -> ServiceResult<Vec<QueueCount>> {
    let mut out = Vec::with_capacity(params.len());
    for (p, n) in params.iter().zip(narrowed) {
        let b = build(state, conn, user, p, n)?;
        out.push(QueueCount::of(count_of(state, conn, &b)?));
    }
    Ok(out)
}

fn queue_on(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    p: &QueueParams,
    narrowed: super::queue_filters::Narrowed,
) -> ServiceResult<QueueView> {
    let counted_by = narrowed.label.clone();
    let built = build(state, conn, user, p, narrowed)?;
    let (words, internal, staff) = (built.words.clone(), built.internal, built.staff);
    let mut f = built.f.clone();
    // Searching shows the newest matches first; otherwise staff work by priority.
    let default_sort = if staff && words.is_empty() { "priority" } else { "created" };
    let sort_name = match p.sort.as_str() {
        "" => default_sort.to_string(),
        // An order by severity or priority would tell them too.
        "priority" | "severity" if !staff => default_sort.to_string(),
        other => other.to_string(),
    };

    let scope = search::Scope::new(internal, &f.visibility);
    // The matching document of each row, when the search walk found them.
    let mut matched: Option<Vec<i64>> = None;
    let size = if PAGE_SIZES.contains(&p.per) { p.per } else { PAGE_SIZE };
    let (incidents_page, next) = if words.is_empty() {
        keyset_page(
            conn,
            &f,
            Sort::parse(&sort_name).unwrap_or(if staff { Sort::Priority } else { Sort::Created }),
            &p.after,
            size,
        )?
    } else if sort_name == "relevance" {
        let ranked = search::ranked_incident_ids(conn, &words, &scope)?;
        f.ids = Some(ranked.clone());
        let found: HashMap<i64, QueueItem> = queue::page(conn, &f, Sort::Created, None, search::RANK_CANDIDATES)?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        let ordered: Vec<QueueItem> = ranked.iter().filter_map(|id| found.get(id).cloned()).collect();
        let offset: usize = p.after.parse().unwrap_or(0);
        let end = (offset + size as usize).min(ordered.len());
        let next = (end < ordered.len()).then(|| end.to_string());
        (ordered.get(offset.min(end)..end).map(<[QueueItem]>::to_vec).unwrap_or_default(), next)
    } else if sort_name == "created" {
        // Newest first is the order of the search index itself: the page comes from walking it.
        let after = Cursor::decode(&p.after).map(|c| c.id);
        let mut found = queue::search_page(conn, &f, &words, &scope, after, size as usize + 1)?;
        let more = found.len() as i64 > size;
        found.truncate(size as usize);
        let next = if more { found.last().map(|(i, _)| Cursor::of(Sort::Created, i).encode()) } else { None };
        matched = Some(found.iter().map(|(_, key)| *key).collect());
        (found.into_iter().map(|(i, _)| i).collect(), next)
    } else {
        f.ids = Some(search::window_incident_ids(conn, &words, &scope)?);
        keyset_page(conn, &f, Sort::parse(&sort_name).unwrap_or(Sort::Created), &p.after, size)?
    };
    let count = QueueCount::of(count_of(state, conn, &built)?);
    let lists = lists(state, conn)?;
    let rows = decorate(conn, &lists, incidents_page, &words, matched.as_deref(), internal, staff)?;
    let (services, (assignees, organizations, tiers)) = (
        lists.services.clone(),
        if staff {
            (lists.staff.clone(), lists.organizations.clone(), lists.tiers.clone())
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        },
    );
    Ok(QueueView {
        rows,
        count: count.n,
        count_capped: count.capped,
        count_at_least: count.at_least,
        next,
        per: size,
        sort: sort_name,
        staff,
        services,
        assignees,
        organizations,
        tiers,
        counted_by,
    })
}

/// One page in a keyset order, starting after the encoded cursor.
fn keyset_page(
    conn: &mut DbConnection,
    f: &QueueFilter,
    sort: Sort,
    after: &str,
    size: i64,
) -> ServiceResult<(Vec<QueueItem>, Option<String>)> {
    let after = Cursor::decode(after);
    let mut rows = queue::page(conn, f, sort, after.as_ref(), size + 1)?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    let next = if more { rows.last().map(|i| Cursor::of(sort, i).encode()) } else { None };
    Ok((rows, next))
}

/// The short lists incident pages show and filter by (remembered between requests).
pub(crate) fn lists(state: &AppState, conn: &mut DbConnection) -> ServiceResult<std::sync::Arc<Lists>> {
    state.cache.lists(|| {
        Ok(Lists {
            services: services::all(conn)?,
            organizations: organizations::names(conn)?,
            staff: users::names_with_roles(conn, &working_roles(), 500)?,
            tiers: crate::db::tiers::all(conn)?,
            sla: crate::service::sla::SlaBook::load(conn)?,
        })
    })
}

/// Adds names, tags (for staff: tags are internal) and snippets to a page of incidents: a fixed
/// handful of queries, however many rows.
pub(super) fn decorate(
    conn: &mut DbConnection,
    lists: &Lists,
    list: Vec<QueueItem>,
    words: &[String],
    matched: Option<&[i64]>,
    internal: bool,
    staff: bool,
) -> ServiceResult<Vec<QueueRow>> {
    let ids: Vec<i64> = list.iter().map(|i| i.id).collect();
    let services: HashMap<i64, &str> = lists.services.iter().map(|s| (s.id, s.name.as_str())).collect();
    let orgs: HashMap<i64, &str> = lists.organizations.iter().map(|(id, n)| (*id, n.as_str())).collect();
    // Assignees are nearly always active staff, whose names the remembered lists hold; only
    // the others (deactivated, or staff no longer) cost a query.
    let mut names: HashMap<i64, String> = HashMap::new();
    let staff_names: HashMap<i64, &str> = lists.staff.iter().map(|(id, n)| (*id, n.as_str())).collect();
    let mut missing: Vec<i64> = Vec::new();
    for a in list.iter().filter_map(|i| i.assignee_id) {
        match staff_names.get(&a) {
            Some(n) => {
                names.insert(a, n.to_string());
            }
            None => missing.push(a),
        }
    }
    names.extend(users::names_by_ids(conn, &missing)?);
    let snippets: HashMap<i64, String> = match matched {
        Some(keys) => crate::db::snippets::snippets_of_docs(conn, words, keys)?,
        None => crate::db::snippets::snippets(conn, words, &ids, internal)?,
    }
    .into_iter()
    .collect();
    Ok(list
        .into_iter()
        .map(|mut i| {
            // Tags are internal triage vocabulary.
            let tags = crate::db::models::TagList::split(i.tags.take().filter(|_| staff));
            (i, tags)
        })
        .map(|(i, tags)| QueueRow {
            service: services.get(&i.service_id).map(|s| s.to_string()).unwrap_or_default(),
            assignee: i.assignee_id.and_then(|a| names.get(&a).cloned()).unwrap_or_default(),
            organization: i.organization_id.and_then(|o| orgs.get(&o).map(|s| s.to_string())).unwrap_or_default(),
            tags,
            snippet: snippets.get(&i.id).cloned(),
            incident: i,
        })
        .collect())
}

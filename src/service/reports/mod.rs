//! The management reports, computed exactly as `/reports/definitions` words them. Read-only:
//! each report is a permission check, the filter bar parsed, a few bounded queries and
//! `domain::report` arithmetic. Every report comes out in one shape, [`Report`]: headline
//! figures, tables and charts, and for every figure the incidents it counts, so that pages,
//! CSV, JSON and the queue's "counted by this figure" filter all read the same numbers.

mod escalations;
pub mod facts;
mod parallel;
mod recurrence;
mod releases;
mod response;
mod self_service;
mod sla;
mod weekly;

pub use response::{Times, response_times};
pub use weekly::{PREF as WEEKLY_PREF, mail_due as mail_weekly, may_subscribe as may_get_weekly};

use super::{AppState, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::DbConnection;
use crate::db::models::User;
use crate::db::reports::Filter;
use crate::db::{organizations, services, tiers};
use crate::domain::chart::Chart;
use crate::domain::incident::Severity;
use crate::domain::policy::{Action, Resource};
use crate::domain::report::{Grouping, Interval, Period, intervals, period};
use chrono::NaiveDateTime;
use std::collections::BTreeSet;

/// The filter bar as typed (kept in the URL).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub group: String,
}

impl ReportQuery {
    /// The filter bar as a query string, empty values left out.
    pub fn encode(&self) -> String {
        let pairs = [
            ("period", &self.period),
            ("from", &self.from),
            ("to", &self.to),
            ("service", &self.service),
            ("organization", &self.organization),
            ("severity", &self.severity),
            ("tier", &self.tier),
            ("group", &self.group),
        ];
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| (*k, v.trim())))
            .finish()
    }
}

/// The filter bar, read: the period, the filter, what to offer, and a message when the typed
/// period was not usable (the last 30 days are shown then).
pub struct Bar {
    pub query: ReportQuery,
    /// The viewer's zone, in which the period's days are read.
    pub tz: chrono_tz::Tz,
    pub period: Period,
    pub grouping: Grouping,
    pub intervals: Vec<Interval>,
    pub filter: Filter,
    pub error: Option<String>,
    pub services: Vec<(i64, String)>,
    pub organizations: Vec<(i64, String)>,
    pub tiers: Vec<(i64, String)>,
    /// Incidents changed lately whose report facts are not up to date yet.
    pub pending: usize,
}

impl Bar {
    pub fn service_name(&self, id: i64) -> String {
        name_in(&self.services, id)
    }
    pub fn organization_name(&self, id: Option<i64>) -> String {
        id.map_or_else(|| "No organization".to_string(), |id| name_in(&self.organizations, id))
    }
    pub fn tier_name(&self, id: i64) -> String {
        name_in(&self.tiers, id)
    }
    /// Each interval's label: its first local day.
    pub fn interval_labels(&self) -> Vec<String> {
        self.intervals.iter().map(|i| i.first.to_string()).collect()
    }
}

fn name_in(list: &[(i64, String)], id: i64) -> String {
    list.iter().find(|(i, _)| *i == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

fn bar(state: &AppState, conn: &mut DbConnection, user: &User, query: &ReportQuery) -> ServiceResult<Bar> {
    let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let (period, error) = match period(&query.period, &query.from, &query.to, today, tz) {
        Ok(p) => (p, None),
        Err(e) => (period("30d", "", "", today, tz).map_err(ServiceError::Internal)?, Some(e)),
    };
    let grouping = Grouping::parse_for(query.group.trim(), &period);
    let id = |s: &str| s.trim().parse::<i64>().ok();
    let filter = Filter {
        service_id: id(&query.service),
        organization_id: id(&query.organization),
        severity: Severity::parse(query.severity.trim()).map(|s| s.as_str().to_string()),
        tier_id: id(&query.tier),
    };
    Ok(Bar {
        query: query.clone(),
        tz,
        intervals: intervals(&period, grouping, tz),
        period,
        grouping,
        filter,
        error,
        services: services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect(),
        organizations: organizations::names(conn)?,
        tiers: tiers::all(conn)?.into_iter().map(|t| (t.id, t.name)).collect(),
        pending: 0,
    })
}

/// A figure's value as exports carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// No figure (an empty set): "—" on pages, empty in CSV, null in JSON.
    None,
    Int(i64),
    /// A share, 0.0–1.0.
    Fraction(f64),
    /// A duration in whole seconds.
    Seconds(i64),
    Text(String),
}

/// One figure: what the page shows, what exports carry, and the key of the incidents it counts
/// (when it counts incidents).
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub raw: Raw,
    pub figure: Option<String>,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell { raw: Raw::Text(s.clone()), text: s, figure: None }
    }
    pub fn int(n: usize) -> Cell {
        Cell { text: crate::domain::report::thousands(n as i64), raw: Raw::Int(n as i64), figure: None }
    }
    pub fn duration(d: Option<chrono::Duration>) -> Cell {
        Cell {
            text: crate::domain::report::human(d),
            raw: d.map_or(Raw::None, |d| Raw::Seconds(d.num_seconds())),
            figure: None,
        }
    }
    pub fn share(part: usize, whole: usize) -> Cell {
        let r = crate::domain::report::rate(part, whole);
        Cell {
            text: crate::domain::report::percent(r),
            raw: crate::domain::report::fraction(part, whole).map_or(Raw::None, Raw::Fraction),
            figure: None,
        }
    }
    /// Marks the cell as counting these incidents (registered in the report under `key`).
    pub fn counts(mut self, sets: &mut Sets, key: impl Into<String>, ids: impl IntoIterator<Item = i64>) -> Cell {
        let key = key.into();
        sets.insert(key.clone(), ids);
        self.figure = Some(key);
        self
    }
}

/// Each id once, in order.
fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The incidents behind the figures: which figures count any (a page links those to the
/// queue), and the incidents of the one figure asked for (the queue filter, a CSV), so that a
/// page does not collect the ids of every figure.
#[derive(Debug, Default)]
pub struct Sets {
    want: Option<String>,
    counting: BTreeSet<String>,
    found: Option<Vec<i64>>,
}

impl Sets {
    fn wanting(figure: Option<&str>) -> Sets {
        Sets { want: figure.map(str::to_string), ..Sets::default() }
    }

    pub(super) fn insert(&mut self, key: String, ids: impl IntoIterator<Item = i64>) {
        if self.want.as_deref() == Some(key.as_str()) {
            self.found = Some(ids.into_iter().collect());
            self.counting.insert(key);
        } else if ids.into_iter().next().is_some() {
            self.counting.insert(key);
        }
    }

    /// The figure counts at least one incident.
    pub fn counts_any(&self, figure: &str) -> bool {
        self.counting.contains(figure)
    }

    /// The incidents of the figure asked for; None when the report has no such figure.
    pub fn found(&self) -> Option<&Vec<i64>> {
        self.found.as_ref()
    }
}

/// A column: its export name (the definitions' name) and its heading.
#[derive(Debug, Clone)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
}

pub const fn col(key: &'static str, label: &'static str) -> Column {
    Column { key, label }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub cells: Vec<Cell>,
}

/// One group-by table; its first column names the group.
#[derive(Debug, Clone)]
pub struct Table {
    pub key: &'static str,
    pub title: String,
    pub note: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// A headline figure with the same figure over the previous period.
#[derive(Debug, Clone)]
pub struct Headline {
    pub key: &'static str,
    pub label: &'static str,
    /// The anchor of its definition on `/reports/definitions`.
    pub definition: &'static str,
    pub now: Cell,
    pub previous: Cell,
}

pub struct Report {
    pub slug: &'static str,
    pub title: &'static str,
    pub bar: Bar,
    pub headlines: Vec<Headline>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
    pub sets: Sets,
}

impl Report {
    fn new(kind: Kind, bar: Bar, want: Option<&str>) -> Report {
        Report {
            slug: kind.slug(),
            title: kind.title(),
            bar,
            headlines: Vec::new(),
            tables: Vec::new(),
            charts: Vec::new(),
            sets: Sets::wanting(want),
        }
    }
}

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Escalations,
    Recurrence,
    Sla,
    Response,
    Releases,
    SelfService,
}

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Escalations, Kind::Recurrence, Kind::Sla, Kind::Response, Kind::Releases, Kind::SelfService];

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Escalations => "escalations",
            Kind::Recurrence => "recurrence",
            Kind::Sla => "sla",
            Kind::Response => "response",
            Kind::Releases => "releases",
            Kind::SelfService => "self-service",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Escalations => "Escalations",
            Kind::Recurrence => "Recurrence",
            Kind::Sla => "SLA compliance",
            Kind::Response => "Response and resolution",
            Kind::Releases => "Releases and changes",
            Kind::SelfService => "Self-service",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == s)
    }

    /// Escalations and recurrence are the support organisation's own working; sales read the
    /// customer-facing reports.
    pub fn action(self) -> Action {
        match self {
            Kind::Escalations | Kind::Recurrence => Action::ViewOperationsReports,
            _ => Action::ViewReports,
        }
    }
}

/// The reports this user may read.
pub fn readable(user: &User) -> Vec<Kind> {
    let actor = actor_of(user);
    Kind::ALL.into_iter().filter(|k| crate::domain::policy::allows(Some(&actor), k.action(), Resource::None)).collect()
}

/// One report, computed for the filter bar.
pub fn report(state: &AppState, user: &User, kind: Kind, query: &ReportQuery) -> ServiceResult<Report> {
    report_wanting(state, user, kind, query, None)
}

/// One report, with the incidents of figure `want` collected (`Report::sets`).
pub fn report_wanting(
    state: &AppState,
    user: &User,
    kind: Kind,
    query: &ReportQuery,
    want: Option<&str>,
) -> ServiceResult<Report> {
    authorize(&actor_of(user), kind.action(), Resource::None)?;
    let fresh = refresh(state)?;
    build(state, &mut *state.conn()?, user, (kind, query, want), fresh)
}

/// Brings the facts up to date before a report reads them: what changed since counts too, up to
/// a bound per request; a larger backlog (a bulk load, a migration) is the job's, and the page
/// says so. Returns the moment of computing and how many incidents still wait.
fn refresh(state: &AppState) -> ServiceResult<(NaiveDateTime, usize)> {
    let now = state.clock.now_naive();
    let pending = state.tx(|conn| {
        facts::refresh(conn, Some(facts::PER_REQUEST), now)?;
        Ok(crate::db::reports::dirty_count(conn)?)
    })?;
    Ok((now, usize::try_from(pending).unwrap_or(usize::MAX)))
}

/// Computes one report on `conn` from facts brought up to date at `now`.
fn build(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    (kind, query, want): (Kind, &ReportQuery, Option<&str>),
    (now, pending): (NaiveDateTime, usize),
) -> ServiceResult<Report> {
    let mut bar = bar(state, conn, user, query)?;
    bar.pending = pending;
    let mut r = Report::new(kind, bar, want);
    match kind {
        Kind::Escalations => escalations::build(&state.db, conn, &mut r)?,
        Kind::Recurrence => recurrence::build(conn, &mut r, now)?,
        Kind::Sla => sla::build(&state.db, conn, &mut r, now)?,
        Kind::Response => response::build(&state.db, conn, &mut r, now)?,
        Kind::Releases => releases::build(conn, &mut r)?,
        Kind::SelfService => self_service::build(conn, &mut r, now)?,
    }
    Ok(r)
}

/// The incidents one figure of a report counts, for the queue's "counted by" filter: the
/// report computed again for the same bar, its set read. None for an unknown figure.
pub fn figure_ids(
    state: &AppState,
    user: &User,
    kind: Kind,
    query: &ReportQuery,
    figure: &str,
) -> ServiceResult<Option<(String, Vec<i64>)>> {
    let r = report_wanting(state, user, kind, query, Some(figure))?;
    let label = format!("{}: {}", r.title, describe_figure(&r, figure));
    Ok(r.sets.found().cloned().map(|ids| (label, ids)))
}

/// "first response breached, Checkout, 2026-03-01 – 2026-03-30": what a figure counted, for the
/// queue's banner.
fn describe_figure(r: &Report, figure: &str) -> String {
    for t in &r.tables {
        for row in &t.rows {
            for (i, c) in row.cells.iter().enumerate() {
                if c.figure.as_deref() == Some(figure) {
                    let group = row.cells.first().map(|c| c.text.clone()).unwrap_or_default();
                    let column = t.columns.get(i).map_or("", |c| c.label);
                    return format!("{} — {group}, {column} ({} – {})", t.title, r.bar.period.first, r.bar.period.last);
                }
            }
        }
    }
    for h in &r.headlines {
        if h.now.figure.as_deref() == Some(figure) {
            return format!("{} ({} – {})", h.label, r.bar.period.first, r.bar.period.last);
        }
    }
    figure.to_string()
}

/// The overview: every report this user may read, over the last 30 days. The cards are
/// computed in two halves side by side (every other report in each).
pub fn overview(state: &AppState, user: &User) -> ServiceResult<Vec<Report>> {
    authorize(&actor_of(user), Action::ViewReports, Resource::None)?;
    let q = ReportQuery { period: "30d".into(), ..Default::default() };
    let fresh = refresh(state)?;
    let kinds = readable(user);
    let half = |odd: usize| kinds.iter().skip(odd).step_by(2).copied().collect::<Vec<Kind>>();
    let (evens, odds) = (half(0), half(1));
    let cards = |c: &mut DbConnection, ks: &[Kind]| {
        ks.iter().map(|k| build(state, c, user, (*k, &q, None), fresh)).collect::<ServiceResult<Vec<Report>>>()
    };
    let (evens, odds) = parallel::together(&state.db, &mut *state.conn()?, |c| cards(c, &evens), |c| cards(c, &odds))?;
    let mut out = Vec::with_capacity(kinds.len());
    let mut odds = odds.into_iter();
    for r in evens {
        out.push(r);
        out.extend(odds.next());
    }
    Ok(out)
}

/// The incidents behind a figure as CSV rows (a header first): staff fields only, never the
/// conversation.
pub fn incident_rows(state: &AppState, user: &User, ids: &[i64]) -> ServiceResult<Vec<Vec<String>>> {
    authorize(&actor_of(user), Action::ViewReports, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let mut rows = crate::db::reports::timings_of(conn, ids, &Filter::default())?;
    rows.sort_by_key(|r| r.id);
    let services: std::collections::HashMap<i64, String> =
        services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    let orgs: std::collections::HashMap<i64, String> = organizations::names(conn)?.into_iter().collect();
    let tiers: std::collections::HashMap<i64, String> = tiers::all(conn)?.into_iter().map(|t| (t.id, t.name)).collect();
    let iso = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc().to_rfc3339()).unwrap_or_default();
    let mut out = vec![
        [
            "incident",
            "title",
            "service",
            "organization",
            "severity",
            "status",
            "tier",
            "created_at",
            "acknowledged_at",
            "first_response_at",
        ]
        .map(String::from)
        .to_vec(),
    ];
    out.extend(rows.into_iter().map(|r| {
        vec![
            crate::domain::incident::key(r.id),
            r.title,
            services.get(&r.service_id).cloned().unwrap_or_default(),
            r.organization_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_default(),
            r.severity,
            r.status,
            tiers.get(&r.tier_id).cloned().unwrap_or_default(),
            iso(Some(r.created_at)),
            iso(r.acknowledged_at),
            iso(r.first_response_at),
        ]
    }));
    Ok(out)
}

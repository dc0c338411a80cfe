//! The home page per role: agents see their work (mine, unassigned in their tiers, what needs
//! attention), managers the day's breaches and the week's escalations besides, sales the
//! organizations with open incidents, customers their own incidents.

use super::queue::{QueueRow, decorate, lists, visibility};
use crate::db::models::User;
use crate::db::queue::{self, AssigneeFilter, Breached, QueueFilter, Sort};
use crate::domain::incident::Status;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::role::Role;
use crate::service::{AppState, ServiceResult, actor_of, authorize};

/// Rows per home-page list.
const HOME_ROWS: i64 = 10;

/// Whose home page it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HomeKind {
    /// Works incidents (support, devops, admins).
    #[default]
    Agent,
    /// Works incidents and reads the reports' headlines.
    Manager,
    /// Follows customers; works no incidents.
    Sales,
    Customer,
}

#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub kind: HomeKind,
    pub staff: bool,
    pub by_status: Vec<(Status, i64)>,
    pub by_severity: Vec<(String, i64)>,
    pub mine: Vec<QueueRow>,
    /// New and unassigned: in the agent's tiers when they belong to any, else everywhere.
    pub unassigned_new: Vec<QueueRow>,
    /// The agent belongs to at least one tier (the list above is narrowed to them).
    pub in_my_tiers: bool,
    /// Open incidents with a breached target or a clock past 80 %, most urgent first.
    pub attention: Vec<QueueRow>,
    /// Open incidents nobody has answered yet.
    pub unanswered: Vec<QueueRow>,
    /// Managers: targets breached since the viewer's midnight, escalations since Monday.
    pub breaches_today: i64,
    pub escalations_week: i64,
    /// Sales: (organization id, name, open incidents), most first.
    pub organizations: Vec<(i64, String, i64)>,
    pub recent: Vec<QueueRow>,
}

fn kind_of(user: &User) -> HomeKind {
    let actor = actor_of(user);
    match actor.role {
        Role::Customer => HomeKind::Customer,
        Role::Manager => HomeKind::Manager,
        _ if !policy::allows(Some(&actor), Action::WorkIncident, Resource::None) => HomeKind::Sales,
        _ => HomeKind::Agent,
    }
}

pub fn dashboard(state: &AppState, user: &User) -> ServiceResult<Dashboard> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewIncidents, Resource::None)?;
    let kind = kind_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let vis = visibility(conn, &actor)?;
    let staff = actor.role.is_staff();
    let (by_status, mut by_severity) = queue::open_counts(conn, &vis)?;
    if !staff {
        by_severity.clear();
    }
    by_severity.sort();
    let by_status = Status::OPEN
        .into_iter()
        .map(|s| (s, by_status.iter().find(|(n, _)| n == s.as_str()).map(|(_, c)| *c).unwrap_or(0)))
        .collect();
    let lists = lists(state, conn)?;
    let base = QueueFilter { visibility: vis, ..Default::default() };
    let mut d = Dashboard { kind, staff, by_status, by_severity, ..Default::default() };
    let now = state.clock.now_naive();
    if matches!(kind, HomeKind::Agent | HomeKind::Manager) {
        let my_tiers = crate::db::tiers::tiers_of(conn, user.id)?;
        d.in_my_tiers = !my_tiers.is_empty();
        let tiers = d.in_my_tiers.then_some(my_tiers);
        let open = QueueFilter { open_only: true, ..base.clone() };
        let mine = QueueFilter { assignee: AssigneeFilter::User(user.id), ..open.clone() };
        let unassigned = QueueFilter {
            statuses: vec![Status::New.as_str().into()],
            assignee: AssigneeFilter::Unassigned,
            tier_ids: tiers.clone(),
            ..base.clone()
        };
        let breached = QueueFilter { breached: Some(Breached::Either), ..open.clone() };
        let at_risk = QueueFilter { at_risk_at: Some(now), ..open.clone() };
        let unanswered = QueueFilter { unanswered: true, tier_ids: tiers, ..open.clone() };
        let page = |conn: &mut crate::db::DbConnection, f: &QueueFilter, sort: Sort| {
            queue::page(conn, f, sort, None, HOME_ROWS)
        };
        let mut attention = page(conn, &breached, Sort::Priority)?;
        for i in page(conn, &at_risk, Sort::Due)? {
            if !attention.iter().any(|a| a.id == i.id) {
                attention.push(i);
            }
        }
        attention.truncate(HOME_ROWS as usize);
        let rows = [
            page(conn, &mine, Sort::Priority)?,
            page(conn, &unassigned, Sort::Priority)?,
            attention,
            page(conn, &unanswered, Sort::Created)?,
        ];
        let [mine, unassigned, attention, unanswered] =
            rows.map(|r| decorate(conn, &lists, r, &[], None, false, staff));
        (d.mine, d.unassigned_new, d.attention, d.unanswered) = (mine?, unassigned?, attention?, unanswered?);
    }
    if kind == HomeKind::Manager {
        let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let local = state.clock.now().with_timezone(&tz).date_naive();
        let monday =
            local - chrono::Duration::days(i64::from(chrono::Datelike::weekday(&local).num_days_from_monday()));
        let midnight = |day: chrono::NaiveDate| crate::domain::report::local_midnight_utc(day, tz);
        d.breaches_today = queue::count_breached_since(conn, midnight(local))?;
        d.escalations_week = queue::count_escalations_since(conn, midnight(monday))?;
    }
    if kind == HomeKind::Sales {
        for (id, n) in queue::open_by_organization(conn, HOME_ROWS)? {
            d.organizations.push((id, lists.organization_name(conn, id)?, n));
        }
    }
    let recent = queue::page(conn, &base, Sort::Updated, None, if staff { HOME_ROWS } else { 20 })?;
    d.recent = decorate(conn, &lists, recent, &[], None, false, staff)?;
    Ok(d)
}

/// A report headline on a manager's home page.
#[derive(Debug, Clone)]
pub struct HomeHeadline {
    pub label: String,
    pub now: String,
    pub previous: String,
    pub link: String,
}

/// The SLA and response reports' headlines over the last seven days (today included), with the
/// seven days before, for those who read the reports.
pub fn report_headlines(state: &AppState, user: &User) -> ServiceResult<Vec<HomeHeadline>> {
    use crate::service::reports::{Kind, ReportQuery, readable, report};
    if kind_of(user) != HomeKind::Manager {
        return Ok(Vec::new());
    }
    let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let q = ReportQuery {
        period: "custom".into(),
        from: (today - chrono::Duration::days(6)).to_string(),
        to: today.to_string(),
        group: "day".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for kind in readable(user).into_iter().filter(|k| matches!(k, Kind::Sla | Kind::Response)) {
        let r = report(state, user, kind, &q)?;
        out.extend(r.headlines.iter().map(|h| HomeHeadline {
            label: h.label.to_string(),
            now: h.now.text.clone(),
            previous: h.previous.text.clone(),
            link: format!("/reports/{}?{}", kind.slug(), q.encode()),
        }));
    }
    Ok(out)
}

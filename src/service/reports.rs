//! The management reports, computed exactly as `/reports/definitions` words them. Read-only:
//! each report is a permission check, the filter bar parsed, a few bounded queries and
//! `domain::report` arithmetic.

use super::{AppState, ServiceResult, actor_of, authorize};
use crate::db::models::User;
use crate::db::reports::{self, Filter};
use crate::db::{organizations, services, tiers};
use crate::domain::incident::Severity;
use crate::domain::policy::{Action, Resource};
use crate::domain::report::{Period, Summary, period, rate, summarize};

/// The filter bar as typed (kept in the URL).
#[derive(Debug, Clone, Default, serde::Deserialize)]
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
}

/// The filter bar, read: the period, the filter, what to offer, and a message when the typed
/// period was not usable (the last 30 days are shown then).
pub struct Bar {
    pub query: ReportQuery,
    /// The viewer's zone, in which the period's days are read.
    pub tz: chrono_tz::Tz,
    pub period: Period,
    pub filter: Filter,
    pub error: Option<String>,
    pub services: Vec<(i64, String)>,
    pub organizations: Vec<(i64, String)>,
    pub tiers: Vec<(i64, String)>,
}

fn bar(state: &AppState, user: &User, query: &ReportQuery) -> ServiceResult<Bar> {
    let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = state.clock.now().with_timezone(&tz).date_naive();
    let (period, error) = match period(&query.period, &query.from, &query.to, today, tz) {
        Ok(p) => (p, None),
        Err(e) => (period("30d", "", "", today, tz).map_err(super::ServiceError::Internal)?, Some(e)),
    };
    let id = |s: &str| s.trim().parse::<i64>().ok();
    let filter = Filter {
        service_id: id(&query.service),
        organization_id: id(&query.organization),
        severity: Severity::parse(query.severity.trim()).map(|s| s.as_str().to_string()),
        tier_id: id(&query.tier),
    };
    let mut conn = state.conn()?;
    Ok(Bar {
        query: query.clone(),
        tz,
        period,
        filter,
        error,
        services: services::all(&mut conn)?.into_iter().map(|s| (s.id, s.name)).collect(),
        organizations: organizations::names(&mut conn)?,
        tiers: tiers::all(&mut conn)?.into_iter().map(|t| (t.id, t.name)).collect(),
    })
}

/// MTTA and MTTR for one group of incidents.
#[derive(Debug, Clone, Default)]
pub struct Times {
    pub label: String,
    pub mtta: Summary,
    pub mttr: Summary,
}

pub struct ResponseReport {
    pub bar: Bar,
    pub all: Times,
    pub previous: Times,
    pub by_severity: Vec<Times>,
    /// Incidents first resolved in the period, and of those the ones reopened afterwards.
    pub resolved: usize,
    pub reopened: usize,
    pub reopen_rate: Option<f64>,
}

/// Response and resolution: MTTA, MTTR (mean, median, p90), by severity, and the reopen rate.
pub fn response(state: &AppState, user: &User, query: &ReportQuery) -> ServiceResult<ResponseReport> {
    authorize(&actor_of(user), Action::ViewReports, Resource::None)?;
    let bar = bar(state, user, query)?;
    let mut conn = state.conn()?;
    let times = |conn: &mut crate::db::DbConnection, p: &Period, severity: Option<&str>, label: &str| {
        let f = Filter {
            severity: severity.map(str::to_string).or_else(|| bar.filter.severity.clone()),
            ..bar.filter.clone()
        };
        let created = reports::created_between(conn, p.from, p.to, &f)?;
        let resolved = reports::first_resolved_between(conn, p.from, p.to, &f)?;
        ServiceResult::Ok((
            Times {
                label: label.to_string(),
                mtta: summarize(created.iter().filter_map(|i| i.acknowledged_at.map(|a| a - i.created_at)).collect()),
                mttr: summarize(resolved.iter().map(|(i, at)| *at - i.created_at).collect()),
            },
            resolved,
        ))
    };
    let (all, resolved) = times(&mut conn, &bar.period, None, "All")?;
    let (previous, _) = times(&mut conn, &bar.period.previous(bar.tz), None, "Previous period")?;
    let mut by_severity = Vec::new();
    for s in Severity::ALL {
        if bar.filter.severity.as_deref().is_some_and(|f| f != s.as_str()) {
            continue;
        }
        by_severity.push(times(&mut conn, &bar.period, Some(s.as_str()), s.as_str())?.0);
    }
    let firsts: Vec<(i64, chrono::NaiveDateTime)> = resolved.iter().map(|(i, at)| (i.id, *at)).collect();
    let reopened = reports::reopened_after(&mut conn, &firsts)?.len();
    Ok(ResponseReport {
        resolved: firsts.len(),
        reopened,
        reopen_rate: rate(reopened, firsts.len()),
        all,
        previous,
        by_severity,
        bar,
    })
}

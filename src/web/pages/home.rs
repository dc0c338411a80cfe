use super::incident_queue::{Row, rows};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::incidents::{self, Dashboard, HomeKind};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    name: String,
    staff: bool,
    by_status: Vec<(&'static str, &'static str, i64)>,
    by_severity: Vec<(String, i64)>,
    /// "agent", "manager", "sales" or "customer".
    kind: &'static str,
    works: bool,
    in_my_tiers: bool,
    mine: Vec<Row>,
    unassigned: Vec<Row>,
    attention: Vec<Row>,
    unanswered: Vec<Row>,
    breaches_today: i64,
    escalations_week: i64,
    organizations: Vec<(i64, String, i64)>,
    recent: Vec<Row>,
    /// Managers: the SLA and response headlines of the last seven days.
    headlines: Vec<incidents::HomeHeadline>,
    /// Admins of a new instance: what is left to set up.
    first_run: Vec<crate::service::setup::FirstRunStep>,
}

/// Each role its own home: agents their work, managers the day's breaches and the week's
/// escalations besides, sales the organizations with open incidents, customers their incidents.
pub async fn home(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let d: Dashboard = run(move || incidents::dashboard(&st, &user)).await?;
    let (st, user) = (state.clone(), cu.user.clone());
    let first_run = run(move || crate::service::setup::first_run(&st, &user)).await?;
    let (st, user) = (state.clone(), cu.user.clone());
    let headlines = run(move || incidents::report_headlines(&st, &user)).await?;
    let now = state.clock.now_naive();
    page(&HomePage {
        first_run,
        headlines,
        name: cu.user.display_name.clone(),
        staff: d.staff,
        by_status: d.by_status.iter().map(|(s, n)| (s.as_str(), s.label(), *n)).collect(),
        by_severity: d.by_severity.clone(),
        kind: match d.kind {
            HomeKind::Agent => "agent",
            HomeKind::Manager => "manager",
            HomeKind::Sales => "sales",
            HomeKind::Customer => "customer",
        },
        works: matches!(d.kind, HomeKind::Agent | HomeKind::Manager),
        in_my_tiers: d.in_my_tiers,
        mine: rows(&ctx, now, d.mine, d.staff),
        unassigned: rows(&ctx, now, d.unassigned_new, d.staff),
        attention: rows(&ctx, now, d.attention, d.staff),
        unanswered: rows(&ctx, now, d.unanswered, d.staff),
        breaches_today: d.breaches_today,
        escalations_week: d.escalations_week,
        organizations: d.organizations,
        recent: rows(&ctx, now, d.recent, d.staff),
        ctx,
    })
}

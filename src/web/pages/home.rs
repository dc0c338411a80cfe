use super::incidents::{Row, rows};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::incidents::{self, Dashboard};
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
    mine: Vec<Row>,
    unassigned: Vec<Row>,
    recent: Vec<Row>,
}

/// Staff get a dashboard; customers their incidents and a button to report one.
pub async fn home(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let d: Dashboard = run(move || incidents::dashboard(&st, &user)).await?;
    let now = state.clock.now_naive();
    page(&HomePage {
        name: cu.user.display_name.clone(),
        staff: d.staff,
        by_status: d.by_status.iter().map(|(s, n)| (s.as_str(), s.label(), *n)).collect(),
        by_severity: d.by_severity.clone(),
        mine: rows(&ctx, now, d.mine, d.staff),
        unassigned: rows(&ctx, now, d.unassigned_new, d.staff),
        recent: rows(&ctx, now, d.recent, d.staff),
        ctx,
    })
}

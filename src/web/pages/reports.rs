//! `/reports`: the management reports. Every figure follows the written definitions served at
//! `/reports/definitions` (and in the README); the arithmetic is in `domain::report`.

use crate::error::AppError;
use crate::service::AppState;
use crate::service::reports::ReportQuery;
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "reports/definitions.html")]
struct DefinitionsPage {
    ctx: PageCtx,
    tz: String,
}

pub async fn definitions(ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&DefinitionsPage { ctx, tz: cu.user.time_zone.clone() })
}

struct TimesRow {
    key: String,
    label: String,
    acknowledged: usize,
    mtta_mean: String,
    mtta_median: String,
    mtta_p90: String,
    resolved: usize,
    mttr_mean: String,
    mttr_median: String,
    mttr_p90: String,
}

impl TimesRow {
    fn of(t: &crate::service::reports::Times) -> Self {
        use crate::domain::report::human;
        Self {
            key: t.label.to_lowercase().replace(' ', "-"),
            label: t.label.clone(),
            acknowledged: t.mtta.count,
            mtta_mean: human(t.mtta.mean),
            mtta_median: human(t.mtta.median),
            mtta_p90: human(t.mtta.p90),
            resolved: t.mttr.count,
            mttr_mean: human(t.mttr.mean),
            mttr_median: human(t.mttr.median),
            mttr_p90: human(t.mttr.p90),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/response.html")]
struct ResponsePage {
    ctx: PageCtx,
    tz: String,
    first: String,
    last: String,
    q: ReportQuery,
    preset: &'static str,
    presets: Vec<(&'static str, &'static str)>,
    bar_error: Option<String>,
    services: Vec<(i64, String)>,
    organizations: Vec<(i64, String)>,
    tiers: Vec<(i64, String)>,
    severities: Vec<&'static str>,
    rows: Vec<TimesRow>,
    reopen_rate: String,
    reopened: usize,
    resolved: usize,
}

pub async fn response(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let tz = cu.user.time_zone.clone();
    let r = run(move || crate::service::reports::response(&state, &cu.user, &q)).await?;
    let mut rows = vec![TimesRow::of(&r.all)];
    rows.extend(r.by_severity.iter().map(TimesRow::of));
    rows.push(TimesRow::of(&r.previous));
    page(&ResponsePage {
        ctx,
        tz,
        first: r.bar.period.first.to_string(),
        last: r.bar.period.last.to_string(),
        preset: r.bar.period.preset,
        presets: crate::domain::report::PRESETS.to_vec(),
        bar_error: r.bar.error,
        services: r.bar.services,
        organizations: r.bar.organizations,
        tiers: r.bar.tiers,
        severities: crate::domain::incident::Severity::ALL.iter().map(|s| s.as_str()).collect(),
        rows,
        reopen_rate: crate::domain::report::percent(r.reopen_rate),
        reopened: r.reopened,
        resolved: r.resolved,
        q: r.bar.query,
    })
}

#[derive(Template)]
#[template(path = "reports/overview.html")]
struct OverviewPage {
    ctx: PageCtx,
    tz: String,
    first: String,
    last: String,
    mttr_median: String,
    mttr_previous: String,
    mtta_median: String,
    reopen_rate: String,
}

pub async fn overview(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    use crate::domain::report::human;
    let tz = cu.user.time_zone.clone();
    let q = ReportQuery { period: "30d".into(), ..Default::default() };
    let r = run(move || crate::service::reports::response(&state, &cu.user, &q)).await?;
    page(&OverviewPage {
        ctx,
        tz,
        first: r.bar.period.first.to_string(),
        last: r.bar.period.last.to_string(),
        mttr_median: human(r.all.mttr.median),
        mttr_previous: human(r.previous.mttr.median),
        mtta_median: human(r.all.mtta.median),
        reopen_rate: crate::domain::report::percent(r.reopen_rate),
    })
}

//! `/problems` as lists: the problems, newest change first, and the open actions across them.

use super::SelectOption;
use crate::domain::problem::{ActionStatus, ProblemStatus, category_label, key};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::problems as svc;
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

// ---------- list ----------

pub struct ListRow {
    pub key: String,
    pub title: String,
    pub status: &'static str,
    pub status_code: String,
    pub category: &'static str,
    pub owner: String,
    pub incidents: usize,
    pub recent: usize,
    pub recurred: bool,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "problems/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<ListRow>,
    status: String,
    statuses: Vec<SelectOption>,
    next: Option<String>,
    can_manage: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let status = ProblemStatus::parse(&q.status).map(|s| s.as_str().to_string());
    let after = q.after.split_once('_').and_then(|(t, id)| {
        Some((NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S%.f").ok()?, id.parse::<i64>().ok()?))
    });
    let can_manage = cu.may(crate::domain::policy::Action::ManageProblems);
    let st = status.clone();
    let rows = run(move || svc::list(&state, &cu.user, st.as_deref(), after)).await?;
    let next = (rows.len() == 50).then(|| {
        let last = rows.last().map(|r| format!("{}_{}", r.problem.updated_at.format("%Y%m%dT%H%M%S%.f"), r.problem.id));
        format!("/problems?status={}&after={}", q.status, last.unwrap_or_default())
    });
    let rows = rows
        .into_iter()
        .map(|r| ListRow {
            key: key(r.problem.id),
            status: ProblemStatus::parse(&r.problem.status).map(ProblemStatus::label).unwrap_or("?"),
            status_code: r.problem.status.clone(),
            category: category_label(&r.problem.category),
            owner: r.owner,
            incidents: r.incidents,
            recent: r.recent,
            recurred: r.recurred,
            updated: ctx.time(&r.problem.updated_at),
            title: r.problem.title,
        })
        .collect();
    let mut statuses = vec![(String::new(), "Any status".to_string())];
    statuses.extend(ProblemStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    page(&ListPage {
        ctx,
        rows,
        statuses: SelectOption::list(statuses, &status.clone().unwrap_or_default()),
        status: status.unwrap_or_default(),
        next,
        can_manage,
    })
}

// ---------- actions across problems ----------

pub struct OpenActionRow {
    pub problem_key: String,
    pub problem_title: String,
    pub title: String,
    pub kind: String,
    pub owner: String,
    pub due: String,
    pub status: &'static str,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "problems/actions.html")]
struct ActionsPage {
    ctx: PageCtx,
    rows: Vec<OpenActionRow>,
}

pub async fn actions(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let list = run(move || svc::open_actions(&state, &cu.user)).await?;
    let rows = list
        .into_iter()
        .map(|a| OpenActionRow {
            problem_key: a.problem_key,
            problem_title: a.problem_title,
            title: a.action.title,
            kind: a.action.kind,
            owner: a.owner,
            due: a.action.due_date.map(|d| d.to_string()).unwrap_or_default(),
            status: ActionStatus::parse(&a.action.status).map(ActionStatus::label).unwrap_or("?"),
            overdue: a.overdue,
        })
        .collect();
    page(&ActionsPage { ctx, rows })
}

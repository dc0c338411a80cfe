//! `/releases`: planning, the readiness checklist and approval, deployment, the watch window's
//! suspect incidents, rollback; `/admin/checklist`: the checklist template.

use super::SelectOption;
use crate::domain::release::{DEPLOYMENT_TYPES, ReleaseStatus, deployment_label};
use crate::error::AppError;
use crate::service::releases::{self as svc, ReleaseInput, ReleasePage};
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::forms::{all_fields as fields, field as one};
use crate::web::view::Check;
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

fn input_of(f: &[(String, String)]) -> ReleaseInput {
    ReleaseInput {
        version: one(f, "version"),
        title: one(f, "title"),
        notes: one(f, "notes"),
        deployment_type: one(f, "deployment_type"),
        window_start: one(f, "window_start"),
        window_end: one(f, "window_end"),
        rollback_plan: one(f, "rollback_plan"),
        monitor_hours: one(f, "monitor_hours"),
        services: f.iter().filter(|(n, _)| n == "services").map(|(_, v)| v.clone()).collect(),
        maintenance_notice: one(f, "maintenance_notice"),
    }
}

pub struct FormView {
    pub input: ReleaseInput,
    pub types: Vec<SelectOption>,
    pub services: Vec<Check>,
}

fn form_view(input: ReleaseInput, all: &[crate::service::lookups::Service]) -> FormView {
    FormView {
        types: SelectOption::list(DEPLOYMENT_TYPES, &input.deployment_type),
        services: all
            .iter()
            .filter(|s| s.active || input.services.contains(&s.id.to_string()))
            .map(|s| Check {
                value: s.id.to_string(),
                label: s.name.clone(),
                checked: input.services.contains(&s.id.to_string()),
            })
            .collect(),
        input,
    }
}

fn local_input(ctx: &PageCtx, t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.and_utc().with_timezone(&ctx.time_zone).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

// ---------- list ----------

pub struct Row {
    pub id: i64,
    pub version: String,
    pub title: String,
    pub status: &'static str,
    pub deployment: &'static str,
    pub window: String,
}

#[derive(Template)]
#[template(path = "releases/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    statuses: Vec<SelectOption>,
    can_manage: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let status = ReleaseStatus::parse(&q.into_inner().status).map(|s| s.as_str().to_string());
    let can_manage = cu.may(crate::domain::policy::Action::ManageReleases);
    let st = status.clone();
    let list = run(move || svc::list(&state, &cu.user, st.as_deref())).await?;
    let rows = list
        .into_iter()
        .map(|r| Row {
            id: r.id,
            status: ReleaseStatus::parse(&r.status).map(ReleaseStatus::label).unwrap_or("?"),
            deployment: deployment_label(&r.deployment_type),
            window: match (r.window_start, r.window_end) {
                (Some(s), Some(e)) => format!("{} – {}", ctx.time(&s), ctx.time(&e)),
                (Some(s), None) => ctx.time(&s),
                _ => "not scheduled".into(),
            },
            version: r.version,
            title: r.title,
        })
        .collect();
    let mut statuses = vec![(String::new(), "Any status".to_string())];
    statuses.extend(ReleaseStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    page(&ListPage { ctx, rows, statuses: SelectOption::list(statuses, &status.unwrap_or_default()), can_manage })
}

// ---------- new ----------

#[derive(Template)]
#[template(path = "releases/new.html")]
struct NewPage {
    ctx: PageCtx,
    form: FormView,
    errors: FieldErrors,
}

async fn all_services(state: &web::Data<AppState>) -> Result<Vec<crate::service::lookups::Service>, AppError> {
    let st = state.clone();
    run(move || crate::service::lookups::all_services(&st)).await
}

pub async fn new_form(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let input =
        ReleaseInput { deployment_type: "self_hosted".into(), monitor_hours: "72".into(), ..Default::default() };
    let all = all_services(&state).await?;
    page(&NewPage { ctx, form: form_view(input, &all), errors: FieldErrors::default() })
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let input = input_of(&fields(&body));
    let (st, i) = (state.clone(), input.clone());
    match blocking(move || svc::create(&st, &meta, &cu.user, &i)).await? {
        Ok(r) => Ok(redirect(&format!("/releases/{}", r.id), Some("The release is planned."))),
        Err(ServiceError::Invalid(errors)) => {
            let all = all_services(&state).await?;
            invalid(&NewPage { ctx, form: form_view(input, &all), errors })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- one release ----------

#[derive(Template)]
#[template(path = "releases/show.html")]
struct ShowPage {
    ctx: PageCtx,
    p: ReleasePage,
    status: &'static str,
    deployment: &'static str,
    notes_html: String,
    rollback_html: String,
    window: String,
    checks: Vec<(i64, String, bool, String)>,
    suspects: Vec<(i64, String, String, String)>,
    history: Vec<(String, String, String)>,
    next: Vec<SelectOption>,
    form: FormView,
    kept_bug: String,
    kept_reason: String,
    kept_override: String,
    errors: FieldErrors,
}

fn show_page(
    ctx: PageCtx,
    p: ReleasePage,
    form: Option<ReleaseInput>,
    kept: (String, String, String),
    errors: FieldErrors,
) -> ShowPage {
    let r = &p.release;
    let status = ReleaseStatus::parse(&r.status).unwrap_or(ReleaseStatus::Planned);
    let mut next = vec![(String::new(), "Choose…".to_string())];
    let options: &[(ReleaseStatus, &str)] = match status {
        ReleaseStatus::Planned => &[(ReleaseStatus::Ready, "Ready")],
        ReleaseStatus::Ready => &[
            (ReleaseStatus::Deploying, "Deploying"),
            (ReleaseStatus::Deployed, "Deployed (opens the watch window)"),
            (ReleaseStatus::Planned, "Back to planned"),
        ],
        ReleaseStatus::Deploying => &[
            (ReleaseStatus::Deployed, "Deployed (opens the watch window)"),
            (ReleaseStatus::RolledBack, "Rolled back"),
        ],
        ReleaseStatus::Deployed | ReleaseStatus::Monitoring => {
            &[(ReleaseStatus::Closed, "Closed"), (ReleaseStatus::RolledBack, "Rolled back")]
        }
        ReleaseStatus::Closed => &[(ReleaseStatus::RolledBack, "Rolled back (after the watch window)")],
        _ => &[],
    };
    next.extend(options.iter().map(|(s, l)| (s.as_str().to_string(), l.to_string())));
    let input = form.unwrap_or_else(|| ReleaseInput {
        version: r.version.clone(),
        title: r.title.clone(),
        notes: r.notes.clone(),
        deployment_type: r.deployment_type.clone(),
        window_start: local_input(&ctx, r.window_start),
        window_end: local_input(&ctx, r.window_end),
        rollback_plan: r.rollback_plan.clone(),
        monitor_hours: r.monitor_hours.to_string(),
        services: p.services.iter().map(|(id, _)| id.to_string()).collect(),
        maintenance_notice: r.maintenance_notice.clone(),
    });
    ShowPage {
        status: status.label(),
        deployment: deployment_label(&r.deployment_type),
        notes_html: crate::markdown::to_html(&r.notes),
        rollback_html: crate::markdown::to_html(&r.rollback_plan),
        window: match (r.window_start, r.window_end) {
            (Some(s), Some(e)) => format!("{} – {}", ctx.time(&s), ctx.time(&e)),
            (Some(s), None) => ctx.time(&s),
            _ => "not scheduled".into(),
        },
        checks: p
            .checks
            .iter()
            .map(|c| {
                (
                    c.check.id,
                    c.check.label.clone(),
                    c.check.checked_at.is_some(),
                    match c.check.checked_at {
                        Some(t) => format!("{} · {}", c.by, ctx.time(&t)),
                        None => String::new(),
                    },
                )
            })
            .collect(),
        suspects: p
            .suspects
            .iter()
            .map(|(s, i)| (i.id, crate::domain::incident::key(i.id), i.title.clone(), s.status.clone()))
            .collect(),
        history: p.events.iter().map(|(e, who)| (ctx.time(&e.at), who.clone(), svc::describe(e))).collect(),
        next: SelectOption::list(next, ""),
        form: form_view(input, &p.all_services),
        kept_bug: kept.0,
        kept_reason: kept.1,
        kept_override: kept.2,
        errors,
        ctx,
        p,
    }
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let p = run(move || svc::page(&state, &cu.user, id)).await?;
    page(&show_page(ctx, p, None, Default::default(), FieldErrors::default()))
}

async fn outcome(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: Result<(), ServiceError>,
    (form, kept, done): (Option<ReleaseInput>, (String, String, String), &str),
) -> Result<HttpResponse, AppError> {
    let (status, errors) = match result {
        Ok(()) => return Ok(redirect(&format!("/releases/{id}"), Some(done))),
        Err(ServiceError::Invalid(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(ServiceError::Stale { .. }) => (
            StatusCode::CONFLICT,
            FieldErrors::single(
                "version",
                "Someone changed this release meanwhile. Your input is kept: check and send again.",
            ),
        ),
        Err(ServiceError::Conflict(m)) => (StatusCode::CONFLICT, FieldErrors::single("status", m)),
        Err(e) => return Err(e.into()),
    };
    let (st, user) = (state.clone(), cu.user.clone());
    let p = run(move || svc::page(&st, &user, id)).await?;
    render(status, &show_page(ctx, p, form, kept, errors))
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = fields(&body);
    let input = input_of(&f);
    let lock: i32 = one(&f, "lock").parse().unwrap_or(0);
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    let r = blocking(move || svc::update(&st, &meta, &user, id, lock, &i).map(|_| ())).await?;
    outcome(&state, ctx, &cu, id, r, (Some(input), Default::default(), "Changes saved.")).await
}

#[derive(Deserialize)]
pub struct TickForm {
    #[serde(default)]
    on: String,
}

pub async fn tick(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(i64, i64)>,
    form: web::Form<TickForm>,
) -> Result<HttpResponse, AppError> {
    let (id, check) = path.into_inner();
    let on = form.into_inner().on == "1";
    let (st, user) = (state.clone(), cu.user.clone());
    let r = blocking(move || svc::tick(&st, &meta, &user, id, check, on)).await?;
    outcome(&state, ctx, &cu, id, r, (None, Default::default(), if on { "Ticked." } else { "Unticked." })).await
}

#[derive(Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    override_reason: String,
}

pub async fn approve(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<ApproveForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let reason = form.into_inner().override_reason;
    let (st, user, r2) = (state.clone(), cu.user.clone(), reason.clone());
    let r = blocking(move || svc::approve(&st, &meta, &user, id, &r2)).await?;
    let done = r.as_ref().map(|o| o.message()).unwrap_or_default();
    outcome(&state, ctx, &cu, id, r.map(|_| ()), (None, (String::new(), String::new(), reason), &done)).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    lock: i32,
}

pub async fn status(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = form.into_inner();
    let (st, user, to, reason) = (state.clone(), cu.user.clone(), f.status.clone(), f.reason.clone());
    let r = blocking(move || svc::transition(&st, &meta, &user, id, f.lock, &to, &reason).map(|_| ())).await?;
    outcome(&state, ctx, &cu, id, r, (None, (String::new(), f.reason, String::new()), "Status changed.")).await
}

#[derive(Deserialize)]
pub struct BugForm {
    #[serde(default)]
    bug: String,
    #[serde(default)]
    remove: String,
}

pub async fn bug(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<BugForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = form.into_inner();
    let add = f.remove != "1";
    let (st, user, b) = (state.clone(), cu.user.clone(), f.bug.clone());
    let r = blocking(move || svc::set_bug(&st, &meta, &user, id, &b, add)).await?;
    let done = if add { "The bug is in the release." } else { "The bug is out of the release." };
    outcome(&state, ctx, &cu, id, r, (None, (f.bug, String::new(), String::new()), done)).await
}

#[derive(Deserialize)]
pub struct SuspectForm {
    #[serde(default)]
    decision: String,
}

pub async fn suspect(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(i64, i64)>,
    form: web::Form<SuspectForm>,
) -> Result<HttpResponse, AppError> {
    let (id, incident) = path.into_inner();
    let confirm = form.into_inner().decision == "confirm";
    run(move || svc::decide_suspect(&state, &meta, &cu.user, id, incident, confirm)).await?;
    Ok(redirect(&format!("/releases/{id}"), Some(if confirm { "Confirmed: a change failure." } else { "Dismissed." })))
}

// ---------- checklist template ----------

#[derive(Template)]
#[template(path = "admin/checklist.html")]
struct ChecklistPage {
    ctx: PageCtx,
    items: Vec<crate::service::lookups::ChecklistItem>,
    new_label: String,
    errors: FieldErrors,
}

pub async fn checklist(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let items = run(move || svc::checklist(&state, &cu.user)).await?;
    page(&ChecklistPage { ctx, items, new_label: String::new(), errors: FieldErrors::default() })
}

#[derive(Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    label: String,
}

pub async fn add_item(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let label = form.into_inner().label;
    let (st, user, l) = (state.clone(), cu.user.clone(), label.clone());
    match blocking(move || svc::add_checklist_item(&st, &meta, &user, &l)).await? {
        Ok(()) => Ok(redirect("/admin/checklist", Some("The item is added; new releases start with it."))),
        Err(ServiceError::Invalid(errors)) => {
            let items = run(move || svc::checklist(&state, &cu.user)).await?;
            invalid(&ChecklistPage { ctx, items, new_label: label, errors })
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

pub async fn set_item(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<ActiveForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let active = form.into_inner().active == "1";
    run(move || svc::set_checklist_item(&state, &meta, &cu.user, id, active)).await?;
    Ok(redirect("/admin/checklist", Some("Saved.")))
}

//! `/bugs`: bug fixes, the ones that hurt most first.

use super::SelectOption;
use crate::domain::bug::{BugStatus, key, parse_key};
use crate::domain::incident::Severity;
use crate::error::AppError;
use crate::service::bugs::{self as svc, BugInput, BugPage};
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

fn bid(k: &str) -> Result<i64, AppError> {
    parse_key(k).ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BugForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    service_id: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    external_ref: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    from_problem: String,
    #[serde(default)]
    version: i32,
}

impl BugForm {
    fn input(&self) -> BugInput {
        BugInput {
            title: self.title.clone(),
            description: self.description.clone(),
            service_id: self.service_id.clone(),
            severity: self.severity.clone(),
            external_ref: self.external_ref.clone(),
            assignee: self.assignee.clone(),
        }
    }
}

pub struct Choices {
    pub services: Vec<SelectOption>,
    pub severities: Vec<SelectOption>,
    pub assignees: Vec<SelectOption>,
}

fn choices(
    f: &BugForm,
    services: &[crate::service::incidents::Service],
    staff: &[crate::service::incidents::User],
) -> Choices {
    let mut svc = vec![(String::new(), "No particular service".to_string())];
    svc.extend(services.iter().map(|s| (s.id.to_string(), s.name.clone())));
    let mut people = vec![(String::new(), "Nobody yet".to_string())];
    people.extend(staff.iter().map(|u| (u.id.to_string(), u.display_name.clone())));
    Choices {
        services: SelectOption::list(svc, &f.service_id),
        severities: SelectOption::list(Severity::ALL.iter().map(|s| (s.as_str(), s.as_str())), &f.severity),
        assignees: SelectOption::list(people, &f.assignee),
    }
}

async fn lists(
    state: &web::Data<AppState>,
) -> Result<(Vec<crate::service::incidents::Service>, Vec<crate::service::incidents::User>), AppError> {
    let st = state.clone();
    run(move || crate::service::incidents::form_lists(&st, true)).await
}

// ---------- list ----------

pub struct Row {
    pub key: String,
    pub title: String,
    pub status: &'static str,
    pub severity: String,
    pub impact: u32,
    pub incidents: usize,
    pub organizations: usize,
    pub assignee: String,
    pub external_ref: String,
    /// The reference as a link target, when it is an http(s) URL.
    pub external_url: Option<String>,
}

#[derive(Template)]
#[template(path = "bugs/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    statuses: Vec<SelectOption>,
    sorts: Vec<SelectOption>,
    can_manage: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    sort: String,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let status = BugStatus::parse(&q.status).map(|s| s.as_str().to_string());
    let by_impact = q.sort != "newest";
    let can_manage = cu.may(crate::domain::policy::Action::ManageBugs);
    let st = status.clone();
    let rows = run(move || svc::list(&state, &cu.user, st.as_deref(), by_impact)).await?;
    let rows = rows
        .into_iter()
        .map(|r| Row {
            key: key(r.bug.id),
            status: BugStatus::parse(&r.bug.status).map(BugStatus::label).unwrap_or("?"),
            severity: r.bug.severity.clone(),
            impact: r.impact,
            incidents: r.incidents,
            organizations: r.organizations,
            assignee: r.assignee,
            external_ref: r.bug.external_ref.clone(),
            external_url: crate::domain::bug::reference_url(&r.bug.external_ref).map(str::to_string),
            title: r.bug.title,
        })
        .collect();
    let mut statuses = vec![(String::new(), "Any status".to_string())];
    statuses.extend(BugStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    page(&ListPage {
        ctx,
        rows,
        statuses: SelectOption::list(statuses, &status.unwrap_or_default()),
        sorts: SelectOption::list(
            [("impact", "Impact, highest first"), ("newest", "Newest first")],
            if by_impact { "impact" } else { "newest" },
        ),
        can_manage,
    })
}

// ---------- new ----------

#[derive(Template)]
#[template(path = "bugs/new.html")]
struct NewPage {
    ctx: PageCtx,
    form: BugForm,
    choices: Choices,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    problem: String,
}

pub async fn new_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let form = BugForm { severity: "SEV3".into(), from_problem: q.into_inner().problem, ..Default::default() };
    let (services, staff) = lists(&state).await?;
    let choices = choices(&form, &services, &staff);
    page(&NewPage { ctx, form, choices, errors: FieldErrors::default() })
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<BugForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (st, input, from) = (state.clone(), form.input(), form.from_problem.clone());
    match blocking(move || svc::create(&st, &meta, &cu.user, &input, &from)).await? {
        Ok(b) => Ok(redirect(&format!("/bugs/{}", key(b.id)), Some("The bug is recorded."))),
        Err(ServiceError::Invalid(errors)) => {
            let (services, staff) = lists(&state).await?;
            let choices = choices(&form, &services, &staff);
            invalid(&NewPage { ctx, form, choices, errors })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- one bug ----------

#[derive(Template)]
#[template(path = "bugs/show.html")]
struct ShowPage {
    ctx: PageCtx,
    key: String,
    p: BugPage,
    status: &'static str,
    description_html: String,
    history: Vec<(String, String, String)>,
    next_statuses: Vec<SelectOption>,
    form: BugForm,
    choices: Choices,
    target: String,
    /// The reference as a link target, when it is an http(s) URL.
    external_url: Option<String>,
    errors: FieldErrors,
}

fn show_page(ctx: PageCtx, p: BugPage, form: Option<BugForm>, target: String, errors: FieldErrors) -> ShowPage {
    let b = &p.bug;
    let form = form.unwrap_or_else(|| BugForm {
        title: b.title.clone(),
        description: b.description.clone(),
        service_id: b.service_id.map(|s| s.to_string()).unwrap_or_default(),
        severity: b.severity.clone(),
        external_ref: b.external_ref.clone(),
        assignee: b.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
        from_problem: String::new(),
        version: b.version,
    });
    let choices = choices(&form, &p.services, &p.staff);
    let mut next = vec![(String::new(), "Choose…".to_string())];
    next.extend(p.next_statuses.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    ShowPage {
        key: key(b.id),
        status: BugStatus::parse(&b.status).map(BugStatus::label).unwrap_or("?"),
        description_html: crate::markdown::to_html(&b.description),
        history: p.events.iter().map(|(e, who)| (ctx.time(&e.at), who.clone(), svc::describe(e))).collect(),
        next_statuses: SelectOption::list(next, ""),
        form,
        choices,
        target,
        external_url: crate::domain::bug::reference_url(&p.bug.external_ref).map(str::to_string),
        errors,
        ctx,
        p,
    }
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    k: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = bid(&k)?;
    let p = run(move || svc::page(&state, &cu.user, id)).await?;
    page(&show_page(ctx, p, None, String::new(), FieldErrors::default()))
}

async fn outcome(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: Result<(), ServiceError>,
    (form, target, done): (Option<BugForm>, String, &str),
) -> Result<HttpResponse, AppError> {
    let (status, errors) = match result {
        Ok(()) => return Ok(redirect(&format!("/bugs/{}", key(id)), Some(done))),
        Err(ServiceError::Invalid(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(ServiceError::Stale { .. }) => (
            StatusCode::CONFLICT,
            FieldErrors::single(
                "version",
                "Someone changed this bug meanwhile. Your text is kept: compare and save again.",
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    let (st, user) = (state.clone(), cu.user.clone());
    let p = run(move || svc::page(&st, &user, id)).await?;
    render(status, &show_page(ctx, p, form, target, errors))
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    form: web::Form<BugForm>,
) -> Result<HttpResponse, AppError> {
    let id = bid(&k)?;
    let form = form.into_inner();
    let (st, user, input, v) = (state.clone(), cu.user.clone(), form.input(), form.version);
    let r = blocking(move || svc::update(&st, &meta, &user, id, v, &input).map(|_| ())).await?;
    outcome(&state, ctx, &cu, id, r, (Some(form), String::new(), "Changes saved.")).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    version: i32,
}

pub async fn status(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = bid(&k)?;
    let f = form.into_inner();
    let (st, user) = (state.clone(), cu.user.clone());
    let r = blocking(move || svc::change_status(&st, &meta, &user, id, f.version, &f.status).map(|_| ())).await?;
    outcome(&state, ctx, &cu, id, r, (None, String::new(), "Status changed.")).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    target: String,
}

pub async fn link(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = bid(&k)?;
    let target = form.into_inner().target;
    let (st, user, t) = (state.clone(), cu.user.clone(), target.clone());
    let r = blocking(move || svc::link(&st, &meta, &user, id, &t)).await?;
    outcome(&state, ctx, &cu, id, r, (None, target, "Linked.")).await
}

pub async fn unlink(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (k, target) = path.into_inner();
    let id = bid(&k)?;
    run(move || svc::unlink(&state, &meta, &cu.user, id, &target)).await?;
    Ok(redirect(&format!("/bugs/{}", key(id)), Some("Unlinked.")))
}

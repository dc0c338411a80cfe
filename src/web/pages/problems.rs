//! `/problems`: root-cause records, their linked incidents, actions and the postmortem draft.

use super::SelectOption;
pub use super::problem_list::{actions, list};
use crate::domain::problem::{ActionStatus, CATEGORIES, ProblemStatus, category_label, key, parse_key};
use crate::error::AppError;
use crate::service::problems::{self as svc, ActionInput, ProblemInput, ProblemPage};
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::forms::{all_fields as fields, field as one};
use crate::web::view::Check;
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

fn pid(k: &str) -> Result<i64, AppError> {
    parse_key(k).ok_or(AppError::NotFound)
}

fn input_of(f: &[(String, String)]) -> ProblemInput {
    ProblemInput {
        title: one(f, "title"),
        statement: one(f, "statement"),
        category: one(f, "category"),
        analysis: one(f, "analysis"),
        contributing_factors: one(f, "contributing_factors"),
        five_whys: one(f, "five_whys"),
        customer_impact: one(f, "customer_impact"),
        workaround: one(f, "workaround"),
        owner: one(f, "owner"),
        services: f.iter().filter(|(n, _)| n == "services").map(|(_, v)| v.clone()).collect(),
        watch_days: one(f, "watch_days"),
    }
}

/// The problem form: its values and choices.
pub struct FormView {
    pub input: ProblemInput,
    pub categories: Vec<SelectOption>,
    pub owners: Vec<SelectOption>,
    pub services: Vec<Check>,
}

fn form_view(
    input: ProblemInput,
    staff: &[crate::service::incidents::User],
    all: &[crate::service::incidents::Service],
) -> FormView {
    let mut owners = vec![("".to_string(), "Nobody yet".to_string())];
    owners.extend(staff.iter().map(|u| (u.id.to_string(), u.display_name.clone())));
    FormView {
        categories: SelectOption::list(CATEGORIES, &input.category),
        owners: SelectOption::list(owners, &input.owner),
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

// ---------- new ----------

#[derive(Template)]
#[template(path = "problems/new.html")]
struct NewPage {
    ctx: PageCtx,
    form: FormView,
    from_incident: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    incident: String,
}

async fn new_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    input: ProblemInput,
    from_incident: String,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let st = state.clone();
    let (all, staff) = run(move || crate::service::incidents::form_lists(&st, true)).await?;
    Ok(NewPage { ctx, form: form_view(input, &staff, &all), from_incident, errors })
}

pub async fn new_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let input = ProblemInput {
        category: "unknown".into(),
        watch_days: svc::DEFAULT_WATCH_DAYS.to_string(),
        ..Default::default()
    };
    page(&new_page(&state, ctx, input, q.into_inner().incident, FieldErrors::default()).await?)
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let f = fields(&body);
    let input = input_of(&f);
    let from = one(&f, "from_incident");
    let (st, i, fr) = (state.clone(), input.clone(), from.clone());
    match blocking(move || svc::create(&st, &meta, &cu.user, &i, &fr)).await? {
        Ok(p) => Ok(redirect(&format!("/problems/{}", key(p.id)), Some("The problem is recorded."))),
        Err(ServiceError::Invalid(errors)) => invalid(&new_page(&state, ctx, input, from, errors).await?),
        Err(e) => Err(e.into()),
    }
}

// ---------- one problem ----------

pub struct ActionRow {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub owner: String,
    pub due: String,
    pub status: &'static str,
    pub reason: String,
    pub open: bool,
    pub overdue: bool,
}

pub struct IncidentRow {
    pub key: String,
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub organization: String,
    pub created: String,
    pub resolved_in: String,
    pub after_fix: bool,
}

pub struct TimelineRow {
    pub at: String,
    pub source: String,
    pub actor: String,
    pub text: String,
}

/// What the user typed on the page, kept when a form comes back.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub resolution: String,
    pub incident: String,
    pub action_title: String,
    pub action_kind: String,
    pub action_owner: String,
    pub action_due: String,
    pub action_reason: String,
}

#[derive(Template)]
#[template(path = "problems/show.html")]
struct ShowPage {
    ctx: PageCtx,
    key: String,
    p: ProblemPage,
    status: &'static str,
    category: &'static str,
    statement_html: String,
    analysis_html: String,
    impact_html: String,
    workaround_html: String,
    factors: Vec<String>,
    whys: Vec<String>,
    incidents: Vec<IncidentRow>,
    timeline: Vec<TimelineRow>,
    actions: Vec<ActionRow>,
    next_statuses: Vec<SelectOption>,
    action_kinds: Vec<SelectOption>,
    action_owners: Vec<SelectOption>,
    action_statuses: Vec<SelectOption>,
    totals: String,
    recurrence: String,
    /// When a released fix counts as verified if nothing recurs.
    verify_at: String,
    form: FormView,
    kept: Kept,
    errors: FieldErrors,
}

fn show_page(ctx: PageCtx, p: ProblemPage, form: Option<ProblemInput>, kept: Kept, errors: FieldErrors) -> ShowPage {
    let pr = &p.problem;
    let md = |s: &str| crate::markdown::to_html(s);
    let incidents = p
        .incidents
        .iter()
        .map(|l| IncidentRow {
            key: crate::domain::incident::key(l.incident.id),
            id: l.incident.id,
            title: l.incident.title.clone(),
            status: crate::domain::incident::Status::parse(&l.incident.status).map(|s| s.label()).unwrap_or("?"),
            organization: l.organization.clone(),
            created: ctx.time(&l.incident.created_at),
            resolved_in: l
                .incident
                .resolved_at
                .map(|r| crate::domain::sla::span_text(r - l.incident.created_at))
                .unwrap_or_else(|| "open".into()),
            after_fix: l.after_fix,
        })
        .collect();
    let timeline = p
        .timeline
        .iter()
        .map(|t| TimelineRow {
            at: ctx.time(&t.at),
            source: t.source.clone(),
            actor: t.actor.clone(),
            text: t.text.clone(),
        })
        .collect();
    let actions = p
        .actions
        .iter()
        .map(|a| ActionRow {
            id: a.action.id,
            title: a.action.title.clone(),
            kind: a.action.kind.clone(),
            owner: a.owner.clone(),
            due: a.action.due_date.map(|d| d.to_string()).unwrap_or_default(),
            status: ActionStatus::parse(&a.action.status).map(ActionStatus::label).unwrap_or("?"),
            reason: a.action.reason.clone(),
            open: ActionStatus::parse(&a.action.status).is_some_and(ActionStatus::is_open),
            overdue: a.overdue,
        })
        .collect();
    let dur = |d: Option<chrono::Duration>| d.map(crate::domain::sla::span_text).unwrap_or_else(|| "—".into());
    let count_of = crate::domain::report::count_of;
    let totals = format!(
        "{} · {} affected · total time to resolve {} · median {}",
        count_of(i64::try_from(p.incidents.len()).unwrap_or(i64::MAX), "incident", "incidents"),
        count_of(i64::try_from(p.organizations_affected).unwrap_or(i64::MAX), "organization", "organizations"),
        dur(p.total_to_resolve),
        dur(p.median_to_resolve)
    );
    let recurrence = format!(
        "Linked incidents by the date they were opened, last 30 days: {} · 30–60 days ago: {} · 60–90 days ago: {}",
        p.recurrence.first().copied().unwrap_or(0),
        p.recurrence.get(1).copied().unwrap_or(0),
        p.recurrence.get(2).copied().unwrap_or(0)
    );
    let input = form.unwrap_or_else(|| ProblemInput {
        title: pr.title.clone(),
        statement: pr.statement.clone(),
        category: pr.category.clone(),
        analysis: pr.analysis.clone(),
        contributing_factors: pr.contributing_factors.clone(),
        five_whys: pr.five_whys.clone(),
        customer_impact: pr.customer_impact.clone(),
        workaround: pr.workaround.clone(),
        owner: pr.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        services: p.services.iter().map(|(id, _)| id.to_string()).collect(),
        watch_days: pr.watch_days.to_string(),
    });
    let form = form_view(input, &p.staff, &p.all_services);
    let mut owners = vec![("".to_string(), "Nobody yet".to_string())];
    owners.extend(p.staff.iter().map(|u| (u.id.to_string(), u.display_name.clone())));
    let mut next = vec![(String::new(), "Choose…".to_string())];
    next.extend(p.next_statuses.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    ShowPage {
        key: key(pr.id),
        status: ProblemStatus::parse(&pr.status).map(ProblemStatus::label).unwrap_or("?"),
        category: category_label(&pr.category),
        statement_html: md(&pr.statement),
        analysis_html: md(&pr.analysis),
        impact_html: md(&pr.customer_impact),
        workaround_html: md(&pr.workaround),
        factors: pr.contributing_factors.lines().map(str::to_string).collect(),
        whys: pr.five_whys.lines().map(str::to_string).collect(),
        incidents,
        timeline,
        actions,
        next_statuses: SelectOption::list(next, ""),
        action_kinds: SelectOption::list(
            [("corrective", "Corrective"), ("preventive", "Preventive")],
            &kept.action_kind,
        ),
        action_owners: SelectOption::list(owners, &kept.action_owner),
        action_statuses: SelectOption::list(ActionStatus::ALL.iter().map(|s| (s.as_str(), s.label())), ""),
        totals,
        recurrence,
        verify_at: pr
            .fix_released_at
            .map(|t| ctx.time(&(t + chrono::Duration::days(i64::from(pr.watch_days)))))
            .unwrap_or_default(),
        form,
        kept,
        errors,
        ctx,
        p,
    }
}

async fn load(state: &web::Data<AppState>, cu: &CurrentUser, id: i64) -> Result<ProblemPage, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    run(move || svc::page(&st, &user, id)).await
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    k: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = pid(&k)?;
    let p = load(&state, &cu, id).await?;
    page(&show_page(ctx, p, None, Kept::default(), FieldErrors::default()))
}

/// After a change: back to the page, or the page again with the messages and the typed values.
/// What a form handler hands back: the message on success, and the typed values to keep.
struct Typed {
    form: Option<ProblemInput>,
    kept: Kept,
    done: &'static str,
}

async fn outcome(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: Result<(), ServiceError>,
    Typed { form, kept, done }: Typed,
) -> Result<HttpResponse, AppError> {
    let (status, errors) = match result {
        Ok(()) => return Ok(redirect(&format!("/problems/{}", key(id)), Some(done))),
        Err(ServiceError::Invalid(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(ServiceError::Stale { .. }) => (
            StatusCode::CONFLICT,
            FieldErrors::single(
                "version",
                "Someone changed this problem while you were editing. Your text is kept below: compare it with the \
                 page and save again.",
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    let p = load(state, cu, id).await?;
    render(status, &show_page(ctx, p, form, kept, errors))
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = pid(&k)?;
    let f = fields(&body);
    let input = input_of(&f);
    let version: i32 = one(&f, "version").parse().unwrap_or(0);
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    let r = blocking(move || svc::update(&st, &meta, &user, id, version, &i).map(|_| ())).await?;
    outcome(&state, ctx, &cu, id, r, Typed { form: Some(input), kept: Kept::default(), done: "Changes saved." }).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    resolution: String,
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
    let id = pid(&k)?;
    let f = form.into_inner();
    let (st, user) = (state.clone(), cu.user.clone());
    let (to, res) = (f.status.clone(), f.resolution.clone());
    let r = blocking(move || svc::change_status(&st, &meta, &user, id, f.version, &to, &res).map(|_| ())).await?;
    let kept = Kept { resolution: f.resolution, ..Default::default() };
    outcome(&state, ctx, &cu, id, r, Typed { form: None, kept, done: "Status changed." }).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    incident: String,
}

pub async fn link(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = pid(&k)?;
    let incident = form.into_inner().incident;
    let (st, user, i) = (state.clone(), cu.user.clone(), incident.clone());
    let r = blocking(move || svc::link_incident(&st, &meta, &user, id, &i)).await?;
    let kept = Kept { incident, ..Default::default() };
    outcome(&state, ctx, &cu, id, r, Typed { form: None, kept, done: "The incident is linked." }).await
}

pub async fn unlink(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (k, incident_id) = path.into_inner();
    let id = pid(&k)?;
    run(move || svc::unlink_incident(&state, &meta, &cu.user, id, incident_id)).await?;
    Ok(redirect(&format!("/problems/{}", key(id)), Some("The incident is unlinked.")))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action_title: String,
    #[serde(default)]
    action_kind: String,
    #[serde(default)]
    action_owner: String,
    #[serde(default)]
    action_due: String,
}

pub async fn add_action(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    k: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let id = pid(&k)?;
    let f = form.into_inner();
    let input = ActionInput {
        title: f.action_title.clone(),
        kind: f.action_kind.clone(),
        owner: f.action_owner.clone(),
        due: f.action_due.clone(),
    };
    let (st, user) = (state.clone(), cu.user.clone());
    let r = blocking(move || svc::add_action(&st, &meta, &user, id, &input).map(|_| ())).await?;
    let kept = Kept {
        action_title: f.action_title,
        action_kind: f.action_kind,
        action_owner: f.action_owner,
        action_due: f.action_due,
        ..Default::default()
    };
    outcome(&state, ctx, &cu, id, r, Typed { form: None, kept, done: "The action is added." }).await
}

#[derive(Deserialize)]
pub struct ActionStatusForm {
    #[serde(default)]
    action_status: String,
    #[serde(default)]
    action_reason: String,
}

pub async fn action_status(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<ActionStatusForm>,
) -> Result<HttpResponse, AppError> {
    let (k, action_id) = path.into_inner();
    let id = pid(&k)?;
    let f = form.into_inner();
    let (st, user) = (state.clone(), cu.user.clone());
    let (s, reason) = (f.action_status.clone(), f.action_reason.clone());
    let r = blocking(move || svc::set_action_status(&st, &meta, &user, id, action_id, &s, &reason)).await?;
    let kept = Kept { action_reason: f.action_reason, ..Default::default() };
    outcome(&state, ctx, &cu, id, r, Typed { form: None, kept, done: "The action is updated." }).await
}

pub async fn postmortem(
    state: web::Data<AppState>,
    cu: CurrentUser,
    k: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = pid(&k)?;
    let (name, md) = run(move || svc::postmortem(&state, &cu.user, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(md))
}

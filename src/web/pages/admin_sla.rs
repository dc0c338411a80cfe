use super::SelectOption;
use crate::domain::incident::Severity;
use crate::error::AppError;
use crate::service::lookups::{self, SlaCalendar};
use crate::service::sla::{self as svc, CalendarInput, PolicyInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

pub struct PolicyRow {
    pub id: i64,
    pub severity: String,
    pub organization: String,
    pub first_response: String,
    pub resolution: String,
    pub calendars: Vec<SelectOption>,
    pub auto_escalate: bool,
}

#[derive(Template)]
#[template(path = "admin/sla.html")]
struct SlaPage {
    ctx: PageCtx,
    policies: Vec<PolicyRow>,
    calendars: Vec<SlaCalendar>,
    organizations: Vec<SelectOption>,
    severities: Vec<SelectOption>,
    errors: FieldErrors,
}

/// The page; `error_policy` is the policy whose form came back with errors (its typed values
/// are shown).
async fn sla_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    viewer: &CurrentUser,
    errors: FieldErrors,
    error_policy: i64,
    typed: Option<PolicyInput>,
) -> Result<SlaPage, AppError> {
    let (st, viewer) = (state.clone(), viewer.user.clone());
    let (policies, calendars, orgs) = run(move || lookups::sla_setup(&st, &viewer)).await?;
    let org_names: HashMap<i64, String> = orgs.iter().cloned().collect();
    let policies = policies
        .into_iter()
        .map(|p| {
            let typed = typed.as_ref().filter(|_| p.id == error_policy);
            let cal = typed.map(|t| t.calendar_id.clone()).unwrap_or_else(|| p.calendar_id.to_string());
            PolicyRow {
                id: p.id,
                organization: p
                    .organization_id
                    .and_then(|o| org_names.get(&o).cloned())
                    .unwrap_or_else(|| "Default".into()),
                first_response: typed
                    .map(|t| t.first_response_minutes.clone())
                    .unwrap_or_else(|| p.first_response_minutes.to_string()),
                resolution: typed
                    .map(|t| t.resolution_minutes.clone())
                    .unwrap_or_else(|| p.resolution_minutes.to_string()),
                calendars: SelectOption::list(calendars.iter().map(|c| (c.id, c.name.clone())), &cal),
                auto_escalate: typed.map(|t| t.auto_escalate).unwrap_or(p.auto_escalate),
                severity: p.severity,
            }
        })
        .collect();
    let mut org_opts = vec![(String::new(), "Choose…".to_string())];
    org_opts.extend(orgs.into_iter().map(|(id, n)| (id.to_string(), n)));
    Ok(SlaPage {
        ctx,
        policies,
        calendars,
        organizations: SelectOption::list(org_opts, ""),
        severities: SelectOption::list(Severity::ALL.iter().map(|s| (s.as_str(), s.as_str())), "SEV1"),
        errors,
    })
}

pub async fn show(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&sla_page(&state, ctx, &cu, FieldErrors::default(), 0, None).await?)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    first_response_minutes: String,
    #[serde(default)]
    resolution_minutes: String,
    #[serde(default)]
    calendar_id: String,
    #[serde(default)]
    auto_escalate: Option<String>,
}

pub async fn update_policy(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = form.into_inner();
    let input = PolicyInput {
        first_response_minutes: f.first_response_minutes,
        resolution_minutes: f.resolution_minutes,
        calendar_id: f.calendar_id,
        auto_escalate: f.auto_escalate.is_some(),
    };
    let (st, i) = (state.clone(), input.clone());
    let actor = cu.user.clone();
    match form_outcome(blocking(move || svc::update_policy(&st, &meta, &actor, id, &i)).await?)? {
        Ok(()) => {
            Ok(redirect("/admin/sla", Some("The policy is saved. Open incidents pick it up at their next change.")))
        }
        Err(errors) => invalid(&sla_page(&state, ctx, &cu, errors, id, Some(input)).await?),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    organization_id: String,
}

pub async fn add_override(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<OverrideForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let (st, actor) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || svc::add_override(&st, &meta, &actor, &f.severity, &f.organization_id)).await?)?
    {
        Ok(_) => Ok(redirect("/admin/sla", Some("The organization has its own policy now; adjust its targets below."))),
        Err(errors) => invalid(&sla_page(&state, ctx, &cu, errors, -1, None).await?),
    }
}

#[derive(Template)]
#[template(path = "admin/sla_calendar.html")]
struct CalendarPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    always: bool,
    time_zone: String,
    days: Vec<(&'static str, String)>,
    holidays: String,
    errors: FieldErrors,
}

const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

pub async fn calendar_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let c = run(move || lookups::sla_calendar(&state, &cu.user, id)).await?;
    let mut week: Vec<String> = c.week.split(';').map(str::to_string).collect();
    week.resize(7, String::new());
    page(&CalendarPage {
        ctx,
        id,
        name: c.name,
        always: c.always,
        time_zone: c.time_zone,
        days: DAYS.iter().copied().zip(week).collect(),
        holidays: c.holidays,
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CalendarForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    always: Option<String>,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    d0: String,
    #[serde(default)]
    d1: String,
    #[serde(default)]
    d2: String,
    #[serde(default)]
    d3: String,
    #[serde(default)]
    d4: String,
    #[serde(default)]
    d5: String,
    #[serde(default)]
    d6: String,
    #[serde(default)]
    holidays: String,
}

pub async fn update_calendar(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<CalendarForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = form.into_inner();
    let week = vec![f.d0, f.d1, f.d2, f.d3, f.d4, f.d5, f.d6];
    let input = CalendarInput {
        name: f.name.clone(),
        always: f.always.is_some(),
        time_zone: f.time_zone.clone(),
        week: week.clone(),
        holidays: f.holidays.clone(),
    };
    let st = state.clone();
    match form_outcome(blocking(move || svc::update_calendar(&st, &meta, &cu.user, id, &input)).await?)? {
        Ok(()) => Ok(redirect("/admin/sla", Some("The calendar is saved."))),
        Err(errors) => invalid(&CalendarPage {
            ctx,
            id,
            name: f.name,
            always: f.always.is_some(),
            time_zone: f.time_zone,
            days: DAYS.iter().copied().zip(week).collect(),
            holidays: f.holidays,
            errors,
        }),
    }
}

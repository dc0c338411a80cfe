use crate::error::AppError;
use crate::service::lookups::{self, Service};
use crate::service::services::{self as svc, ServiceInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::ServiceForm;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ListPage {
    ctx: PageCtx,
    services: Vec<Service>,
}

pub async fn list(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let services = run(move || lookups::all_services(&state)).await?;
    page(&ListPage { ctx, services })
}

#[derive(Template)]
#[template(path = "admin/service_form.html")]
struct FormPage {
    ctx: PageCtx,
    service_id: Option<i64>,
    form: ServiceForm,
    errors: FieldErrors,
}

fn input_of(f: &ServiceForm) -> ServiceInput {
    ServiceInput { name: f.name.clone(), description: f.description.clone(), active: f.active.is_some() }
}

pub async fn new_form(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    page(&FormPage {
        ctx,
        service_id: None,
        form: ServiceForm { active: Some("on".into()), ..Default::default() },
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = input_of(&form);
    match form_outcome(blocking(move || svc::create(&state, &meta, &cu.user, &input)).await?)? {
        Ok(_) => Ok(redirect("/admin/services", Some("The service is created."))),
        Err(errors) => invalid(&FormPage { ctx, service_id: None, form, errors }),
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let s = run(move || lookups::service(&state, &cu.user, id)).await?;
    page(&FormPage {
        ctx,
        service_id: Some(id),
        form: ServiceForm { name: s.name, description: s.description, active: s.active.then(|| "on".into()) },
        errors: FieldErrors::default(),
    })
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let input = input_of(&form);
    match form_outcome(blocking(move || svc::update(&state, &meta, &cu.user, id, &input)).await?)? {
        Ok(_) => Ok(redirect("/admin/services", Some("Changes saved."))),
        Err(errors) => invalid(&FormPage { ctx, service_id: Some(id), form, errors }),
    }
}

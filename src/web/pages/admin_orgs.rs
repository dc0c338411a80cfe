use crate::error::AppError;
use crate::service::admin_orgs::{self, OrgInput};
use crate::service::lookups::{self, Organization};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::OrgForm;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

const LIMIT: i64 = 200;

struct OrgRow {
    id: i64,
    name: String,
    domains: String,
    share: bool,
    members: i64,
}

#[derive(Template)]
#[template(path = "admin/organizations.html")]
struct OrgsPage {
    ctx: PageCtx,
    q: String,
    orgs: Vec<OrgRow>,
    truncated: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q;
    let qq = q.clone();
    let (mut list, counts): (Vec<Organization>, HashMap<i64, i64>) =
        run(move || lookups::organizations_page(&state, &cu.user, &qq, LIMIT + 1)).await?;
    let truncated = list.len() as i64 > LIMIT;
    list.truncate(LIMIT as usize);
    let orgs = list
        .into_iter()
        .map(|o| OrgRow {
            members: counts.get(&o.id).copied().unwrap_or(0),
            id: o.id,
            name: o.name,
            domains: o.email_domains.replace(',', ", "),
            share: o.share_incidents,
        })
        .collect();
    page(&OrgsPage { ctx, q, orgs, truncated })
}

#[derive(Template)]
#[template(path = "admin/organization_form.html")]
struct OrgFormPage {
    ctx: PageCtx,
    org_id: Option<i64>,
    form: OrgForm,
    errors: FieldErrors,
}

fn input_of(f: &OrgForm) -> OrgInput {
    OrgInput {
        name: f.name.clone(),
        email_domains: f.email_domains.clone(),
        share_incidents: f.share_incidents.is_some(),
    }
}

fn form_of(o: &Organization) -> OrgForm {
    OrgForm {
        name: o.name.clone(),
        email_domains: o.email_domains.replace(',', ", "),
        share_incidents: o.share_incidents.then(|| "on".to_string()),
    }
}

pub async fn new_form(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    page(&OrgFormPage { ctx, org_id: None, form: OrgForm::default(), errors: FieldErrors::default() })
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = input_of(&form);
    match form_outcome(blocking(move || admin_orgs::create(&state, &meta, &cu.user, &input)).await?)? {
        Ok(org) => Ok(redirect(&format!("/admin/organizations/{}", org.id), Some("The organization is created."))),
        Err(errors) => invalid(&OrgFormPage { ctx, org_id: None, form, errors }),
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let org = run(move || lookups::organization(&state, &cu.user, id)).await?;
    page(&OrgFormPage { ctx, org_id: Some(id), form: form_of(&org), errors: FieldErrors::default() })
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let input = input_of(&form);
    match form_outcome(blocking(move || admin_orgs::update(&state, &meta, &cu.user, id, &input)).await?)? {
        Ok(_) => Ok(redirect(&format!("/admin/organizations/{id}"), Some("Changes saved."))),
        Err(errors) => invalid(&OrgFormPage { ctx, org_id: Some(id), form, errors }),
    }
}

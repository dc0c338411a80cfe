use super::{SelectOption, zones};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::admin_users::{self, By, UserInput};
use crate::service::lookups::{self, User};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::UserForm;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

const PAGE: i64 = 50;

struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    organization: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    q: String,
    users: Vec<UserRow>,
    first_page: bool,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    after_name: Option<String>,
    after_id: Option<i64>,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q = query.q.clone();
    let after = query.after_name.clone().zip(query.after_id);
    let first_page = after.is_none();
    let (mut rows, orgs): (Vec<User>, HashMap<i64, String>) =
        run(move || lookups::users_page(&state, &cu.user, &q, after.as_ref().map(|(n, i)| (n.as_str(), *i)), PAGE + 1))
            .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = if more {
        rows.last().map(|u| {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            format!("/admin/users?q={}&after_name={}&after_id={}", enc(&query.q), enc(&u.display_name), u.id)
        })
    } else {
        None
    };
    let users = rows
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            organization: u.organization_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_default(),
            role: u.role.parse::<Role>().map(Role::label).unwrap_or("unknown"),
            name: u.display_name,
            email: u.email,
            active: u.active,
        })
        .collect();
    page(&UsersPage { ctx, q: query.q, users, first_page, next })
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct UserFormPage {
    ctx: PageCtx,
    user_id: Option<i64>,
    form: UserForm,
    errors: FieldErrors,
    roles: Vec<SelectOption>,
    organizations: Vec<SelectOption>,
    zones: Vec<SelectOption>,
    reset_link: Option<String>,
}

async fn form_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    viewer: &CurrentUser,
    user_id: Option<i64>,
    form: UserForm,
    errors: FieldErrors,
    reset_link: Option<String>,
) -> Result<UserFormPage, AppError> {
    let (st, viewer) = (state.clone(), viewer.user.clone());
    let organizations = run(move || lookups::organization_names(&st, &viewer)).await?;
    let roles = SelectOption::list(Role::ALL.iter().map(|r| (r.as_str(), r.label())), &form.role);
    let organizations = SelectOption::list(
        std::iter::once((String::new(), "— none —".to_string()))
            .chain(organizations.into_iter().map(|(id, name)| (id.to_string(), name))),
        &form.organization_id,
    );
    let zones = zones(&form.time_zone);
    Ok(UserFormPage { ctx, user_id, form, errors, roles, organizations, zones, reset_link })
}

fn form_of(u: &User) -> UserForm {
    UserForm {
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        role: u.role.clone(),
        organization_id: u.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        time_zone: u.time_zone.clone(),
        active: u.active.then(|| "on".to_string()),
        ..Default::default()
    }
}

fn input_of(f: &UserForm) -> UserInput {
    UserInput {
        email: f.email.clone(),
        display_name: f.display_name.clone(),
        role: f.role.clone(),
        organization_id: f.organization_id.clone(),
        time_zone: f.time_zone.clone(),
        password: f.password.clone(),
        password_confirm: f.password_confirm.clone(),
        active: f.active.is_some(),
    }
}

pub async fn new_form(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let form =
        UserForm { role: Role::Customer.as_str().to_string(), time_zone: "UTC".to_string(), ..Default::default() };
    page(&form_page(&state, ctx, &cu, None, form, FieldErrors::default(), None).await?)
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let input = input_of(&form);
    let (st, actor) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || admin_users::create(&st, &meta, By::User(&actor), &input)).await?)? {
        Ok((user, None)) => Ok(redirect(&format!("/admin/users/{}", user.id), Some("The user is created."))),
        Ok((user, Some(link))) => {
            let mut ctx = ctx;
            ctx.flash = Some("The user is created. Give them the link below to set a password.".into());
            page(&form_page(&state, ctx, &cu, Some(user.id), form_of(&user), FieldErrors::default(), Some(link)).await?)
        }
        Err(errors) => {
            form.password.clear();
            form.password_confirm.clear();
            invalid(&form_page(&state, ctx, &cu, None, form, errors, None).await?)
        }
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let st = state.clone();
    let viewer = cu.user.clone();
    let user = run(move || lookups::user(&st, &viewer, id)).await?;
    page(&form_page(&state, ctx, &cu, Some(id), form_of(&user), FieldErrors::default(), None).await?)
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let input = input_of(&form);
    let (st, actor) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || admin_users::update(&st, &meta, &actor, id, &input)).await?)? {
        Ok(_) => Ok(redirect(&format!("/admin/users/{id}"), Some("Changes saved."))),
        Err(errors) => invalid(&form_page(&state, ctx, &cu, Some(id), form, errors, None).await?),
    }
}

pub async fn reset_link(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (st, viewer) = (state.clone(), cu.user.clone());
    let (link, user) = run(move || {
        let link = admin_users::issue_reset(&st, &meta, &viewer, id)?;
        let user = lookups::user(&st, &viewer, id)?;
        Ok((link, user))
    })
    .await?;
    page(&form_page(&state, ctx, &cu, Some(id), form_of(&user), FieldErrors::default(), Some(link)).await?)
}

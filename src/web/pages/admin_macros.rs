//! `/admin/macros`: canned responses. Everyone who works incidents keeps their own; managers and
//! admins also keep the shared ones.

use super::SelectOption;
use crate::domain::macros::PLACEHOLDERS;
use crate::error::AppError;
use crate::service::macros::{self as svc, MacroInput, MacroRow, SETTABLE_STATUSES};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin/macros.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<MacroRow>,
    can_share: bool,
}

pub async fn list(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let c = run(move || svc::catalogue(&state, &cu.user)).await?;
    page(&ListPage { ctx, rows: c.rows, can_share: c.can_share })
}

/// The form as posted; checkboxes and radios absent when not chosen.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MacroForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub body: String,
    /// "note" for an internal note, anything else a reply.
    #[serde(default)]
    pub kind: String,
    /// "shared" to share it with all staff.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub set_status: String,
    #[serde(default)]
    pub set_tier: String,
    #[serde(default)]
    pub add_tags: String,
}

impl MacroForm {
    fn input(&self) -> MacroInput {
        MacroInput {
            name: self.name.clone(),
            body: self.body.clone(),
            internal: self.kind == "note",
            shared: self.scope == "shared",
            set_status: self.set_status.clone(),
            set_tier: self.set_tier.clone(),
            add_tags: self.add_tags.clone(),
        }
    }

    fn of(i: &MacroInput) -> MacroForm {
        MacroForm {
            name: i.name.clone(),
            body: i.body.clone(),
            kind: if i.internal { "note" } else { "reply" }.into(),
            scope: if i.shared { "shared" } else { "personal" }.into(),
            set_status: i.set_status.clone(),
            set_tier: i.set_tier.clone(),
            add_tags: i.add_tags.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/macro_form.html")]
struct FormPage {
    ctx: PageCtx,
    macro_id: Option<i64>,
    form: MacroForm,
    errors: FieldErrors,
    can_share: bool,
    statuses: Vec<SelectOption>,
    tiers: Vec<SelectOption>,
    placeholders: Vec<(String, &'static str)>,
}

async fn form_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    macro_id: Option<i64>,
    form: MacroForm,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let c = run(move || svc::catalogue(&st, &user)).await?;
    let statuses = SelectOption::list(
        std::iter::once(("", "Leave as it is")).chain(SETTABLE_STATUSES.iter().map(|s| (s.as_str(), s.label()))),
        &form.set_status,
    );
    let tiers = SelectOption::list(
        std::iter::once((String::new(), "Leave as it is".to_string()))
            .chain(c.tiers.iter().map(|t| (t.id.to_string(), t.name.clone()))),
        &form.set_tier,
    );
    let placeholders = PLACEHOLDERS.iter().map(|(p, what)| (format!("{{{p}}}"), *what)).collect();
    Ok(FormPage { ctx, macro_id, form, errors, can_share: c.can_share, statuses, tiers, placeholders })
}

pub async fn new_form(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let form = MacroForm { kind: "reply".into(), scope: "personal".into(), ..Default::default() };
    page(&form_page(&state, ctx, &cu, None, form, FieldErrors::default()).await?)
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<MacroForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (st, user, input) = (state.clone(), cu.user.clone(), form.input());
    match form_outcome(blocking(move || svc::create(&st, &meta, &user, &input)).await?)? {
        Ok(m) => Ok(redirect("/admin/macros", Some(&format!("Canned response “{}” saved.", m.name)))),
        Err(errors) => invalid(&form_page(&state, ctx, &cu, None, form, errors).await?),
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (st, user) = (state.clone(), cu.user.clone());
    let m = run(move || svc::for_edit(&st, &user, id)).await?;
    let form = MacroForm::of(&MacroInput::of(&m));
    page(&form_page(&state, ctx, &cu, Some(id), form, FieldErrors::default()).await?)
}

pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<MacroForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let (st, user, input) = (state.clone(), cu.user.clone(), form.input());
    match form_outcome(blocking(move || svc::update(&st, &meta, &user, id, &input)).await?)? {
        Ok(m) => Ok(redirect("/admin/macros", Some(&format!("Canned response “{}” saved.", m.name)))),
        Err(errors) => invalid(&form_page(&state, ctx, &cu, Some(id), form, errors).await?),
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let m = run(move || svc::delete(&state, &meta, &cu.user, id)).await?;
    Ok(redirect("/admin/macros", Some(&format!("Canned response “{}” deleted.", m.name))))
}

use super::SelectOption;
use crate::error::AppError;
use crate::service::escalation::{self, TierInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

struct TierRow {
    id: i64,
    name: String,
    members: i64,
    on_call: String,
}

impl TierRow {
    /// What leaves incidents in this tier without a person, in words; empty when nothing does.
    fn warning(&self) -> &'static str {
        match (self.members, self.on_call.is_empty()) {
            (0, _) => "No members: nobody is mailed when an incident arrives, and nobody takes it.",
            (_, true) => "Nobody on call today: incidents that arrive here stay unassigned.",
            _ => "",
        }
    }
}

#[derive(Template)]
#[template(path = "admin/tiers.html")]
struct ListPage {
    ctx: PageCtx,
    tiers: Vec<TierRow>,
    /// Tiers with a warning.
    unready: usize,
}

pub async fn list(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let tiers = run(move || escalation::tier_overview(&state, &cu.user)).await?;
    let rows: Vec<TierRow> =
        tiers.into_iter().map(|t| TierRow { id: t.id, name: t.name, members: t.members, on_call: t.on_call }).collect();
    let unready = rows.iter().filter(|t| !t.warning().is_empty()).count();
    page(&ListPage { ctx, tiers: rows, unready })
}

pub struct MemberCheck {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin/tier_form.html")]
struct FormPage {
    ctx: PageCtx,
    tier_id: i64,
    tier_name: String,
    input: TierInput,
    staff: Vec<MemberCheck>,
    errors: FieldErrors,
    shift_options: Vec<SelectOption>,
}

async fn form_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    input: Option<TierInput>,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let (tier, staff, input) = run(move || escalation::tier_form(&st, &user, id, input)).await?;
    let staff = staff
        .into_iter()
        .map(|u| MemberCheck {
            checked: input.members.contains(&u.id.to_string()),
            id: u.id,
            name: u.display_name,
            email: u.email,
        })
        .collect();
    Ok(FormPage {
        ctx,
        tier_id: tier.id,
        tier_name: tier.name,
        shift_options: SelectOption::list([("1", "1 day"), ("7", "1 week"), ("14", "2 weeks")], &input.shift_days),
        input,
        staff,
        errors,
    })
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    page(&form_page(&state, ctx, &cu, id.into_inner(), None, FieldErrors::default()).await?)
}

/// The form has a repeated `members` checkbox, so it is read from the raw body.
pub async fn update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    _req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut input = TierInput::default();
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "name" => input.name = v,
            "members" => input.members.push(v),
            "rotation_enabled" => input.rotation_enabled = true,
            "shift_days" => input.shift_days = v,
            "start_date" => input.start_date = v,
            "rotation_emails" => input.rotation_emails = v,
            "overrides" => input.overrides = v,
            _ => {}
        }
    }
    let (st, i, admin) = (state.clone(), input.clone(), cu.user.clone());
    match form_outcome(blocking(move || escalation::update_tier(&st, &meta, &admin, id, &i)).await?)? {
        Ok(()) => Ok(redirect("/admin/tiers", Some("The tier is saved."))),
        Err(errors) => invalid(&form_page(&state, ctx, &cu, id, Some(input), errors).await?),
    }
}

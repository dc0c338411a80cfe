use super::SelectOption;
use crate::db::models::Tier;
use crate::db::{tiers, users};
use crate::error::AppError;
use crate::service::escalation::{self, TierInput};
use crate::service::incidents::working_roles;
use crate::service::{AppState, FieldErrors, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::collections::HashMap;

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

pub async fn list(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let today = state.clock.now_naive().date();
    let rows = run(move || -> ServiceResult<Vec<TierRow>> {
        let mut conn = state.conn()?;
        let counts: HashMap<i64, i64> = tiers::member_counts(&mut conn)?.into_iter().collect();
        let mut rows = Vec::new();
        for t in tiers::all(&mut conn)? {
            let on_call =
                escalation::on_call_today(&mut conn, t.id, today)?.map(|u| u.display_name).unwrap_or_default();
            rows.push(TierRow { members: counts.get(&t.id).copied().unwrap_or(0), id: t.id, name: t.name, on_call });
        }
        Ok(rows)
    })
    .await?;
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
    tier: Tier,
    input: TierInput,
    staff: Vec<MemberCheck>,
    errors: FieldErrors,
    shift_options: Vec<SelectOption>,
}

async fn form_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    id: i64,
    input: Option<TierInput>,
    errors: FieldErrors,
) -> Result<FormPage, AppError> {
    let st = state.clone();
    let (tier, staff, input) = run(move || -> ServiceResult<_> {
        let mut conn = st.conn()?;
        let tier = tiers::find(&mut conn, id)?;
        let staff = users::active_with_roles(&mut conn, &working_roles(), 1000)?;
        let input = match input {
            Some(i) => i,
            None => {
                let members = tiers::members(&mut conn, id)?.iter().map(|m| m.to_string()).collect();
                let rotation = tiers::rotation(&mut conn, id)?;
                let email = |uid: i64| staff.iter().find(|u| u.id == uid).map(|u| u.email.clone()).unwrap_or_default();
                TierInput {
                    name: tier.name.clone(),
                    members,
                    rotation_enabled: rotation.is_some(),
                    shift_days: rotation.as_ref().map(|r| r.shift_days.to_string()).unwrap_or_else(|| "7".into()),
                    start_date: rotation.as_ref().map(|r| r.start.to_string()).unwrap_or_default(),
                    rotation_emails: rotation
                        .as_ref()
                        .map(|r| r.members.iter().map(|m| email(*m)).collect::<Vec<_>>().join("\n"))
                        .unwrap_or_default(),
                    overrides: rotation
                        .as_ref()
                        .map(|r| {
                            r.overrides.iter().map(|(d, u)| format!("{d} {}", email(*u))).collect::<Vec<_>>().join("\n")
                        })
                        .unwrap_or_default(),
                }
            }
        };
        Ok((tier, staff, input))
    })
    .await?;
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
        tier,
        shift_options: SelectOption::list([("1", "1 day"), ("7", "1 week"), ("14", "2 weeks")], &input.shift_days),
        input,
        staff,
        errors,
    })
}

pub async fn edit_form(state: web::Data<AppState>, ctx: PageCtx, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    page(&form_page(&state, ctx, id.into_inner(), None, FieldErrors::default()).await?)
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
    let (st, i) = (state.clone(), input.clone());
    match form_outcome(blocking(move || escalation::update_tier(&st, &meta, &cu.user, id, &i)).await?)? {
        Ok(()) => Ok(redirect("/admin/tiers", Some("The tier is saved."))),
        Err(errors) => invalid(&form_page(&state, ctx, id, Some(input), errors).await?),
    }
}

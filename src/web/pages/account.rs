use super::zones;
use crate::error::AppError;
use crate::service::account::{self, PasswordChangeInput, ProfileInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::{PasswordForm, ProfileForm};
use crate::web::middleware::expired_cookie;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    ctx: PageCtx,
    email: String,
    role_label: &'static str,
    profile: ProfileForm,
    profile_errors: FieldErrors,
    password_errors: FieldErrors,
    zones: Vec<super::SelectOption>,
}

fn account_page(ctx: PageCtx, cu: &CurrentUser, profile: Option<ProfileForm>) -> AccountPage {
    let profile = profile.unwrap_or_else(|| ProfileForm {
        display_name: cu.user.display_name.clone(),
        time_zone: cu.user.time_zone.clone(),
    });
    AccountPage {
        ctx,
        email: cu.user.email.clone(),
        role_label: cu.role().label(),
        zones: zones(&profile.time_zone),
        profile,
        profile_errors: FieldErrors::default(),
        password_errors: FieldErrors::default(),
    }
}

pub async fn show(ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&account_page(ctx, &cu, None))
}

pub async fn update_profile(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = ProfileInput { display_name: form.display_name.clone(), time_zone: form.time_zone.clone() };
    let user = cu.user.clone();
    match form_outcome(blocking(move || account::update_profile(&state, &meta, &user, &input)).await?)? {
        Ok(()) => Ok(redirect("/account", Some("Your profile is saved."))),
        Err(errors) => {
            let mut p = account_page(ctx, &cu, Some(form));
            p.profile_errors = errors;
            invalid(&p)
        }
    }
}

pub async fn change_password(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = PasswordChangeInput {
        current_password: form.current_password,
        password: form.password,
        password_confirm: form.password_confirm,
    };
    let (user, sid) = (cu.user.clone(), cu.session_id);
    match form_outcome(blocking(move || account::change_password(&state, &meta, &user, sid, &input)).await?)? {
        Ok(ended) => Ok(redirect(
            "/account",
            Some(&format!("Your password is changed. {ended} other session(s) were signed out.")),
        )),
        Err(errors) => {
            let mut p = account_page(ctx, &cu, None);
            p.password_errors = errors;
            invalid(&p)
        }
    }
}

struct SessionRow {
    id: i64,
    user_agent: String,
    ip: String,
    created: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage {
    ctx: PageCtx,
    sessions: Vec<SessionRow>,
}

pub async fn sessions(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let user = cu.user.clone();
    let list = run(move || account::list_sessions(&state, &user)).await?;
    let sessions = list
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            user_agent: if s.user_agent.is_empty() { "Unknown browser".into() } else { s.user_agent },
            ip: s.ip,
            created: ctx.time(&s.created_at),
            last_seen: ctx.time(&s.last_seen_at),
            current: s.id == cu.session_id,
        })
        .collect();
    page(&SessionsPage { ctx, sessions })
}

pub async fn revoke_session(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let user = cu.user.clone();
    let st = state.clone();
    run(move || account::revoke_session(&st, &meta, &user, id)).await?;
    if id == cu.session_id {
        let mut res = redirect("/login", Some("You are signed out."));
        res.add_cookie(&expired_cookie(state.config.session_cookie_name(), state.config.is_https())).ok();
        return Ok(res);
    }
    Ok(redirect("/account/sessions", Some("The session is ended.")))
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    ctx: PageCtx,
    token: String,
    email: String,
    errors: FieldErrors,
}

pub async fn reset_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let t = token.clone();
    let Some(user) = run(move || account::reset_target(&state, &t)).await? else {
        return Err(AppError::NotFound);
    };
    page(&ResetPage { ctx, token, email: user.email, errors: FieldErrors::default() })
}

pub async fn reset_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let (st, t) = (state.clone(), token.clone());
    match form_outcome(
        blocking(move || account::reset_password(&st, &meta, &t, &form.password, &form.password_confirm)).await?,
    )? {
        Ok(_) => Ok(redirect("/login", Some("Your password is set. Sign in with it now."))),
        Err(errors) => {
            let t = token.clone();
            let email = run(move || account::reset_target(&state, &t)).await?.map(|u| u.email).unwrap_or_default();
            invalid(&ResetPage { ctx, token, email, errors })
        }
    }
}

use crate::error::AppError;
use crate::service::{AppState, FieldErrors, setup};
use crate::web::ctx::{Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::SetupForm;
use crate::web::middleware::session_cookie;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    ctx: PageCtx,
    form: SetupForm,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    let t = token.clone();
    if !run(move || setup::token_is_live(&state, &t)).await? {
        return Err(AppError::NotFound);
    }
    page(&SetupPage { ctx, form: SetupForm { token, ..Default::default() }, errors: FieldErrors::default() })
}

pub async fn submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = setup::SetupInput {
        token: form.token.clone(),
        display_name: form.display_name.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        password_confirm: form.password_confirm.clone(),
    };
    let st = state.clone();
    match form_outcome(blocking(move || setup::complete(&st, &meta, &input)).await?)? {
        Ok(session) => {
            let mut res = redirect("/", Some("Welcome to Firewatch. You are the first administrator."));
            res.add_cookie(&session_cookie(&state, session.token)).ok();
            Ok(res)
        }
        Err(errors) => invalid(&SetupPage { ctx, form, errors }),
    }
}

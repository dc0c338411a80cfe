use crate::domain::validate::local_redirect;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::auth::{self, LoginRefused};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, page, redirect, render};
use crate::web::forms::LoginForm;
use crate::web::middleware::{expired_cookie, session_cookie};
use crate::web::run;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
    /// Nobody can sign in yet: say where the setup link is.
    empty: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    if ctx.user.is_some() {
        return Ok(redirect(local_redirect(&q.next).unwrap_or("/"), None));
    }
    let empty = run(move || crate::service::setup::instance_is_empty(&state)).await?;
    let next = local_redirect(&q.next).unwrap_or("").to_string();
    page(&LoginPage { ctx, email: String::new(), next, error: None, empty })
}

pub async fn login_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let st = state.clone();
    let (email, password) = (form.email.clone(), form.password.clone());
    match run(move || auth::login(&st, &meta, &email, &password)).await? {
        Ok(session) => {
            let to = local_redirect(&form.next).unwrap_or("/");
            let mut res = redirect(to, None);
            res.add_cookie(&session_cookie(&state, session.token)).ok();
            Ok(res)
        }
        Err(refused) => {
            let (status, msg) = match refused {
                LoginRefused::BadCredentials => (StatusCode::UNPROCESSABLE_ENTITY, "Email or password is incorrect."),
                LoginRefused::TooManyFromAddress => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed sign-ins from your network. Wait 15 minutes and try again.",
                ),
            };
            render(
                status,
                &LoginPage {
                    ctx,
                    email: form.email,
                    next: local_redirect(&form.next).unwrap_or("").to_string(),
                    error: Some(msg.to_string()),
                    empty: false,
                },
            )
        }
    }
}

pub async fn logout(state: web::Data<AppState>, cu: CurrentUser, Meta(meta): Meta) -> Result<HttpResponse, AppError> {
    let st = state.clone();
    run(move || auth::logout(&st, &meta, cu.session_id, &cu.user)).await?;
    let mut res = redirect("/login", Some("You are signed out."));
    res.add_cookie(&expired_cookie(state.config.session_cookie_name(), state.config.is_https())).ok();
    Ok(res)
}

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    ctx: PageCtx,
    email: String,
    errors: crate::service::FieldErrors,
    /// The request was answered: the page says what happens now, whoever asked.
    answered: bool,
}

pub async fn forgot_form(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    page(&ForgotPage { ctx, email: String::new(), errors: Default::default(), answered: false })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    use crate::service::account::{ResetRequest, request_reset};
    let email = form.into_inner().email;
    let typed = email.clone();
    match crate::web::blocking(move || request_reset(&state, &meta, &typed)).await? {
        Ok(ResetRequest::Answered) => page(&ForgotPage { ctx, email, errors: Default::default(), answered: true }),
        Ok(ResetRequest::TooMany) => {
            let errors = crate::service::FieldErrors::single(
                "email",
                "Too many requests from your network: wait a quarter of an hour and try again.",
            );
            render(StatusCode::TOO_MANY_REQUESTS, &ForgotPage { ctx, email, errors, answered: false })
        }
        Err(crate::service::ServiceError::Invalid(errors)) => {
            render(StatusCode::UNPROCESSABLE_ENTITY, &ForgotPage { ctx, email, errors, answered: false })
        }
        Err(e) => Err(e.into()),
    }
}

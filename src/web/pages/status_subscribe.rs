//! Mail subscription to the public status page: double opt-in (the confirmation link shows a
//! button; a link scanner's GET changes nothing) and unsubscription, also one-click from mail
//! clients (RFC 8058).

use crate::error::AppError;
use crate::service::status_page as sp;
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "status/subscribe.html")]
struct SubscribePage {
    ctx: PageCtx,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    pub email: String,
}

pub async fn subscribe_form(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    page(&SubscribePage { ctx, email: String::new(), errors: FieldErrors::default() })
}

/// The same answer whether the address is new, waiting for confirmation or subscribed.
pub async fn subscribe(
    state: web::Data<AppState>,
    ctx: PageCtx,
    Meta(meta): Meta,
    form: web::Form<SubscribeForm>,
) -> Result<HttpResponse, AppError> {
    let email = form.into_inner().email;
    let e = email.clone();
    match blocking(move || sp::subscribe(&state, &meta, &e)).await? {
        Ok(()) => Ok(redirect(
            "/status/subscribe",
            Some("Thank you. If this address is not subscribed yet, a mail with a confirmation link is on its way."),
        )),
        Err(ServiceError::Invalid(errors)) => invalid(&SubscribePage { ctx, email, errors }),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "status/message.html")]
struct MessagePage {
    ctx: PageCtx,
    title: &'static str,
    message: String,
    /// A button that posts to this address, when the page asks for a confirmation.
    action: Option<(String, &'static str)>,
    link: Option<(String, &'static str)>,
}

fn message(ctx: PageCtx, title: &'static str, message: impl Into<String>) -> MessagePage {
    MessagePage { ctx, title, message: message.into(), action: None, link: None }
}

fn dead_link(ctx: PageCtx) -> Result<HttpResponse, AppError> {
    let p = message(
        ctx,
        "This link does not work any more",
        "Confirmation links work once, for 48 hours. Subscribe again on the status page to get a new one.",
    );
    crate::web::ctx::render(actix_web::http::StatusCode::NOT_FOUND, &p)
}

/// Shows what the link confirms; the button confirms (a link scanner's GET changes nothing).
pub async fn confirm_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let t = token.clone();
    match blocking(move || sp::pending_confirmation(&state, &t)).await? {
        Ok(email) => {
            let mut p = message(ctx, "Confirm your subscription", format!("Send status updates to {email}?"));
            p.action = Some((format!("/status/confirm/{token}"), "Confirm the subscription"));
            page(&p)
        }
        Err(ServiceError::NotFound) => dead_link(ctx),
        Err(e) => Err(e.into()),
    }
}

pub async fn confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    match blocking(move || sp::confirm(&state, &token)).await? {
        Ok(unsubscribe) => {
            let mut p = message(
                ctx,
                "You are subscribed",
                "You will get a mail whenever the status page is updated. Every mail has a link to unsubscribe.",
            );
            p.link = Some((unsubscribe, "Changed your mind? Unsubscribe"));
            page(&p)
        }
        Err(ServiceError::NotFound) => dead_link(ctx),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn unsubscribe_action(token: &str) -> String {
    let t: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("/status/unsubscribe?token={t}")
}

pub async fn unsubscribe_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    let t = token.clone();
    let found = run(move || sp::subscription_for(&state, &t)).await?;
    let p = match found {
        Some(email) => {
            let mut p = message(ctx, "Unsubscribe", format!("Stop sending status updates to {email}?"));
            p.action = Some((unsubscribe_action(&token), "Unsubscribe"));
            p
        }
        None => message(ctx, "Not subscribed", "This link belongs to no subscription: no status mail goes to it."),
    };
    page(&p)
}

/// The button on the page, and one-click unsubscription from mail clients (RFC 8058: a POST
/// with `List-Unsubscribe=One-Click` and no cookies). The token is the authority, so the route
/// is exempt from the CSRF check; its body is not read.
pub async fn unsubscribe(
    state: web::Data<AppState>,
    ctx: PageCtx,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    run(move || sp::unsubscribe(&state, &token)).await?;
    page(&message(ctx, "Unsubscribed", "No more status mail will be sent to this address."))
}

use crate::error::AppError;
use crate::service::AppState;
use crate::web::ctx::{CurrentUser, Meta, PageCtx, page, redirect};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

struct Row {
    id: i64,
    created: String,
    kind: String,
    to: String,
    subject: String,
    status: String,
    attempts: i32,
    last_error: String,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    status: String,
    rows: Vec<Row>,
    acknowledge: bool,
}

#[derive(Deserialize)]
pub struct Query {
    #[serde(default)]
    status: String,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let status = q.into_inner().status;
    let filter = Some(status.clone()).filter(|s| ["queued", "sending", "sent", "failed"].contains(&s.as_str()));
    let (messages, acknowledge) =
        run(move || crate::service::mail::outbox_page(&state, &cu.user, filter.as_deref())).await?;
    let rows = messages
        .into_iter()
        .map(|m| Row {
            id: m.id,
            created: ctx.time(&m.created_at),
            kind: m.kind,
            to: m.to_address,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
        })
        .collect();
    page(&OutboxPage { ctx, status, rows, acknowledge })
}

pub async fn retry(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    run(move || crate::service::mail::retry(&state, &meta, &cu.user, id)).await?;
    Ok(redirect("/admin/outbox?status=queued", Some("The message is queued again.")))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    acknowledge: String,
}

pub async fn update_settings(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let on = form.acknowledge == "on";
    run(move || crate::service::mail::set_acknowledgement(&state, &meta, &cu.user, on)).await?;
    let msg = if on { "Reporters get an acknowledgement." } else { "Reporters get no acknowledgement." };
    Ok(redirect("/admin/outbox", Some(msg)))
}

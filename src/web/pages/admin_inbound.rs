//! `/admin/inbound`: the review queue for incoming mail that could not be filed safely, every
//! refused message with its reason, and the settings for unknown senders and closed incidents.

use super::SelectOption;
use crate::error::AppError;
use crate::mail::inbound::ParsedMail;
use crate::service::inbound::{self as svc, InboundSettings, ReviewAction, human_size};
use crate::service::lookups::InboundMessage;
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub struct Row {
    pub id: i64,
    pub received: String,
    pub from: String,
    pub subject: String,
    pub status: String,
    pub note: String,
    pub incident: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/inbound.html")]
struct ListPage {
    ctx: PageCtx,
    status: String,
    rows: Vec<Row>,
    waiting: i64,
    older: Option<String>,
    token_set: bool,
    unknown_sender: Vec<SelectOption>,
    closed_reply: Vec<SelectOption>,
    services: Vec<SelectOption>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    before: Option<i64>,
}

fn row(ctx: &PageCtx, m: InboundMessage) -> Row {
    let note = if m.status == "accepted" {
        match m.outcome.as_str() {
            "created" => "new incident".to_string(),
            "replied" => "reply".to_string(),
            "reopened" => "reply; reopened".to_string(),
            "follow_up" => "follow-up incident".to_string(),
            other => other.to_string(),
        }
    } else {
        m.reason.clone()
    };
    Row {
        id: m.id,
        received: ctx.time(&m.received_at),
        from: if m.from_name.is_empty() { m.from_address } else { format!("{} <{}>", m.from_name, m.from_address) },
        subject: m.subject,
        status: m.status,
        note,
        incident: m.incident_id.map(crate::domain::incident::key),
    }
}

struct SettingsView {
    settings: InboundSettings,
    services: Vec<(i64, String)>,
}

fn settings_options(v: &SettingsView, service: &str) -> (Vec<SelectOption>, Vec<SelectOption>, Vec<SelectOption>) {
    let unknown = SelectOption::list(
        [
            ("create_customer", "Create a customer in the organization whose email domain matches (refuse otherwise)"),
            ("reject", "Refuse the message (it is listed here)"),
        ],
        v.settings.unknown_sender.as_str(),
    );
    let closed = SelectOption::list(
        [("reopen", "Reopen the incident"), ("follow_up", "Start a follow-up incident linked to the closed one")],
        v.settings.closed_reply.as_str(),
    );
    let mut services = vec![SelectOption {
        value: String::new(),
        label: "The first active service".into(),
        selected: service.is_empty(),
    }];
    services.extend(SelectOption::list(v.services.iter().map(|(id, n)| (*id, n.clone())), service));
    (unknown, closed, services)
}

fn load_settings(state: &AppState) -> crate::service::ServiceResult<SettingsView> {
    let mut conn = state.conn()?;
    let settings = svc::settings(&mut conn)?;
    drop(conn);
    let services = crate::service::lookups::active_services(state)?;
    Ok(SettingsView { settings, services })
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let status =
        Some(q.status.clone()).filter(|s| ["review", "refused", "accepted", "dismissed"].contains(&s.as_str()));
    let before = q.before;
    let st = state.clone();
    let (messages, waiting) = run(move || svc::list(&st, &cu.user, status.as_deref(), before)).await?;
    let token_set = state.config.inbound_token.is_some();
    let view = run(move || load_settings(&state)).await?;
    let older = (messages.len() == 50).then(|| {
        let last = messages.last().map(|m| m.id).unwrap_or_default();
        format!("/admin/inbound?status={}&before={last}", q.status)
    });
    let service = view.settings.service_id.map(|s| s.to_string()).unwrap_or_default();
    let (unknown_sender, closed_reply, services) = settings_options(&view, &service);
    let rows = messages.into_iter().map(|m| row(&ctx, m)).collect();
    page(&ListPage {
        ctx,
        status: q.status,
        rows,
        waiting,
        older,
        token_set,
        unknown_sender,
        closed_reply,
        services,
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    unknown_sender: String,
    #[serde(default)]
    closed_reply: String,
    #[serde(default)]
    service_id: String,
}

pub async fn update_settings(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let (st, user) = (state.clone(), cu.user.clone());
    let (u, c, s) = (f.unknown_sender.clone(), f.closed_reply.clone(), f.service_id.clone());
    match form_outcome(blocking(move || svc::update_settings(&st, &meta, &user, &u, &c, &s)).await?)? {
        Ok(_) => Ok(redirect("/admin/inbound", Some("Inbound mail settings saved."))),
        Err(errors) => {
            let st = state.clone();
            let user = cu.user.clone();
            let (messages, waiting) = run(move || svc::list(&st, &user, Some("review"), None)).await?;
            let token_set = state.config.inbound_token.is_some();
            let mut view = run(move || load_settings(&state)).await?;
            if let Some(u) = crate::domain::inbound::UnknownSender::parse(&f.unknown_sender) {
                view.settings.unknown_sender = u;
            }
            if let Some(c) = crate::domain::inbound::ClosedReply::parse(&f.closed_reply) {
                view.settings.closed_reply = c;
            }
            let (unknown_sender, closed_reply, services) = settings_options(&view, &f.service_id);
            let rows = messages.into_iter().map(|m| row(&ctx, m)).collect();
            invalid(&ListPage {
                ctx,
                status: "review".into(),
                rows,
                waiting,
                older: None,
                token_set,
                unknown_sender,
                closed_reply,
                services,
                errors,
            })
        }
    }
}

pub struct AttachmentRow {
    pub filename: String,
    pub content_type: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "admin/inbound_message.html")]
struct MessagePage {
    ctx: PageCtx,
    row: Row,
    message_id: String,
    body: Option<String>,
    attachments: Vec<AttachmentRow>,
    actionable: bool,
    key: String,
    errors: FieldErrors,
}

fn message_page(
    ctx: PageCtx,
    m: InboundMessage,
    parsed: Option<ParsedMail>,
    key: String,
    errors: FieldErrors,
) -> MessagePage {
    let actionable = matches!(m.status.as_str(), "review" | "refused") && parsed.is_some();
    let message_id = m.message_id.clone();
    let attachments = parsed
        .as_ref()
        .map(|p| {
            p.attachments
                .iter()
                .map(|a| AttachmentRow {
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: human_size(a.data.len() as u64),
                })
                .collect()
        })
        .unwrap_or_default();
    let body = parsed.map(|p| p.body);
    let row = row(&ctx, m);
    MessagePage { ctx, row, message_id, body, attachments, actionable, key, errors }
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (m, parsed) = run(move || svc::show(&state, &cu.user, id)).await?;
    page(&message_page(ctx, m, parsed, String::new(), FieldErrors::default()))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
}

pub async fn act(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let f = form.into_inner();
    let action = match f.action.as_str() {
        "add" => ReviewAction::AddTo(f.key.clone()),
        "create" => ReviewAction::Create,
        "dismiss" => ReviewAction::Dismiss,
        _ => return Err(AppError::BadRequest("Choose what to do with the message.".into())),
    };
    let (st, user) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || svc::settle(&st, &meta, &user, id, &action)).await?)? {
        Ok(r) => {
            let msg = match (&r.incident, r.outcome) {
                (Some(k), "created") => format!("{k} is created from the message."),
                (Some(k), _) => format!("The message is added to {k}."),
                _ => "The message is dismissed.".to_string(),
            };
            let to =
                r.incident.map(|k| format!("/incidents/{k}")).unwrap_or_else(|| "/admin/inbound?status=review".into());
            Ok(redirect(&to, Some(&msg)))
        }
        Err(errors) => {
            let (m, parsed) = run(move || svc::show(&state, &cu.user, id)).await?;
            invalid(&message_page(ctx, m, parsed, f.key, errors))
        }
    }
}

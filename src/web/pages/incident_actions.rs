//! The forms on the incident page: comment, edit a comment, assign, status, triage fields,
//! links, watch. Each calls one service function; errors bring the page back with the typed
//! values (422), a stale version brings the conflict page (409).

use super::SelectOption;
use super::incidents::{Kept, id_of, show_page};
use crate::domain::incident::key;
use crate::error::AppError;
use crate::service::incidents::{self, AssignTarget, FieldsInput};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::forms::{AssignForm, CommentForm, FieldsForm, LinkForm, StatusForm, WatchForm};
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "incidents/conflict.html")]
struct ConflictPage {
    ctx: PageCtx,
    key: String,
    changes: Vec<(String, String, String)>,
    action: String,
    hidden: Vec<(&'static str, String)>,
    summary: Vec<(&'static str, String)>,
}

#[allow(clippy::too_many_arguments)]
/// Turns a service result into: redirect back (ok), the page with errors (422), the conflict
/// page (409), or an error page.
async fn finish<T: Send + 'static>(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: ServiceResult<T>,
    ok_message: &str,
    kept: Kept,
    mut resubmit: impl FnMut(i32) -> (String, Vec<(&'static str, String)>, Vec<(&'static str, String)>),
    submitted_version: i32,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => Ok(redirect(&format!("/incidents/{}", key(id)), Some(ok_message))),
        Err(ServiceError::Invalid(errors)) => {
            let (st, user) = (state.clone(), cu.user.clone());
            let p = run(move || incidents::incident_page(&st, &user, id)).await?;
            invalid(&show_page(ctx, p, kept, errors))
        }
        Err(ServiceError::Stale { .. }) => {
            let (st, user) = (state.clone(), cu.user.clone());
            let (inc, events) = run(move || incidents::changes_since(&st, &user, id, submitted_version)).await?;
            let (st, ids) = (state.clone(), events.iter().filter_map(|e| e.actor_id).collect::<Vec<_>>());
            let names = run(move || Ok(crate::db::users::list_by_ids(&mut *st.conn()?, &ids)?)).await?;
            let changes = events
                .iter()
                .map(|e| {
                    let who = e
                        .actor_id
                        .and_then(|a| names.iter().find(|u| u.id == a))
                        .map(|u| u.display_name.clone())
                        .unwrap_or_else(|| "Firewatch".into());
                    (ctx.time(&e.at), who, super::incidents::describe(e))
                })
                .collect();
            let (action, mut hidden, summary) = resubmit(inc.version);
            hidden.push(("version", inc.version.to_string()));
            render(StatusCode::CONFLICT, &ConflictPage { ctx, key: key(id), changes, action, hidden, summary })
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn comment(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let internal = form.visibility == "internal";
    let (st, user, body) = (state.clone(), cu.user.clone(), form.body.clone());
    let r = blocking(move || incidents::add_comment(&st, &meta, &user, id, &body, internal)).await?;
    let msg = if internal { "Internal note added." } else { "Reply posted." };
    let kept = Kept { body: form.body, internal, ..Default::default() };
    finish(&state, ctx, &cu, id, r, msg, kept, |_| (String::new(), vec![], vec![]), 0).await
}

#[derive(Template)]
#[template(path = "incidents/comment_edit.html")]
struct EditCommentPage {
    ctx: PageCtx,
    key: String,
    comment_id: i64,
    body: String,
    errors: FieldErrors,
}

pub async fn edit_comment_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (key_text, comment_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let (st, user) = (state.clone(), cu.user.clone());
    let p = run(move || incidents::incident_page(&st, &user, id)).await?;
    let Some(item) = p.timeline.iter().find(|t| t.editable && t.comment.as_ref().is_some_and(|c| c.id == comment_id))
    else {
        return Err(AppError::NotFound);
    };
    let body = item.comment.as_ref().map(|c| c.body.clone()).unwrap_or_default();
    page(&EditCommentPage { ctx, key: key(id), comment_id, body, errors: FieldErrors::default() })
}

pub async fn edit_comment(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (key_text, comment_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let (st, user, body) = (state.clone(), cu.user.clone(), form.body.clone());
    match blocking(move || incidents::edit_comment(&st, &meta, &user, id, comment_id, &body)).await? {
        Ok(_) => Ok(redirect(&format!("/incidents/{}", key(id)), Some("Comment updated."))),
        Err(ServiceError::Invalid(errors)) => {
            invalid(&EditCommentPage { ctx, key: key(id), comment_id, body: form.into_inner().body, errors })
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn assign(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let Some(target) = AssignTarget::parse(&form.assignee) else {
        return Err(AppError::BadRequest("Choose whom to assign.".into()));
    };
    let (st, user, version) = (state.clone(), cu.user.clone(), form.version);
    let r = blocking(move || incidents::assign(&st, &meta, &user, id, version, target)).await?;
    let assignee = form.assignee.clone();
    finish(
        &state,
        ctx,
        &cu,
        id,
        r,
        "Assignment saved.",
        Kept::default(),
        move |_| {
            (
                format!("/incidents/{}/assign", key(id)),
                vec![("assignee", assignee.clone())],
                vec![("Assign to", assignee.clone())],
            )
        },
        form.version,
    )
    .await
}

pub async fn status(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let (st, user, f) = (state.clone(), cu.user.clone(), form.clone());
    let r =
        blocking(move || incidents::change_status(&st, &meta, &user, id, f.version, &f.status, &f.resolution)).await?;
    let kept = Kept { resolution: form.resolution.clone(), ..Default::default() };
    let f = form.clone();
    finish(
        &state,
        ctx,
        &cu,
        id,
        r,
        "Status changed.",
        kept,
        move |_| {
            (
                format!("/incidents/{}/status", key(id)),
                vec![("status", f.status.clone()), ("resolution", f.resolution.clone())],
                vec![
                    ("Status", super::incidents::status_label(&f.status).to_string()),
                    ("Resolution", f.resolution.clone()),
                ],
            )
        },
        form.version,
    )
    .await
}

pub async fn fields(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<FieldsForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let input = FieldsInput {
        title: form.title.clone(),
        service_id: form.service_id.clone(),
        impact: form.impact.clone(),
        urgency: form.urgency.clone(),
        severity: form.severity.clone(),
        tags: form.tags.clone(),
    };
    let (st, user, version) = (state.clone(), cu.user.clone(), form.version);
    let r = blocking(move || incidents::update_fields(&st, &meta, &user, id, version, &input)).await?;
    let kept = Kept { fields: Some(form.clone()), ..Default::default() };
    let f = form.clone();
    finish(
        &state,
        ctx,
        &cu,
        id,
        r,
        "Changes saved.",
        kept,
        move |_| {
            (
                format!("/incidents/{}/fields", key(id)),
                vec![
                    ("title", f.title.clone()),
                    ("service_id", f.service_id.clone()),
                    ("impact", f.impact.clone()),
                    ("urgency", f.urgency.clone()),
                    ("severity", f.severity.clone()),
                    ("tags", f.tags.clone()),
                ],
                vec![
                    ("Title", f.title.clone()),
                    ("Impact", f.impact.clone()),
                    ("Urgency", f.urgency.clone()),
                    ("Severity", f.severity.clone()),
                    ("Tags", f.tags.clone()),
                ],
            )
        },
        form.version,
    )
    .await
}

pub async fn link(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let (st, user, f) = (state.clone(), cu.user.clone(), form.clone());
    let r = blocking(move || incidents::link(&st, &meta, &user, id, &f.other, &f.kind)).await?;
    let kept = Kept { other: form.other, ..Default::default() };
    finish(&state, ctx, &cu, id, r, "Link added.", kept, |_| (String::new(), vec![], vec![]), 0).await
}

pub async fn unlink(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (key_text, link_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let user = cu.user.clone();
    run(move || incidents::unlink(&state, &meta, &user, id, link_id)).await?;
    Ok(redirect(&format!("/incidents/{}", key(id)), Some("Link removed.")))
}

pub async fn watch(
    state: web::Data<AppState>,
    cu: CurrentUser,
    key_text: web::Path<String>,
    form: web::Form<WatchForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let on = form.watch == "on";
    let user = cu.user.clone();
    run(move || incidents::watch(&state, &user, id, on)).await?;
    let msg = if on { "You are watching this incident." } else { "You stopped watching this incident." };
    Ok(redirect(&format!("/incidents/{}", key(id)), Some(msg)))
}

/// Options for the link kind select.
pub fn link_kinds() -> Vec<SelectOption> {
    SelectOption::list(
        [
            ("related_to", "Related to"),
            ("duplicate_of", "Duplicate of (closes this one)"),
            ("parent_of", "Parent of"),
            ("child_of", "Child of"),
        ],
        "related_to",
    )
}

pub async fn escalate(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<crate::web::forms::EscalateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let Some(target) = crate::service::escalation::TierTarget::parse(&form.tier) else {
        return Err(AppError::BadRequest("Choose a tier.".into()));
    };
    let (st, user, f) = (state.clone(), cu.user.clone(), form.clone());
    let r = blocking(move || {
        crate::service::escalation::escalate(&st, &meta, &user, id, f.version, target, &f.reason, &f.reason_text)
    })
    .await?;
    let kept = Kept { reason: form.reason.clone(), reason_text: form.reason_text.clone(), ..Default::default() };
    let f = form.clone();
    finish(
        &state,
        ctx,
        &cu,
        id,
        r,
        "Tier changed.",
        kept,
        move |_| {
            (
                format!("/incidents/{}/escalate", key(id)),
                vec![("tier", f.tier.clone()), ("reason", f.reason.clone()), ("reason_text", f.reason_text.clone())],
                vec![("Move to", f.tier.clone()), ("Reason", f.reason.clone()), ("Details", f.reason_text.clone())],
            )
        },
        form.version,
    )
    .await
}

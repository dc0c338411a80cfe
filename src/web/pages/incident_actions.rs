//! The forms on the incident page: comment, edit a comment, assign, status, triage fields,
//! links, watch. Each calls one service function; errors bring the page back with the typed
//! values (422), a stale version brings the conflict page (409).

use super::SelectOption;
use super::incident_page::{Kept, PendingMacro, show_page};
use crate::domain::incident::key;
use crate::error::AppError;
use crate::service::escalation::Holder;
use crate::service::incidents::{self, AssignTarget, FieldsInput};
use crate::service::macros;
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::forms::{AssignForm, CommentForm, FieldsForm, LinkForm, StatusForm, WatchForm};
use crate::web::multipart::posted;
use crate::web::view::id_of;
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
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

/// What the conflict page offers to post again, for the forms that carry a version.
struct Resubmit {
    /// The form's path under the incident, e.g. "/status".
    action: &'static str,
    /// The version the user's form was rendered with.
    version: i32,
    hidden: Vec<(&'static str, String)>,
    summary: Vec<(&'static str, String)>,
}

/// How a form's answer reads: the flash on success, what to show again on errors, and what to
/// offer on a stale version.
struct Outcome {
    ok_message: std::borrow::Cow<'static, str>,
    kept: Kept,
    resubmit: Option<Resubmit>,
}

/// Turns a service result into: redirect back (ok), the page with errors (422), the conflict
/// page (409), or an error page.
async fn finish<T: Send + 'static>(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: ServiceResult<T>,
    outcome: Outcome,
) -> Result<HttpResponse, AppError> {
    match result {
        // After an internal note the box stays a note box: the next one is often a note too,
        // and a box that silently turned public would mail the customer.
        Ok(_) if outcome.kept.internal => {
            Ok(redirect(&format!("/incidents/{}?compose=note#reply", key(id)), Some(&outcome.ok_message)))
        }
        Ok(_) => Ok(redirect(&format!("/incidents/{}", key(id)), Some(&outcome.ok_message))),
        Err(ServiceError::Invalid(errors)) => {
            let (st, user) = (state.clone(), cu.user.clone());
            let ask = incidents::PickerAsk { internal: outcome.kept.internal, ..Default::default() };
            let p = run(move || incidents::incident_page(&st, &user, id, &ask)).await?;
            invalid(&show_page(ctx, p, outcome.kept, errors))
        }
        Err(ServiceError::Stale { .. }) => {
            let since = outcome.resubmit.as_ref().map(|r| r.version).unwrap_or(0);
            let (st, user) = (state.clone(), cu.user.clone());
            let (inc, events) = run(move || incidents::changes_since(&st, &user, id, since)).await?;
            let changes = events
                .iter()
                .map(|(e, who)| (ctx.time(&e.at), who.clone(), crate::service::incidents::describe_event(e)))
                .collect();
            let (action, mut hidden, summary) = match outcome.resubmit {
                Some(r) => (format!("/incidents/{}{}", key(id), r.action), r.hidden, r.summary),
                None => (String::new(), Vec::new(), Vec::new()),
            };
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
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let posted = posted::<CommentForm>(&req, payload).await?;
    let form = posted.form;
    let internal = form.visibility == "internal";
    let with_macro = form.macro_id.trim().parse::<i64>().ok();
    let chosen: Vec<String> = posted.files.iter().map(|f| crate::domain::inbound::safe_filename(&f.filename)).collect();
    let r = if posted.cut_short {
        Err(ServiceError::Invalid(FieldErrors::single("files", too_much())))
    } else {
        let (st, user, body, files) = (state.clone(), cu.user.clone(), form.body.clone(), posted.files);
        match with_macro {
            Some(m) => {
                let reply = macros::Reply { body, internal, files };
                blocking(move || macros::send(&st, &meta, &user, id, m, &reply)).await?
            }
            None => blocking(move || incidents::add_comment(&st, &meta, &user, id, &body, internal, &files))
                .await?
                .map(|c| (c, false)),
        }
    };
    let acted = matches!(r, Ok((_, true)));
    let msg = match (internal, acted) {
        (true, false) => "Internal note added.",
        (false, false) => "Reply posted.",
        (true, true) => "Internal note added; the canned response’s actions are done.",
        (false, true) => "Reply posted; the canned response’s actions are done.",
    };
    let macro_pending = match (with_macro, r.is_err()) {
        (Some(m), true) => {
            let (st, user) = (state.clone(), cu.user.clone());
            run(move || macros::describe(&st, &user, m)).await.ok().map(|(effects, name)| PendingMacro {
                id: m,
                name,
                effects,
            })
        }
        _ => None,
    };
    let files_again = if r.is_err() { chosen } else { Vec::new() };
    let kept = Kept { body: form.body, internal, macro_pending, files_again, ..Default::default() };
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: msg.into(), kept, resubmit: None }).await
}

/// What a form whose body is over what the server reads is told (its files were not read whole).
pub fn too_much() -> String {
    format!(
        "What you sent is over {} MB, more than the server reads: nothing was saved. Attach fewer or smaller files.",
        crate::web::middleware::MAX_UPLOAD / (1024 * 1024)
    )
}

/// The canned-response picker's "Insert" posts the reply form here: the chosen text, filled in
/// for this incident, is added to what was typed, and the box says what sending will also do.
/// Nothing is written.
pub async fn insert_macro(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    key_text: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let mut kept = Kept {
        body: form.body,
        internal: form.visibility == "internal",
        macro_choice: form.macro_choice.clone(),
        ..Default::default()
    };
    let mut errors = FieldErrors::default();
    match form.macro_choice.trim().parse::<i64>() {
        Err(_) => errors.add("macro", "Choose a canned response."),
        Ok(m) => {
            let (st, user) = (state.clone(), cu.user.clone());
            match blocking(move || macros::prepare(&st, &user, id, m)).await? {
                Ok(ins) => {
                    if !kept.body.trim().is_empty() {
                        kept.body = format!("{}\n\n", kept.body.trim_end());
                    } else {
                        kept.body.clear();
                    }
                    kept.body.push_str(&ins.text);
                    kept.internal = ins.internal;
                    kept.macro_pending = Some(PendingMacro { id: ins.macro_id, name: ins.name, effects: ins.effects });
                }
                Err(ServiceError::Invalid(e)) => errors = e,
                Err(e) => return Err(e.into()),
            }
        }
    }
    let (st, user, internal) = (state.clone(), cu.user.clone(), kept.internal);
    let ask = incidents::PickerAsk { internal, ..Default::default() };
    let p = run(move || incidents::incident_page(&st, &user, id, &ask)).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &show_page(ctx, p, kept, errors))
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
    let p = run(move || incidents::incident_page(&st, &user, id, &Default::default())).await?;
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
    let resubmit = Resubmit {
        action: "/assign",
        version: form.version,
        hidden: vec![("assignee", form.assignee.clone())],
        summary: vec![("Assign to", form.assignee.clone())],
    };
    let outcome = Outcome { ok_message: "Assignment saved.".into(), kept: Kept::default(), resubmit: Some(resubmit) };
    finish(&state, ctx, &cu, id, r, outcome).await
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
    let resubmit = Resubmit {
        action: "/status",
        version: form.version,
        hidden: vec![("status", form.status.clone()), ("resolution", form.resolution.clone())],
        summary: vec![
            ("Status", crate::web::view::status_label(&form.status).to_string()),
            ("Resolution", form.resolution.clone()),
        ],
    };
    let kept = Kept { resolution: form.resolution, ..Default::default() };
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: "Status changed.".into(), kept, resubmit: Some(resubmit) })
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
    let f = &form;
    let resubmit = Resubmit {
        action: "/fields",
        version: form.version,
        hidden: vec![
            ("title", f.title.clone()),
            ("service_id", f.service_id.clone()),
            ("impact", f.impact.clone()),
            ("urgency", f.urgency.clone()),
            ("severity", f.severity.clone()),
            ("tags", f.tags.clone()),
        ],
        summary: vec![
            ("Title", f.title.clone()),
            ("Impact", f.impact.clone()),
            ("Urgency", f.urgency.clone()),
            ("Severity", f.severity.clone()),
            ("Tags", f.tags.clone()),
        ],
    };
    let kept = Kept { fields: Some(form), ..Default::default() };
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: "Changes saved.".into(), kept, resubmit: Some(resubmit) })
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
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: "Link added.".into(), kept, resubmit: None }).await
}

#[derive(serde::Deserialize)]
pub struct ProblemLinkForm {
    #[serde(default)]
    problem: String,
}

/// Links this incident to a root-cause record (the problem side offers the same).
pub async fn link_problem(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<ProblemLinkForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let problem = form.into_inner().problem;
    let (st, user, pk) = (state.clone(), cu.user.clone(), problem.clone());
    let r = blocking(move || crate::service::problems::link_from_incident(&st, &meta, &user, id, &pk)).await?;
    let kept = Kept { problem, ..Default::default() };
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: "Linked to the problem.".into(), kept, resubmit: None }).await
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
    let keep = form.keep_assignee == "on";
    let r = blocking(move || {
        crate::service::escalation::escalate(&st, &meta, &user, id, f.version, target, &f.reason, &f.reason_text, keep)
    })
    .await?;
    // Says who holds it now: an incident must not become nobody's without anyone noticing.
    let ok_message = match &r {
        Ok(m) => match &m.holder {
            Holder::OnCall(name) => format!("Moved to {}; {name}, on call there, now holds it.", m.tier),
            Holder::Kept(name) => format!("Moved to {}; {name} still holds it.", m.tier),
            Holder::Nobody => {
                format!("Moved to {}. Nobody is on call there today: it is unassigned, assign someone.", m.tier)
            }
        },
        Err(_) => String::new(),
    };
    let resubmit = Resubmit {
        action: "/escalate",
        version: form.version,
        hidden: vec![
            ("tier", form.tier.clone()),
            ("reason", form.reason.clone()),
            ("reason_text", form.reason_text.clone()),
            ("keep_assignee", form.keep_assignee.clone()),
        ],
        summary: vec![
            ("Move to", form.tier.clone()),
            ("Reason", form.reason.clone()),
            ("Details", form.reason_text.clone()),
        ],
    };
    let kept = Kept { reason: form.reason, reason_text: form.reason_text, keep_assignee: keep, ..Default::default() };
    finish(&state, ctx, &cu, id, r, Outcome { ok_message: ok_message.into(), kept, resubmit: Some(resubmit) }).await
}

//! The incident queue, the new-incident form and the incident page.

use super::SelectOption;
pub use super::incident_queue::{Check, Row, queue, rows};
use crate::domain::incident::{Level, Severity, Status, key, parse_key};
use crate::error::AppError;
use crate::service::incidents::{self, IncidentPage, NewIncidentInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::IncidentForm;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

/// "3 min", "5 h", "2 d": how long ago, for tables.
pub fn age(now: NaiveDateTime, t: NaiveDateTime) -> String {
    let m = (now - t).num_minutes().max(0);
    match m {
        0 => "just now".into(),
        1..=59 => format!("{m} min"),
        60..=2879 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

/// The incident id in a `/incidents/INC-n…` path; anything else is a 404.
pub fn id_of(key_text: &str) -> Result<i64, AppError> {
    parse_key(key_text).ok_or(AppError::NotFound)
}

pub fn status_label(s: &str) -> &'static str {
    Status::parse(s).map(Status::label).unwrap_or("Unknown")
}

// ---------- new incident ----------

#[derive(Template)]
#[template(path = "incidents/new.html")]
struct NewPage {
    ctx: PageCtx,
    staff: bool,
    form: IncidentForm,
    errors: FieldErrors,
    services: Vec<SelectOption>,
    impacts: Vec<SelectOption>,
    urgencies: Vec<SelectOption>,
    severities: Vec<SelectOption>,
    assignees: Vec<SelectOption>,
    /// After "Check for similar reports": (key, title) of matching incidents the user may see.
    similar: Option<Vec<(String, String)>>,
    /// After the same check: help articles that may answer it.
    answers: Option<Vec<super::help::CardView>>,
    files_hint: String,
    /// Files chosen before the form came back, to choose again.
    files_again: Vec<String>,
}

/// What the file field says it takes.
pub fn files_hint(max_bytes: u64) -> String {
    format!(
        "Up to {} files, {} each. Screenshots and logs help us most.",
        incidents::MAX_FILES_PER_POST,
        crate::service::inbound::human_size(max_bytes)
    )
}

async fn new_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    form: IncidentForm,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let st = state.clone();
    let staff = cu.may(crate::domain::policy::Action::WorkIncident);
    let (services, staff_users) = run(move || incidents::form_lists(&st, staff)).await?;
    let mut svc = vec![(String::new(), "Choose…".to_string())];
    svc.extend(services.into_iter().filter(|s| s.active).map(|s| (s.id.to_string(), s.name)));
    let (impacts, urgencies) = if staff {
        let levels: Vec<(&str, &str)> = Level::ALL.iter().map(|l| (l.as_str(), l.label())).collect();

        (levels.clone(), levels)
    } else {
        (
            vec![
                ("high", "Many people or the whole organization"),
                ("medium", "A team or a group of people"),
                ("low", "Just me, or one person"),
            ],
            vec![
                ("high", "Work has stopped: we need help now"),
                ("medium", "Work is slowed down"),
                ("low", "It can wait"),
            ],
        )
    };
    let mut sev = vec![("".to_string(), "From priority".to_string())];
    sev.extend(Severity::ALL.iter().map(|s| (s.as_str().to_string(), s.as_str().to_string())));
    let mut assignees = vec![("".to_string(), "Nobody yet".to_string()), ("me".into(), "Me".into())];
    assignees.extend(staff_users.into_iter().map(|u| (u.id.to_string(), u.display_name)));
    let with_blank = |v: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("", "Choose…")];
        all.extend(v);
        all
    };
    Ok(NewPage {
        staff,
        services: SelectOption::list(svc, &form.service_id),
        impacts: SelectOption::list(with_blank(impacts), &form.impact),
        urgencies: SelectOption::list(with_blank(urgencies), &form.urgency),
        severities: SelectOption::list(sev, &form.severity),
        assignees: SelectOption::list(assignees, &form.assignee),
        ctx,
        form,
        errors,
        similar: None,
        answers: None,
        files_hint: files_hint(state.config.attachment_max_bytes),
        files_again: Vec::new(),
    })
}

/// `/incidents/new?title=…&description=…` starts the form with those values (the help
/// center's "report an incident" offer carries the search).
pub async fn new_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let mut form = IncidentForm::default();
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        match k.as_ref() {
            "title" => form.title = v.chars().take(200).collect(),
            "description" => form.description = v.chars().take(5000).collect(),
            _ => {}
        }
    }
    page(&new_page(&state, ctx, &cu, form, FieldErrors::default()).await?)
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let posted = crate::web::multipart::posted::<IncidentForm>(&req, payload).await?;
    let form = posted.form;
    let chosen: Vec<String> = posted.files.iter().map(|f| crate::domain::inbound::safe_filename(&f.filename)).collect();
    if form.check == "1" {
        // The check step: nothing is created, the form comes back as typed with the matches.
        let (st, user) = (state.clone(), cu.user.clone());
        let (title, description, service) =
            (form.title.clone(), form.description.clone(), form.service_id.parse().ok());
        let found = run(move || incidents::similar_titles(&st, &user, &title, &description, service)).await?;
        let (st, user, title, description) =
            (state.clone(), cu.user.clone(), form.title.clone(), form.description.clone());
        let answers = run(move || crate::service::help::suggestions(&st, &user, &title, &description)).await?;
        let mut p = new_page(&state, ctx, &cu, form, FieldErrors::default()).await?;
        p.similar = Some(found);
        p.answers = Some(answers.iter().map(super::help::CardView::of).collect());
        p.files_again = chosen;
        return page(&p);
    }
    if posted.cut_short {
        let errors = FieldErrors::single("files", super::incident_actions::too_much());
        let mut p = new_page(&state, ctx, &cu, form, errors).await?;
        p.files_again = chosen;
        return invalid(&p);
    }
    let input = NewIncidentInput {
        title: form.title.clone(),
        description: form.description.clone(),
        service_id: form.service_id.clone(),
        impact: form.impact.clone(),
        urgency: form.urgency.clone(),
        severity: form.severity.clone(),
        assignee: form.assignee.clone(),
        tags: form.tags.clone(),
        reporter_email: form.reporter_email.clone(),
        by_email: false,
        files: posted.files,
    };
    let (st, user) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || incidents::create(&st, &meta, &user, &input)).await?)? {
        Ok(inc) => Ok(redirect(&format!("/incidents/{}", key(inc.id)), Some(&format!("{} is reported.", key(inc.id))))),
        Err(errors) => {
            let mut p = new_page(&state, ctx, &cu, form, errors).await?;
            p.files_again = chosen;
            invalid(&p)
        }
    }
}

// ---------- one incident ----------

pub struct TimelineRow {
    pub at: String,
    pub actor: String,
    pub text: String,
    pub internal: bool,
    pub comment_html: Option<String>,
    pub comment_id: i64,
    pub edited: bool,
    pub editable: bool,
    pub is_comment: bool,
    pub attachments: Vec<AttachmentLink>,
}

pub struct AttachmentLink {
    pub href: String,
    pub filename: String,
    pub size: String,
}

pub struct LinkRow {
    pub id: i64,
    pub phrase: &'static str,
    pub key: String,
    pub title: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "incidents/show.html")]
pub struct ShowPage {
    pub ctx: PageCtx,
    pub key: String,
    pub p: IncidentPage,
    pub status: &'static str,
    pub description_html: String,
    pub created: String,
    pub updated: String,
    pub acknowledged: String,
    pub resolved: String,
    pub timeline: Vec<TimelineRow>,
    pub links: Vec<LinkRow>,
    pub next_statuses: Vec<SelectOption>,
    pub assignees: Vec<SelectOption>,
    pub services: Vec<SelectOption>,
    pub impacts: Vec<SelectOption>,
    pub urgencies: Vec<SelectOption>,
    pub severities: Vec<SelectOption>,
    pub tags_text: String,
    pub title_text: String,
    pub link_kinds: Vec<SelectOption>,
    pub escalate_targets: Vec<SelectOption>,
    pub escalate_reasons: Vec<SelectOption>,
    pub kept: Kept,
    pub errors: FieldErrors,
    pub reopen_only: bool,
    pub macro_options: Vec<SelectOption>,
    pub macro_open: bool,
    pub files_hint: String,
    /// Files that came with the description.
    pub description_attachments: Vec<AttachmentLink>,
    /// The status page section (those who may publish).
    pub status_section: Option<super::status_publish::IncidentSection>,
    /// The reply form's help article picker (for those who work incidents).
    pub help: super::help_picker::HelpPicker,
    /// The reply box is for an internal note (else a public reply).
    pub note: bool,
    pub assigned_to_me: bool,
    /// Collapsed sections open when one of their fields has an error.
    pub escalation_open: bool,
    pub triage_open: bool,
    pub links_open: bool,
}

/// What the user typed, shown again when a form on the incident page comes back with errors.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub body: String,
    pub internal: bool,
    pub resolution: String,
    pub other: String,
    pub reason: String,
    pub reason_text: String,
    pub fields: Option<crate::web::forms::FieldsForm>,
    pub problem: String,
    pub status_page: super::status_publish::StatusKept,
    /// The help article chosen in the reply box's picker.
    pub article: String,
    /// "Keep the assignee" was ticked in the escalation form.
    pub keep_assignee: bool,
    /// The canned response chosen in the reply box's picker.
    pub macro_choice: String,
    /// A canned response inserted into the reply box whose actions apply when it is sent.
    pub macro_pending: Option<PendingMacro>,
    /// Files chosen in the reply box before it came back, to choose again.
    pub files_again: Vec<String>,
}

/// A canned response waiting in the reply box: the box says what sending will also do.
#[derive(Debug, Clone, Default)]
pub struct PendingMacro {
    pub id: i64,
    pub name: String,
    /// "sets the status to Resolved; adds the tag x", or empty.
    pub effects: String,
}

fn attachment_links(p: &IncidentPage, comment_id: Option<i64>) -> Vec<AttachmentLink> {
    let k = key(p.incident.id);
    p.attachments
        .iter()
        .filter(|a| a.comment_id == comment_id)
        .map(|a| AttachmentLink {
            href: format!("/incidents/{k}/attachments/{}", a.id),
            filename: a.filename.clone(),
            size: crate::service::inbound::human_size(u64::try_from(a.size).unwrap_or(0)),
        })
        .collect()
}

pub fn show_page(ctx: PageCtx, mut p: IncidentPage, kept: Kept, errors: FieldErrors) -> ShowPage {
    let help = p.help_picker.take().map(|v| super::help_picker::HelpPicker::of(v, &kept.article)).unwrap_or_default();
    let note = kept.internal && p.can_internal;
    let inc = &p.incident;
    let fmt_opt = |t: &Option<NaiveDateTime>| t.as_ref().map(|t| ctx.time(t)).unwrap_or_else(|| "—".into());
    let timeline = p
        .timeline
        .iter()
        .map(|t| TimelineRow {
            at: ctx.time(&t.event.at),
            actor: t.actor.clone(),
            text: incidents::describe_event(&t.event),
            internal: t.event.internal,
            comment_html: (t.event.kind == "comment_added")
                .then(|| t.comment.as_ref().map(|c| crate::markdown::body_html(&c.body, &c.format)))
                .flatten(),
            comment_id: t.comment.as_ref().map(|c| c.id).unwrap_or(0),
            edited: t.comment.as_ref().is_some_and(|c| c.edited_at.is_some()),
            editable: t.editable,
            is_comment: t.event.kind == "comment_added",
            attachments: match (&t.comment, t.event.kind == "comment_added") {
                (Some(c), true) => attachment_links(&p, Some(c.id)),
                _ => Vec::new(),
            },
        })
        .collect();
    let links = p
        .links
        .iter()
        .map(|l| LinkRow {
            id: l.id,
            phrase: l.phrase,
            key: l.other_key.clone(),
            title: l.other_title.clone(),
            status: l.other_status.clone(),
        })
        .collect();
    let statuses: Vec<(&str, &str)> = p.next_statuses.iter().map(|s| (s.as_str(), s.label())).collect();
    let mut assignees = vec![("none".to_string(), "Nobody".to_string()), ("me".into(), "Me".into())];
    assignees.extend(p.assignable.iter().map(|(id, name)| (id.to_string(), name.clone())));
    let current_assignee = inc.assignee_id.map(|a| a.to_string()).unwrap_or_else(|| "none".into());
    let levels: Vec<(&str, &str)> = Level::ALL.iter().map(|l| (l.as_str(), l.label())).collect();
    let f = kept.fields.clone().unwrap_or_else(|| crate::web::forms::FieldsForm {
        title: inc.title.clone(),
        service_id: inc.service_id.to_string(),
        impact: inc.impact.clone(),
        urgency: inc.urgency.clone(),
        severity: inc.severity.clone(),
        tags: p.tags.join(", "),
        version: inc.version,
    });
    let reopen_only = !p.can_work && p.next_statuses.iter().all(|s| *s == Status::InProgress);
    let description_attachments = attachment_links(&p, None);
    let status_section = super::status_publish::incident_section(&ctx, p.status_page.as_ref(), &kept.status_page);
    ShowPage {
        key: key(inc.id),
        status: status_label(&inc.status),
        description_html: crate::markdown::body_html(&inc.description, &inc.description_format),
        created: ctx.time(&inc.created_at),
        updated: ctx.time(&inc.updated_at),
        acknowledged: fmt_opt(&inc.acknowledged_at),
        resolved: fmt_opt(&inc.resolved_at),
        timeline,
        links,
        next_statuses: SelectOption::list(statuses, ""),
        assignees: SelectOption::list(assignees, &current_assignee),
        services: SelectOption::list(p.services.iter().map(|s| (s.id, s.name.clone())), &f.service_id),
        impacts: SelectOption::list(levels.clone(), &f.impact),
        urgencies: SelectOption::list(levels, &f.urgency),
        severities: SelectOption::list(Severity::ALL.iter().map(|s| (s.as_str(), s.as_str())), &f.severity),
        tags_text: f.tags.clone(),
        title_text: f.title.clone(),
        link_kinds: super::incident_actions::link_kinds(),
        escalate_targets: SelectOption::list(
            std::iter::once(("next".to_string(), "Next tier up".to_string()))
                .chain(p.tiers.iter().filter(|t| t.id != inc.tier_id).map(|t| (t.id.to_string(), t.name.clone()))),
            "next",
        ),
        escalate_reasons: SelectOption::list(
            std::iter::once(("", "Choose…")).chain(crate::domain::oncall::ESCALATION_REASONS),
            &kept.reason,
        ),
        macro_options: SelectOption::list(
            std::iter::once((String::new(), "Choose…".to_string()))
                .chain(p.macros.iter().map(|(id, label)| (id.to_string(), label.clone()))),
            &kept.macro_choice,
        ),
        macro_open: errors.get("macro").is_some(),
        files_hint: files_hint(p.attachment_max_bytes),
        kept,
        reopen_only,
        description_attachments,
        status_section,
        help,
        note,
        assigned_to_me: p.mine,
        escalation_open: ["tier", "reason", "reason_text"].iter().any(|f| errors.get(f).is_some()),
        triage_open: ["title", "service_id", "impact", "urgency", "severity", "tags"]
            .iter()
            .any(|f| errors.get(f).is_some()),
        links_open: ["kind", "other"].iter().any(|f| errors.get(f).is_some()),
        errors,
        ctx,
        p,
    }
}

/// A file from an incident or comment, as a download: never rendered inline by the browser.
pub async fn attachment(
    state: web::Data<AppState>,
    cu: CurrentUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    use actix_web::http::header::{
        CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    };
    let (k, attachment_id) = path.into_inner();
    let id = parse_key(&k).ok_or(AppError::NotFound)?;
    let (a, data) = run(move || incidents::attachment(&state, &cu.user, id, attachment_id)).await?;
    let ascii: String = a.filename.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: a.filename.clone().into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(crate::domain::inbound::safe_content_type(&a.content_type))
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header(CacheControl(vec![CacheDirective::Private, CacheDirective::NoStore]))
        .body(data))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    /// "note": the reply box opens as an internal note.
    #[serde(default)]
    compose: String,
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    key_text: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let internal = query.compose == "note";
    let ask = incidents::PickerAsk { internal, ..Default::default() };
    let (st, user) = (state.clone(), cu.user.clone());
    let p = run(move || incidents::incident_page(&st, &user, id, &ask)).await?;
    page(&show_page(ctx, p, Kept { internal, ..Default::default() }, FieldErrors::default()))
}

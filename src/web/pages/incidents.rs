//! The new-incident form, the incident page's handler and attachments (the page's view model
//! is `incident_page`, the queue `incident_queue`).

use super::SelectOption;
use super::incident_page::{Kept, show_page};
pub use super::incident_queue::queue;
use crate::domain::incident::{Level, Severity, key, parse_key};
use crate::error::AppError;
use crate::service::incidents::{self, NewIncidentInput};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::forms::IncidentForm;
use crate::web::view::files_hint;
use crate::web::view::id_of;
use crate::web::{blocking, form_outcome, run};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

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

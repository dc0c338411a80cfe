//! The status page forms on the incident page: publishing an incident, its public state and
//! title, and posting, correcting and retracting public updates.

use super::SelectOption;
use super::incident_page::{Kept, show_page};
use super::status_page::{UpdateView, update_view};
use crate::domain::incident::key;
use crate::domain::status_page::{Phase, ServiceState};
use crate::error::AppError;
use crate::service::status_page as sp;
use crate::service::{AppState, ServiceError, ServiceResult};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, redirect};
use crate::web::view::id_of;
use crate::web::{blocking, run};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// What the status page forms on the incident page typed, kept when one comes back with errors.
#[derive(Debug, Clone, Default)]
pub struct StatusKept {
    pub public_title: Option<String>,
    pub phase: String,
    pub update_body: String,
    pub state: Option<String>,
    /// The update being edited and the text typed for it.
    pub edit: Option<(i64, String)>,
    /// The update being retracted and the reason typed.
    pub retract: Option<(i64, String)>,
}

/// A posted update as staff see it, with its edit and retract forms.
pub struct StaffUpdateView {
    pub u: UpdateView,
    pub retracted: Option<String>,
    pub retract_reason: String,
    /// "Edited by … at …": each edit's time, newest last.
    pub edits: Vec<String>,
    /// The text in the edit form (what was typed, after an error).
    pub edit_body: String,
    pub kept_reason: String,
    /// This update's form came back with errors: open it.
    pub open: bool,
}

/// The status page section of the incident page.
pub struct IncidentSection {
    pub published: bool,
    pub shown: bool,
    pub public_title: String,
    pub state: &'static str,
    pub states: Vec<SelectOption>,
    pub phases: Vec<SelectOption>,
    pub update_body: String,
    pub link: Option<String>,
    pub updates: Vec<StaffUpdateView>,
}

pub fn incident_section(ctx: &PageCtx, panel: Option<&sp::Panel>, kept: &StatusKept) -> Option<IncidentSection> {
    let panel = panel?;
    let pub_ = panel.publication.as_ref();
    let current_override = pub_.and_then(|p| p.state_override.clone()).unwrap_or_default();
    let mut states = vec![(String::new(), "From the severity".to_string())];
    states.extend(ServiceState::OVERRIDES.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    let phase = if kept.phase.is_empty() {
        match panel.updates.iter().find(|u| u.retracted_at.is_none()).map(|u| u.update.phase) {
            Some(Phase::Investigating) => Phase::Identified,
            Some(Phase::Identified) => Phase::Monitoring,
            Some(Phase::Monitoring) | Some(Phase::Resolved) => Phase::Resolved,
            None => Phase::Investigating,
        }
        .as_str()
        .to_string()
    } else {
        kept.phase.clone()
    };
    Some(IncidentSection {
        published: pub_.is_some(),
        shown: pub_.is_some_and(|p| p.shown),
        public_title: kept.public_title.clone().or_else(|| pub_.map(|p| p.public_title.clone())).unwrap_or_default(),
        state: panel.state.label(),
        states: SelectOption::list(states, kept.state.as_deref().unwrap_or(&current_override)),
        phases: SelectOption::list(Phase::ALL.iter().map(|p| (p.as_str(), p.label())), &phase),
        update_body: kept.update_body.clone(),
        link: pub_.filter(|p| p.shown).map(|p| format!("/status/incidents/{}", p.id)),
        updates: panel
            .updates
            .iter()
            .map(|u| {
                let edit = kept.edit.as_ref().filter(|(id, _)| *id == u.update.id);
                let retract = kept.retract.as_ref().filter(|(id, _)| *id == u.update.id);
                StaffUpdateView {
                    u: update_view(ctx, &u.update),
                    retracted: u.retracted_at.as_ref().map(|t| ctx.time(t)),
                    retract_reason: u.retract_reason.clone(),
                    edits: u.edits.iter().map(|e| ctx.time(&e.at)).collect(),
                    edit_body: edit.map(|(_, b)| b.clone()).unwrap_or_else(|| u.update.body.clone()),
                    kept_reason: retract.map(|(_, r)| r.clone()).unwrap_or_default(),
                    open: edit.is_some() || retract.is_some(),
                }
            })
            .collect(),
    })
}

/// Redirect back on success; the incident page with messages and typed values on errors.
async fn finish<T: Send + 'static>(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    result: ServiceResult<T>,
    ok: &str,
    kept: StatusKept,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => Ok(redirect(&format!("/incidents/{}", key(id)), Some(ok))),
        Err(ServiceError::Invalid(errors)) => {
            let (st, user) = (state.clone(), cu.user.clone());
            let p = run(move || crate::service::incidents::incident_page(&st, &user, id, &Default::default())).await?;
            invalid(&show_page(ctx, p, Kept { status_page: kept, ..Default::default() }, errors))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublicationForm {
    /// A checkbox: present means shown.
    #[serde(default)]
    pub shown: Option<String>,
    #[serde(default)]
    pub public_title: String,
}

pub async fn publication(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<PublicationForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let shown = form.shown.is_some();
    let (st, user, title) = (state.clone(), cu.user.clone(), form.public_title.clone());
    let r = blocking(move || sp::set_publication(&st, &meta, &user, id, shown, &title)).await?;
    let ok = if shown { "Shown on the status page." } else { "Taken off the status page." };
    let kept = StatusKept { public_title: Some(form.public_title), ..Default::default() };
    finish(&state, ctx, &cu, id, r, ok, kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StateForm {
    #[serde(default)]
    pub state: String,
}

pub async fn set_state(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<StateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let value = form.into_inner().state;
    let (st, user, v) = (state.clone(), cu.user.clone(), value.clone());
    let r = blocking(move || sp::set_state(&st, &meta, &user, id, &v)).await?;
    let kept = StatusKept { state: Some(value), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "Status page state saved.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub update_body: String,
}

pub async fn post_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    key_text: web::Path<String>,
    form: web::Form<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let form = form.into_inner();
    let (st, user, f) = (state.clone(), cu.user.clone(), form.clone());
    let r = blocking(move || sp::post_update(&st, &meta, &user, id, &f.phase, &f.update_body)).await?;
    let kept = StatusKept { phase: form.phase, update_body: form.update_body, ..Default::default() };
    finish(&state, ctx, &cu, id, r, "Update posted on the status page.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditUpdateForm {
    #[serde(default)]
    pub edit_body: String,
}

/// `POST /incidents/{key}/status-updates/{id}`: corrects a posted update's text.
pub async fn edit_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<EditUpdateForm>,
) -> Result<HttpResponse, AppError> {
    let (key_text, update_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let body = form.into_inner().edit_body;
    let (st, user, b) = (state.clone(), cu.user.clone(), body.clone());
    let r = blocking(move || sp::edit_update(&st, &meta, &user, id, update_id, &b)).await?;
    let kept = StatusKept { edit: Some((update_id, body)), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "The update was corrected on the status page.", kept).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RetractForm {
    #[serde(default)]
    pub retract_reason: String,
}

/// `POST /incidents/{key}/status-updates/{id}/retract`: takes a posted update off the public
/// views.
pub async fn retract_update(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, i64)>,
    form: web::Form<RetractForm>,
) -> Result<HttpResponse, AppError> {
    let (key_text, update_id) = path.into_inner();
    let id = id_of(&key_text)?;
    let reason = form.into_inner().retract_reason;
    let (st, user, why) = (state.clone(), cu.user.clone(), reason.clone());
    let r = blocking(move || sp::retract_update(&st, &meta, &user, id, update_id, &why)).await?;
    let kept = StatusKept { retract: Some((update_id, reason)), ..Default::default() };
    finish(&state, ctx, &cu, id, r, "The update was retracted from the status page.", kept).await
}

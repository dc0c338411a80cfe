use super::{check_assignable, check_body, check_title, event};
use crate::db::models::{Incident, User};
use crate::db::{DbConnection, incidents, services, users};
use crate::domain::incident::BodyFormat;
use crate::domain::incident::{Level, Severity, Status, parse_tags, priority};
use crate::domain::policy::{self, Action, Resource};
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};

/// What the new-incident form sends. Staff-only fields are ignored for customers.
#[derive(Debug, Clone, Default)]
pub struct NewIncidentInput {
    pub title: String,
    pub description: String,
    pub service_id: String,
    pub impact: String,
    pub urgency: String,
    /// Staff: SEV1..SEV4, or empty for the default from priority.
    pub severity: String,
    /// Staff: a user id, "me", or empty.
    pub assignee: String,
    /// Staff: comma-separated tags.
    pub tags: String,
    /// Staff: report on behalf of this user (email), or empty for oneself.
    pub reporter_email: String,
    /// Arrived as an email (said so on the timeline).
    pub by_email: bool,
    /// Files attached in the web form.
    pub files: Vec<super::FileUpload>,
}

pub fn create(state: &AppState, _meta: &RequestMeta, user: &User, input: &NewIncidentInput) -> ServiceResult<Incident> {
    state.tx(|conn| create_in(state, conn, user, input))
}

/// `create` inside the caller's transaction (incoming mail files an incident together with the
/// record of the message).
pub(crate) fn create_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    input: &NewIncidentInput,
) -> ServiceResult<Incident> {
    let actor = actor_of(user);
    authorize(&actor, Action::CreateIncident, Resource::None)?;
    let staff = policy::allows(Some(&actor), Action::WorkIncident, Resource::None);
    let mut errors = FieldErrors::default();

    let title = check_title(&input.title, &mut errors);
    let description = check_body(&input.description, "description", "The description", &mut errors);
    let service = match input.service_id.trim().parse::<i64>() {
        Ok(id) => match services::find(conn, id) {
            Ok(s) if s.active => Some(s),
            Ok(_) | Err(crate::db::DbError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    if service.is_none() {
        errors.add("service_id", "Choose the affected service.");
    }
    let impact = Level::parse(&input.impact);
    if impact.is_none() {
        errors.add("impact", "Choose how many people are affected.");
    }
    let urgency = Level::parse(&input.urgency);
    if urgency.is_none() {
        errors.add("urgency", "Choose how urgent it is.");
    }
    let mut severity = None;
    let mut assignee = None;
    let mut tags = Vec::new();
    let mut reporter = user.clone();
    if staff {
        if !input.severity.is_empty() {
            severity = Severity::parse(&input.severity);
            if severity.is_none() {
                errors.add("severity", "Choose a severity from the list.");
            }
        }
        match input.assignee.trim() {
            "" => {}
            "me" => assignee = Some(user.clone()),
            other => match other.parse::<i64>() {
                Ok(id) => assignee = check_assignable(conn, id, &mut errors, "assignee")?,
                Err(_) => errors.add("assignee", "Choose an active staff member who works incidents."),
            },
        }
        match parse_tags(&input.tags) {
            Ok(t) => tags = t,
            Err(e) => errors.add("tags", e),
        }
        let email = input.reporter_email.trim().to_lowercase();
        if !email.is_empty() {
            match users::find_by_email(conn, &email)? {
                Some(u) if u.active => reporter = u,
                _ => errors.add("reporter_email", "No active user has this email address."),
            }
        }
    }
    super::files::check_files(state, &input.files, &mut errors);
    errors.into_result()?;
    let (Some(title), Some(description), Some(service), Some(impact), Some(urgency)) =
        (title, description, service, impact, urgency)
    else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    let prio = priority(impact, urgency);
    let severity = severity.unwrap_or_else(|| Severity::default_for(prio));
    let now = state.clock.now_naive();
    let self_assigned = assignee.as_ref().is_some_and(|a| a.id == user.id);

    let tier = crate::db::tiers::first(conn)?;
    let on_call = match &assignee {
        Some(_) => None,
        None => crate::service::escalation::on_call_today(conn, tier.id, now.date())?,
    };
    let assignee = assignee.clone().or(on_call);
    let inc = incidents::insert(
        conn,
        &incidents::NewIncident {
            title: &title,
            description: &description,
            service_id: service.id,
            impact: impact.as_str(),
            urgency: urgency.as_str(),
            priority: prio.as_str(),
            severity: severity.as_str(),
            status: Status::New.as_str(),
            reporter_id: reporter.id,
            organization_id: reporter.organization_id,
            assignee_id: assignee.as_ref().map(|a| a.id),
            acknowledged_at: self_assigned.then_some(now),
            tier_id: tier.id,
            description_format: if input.by_email { BodyFormat::Text } else { BodyFormat::Markdown }.as_str(),
            now,
        },
    )?;
    incidents::set_tags(conn, inc.id, &tags)?;
    super::files::store_files(state, conn, (inc.id, None), false, &input.files, user.id)?;
    let how = if input.by_email {
        "reported by email".to_string()
    } else if reporter.id == user.id {
        "reported".to_string()
    } else {
        format!("reported on behalf of {}", reporter.display_name)
    };
    event(conn, &inc, Some(user.id), "created", "", "", &how, false, None, now)?;
    if let Some(a) = &assignee {
        event(conn, &inc, Some(user.id), "assigned", "assignee", "", &a.display_name, false, None, now)?;
    }
    if self_assigned {
        event(conn, &inc, Some(user.id), "acknowledged", "", "", "assigned to themselves", true, None, now)?;
    }
    crate::service::sla::refresh(state, conn, inc.id)?;
    crate::service::releases::on_incident_created(state, conn, &inc)?;
    crate::service::help::incident_filed(state, conn, user.id, inc.id)?;
    let inc = incidents::find(conn, inc.id)?;
    crate::mail::compose::incident_created(state, conn, &inc, user)?;
    if crate::service::mail::acknowledges(conn)? {
        crate::mail::compose::received(state, conn, &inc, input.by_email)?;
    }
    if assignee.is_some() {
        crate::mail::compose::assigned(state, conn, &inc, Some(user.id))?;
    }
    Ok(inc)
}

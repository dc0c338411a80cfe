use super::{acknowledge_once, check_assignable, check_title, event, load_for, load_visible, mover, status_of};
use crate::db::incidents::{self, IncidentChanges};
use crate::db::models::{Incident, User};
use crate::db::{DbConnection, services, users};
use crate::domain::incident::{Level, Severity, Status, check_transition, parse_tags, priority};
use crate::domain::policy::Action;
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of};

/// Applies a versioned change or reports that the incident moved on meanwhile.
pub(crate) fn apply(
    conn: &mut DbConnection,
    inc: &Incident,
    version: i32,
    changes: &IncidentChanges,
    now: chrono::NaiveDateTime,
) -> ServiceResult<Incident> {
    if version != inc.version {
        return Err(ServiceError::Stale { current_version: inc.version });
    }
    incidents::update_versioned(conn, inc.id, version, changes, now)?
        .ok_or(ServiceError::Stale { current_version: inc.version + 1 })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignTarget {
    Me,
    Nobody,
    User(i64),
}

impl AssignTarget {
    pub fn parse(s: &str) -> Option<AssignTarget> {
        match s.trim() {
            "me" => Some(AssignTarget::Me),
            "" | "none" => Some(AssignTarget::Nobody),
            other => other.parse().ok().map(AssignTarget::User),
        }
    }
}

pub fn assign(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    target: AssignTarget,
) -> ServiceResult<Incident> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let (inc, _) = load_for(conn, &actor, id, Action::WorkIncident)?;
        let mut errors = FieldErrors::default();
        let new_assignee = match target {
            AssignTarget::Me => check_assignable(conn, user.id, &mut errors, "assignee")?,
            AssignTarget::Nobody => None,
            AssignTarget::User(uid) => check_assignable(conn, uid, &mut errors, "assignee")?,
        };
        errors.into_result()?;
        let new_id = new_assignee.as_ref().map(|u| u.id);
        if new_id == inc.assignee_id {
            return Ok(inc);
        }
        let old_name = match inc.assignee_id {
            Some(o) => users::find(conn, o)?.display_name,
            None => String::new(),
        };
        let now = state.clock.now_naive();
        let changes = IncidentChanges { assignee_id: Some(new_id), ..Default::default() };
        let inc = apply(conn, &inc, version, &changes, now)?;
        let new_name = new_assignee.as_ref().map(|u| u.display_name.clone()).unwrap_or_default();
        event(conn, &inc, Some(user.id), "assigned", "assignee", &old_name, &new_name, false, None, now)?;
        crate::mail::compose::assigned(state, conn, &inc, Some(user.id))?;
        if new_id == Some(user.id) {
            return Ok(acknowledge_once(state, conn, &inc, &actor, "assigned to themselves")?.unwrap_or(inc));
        }
        Ok(inc)
    })
}

pub fn change_status(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    to: &str,
    resolution: &str,
) -> ServiceResult<Incident> {
    state.tx(|conn| change_status_in(state, conn, user, id, version, to, resolution, None))
}

/// `change_status` inside the caller's transaction. `as_mover` overrides who the workflow
/// thinks is moving (a reporter's mail reopening a closed incident, by the admin's setting).
#[allow(clippy::too_many_arguments)]
pub(crate) fn change_status_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    id: i64,
    version: i32,
    to: &str,
    resolution: &str,
    as_mover: Option<crate::domain::incident::Mover>,
) -> ServiceResult<Incident> {
    let actor = actor_of(user);
    let (inc, res) = load_visible(conn, &actor, id)?;
    let Some(to) = Status::parse(to) else {
        return Err(ServiceError::Invalid(FieldErrors::single("status", "Choose a status from the list.")));
    };
    let from = status_of(&inc);
    let who = as_mover.unwrap_or_else(|| mover(&actor, &inc, res));
    if let Err(e) = check_transition(from, to, who, resolution) {
        let field = if matches!(e, crate::domain::incident::TransitionError::ResolutionRequired) {
            "resolution"
        } else {
            "status"
        };
        return Err(ServiceError::Invalid(FieldErrors::single(field, e.to_string())));
    }
    let resolution = resolution.trim();
    if resolution.len() > super::MAX_BODY_BYTES {
        return Err(ServiceError::Invalid(FieldErrors::single("resolution", "The resolution must be at most 100 KB.")));
    }
    let now = state.clock.now_naive();
    let mut changes =
        IncidentChanges { status: Some(to.as_str().to_string()), is_open: Some(to.is_open()), ..Default::default() };
    match to {
        Status::Resolved => {
            changes.resolved_at = Some(Some(now));
            changes.resolution = Some(resolution.to_string());
        }
        Status::Closed => changes.closed_at = Some(Some(now)),
        _ if !from.is_open() => {
            changes.resolved_at = Some(None);
            changes.closed_at = Some(None);
        }
        _ => {}
    }
    let inc = apply(conn, &inc, version, &changes, now)?;
    event(conn, &inc, Some(user.id), "status_changed", "status", from.as_str(), to.as_str(), false, None, now)?;
    if to == Status::Resolved {
        event(conn, &inc, Some(user.id), "field_changed", "resolution", "", resolution, false, None, now)?;
    }
    crate::service::sla::refresh(state, conn, inc.id)?;
    if !from.is_open() && to.is_open() {
        crate::mail::compose::reopened(state, conn, &inc, Some(user.id))?;
    } else {
        let told = super::links::as_reporter_sees(conn, &inc)?;
        crate::mail::compose::status(state, conn, &told, to.as_str(), Some(user.id))?;
    }
    if to == Status::InProgress {
        return Ok(acknowledge_once(state, conn, &inc, &actor, "moved to in progress")?.unwrap_or(inc));
    }
    Ok(inc)
}

#[derive(Debug, Clone, Default)]
pub struct FieldsInput {
    pub title: String,
    pub service_id: String,
    pub impact: String,
    pub urgency: String,
    pub severity: String,
    pub tags: String,
}

/// Triage fields. Each changed field gets its own event; priority follows impact × urgency.
pub fn update_fields(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    input: &FieldsInput,
) -> ServiceResult<Incident> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let (inc, _) = load_for(conn, &actor, id, Action::WorkIncident)?;
        let mut errors = FieldErrors::default();
        let title = check_title(&input.title, &mut errors);
        let service = match input.service_id.trim().parse::<i64>() {
            Ok(sid) => match services::find(conn, sid) {
                Ok(s) if s.active || s.id == inc.service_id => Some(s),
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
            errors.add("impact", "Choose an impact from the list.");
        }
        let urgency = Level::parse(&input.urgency);
        if urgency.is_none() {
            errors.add("urgency", "Choose an urgency from the list.");
        }
        let severity = Severity::parse(&input.severity);
        if severity.is_none() {
            errors.add("severity", "Choose a severity from the list.");
        }
        let tags = parse_tags(&input.tags).map_err(|e| errors.add("tags", e)).ok();
        errors.into_result()?;
        let (Some(title), Some(service), Some(impact), Some(urgency), Some(severity), Some(tags)) =
            (title, service, impact, urgency, severity, tags)
        else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let prio = priority(impact, urgency);
        let old_tags: Vec<String> = incidents::tags_for(conn, &[inc.id])?.into_iter().map(|(_, t)| t).collect();
        let mut changes = IncidentChanges::default();
        // (field, old, new, internal)
        let mut changed: Vec<(&str, String, String, bool)> = Vec::new();
        if title != inc.title {
            changed.push(("title", inc.title.clone(), title.clone(), false));
            changes.title = Some(title);
        }
        if service.id != inc.service_id {
            let old = services::find(conn, inc.service_id)?.name;
            changed.push(("service", old, service.name.clone(), false));
            changes.service_id = Some(service.id);
        }
        for (field, old, new, slot) in [
            ("impact", &inc.impact, impact.as_str(), &mut changes.impact),
            ("urgency", &inc.urgency, urgency.as_str(), &mut changes.urgency),
            ("priority", &inc.priority, prio.as_str(), &mut changes.priority),
            ("severity", &inc.severity, severity.as_str(), &mut changes.severity),
        ] {
            if old != new {
                changed.push((field, old.clone(), new.to_string(), true));
                *slot = Some(new.to_string());
            }
        }
        let tags_changed = old_tags != tags;
        if changed.is_empty() && !tags_changed {
            return Ok(inc);
        }
        let now = state.clock.now_naive();
        let inc = apply(conn, &inc, version, &changes, now)?;
        if tags_changed {
            incidents::set_tags(conn, inc.id, &tags)?;
            changed.push(("tags", old_tags.join(", "), tags.join(", "), true));
        }
        for (field, old, new, internal) in changed {
            event(conn, &inc, Some(user.id), "field_changed", field, &old, &new, internal, None, now)?;
        }
        // A severity change re-targets the clocks from the incident's start.
        crate::service::sla::refresh(state, conn, inc.id)?;
        if changes.severity.is_some() || changes.service_id.is_some() {
            // The status page's state log: from now on, not retroactively.
            crate::service::status_page::incident_changed(conn, &inc, now)?;
        }
        Ok(inc)
    })
}

/// Adds tags to an incident's own (those it has stay), with the tag change on the timeline.
/// Nothing happens when it has them all.
pub(crate) fn add_tags_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
    add: &[String],
) -> ServiceResult<()> {
    if add.is_empty() {
        return Ok(());
    }
    let (inc, _) = super::load_for(conn, &actor_of(user), incident_id, Action::WorkIncident)?;
    let old: Vec<String> = incidents::tags_for(conn, &[inc.id])?.into_iter().map(|(_, t)| t).collect();
    let mut tags = old.clone();
    tags.extend(add.iter().filter(|t| !old.contains(t)).cloned());
    if tags == old {
        return Ok(());
    }
    if tags.len() > 20 {
        return Err(ServiceError::Invalid(FieldErrors::single("tags", "An incident has at most 20 tags.")));
    }
    let now = state.clock.now_naive();
    incidents::set_tags(conn, inc.id, &tags)?;
    incidents::mark_updated(conn, inc.id, now)?;
    event(conn, &inc, Some(user.id), "field_changed", "tags", &old.join(", "), &tags.join(", "), true, None, now)?;
    Ok(())
}

//! Read models for the incident pages: one incident and the dashboard (the queue: `queue.rs`).

use super::links::{hide_unseen_originals, resolution_texts};
use super::similar::SimilarProblem;
use super::{load_visible, mover, status_of};
use crate::db::models::{Comment, Incident, IncidentEvent, Service, User};
use crate::db::{incidents, users};
use crate::domain::incident::{LinkKind, Status, key, next_statuses};
use crate::domain::policy::{self, Action, Resource};
use crate::service::{AppState, ServiceError, ServiceResult, actor_of};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub event: IncidentEvent,
    pub actor: String,
    pub comment: Option<Comment>,
    /// The viewer wrote this comment and may still edit it.
    pub editable: bool,
}

#[derive(Debug, Clone)]
pub struct LinkView {
    pub id: i64,
    pub phrase: &'static str,
    pub other_key: String,
    pub other_title: String,
    pub other_status: String,
}

/// One SLA clock in words ("due in 20 min", "overdue by 1 h 5 min", "met", "paused, 2 h left")
/// and its tone (`domain::sla::tone`).
#[derive(Debug, Clone)]
pub struct SlaLine {
    pub label: &'static str,
    pub text: String,
    pub tone: &'static str,
}

#[derive(Debug, Clone)]
pub struct IncidentPage {
    pub incident: Incident,
    pub service: String,
    pub reporter: User,
    pub organization: Option<String>,
    pub assignee: Option<User>,
    pub tags: Vec<String>,
    pub watching: bool,
    pub timeline: Vec<TimelineItem>,
    pub links: Vec<LinkView>,
    pub can_work: bool,
    pub can_internal: bool,
    pub can_comment: bool,
    pub can_watch: bool,
    pub next_statuses: Vec<Status>,
    pub services: Vec<Service>,
    /// (id, name) of the staff an incident can be assigned to.
    pub assignable: Vec<(i64, String)>,
    pub tier: crate::db::models::Tier,
    /// The first-response and resolution clocks; None without a policy.
    pub sla: Option<[SlaLine; 2]>,
    /// Every tier (staff only), for the escalation form.
    pub tiers: Vec<crate::db::models::Tier>,
    /// Files on the incident and its comments that this viewer may open.
    pub attachments: Vec<crate::db::models::AttachmentMeta>,
    /// Root-cause records this incident is linked to (for those who may read them).
    pub problems: Vec<crate::db::models::Problem>,
    pub can_view_problems: bool,
    pub can_manage_problems: bool,
    /// Known errors that may match, with their workarounds (those who read problems but do not
    /// work incidents; staff get suggestions from `similar::panel` as a separate fragment).
    pub known_errors: Vec<SimilarProblem>,
    /// The status page section: publication, state and public updates (those who may publish).
    pub status_page: Option<crate::service::status_page::Panel>,
    /// Incoming mail filed on the incident whose original is still kept (internal readers only).
    pub originals: Vec<crate::db::models::InboundMessage>,
    /// The reply box's help article picker (those who work the incident).
    pub help_picker: Option<crate::service::help::PickerView>,
    /// The canned responses the viewer may insert: (id, label), shared first.
    pub macros: Vec<(i64, String)>,
    /// The largest file the reply box takes.
    pub attachment_max_bytes: u64,
    /// The viewer is the assignee.
    pub mine: bool,
    /// A customer's own impact and urgency made it SEV1, and no one has triaged it yet: staff
    /// confirm before treating it as a major outage.
    pub severity_unconfirmed: bool,
}

/// What the reply box's help picker lists: the articles matching `query` (the most recently
/// updated without one) that a public reply, or with `internal` a note, may link.
#[derive(Debug, Clone, Default)]
pub struct PickerAsk {
    pub query: String,
    pub internal: bool,
}

pub fn incident_page(state: &AppState, user: &User, id: i64, ask: &PickerAsk) -> ServiceResult<IncidentPage> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let (mut inc, res) = load_visible(conn, &actor, id)?;
    let can_internal = policy::allows(Some(&actor), Action::UseInternalNotes, res);
    let can_work = policy::allows(Some(&actor), Action::WorkIncident, res);
    let mut events = incidents::events_for(conn, inc.id, can_internal)?;
    hide_unseen_originals(conn, &actor, resolution_texts(&mut events).chain([&mut inc.resolution]))?;
    if !actor.role.is_staff() {
        // Who on the staff holds it, and every hand-over, is churn to a customer: they follow
        // the replies, the status and the resolution.
        events.retain(|e| e.kind != "assigned");
    }
    // The SLA clocks pause and resume with the status: staff have every change among the
    // events, others may not see them all.
    let status_changes: Vec<(chrono::NaiveDateTime, String)> = if can_internal {
        events.iter().filter(|e| e.kind == "status_changed").map(|e| (e.at, e.new_value.clone())).collect()
    } else {
        crate::db::sla::status_changes(conn, inc.id)?
    };
    let attachments = crate::db::attachments::list_for(conn, inc.id, can_internal)?;
    let can_view_problems = policy::allows(Some(&actor), Action::ViewProblems, Resource::None);
    let problems = if can_view_problems { crate::db::problems::for_incident(conn, inc.id)? } else { Vec::new() };
    let comments: HashMap<i64, Comment> =
        incidents::comments_for(conn, inc.id, can_internal)?.into_iter().map(|c| (c.id, c)).collect();
    let mut people: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    people.push(inc.reporter_id);
    people.extend(inc.assignee_id);
    let people: HashMap<i64, User> = users::list_by_ids(conn, &people)?.into_iter().map(|u| (u.id, u)).collect();
    let now = state.clock.now_naive();
    let timeline = events
        .into_iter()
        .map(|e| {
            let comment = e.comment_id.and_then(|c| comments.get(&c).cloned());
            let editable = e.kind == "comment_added"
                && comment.as_ref().is_some_and(|c| {
                    c.author_id == user.id
                        && now - c.created_at <= chrono::Duration::minutes(super::COMMENT_EDIT_MINUTES)
                });
            TimelineItem {
                actor: e
                    .actor_id
                    .and_then(|a| people.get(&a).map(|u| u.display_name.clone()))
                    .unwrap_or_else(|| "Firewatch".into()),
                comment,
                editable,
                event: e,
            }
        })
        .collect();
    let mut links = Vec::new();
    let raw_links = incidents::links_for(conn, inc.id)?;
    let other_ids: Vec<i64> = raw_links.iter().map(|l| if l.from_id == inc.id { l.to_id } else { l.from_id }).collect();
    let others: HashMap<i64, Incident> =
        incidents::find_many(conn, &other_ids)?.into_iter().map(|i| (i.id, i)).collect();
    for l in raw_links {
        let outgoing = l.from_id == inc.id;
        let other_id = if outgoing { l.to_id } else { l.from_id };
        let Some(kind) = LinkKind::parse(&l.kind) else { continue };
        let Some(other) = others.get(&other_id) else { continue };
        let (from_phrase, to_phrase) = kind.phrases();
        links.push(LinkView {
            id: l.id,
            phrase: if outgoing { from_phrase } else { to_phrase },
            other_key: key(other.id),
            other_title: other.title.clone(),
            other_status: status_of(other).label().to_string(),
        });
    }
    // Customers see links only as far as they may see the other incident.
    if !actor.role.is_staff() {
        links.clear();
    }
    // Names of services, tiers and organizations come from the read cache (dropped on every
    // write), not a query each.
    let lists = super::queue::lists(state, conn)?;
    let organization = match inc.organization_id {
        Some(o) => Some(lists.organization_name(conn, o)?),
        None => None,
    };
    let (tags, watching) = incidents::tags_and_watching(conn, inc.id, user.id)?;
    let who = mover(&actor, &inc, res);
    let (services, assignable) =
        if can_work { (lists.services.clone(), lists.staff.clone()) } else { (Vec::new(), Vec::new()) };
    let reporter = people.get(&inc.reporter_id).cloned().ok_or(crate::service::ServiceError::NotFound)?;
    let reporter_is_customer = !actor_of(&reporter).role.is_staff();
    let tier = lists.tier(conn, inc.tier_id)?;
    let clock_now = state.clock.now();
    let clock_input = crate::service::sla::ClockInput {
        severity: &inc.severity,
        organization_id: inc.organization_id,
        created_at: inc.created_at,
        first_response_at: inc.first_response_at,
        changes: &status_changes,
    };
    let sla = lists.sla.clocks(&clock_input, clock_now).map(|c| {
        let line = |label, r: &crate::domain::sla::ClockReading| SlaLine {
            label,
            text: crate::domain::sla::describe(r, clock_now),
            tone: crate::domain::sla::tone(r, clock_now),
        };
        [line("First response", &c.first_response), line("Resolution target", &c.resolution)]
    });
    let tiers = if can_work { lists.tiers.clone() } else { Vec::new() };
    let known_errors = if !can_work && can_view_problems {
        // Sales read problems: they see matching known errors' workarounds, read-only.
        let linked_problems: Vec<i64> = problems.iter().map(|p| p.id).collect();
        crate::service::problems::known_errors_for(conn, &inc, &linked_problems)?
    } else {
        Vec::new()
    };
    let status_page = crate::service::status_page::panel(conn, &actor, &inc)?;
    Ok(IncidentPage {
        service: lists.service_name(conn, inc.service_id)?,
        assignee: inc.assignee_id.and_then(|a| people.get(&a).cloned()),
        reporter,
        organization,
        tags,
        watching,
        timeline,
        links,
        can_work,
        can_internal,
        can_comment: policy::allows(Some(&actor), Action::CommentPublic, res),
        can_watch: policy::allows(Some(&actor), Action::WatchIncident, res),
        next_statuses: next_statuses(status_of(&inc), who),
        services,
        assignable,
        tier,
        tiers,
        sla,
        attachments,
        problems,
        can_view_problems,
        can_manage_problems: policy::allows(Some(&actor), Action::ManageProblems, Resource::None),
        known_errors,
        status_page,
        originals: if can_internal { crate::db::inbound::originals_for(conn, inc.id)? } else { Vec::new() },
        help_picker: if can_work {
            let internal = ask.internal && can_internal;
            Some(crate::service::help::picker_for(conn, &actor, people.get(&inc.reporter_id), &ask.query, internal)?)
        } else {
            None
        },
        attachment_max_bytes: state.config.attachment_max_bytes,
        macros: if can_work { crate::service::macros::choices(state, conn, user)? } else { Vec::new() },
        mine: inc.assignee_id == Some(user.id),
        severity_unconfirmed: inc.severity == crate::domain::incident::Severity::Sev1.as_str()
            && inc.status == Status::New.as_str()
            && reporter_is_customer,
        incident: inc,
    })
}

/// A file on an incident, with its bytes, if the viewer may open it (internal ones: staff only).
pub fn attachment(
    state: &AppState,
    user: &User,
    incident_id: i64,
    attachment_id: i64,
) -> ServiceResult<(crate::db::models::AttachmentMeta, Vec<u8>)> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let (inc, res) = load_visible(&mut conn, &actor, incident_id)?;
    let a = crate::db::attachments::find(&mut conn, attachment_id)?;
    if a.incident_id != inc.id || (a.internal && !policy::allows(Some(&actor), Action::UseInternalNotes, res)) {
        return Err(ServiceError::NotFound);
    }
    let data = crate::db::attachments::data(&mut conn, a.id)?;
    Ok((a, data))
}

/// Events after `version` that the viewer may see, each with who made it (the stale-edit page).
pub fn changes_since(
    state: &AppState,
    user: &User,
    id: i64,
    version: i32,
) -> ServiceResult<(Incident, Vec<(IncidentEvent, String)>)> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let (mut inc, res) = load_visible(&mut conn, &actor, id)?;
    let internal = policy::allows(Some(&actor), Action::UseInternalNotes, res);
    let mut events = incidents::events_since(&mut conn, id, version, internal)?;
    hide_unseen_originals(&mut conn, &actor, resolution_texts(&mut events).chain([&mut inc.resolution]))?;
    let ids: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    let names: HashMap<i64, String> = users::names_by_ids(&mut conn, &ids)?.into_iter().collect();
    let who = |e: &IncidentEvent| e.actor_id.and_then(|a| names.get(&a).cloned()).unwrap_or_else(|| "Firewatch".into());
    Ok((
        inc,
        events
            .into_iter()
            .map(|e| {
                let name = who(&e);
                (e, name)
            })
            .collect(),
    ))
}

/// One timeline event in words.
pub fn describe_event(e: &IncidentEvent) -> String {
    let label = |s: &str| Status::parse(s).map(Status::label).unwrap_or("Unknown").to_lowercase();
    match e.kind.as_str() {
        "created" => format!("Incident {}", e.new_value),
        "assigned" if e.new_value.is_empty() => format!("Unassigned (was {})", e.old_value),
        "assigned" => format!("Assigned to {}", e.new_value),
        "status_changed" => format!("Status {} → {}", label(&e.old_value), label(&e.new_value)),
        "field_changed" if e.field == "resolution" => format!("Resolution: {}", e.new_value),
        "field_changed" if e.old_value.is_empty() => format!("{} set to {}", e.field, e.new_value),
        "field_changed" => format!("{} {} → {}", e.field, e.old_value, e.new_value),
        "acknowledged" => format!("Acknowledged ({})", e.new_value),
        "comment_added" => format!("Added a {}", e.new_value),
        "comment_edited" => "Edited a comment".to_string(),
        "linked" => e.new_value.clone(),
        "unlinked" => format!("Removed link to {}", e.old_value),
        "sla_warning" => format!("SLA warning: {} due {}", e.field.replace('_', " "), e.new_value),
        "sla_breached" => format!("SLA breached: {} target passed at {}", e.field.replace('_', " "), e.new_value),
        "escalated" | "deescalated" => format!(
            "{} ({}) from {} to {}",
            if e.kind == "escalated" { "Escalated" } else { "De-escalated" },
            e.field,
            e.old_value,
            e.new_value
        ),
        "status_page" => match e.field.as_str() {
            "shown" => format!("Shown on the status page as “{}”", e.new_value),
            "hidden" => "Taken off the status page".to_string(),
            "public_title" => format!("Status page title {} → {}", e.old_value, e.new_value),
            "state" => format!("Status page state {} → {}", e.old_value, e.new_value),
            _ => "Changed the status page".to_string(),
        },
        "status_update" => format!(
            "Status page update ({}): {}",
            crate::domain::status_page::Phase::parse(&e.field).map(|p| p.label()).unwrap_or("Update"),
            e.new_value
        ),
        "status_update_edited" => format!("Corrected a status page update: “{}” → “{}”", e.old_value, e.new_value),
        "status_update_retracted" => {
            format!("Retracted a status page update (“{}”): {}", e.old_value, e.new_value)
        }
        other => other.replace('_', " "),
    }
}

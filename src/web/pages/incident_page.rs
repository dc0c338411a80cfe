//! The incident page's view model: timeline rows, links, attachments, what forms that came back
//! with errors had typed (`Kept`), and `show_page`, which every handler that re-renders the
//! page uses.

use super::SelectOption;
use crate::domain::incident::{Level, Severity, Status, key};
use crate::service::FieldErrors;
use crate::service::incidents::{self, IncidentPage};
use crate::web::ctx::PageCtx;
use crate::web::view::{files_hint, status_label};
use askama::Template;
use chrono::NaiveDateTime;

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

//! Notifications: who hears about what, written to the outbox inside the caller's transaction.
//! Customers' mails never contain internal notes or internal fields.

use super::clean_header;
use crate::db::models::{Comment, Incident, User};
use crate::db::{DbConnection, DbResult, incidents, outbox, tiers, users};
use crate::domain::incident::key;
use crate::domain::policy::{self, Action};
use crate::service::{AppState, actor_of};
use askama::Template;

#[derive(Template)]
#[template(path = "email/notice.txt")]
struct NoticeText<'a> {
    headline: &'a str,
    lines: &'a [String],
    body: Option<&'a str>,
    link: &'a str,
    link_label: &'a str,
    why: &'a str,
}

#[derive(Template)]
#[template(path = "email/notice.html")]
struct NoticeHtml<'a> {
    headline: &'a str,
    lines: &'a [String],
    body: Option<&'a str>,
    link: &'a str,
    link_label: &'a str,
    why: &'a str,
}

/// What a notification says.
pub struct Notice<'a> {
    pub kind: &'a str,
    /// Short, after "[INC-n] ".
    pub subject: String,
    pub headline: String,
    pub lines: Vec<String>,
    /// A comment's text, quoted.
    pub body: Option<&'a str>,
}

fn host(state: &AppState) -> String {
    url::Url::parse(&state.config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into())
}

/// The Message-ID every mail about the incident refers to, so mail clients thread them.
pub fn thread_id(state: &AppState, incident_id: i64) -> String {
    format!("<incident-{incident_id}@{}>", host(state))
}

fn render(n: &Notice<'_>, link: &str, link_label: &str, why: &str) -> (String, String) {
    let text = NoticeText { headline: &n.headline, lines: &n.lines, body: n.body, link, link_label, why };
    let html = NoticeHtml { headline: &n.headline, lines: &n.lines, body: n.body, link, link_label, why };
    (text.render().unwrap_or_default(), html.render().unwrap_or_default())
}

/// A mail about the user's own account (not about an incident).
pub fn account_mail(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    n: &Notice<'_>,
    link: &str,
    link_label: &str,
) -> DbResult<()> {
    let (text, html) = render(n, link, link_label, "this mail is about your account.");
    let message_id = format!("<account-{}.{}@{}>", user.id, crate::crypto::random_token(8), host(state));
    outbox::insert(
        conn,
        &outbox::NewMessage {
            kind: n.kind,
            status: "queued",
            user_id: Some(user.id),
            incident_id: None,
            to_address: &user.email,
            to_name: &clean_header(&user.display_name),
            subject: &clean_header(&n.subject),
            body_text: &text,
            body_html: &html,
            message_id: &message_id,
            in_reply_to: "",
            now: state.clock.now_naive(),
        },
    )
}

/// Queues one mail per recipient (each once, never the actor, only active users).
pub fn send(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    recipients: &[i64],
    actor_id: Option<i64>,
    n: &Notice<'_>,
) -> DbResult<usize> {
    let mut ids: Vec<i64> = recipients.iter().copied().filter(|r| Some(*r) != actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    let k = key(inc.id);
    let link = format!("{}/incidents/{k}", state.config.base());
    let subject = clean_header(&format!("[{k}] {}", n.subject));
    let label = format!("Open {k}");
    let why = format!("you get this mail because of your role on {k}.");
    let (text, html) = render(n, &link, &label, &why);
    let now = state.clock.now_naive();
    let prefs = outbox::prefs_for(conn, &ids)?;
    let mut queued = 0;
    for u in users::list_by_ids(conn, &ids)?.into_iter().filter(|u| u.active) {
        let mode = prefs.iter().find(|(id, k, _)| *id == u.id && k == n.kind).map(|(_, _, m)| m.as_str());
        let status = match mode {
            Some("off") => continue,
            Some("digest") => "held",
            _ => "queued",
        };
        let message_id = format!("<incident-{}.{}@{}>", inc.id, crate::crypto::random_token(8), host(state));
        outbox::insert(
            conn,
            &outbox::NewMessage {
                kind: n.kind,
                status,
                user_id: Some(u.id),
                incident_id: Some(inc.id),
                to_address: &u.email,
                to_name: &clean_header(&u.display_name),
                subject: &subject,
                body_text: &text,
                body_html: &html,
                message_id: &message_id,
                in_reply_to: &thread_id(state, inc.id),
                now,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// Staff among the given users (who may read internal details).
pub fn staff_only(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<i64>> {
    Ok(users::list_by_ids(conn, ids)?
        .into_iter()
        .filter(|u| policy::role_may(actor_of(u).role, Action::UseInternalNotes))
        .map(|u| u.id)
        .collect())
}

pub fn incident_created(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor: &User) -> DbResult<usize> {
    let members = tiers::members(conn, inc.tier_id)?;
    let n = Notice {
        kind: "incident_created",
        subject: format!("New incident: {}", inc.title),
        headline: format!("{} reported {}: {}", actor.display_name, key(inc.id), inc.title),
        lines: vec![format!("Severity {} · priority {}.", inc.severity, inc.priority)],
        body: Some(&inc.description).filter(|d| !d.is_empty()).map(String::as_str),
    };
    send(state, conn, inc, &members, Some(actor.id), &n)
}

pub fn assigned(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor_id: Option<i64>) -> DbResult<usize> {
    let Some(a) = inc.assignee_id else { return Ok(0) };
    let n = Notice {
        kind: "assigned",
        subject: format!("Assigned to you: {}", inc.title),
        headline: format!("{} is assigned to you.", key(inc.id)),
        lines: vec![inc.title.clone(), format!("Severity {} · priority {}.", inc.severity, inc.priority)],
        body: None,
    };
    send(state, conn, inc, &[a], actor_id, &n)
}

pub fn escalated(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    tier_name: &str,
    reason: &str,
    actor_id: Option<i64>,
) -> DbResult<usize> {
    let mut to = tiers::members(conn, inc.tier_id)?;
    to.extend(inc.assignee_id);
    let n = Notice {
        kind: "escalated",
        subject: format!("Escalated to {tier_name}: {}", inc.title),
        headline: format!("{} is now in {tier_name}.", key(inc.id)),
        lines: vec![format!("Reason: {reason}")],
        body: None,
    };
    send(state, conn, inc, &to, actor_id, &n)
}

pub fn sla(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    breached: bool,
    target: &str,
    due: &str,
) -> DbResult<usize> {
    let mut to = tiers::members(conn, inc.tier_id)?;
    to.extend(inc.assignee_id);
    let (kind, what) = if breached { ("sla_breach", "SLA breached") } else { ("sla_warning", "SLA warning") };
    let n = Notice {
        kind,
        subject: format!("{what} ({target}): {}", inc.title),
        headline: format!(
            "{what} on {}: the {target} target {} {due}.",
            key(inc.id),
            if breached { "passed at" } else { "is due" }
        ),
        lines: vec![format!("Severity {} · priority {}.", inc.severity, inc.priority)],
        body: None,
    };
    send(state, conn, inc, &to, None, &n)
}

/// A public reply goes to the reporter and the watchers; an internal note only to staff watchers
/// and the assignee.
pub fn comment(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    c: &Comment,
    author: &User,
) -> DbResult<usize> {
    let mut to = incidents::watchers(conn, inc.id)?;
    if c.internal {
        to.extend(inc.assignee_id);
        let staff = staff_only(conn, &to)?;
        let n = Notice {
            kind: "internal_note",
            subject: format!("Internal note: {}", inc.title),
            headline: format!("{} added an internal note to {}.", author.display_name, key(inc.id)),
            lines: vec!["Internal: the reporter does not see this.".into()],
            body: Some(&c.body),
        };
        return send(state, conn, inc, &staff, Some(author.id), &n);
    }
    to.push(inc.reporter_id);
    to.extend(inc.assignee_id);
    let n = Notice {
        kind: "public_reply",
        subject: format!("New reply: {}", inc.title),
        headline: format!("{} replied on {}.", author.display_name, key(inc.id)),
        lines: Vec::new(),
        body: Some(&c.body),
    };
    send(state, conn, inc, &to, Some(author.id), &n)
}

/// Resolved or closed: the reporter hears; reopened: the assignee hears.
pub fn status(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    to_status: &str,
    actor_id: Option<i64>,
) -> DbResult<usize> {
    match to_status {
        "resolved" | "closed" => {
            let mut lines = Vec::new();
            if !inc.resolution.is_empty() {
                lines.push(format!("Resolution: {}", inc.resolution));
            }
            if to_status == "resolved" {
                lines.push("If the problem is not gone, reply or reopen the incident.".into());
            }
            let n = Notice {
                kind: if to_status == "resolved" { "resolved" } else { "closed" },
                subject: format!("{}: {}", if to_status == "resolved" { "Resolved" } else { "Closed" }, inc.title),
                headline: format!("{} is {to_status}.", key(inc.id)),
                lines,
                body: None,
            };
            send(state, conn, inc, &[inc.reporter_id], actor_id, &n)
        }
        _ => Ok(0),
    }
}

pub fn reopened(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor_id: Option<i64>) -> DbResult<usize> {
    let Some(a) = inc.assignee_id else { return Ok(0) };
    let n = Notice {
        kind: "reopened",
        subject: format!("Reopened: {}", inc.title),
        headline: format!("{} was reopened.", key(inc.id)),
        lines: vec![inc.title.clone()],
        body: None,
    };
    send(state, conn, inc, &[a], actor_id, &n)
}

/// The notifications a user can tune at /account/notifications.
pub const KINDS: [(&str, &str); 10] = [
    ("incident_created", "A new incident in one of my tiers"),
    ("assigned", "An incident is assigned to me"),
    ("escalated", "An incident is escalated to my tier"),
    ("sla_warning", "An SLA target is close"),
    ("sla_breach", "An SLA target is breached"),
    ("public_reply", "A public reply on an incident I report, work or watch"),
    ("internal_note", "An internal note on an incident I work or watch"),
    ("resolved", "My incident is resolved"),
    ("closed", "My incident is closed"),
    ("reopened", "An incident I work is reopened"),
];

/// One mail summarizing the held notifications of a day.
pub fn digest(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    day: chrono::NaiveDate,
    subjects: &[String],
) -> DbResult<()> {
    let n = Notice {
        kind: "digest",
        subject: format!("Your Firewatch digest for {day}"),
        headline: format!("Hello {}, here is what happened since your last digest:", user.display_name),
        lines: subjects.iter().map(|s| format!("• {s}")).collect(),
        body: None,
    };
    let link = format!("{}/", state.config.base());
    account_mail(state, conn, user, &n, &link, "Open Firewatch")
}

//! Notifications: who hears about what, written to the outbox inside the caller's transaction.
//! Customers' mails never contain internal notes or internal fields: only the kinds built from
//! `templates::Summary` carry severity, priority and tier, and those go to staff only.

use super::queue::{account_mail, send};
use super::templates::{self, Summary};
use crate::db::models::{Comment, Incident, OutboxMessage, User};
use crate::db::{DbConnection, DbResult, incidents, services, tiers, users};
use crate::domain::incident::{Status, key};
use crate::state::AppState;
use chrono::NaiveDateTime;

pub use super::queue::{staff_only, thread_id};
pub use super::templates::WeeklySection;

/// The user's name, or "Firewatch" when the system acted.
fn name_of(conn: &mut DbConnection, id: Option<i64>) -> DbResult<String> {
    Ok(match id {
        Some(id) => users::find(conn, id)?.display_name,
        None => "Firewatch".into(),
    })
}

/// The staff-only facts of an incident, for mails that go to staff.
fn summary(conn: &mut DbConnection, inc: &Incident) -> DbResult<Summary> {
    Ok(Summary {
        key: key(inc.id),
        title: inc.title.clone(),
        status: Status::parse(&inc.status).map_or_else(|| inc.status.clone(), |s| s.label().to_string()),
        severity: inc.severity.clone(),
        priority: inc.priority.clone(),
        service: services::find(conn, inc.service_id)?.name,
        tier: tiers::find(conn, inc.tier_id)?.name,
        assignee: match inc.assignee_id {
            Some(a) => Some(users::find(conn, a)?.display_name),
            None => None,
        },
    })
}

pub fn incident_created(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor: &User) -> DbResult<usize> {
    let members = tiers::members(conn, inc.tier_id)?;
    let reporter = users::find(conn, inc.reporter_id)?.display_name;
    let f = templates::IncidentCreated {
        inc: summary(conn, inc)?,
        reporter,
        entered_by: (actor.id != inc.reporter_id).then(|| actor.display_name.clone()),
        description: inc.description.clone(),
    };
    let subject = format!("New incident: {}", inc.title);
    send(state, conn, inc, (&members, Some(actor.id)), ("incident_created", &subject), &|m| {
        templates::incident_created(&f, m)
    })
}

/// The reporter hears that their report arrived (customers only: staff who file an incident
/// know it is filed), with the SLA's first-answer time when a policy applies.
pub fn received(state: &AppState, conn: &mut DbConnection, inc: &Incident, by_mail: bool) -> DbResult<usize> {
    let reporter = users::find(conn, inc.reporter_id)?;
    if staff_only(conn, &[reporter.id])?.contains(&reporter.id) {
        return Ok(0);
    }
    let f = templates::Received { key: key(inc.id), title: inc.title.clone(), answer_by: inc.response_due_at, by_mail };
    let subject = format!("Received: {}", inc.title);
    send(state, conn, inc, (&[reporter.id], None), ("received", &subject), &|m| templates::received(&f, m))
}

pub fn assigned(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor_id: Option<i64>) -> DbResult<usize> {
    let Some(a) = inc.assignee_id else { return Ok(0) };
    let f = templates::Assigned { inc: summary(conn, inc)?, by: name_of(conn, actor_id)? };
    let subject = format!("Assigned to you: {}", inc.title);
    send(state, conn, inc, (&[a], actor_id), ("assigned", &subject), &|m| templates::assigned(&f, m))
}

/// A move between tiers, as `service::escalation::move_to_tier` made it.
pub struct Escalation<'a> {
    pub from_tier: &'a str,
    pub to_tier: &'a str,
    pub upward: bool,
    pub reason: &'a str,
    pub automatic: bool,
}

/// The new tier's members and its on-call person (the new assignee) hear.
pub fn escalated(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    e: &Escalation<'_>,
    actor_id: Option<i64>,
) -> DbResult<usize> {
    let mut to = tiers::members(conn, inc.tier_id)?;
    to.extend(inc.assignee_id);
    let f = templates::Escalated {
        inc: summary(conn, inc)?,
        from_tier: e.from_tier.into(),
        to_tier: e.to_tier.into(),
        upward: e.upward,
        reason: e.reason.into(),
        automatic: e.automatic,
    };
    let verb = if e.upward { "Escalated" } else { "De-escalated" };
    let subject = format!("{verb} to {}: {}", e.to_tier, inc.title);
    send(state, conn, inc, (&to, actor_id), ("escalated", &subject), &|m| templates::escalated(&f, m))
}

/// An SLA target is close (`breached` false) or passed; `target` is "first response" or
/// "resolution", `due` when it is or was due.
pub fn sla(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    breached: bool,
    target: &str,
    due: Option<NaiveDateTime>,
) -> DbResult<usize> {
    let mut to = tiers::members(conn, inc.tier_id)?;
    to.extend(inc.assignee_id);
    let f = templates::Sla { inc: summary(conn, inc)?, target: target.into(), due };
    if breached {
        let subject = format!("SLA breached ({target}): {}", inc.title);
        send(state, conn, inc, (&to, None), ("sla_breach", &subject), &|m| templates::sla_breach(&f, m))
    } else {
        let subject = format!("SLA warning ({target}): {}", inc.title);
        send(state, conn, inc, (&to, None), ("sla_warning", &subject), &|m| templates::sla_warning(&f, m))
    }
}

/// A public reply goes to the reporter, the assignee and the watchers; an internal note only to
/// staff among the watchers and the assignee.
pub fn comment(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    c: &Comment,
    author: &User,
) -> DbResult<usize> {
    let mut to = incidents::watchers(conn, inc.id)?;
    to.extend(inc.assignee_id);
    if c.internal {
        let staff = staff_only(conn, &to)?;
        let f = templates::InternalNote {
            inc: summary(conn, inc)?,
            author: author.display_name.clone(),
            body: c.body.clone(),
        };
        let subject = format!("Internal note: {}", inc.title);
        return send(state, conn, inc, (&staff, Some(author.id)), ("internal_note", &subject), &|m| {
            templates::internal_note(&f, m)
        });
    }
    to.push(inc.reporter_id);
    let f = templates::PublicReply {
        key: key(inc.id),
        title: inc.title.clone(),
        author: author.display_name.clone(),
        body: c.body.clone(),
    };
    let subject = format!("New reply: {}", inc.title);
    send(state, conn, inc, (&to, Some(author.id)), ("public_reply", &subject), &|m| templates::public_reply(&f, m))
}

/// Resolved or closed: the reporter hears. Other statuses send nothing.
pub fn status(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    to_status: &str,
    actor_id: Option<i64>,
) -> DbResult<usize> {
    let to = [inc.reporter_id];
    match to_status {
        "resolved" => {
            let days = state.config.auto_close_days;
            let f = templates::Resolved {
                key: key(inc.id),
                title: inc.title.clone(),
                resolution: inc.resolution.clone(),
                by: name_of(conn, actor_id)?,
                closes_after: inc.resolved_at.filter(|_| days > 0).map(|t| t + chrono::Duration::days(days)),
            };
            let subject = format!("Resolved: {}", inc.title);
            send(state, conn, inc, (&to, actor_id), ("resolved", &subject), &|m| templates::resolved(&f, m))
        }
        "closed" => {
            let f = templates::Closed {
                key: key(inc.id),
                title: inc.title.clone(),
                resolution: inc.resolution.clone(),
                automatic: actor_id.is_none(),
            };
            let subject = format!("Closed: {}", inc.title);
            send(state, conn, inc, (&to, actor_id), ("closed", &subject), &|m| templates::closed(&f, m))
        }
        _ => Ok(0),
    }
}

/// The assignee hears that a resolved or closed incident is open again.
pub fn reopened(state: &AppState, conn: &mut DbConnection, inc: &Incident, actor_id: Option<i64>) -> DbResult<usize> {
    let Some(a) = inc.assignee_id else { return Ok(0) };
    let f = templates::Reopened { inc: summary(conn, inc)?, by: name_of(conn, actor_id)? };
    let subject = format!("Reopened: {}", inc.title);
    send(state, conn, inc, (&[a], actor_id), ("reopened", &subject), &|m| templates::reopened(&f, m))
}

/// The notifications a user can tune at /account/notifications.
pub const KINDS: [(&str, &str); 11] = [
    ("received", "My report is received (with when to expect an answer)"),
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

/// A single-use link to set a password, valid until `expires_at`.
pub fn password_reset(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    link: &str,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    let f = templates::PasswordReset { name: user.display_name.clone(), expires_at };
    account_mail(
        state,
        conn,
        user,
        ("password_reset", "Set your Firewatch password"),
        (link, "Set your password"),
        &|m| templates::password_reset(&f, m),
    )
}

/// ASVS 2.2.3: the user hears when their password changes.
pub fn password_changed(state: &AppState, conn: &mut DbConnection, user: &User) -> DbResult<()> {
    let f = templates::PasswordChanged { name: user.display_name.clone(), at: state.clock.now_naive() };
    let link = format!("{}/account/sessions", state.config.base());
    account_mail(
        state,
        conn,
        user,
        ("password_changed", "Your Firewatch password was changed"),
        (&link, "Review your sessions"),
        &|m| templates::password_changed(&f, m),
    )
}

/// ASVS 2.5.5: one mail to `to`, which is the account before or after its address changed.
pub fn email_changed(
    state: &AppState,
    conn: &mut DbConnection,
    to: &User,
    old_email: &str,
    new_email: &str,
) -> DbResult<()> {
    let f = templates::EmailChanged {
        name: to.display_name.clone(),
        old_email: old_email.into(),
        new_email: new_email.into(),
        at: state.clock.now_naive(),
    };
    let link = format!("{}/account", state.config.base());
    account_mail(
        state,
        conn,
        to,
        ("email_changed", "Your Firewatch email address was changed"),
        (&link, "Open your account"),
        &|m| templates::email_changed(&f, m),
    )
}

/// One mail listing the notifications held for the user's digest of `day`.
pub fn digest(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    day: chrono::NaiveDate,
    held: &[OutboxMessage],
) -> DbResult<()> {
    let base = state.config.base();
    let items = held
        .iter()
        .map(|h| templates::DigestItem {
            subject: h.subject.clone(),
            link: h.incident_id.map(|id| format!("{base}/incidents/{}", key(id))),
        })
        .collect();
    let f = templates::Digest { name: user.display_name.clone(), day, items };
    let subject = format!("Your Firewatch digest for {day}");
    account_mail(state, conn, user, ("digest", &subject), (&format!("{base}/"), "Open Firewatch"), &|m| {
        templates::digest(&f, m)
    })
}

/// The weekly report summary for `week` (first and last local day).
pub fn weekly_report(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    (first, last): (chrono::NaiveDate, chrono::NaiveDate),
    sections: &[WeeklySection],
) -> DbResult<()> {
    let f = templates::WeeklyReport { name: user.display_name.clone(), first, last, sections: sections.to_vec() };
    let subject = format!("Firewatch reports for the week of {first}");
    let link = format!("{}/reports", state.config.base());
    account_mail(state, conn, user, ("weekly_report", &subject), (&link, "Open the reports"), &|m| {
        templates::weekly_report(&f, m)
    })
}

/// The problem's owner hears that it came back after the fix was released.
pub fn problem_recurred(
    state: &AppState,
    conn: &mut DbConnection,
    owner: &User,
    problem: &crate::db::models::Problem,
    inc: &Incident,
) -> DbResult<()> {
    let pk = crate::domain::problem::key(problem.id);
    let f = templates::ProblemRecurred {
        name: owner.display_name.clone(),
        problem_key: pk.clone(),
        problem_title: problem.title.clone(),
        incident_key: key(inc.id),
        incident_title: inc.title.clone(),
        fix_released_at: problem.fix_released_at,
    };
    let subject = format!("[{pk}] Recurred: {}", problem.title);
    let link = format!("{}/problems/{pk}", state.config.base());
    account_mail(state, conn, owner, ("problem_recurred", &subject), (&link, &format!("Open {pk}")), &|m| {
        templates::problem_recurred(&f, m)
    })
}

/// An action's owner hears once that it is overdue.
pub fn problem_recurrence_withdrawn(
    state: &AppState,
    conn: &mut DbConnection,
    owner: &User,
    problem: &crate::db::models::Problem,
    inc: &Incident,
    status_label: &str,
) -> DbResult<()> {
    let pk = crate::domain::problem::key(problem.id);
    let f = templates::RecurrenceWithdrawn {
        name: owner.display_name.clone(),
        problem_key: pk.clone(),
        problem_title: problem.title.clone(),
        incident_key: key(inc.id),
        incident_title: inc.title.clone(),
        status: status_label.to_string(),
    };
    let subject = format!("[{pk}] No longer recurred: {}", problem.title);
    let link = format!("{}/problems/{pk}", state.config.base());
    account_mail(state, conn, owner, ("problem_recurrence_withdrawn", &subject), (&link, &format!("Open {pk}")), &|m| {
        templates::problem_recurrence_withdrawn(&f, m)
    })
}

pub fn action_overdue(
    state: &AppState,
    conn: &mut DbConnection,
    owner: &User,
    problem: &crate::db::models::Problem,
    action: &crate::db::models::ProblemAction,
    due: chrono::NaiveDate,
) -> DbResult<()> {
    let pk = crate::domain::problem::key(problem.id);
    let f = templates::ActionOverdue {
        name: owner.display_name.clone(),
        problem_key: pk.clone(),
        problem_title: problem.title.clone(),
        action: action.title.clone(),
        due,
    };
    let subject = format!("[{pk}] Action overdue: {}", action.title);
    let link = format!("{}/problems/actions", state.config.base());
    account_mail(state, conn, owner, ("action_overdue", &subject), (&link, "Open the actions"), &|m| {
        templates::action_overdue(&f, m)
    })
}

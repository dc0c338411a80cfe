//! Writing notifications to the outbox: one row per recipient, rendered in the recipient's time
//! zone, threaded per incident, with header values cleaned of line breaks.

use super::clean_header;
use super::compose::KINDS;
use super::templates::{Frame, Rendered};
use crate::db::models::{Incident, User};
use crate::db::{DbConnection, DbResult, incidents, outbox, users};
use crate::domain::incident::key;
use crate::domain::notify::{may_receive, thread_prefix};
use crate::domain::policy::{self, Action};
use crate::state::{AppState, actor_of};

thread_local! {
    /// Set while an incoming mail is being filed on this thread: what it queues is a reply to
    /// mail (RFC 3834 `Auto-Submitted: auto-replied`), not news of its own.
    static CAUSED_BY_MAIL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every mail it queues marked as caused by an incoming mail.
pub fn caused_by_mail<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            CAUSED_BY_MAIL.set(self.0);
        }
    }
    let _reset = Reset(CAUSED_BY_MAIL.replace(true));
    f()
}

/// Renders one kind's facts for one recipient.
pub(super) type Render<'r> = dyn Fn(&Frame<'_>) -> askama::Result<Rendered> + 'r;

/// One mail about to be queued, before it meets its recipients.
struct Envelope<'a> {
    kind: &'a str,
    /// Already cleaned with `clean_header`.
    subject: &'a str,
    link: &'a str,
    link_label: &'a str,
    incident_id: Option<i64>,
}

/// The Message-ID every mail of the kind's thread refers to, so mail clients thread them:
/// customer-facing mail and staff-only mail about an incident form two separate threads.
pub fn thread_id(state: &AppState, incident_id: i64, kind: &str) -> String {
    format!("<{}-{incident_id}@{}>", thread_prefix(kind), state.config.mail_host())
}

/// Writes one outbox row for `to`, rendered in their time zone.
fn queue(
    state: &AppState,
    conn: &mut DbConnection,
    to: &User,
    env: &Envelope<'_>,
    status: &str,
    render: &Render<'_>,
) -> DbResult<bool> {
    let tunable = env.kind == "digest" || KINDS.iter().any(|(k, _)| *k == env.kind);
    let prefs = tunable.then(|| format!("{}/account/notifications", state.config.base()));
    let frame = Frame {
        subject: env.subject,
        link: env.link,
        link_label: env.link_label,
        prefs: prefs.as_deref(),
        tz: to.time_zone.parse().unwrap_or(chrono_tz::UTC),
    };
    let parts = match render(&frame) {
        Ok(p) => p,
        Err(e) => {
            // An empty mail helps nobody, and the change that caused it must still go through.
            tracing::error!(kind = env.kind, error = %e, "mail template failed to render");
            return Ok(false);
        }
    };
    let token = crate::crypto::random_token(8);
    let (message_id, in_reply_to) = match env.incident_id {
        Some(id) => (
            format!("<{}-{id}.{token}@{}>", thread_prefix(env.kind), state.config.mail_host()),
            thread_id(state, id, env.kind),
        ),
        None => (format!("<account-{}.{token}@{}>", to.id, state.config.mail_host()), String::new()),
    };
    outbox::insert(
        conn,
        &outbox::NewMessage {
            kind: env.kind,
            status,
            user_id: Some(to.id),
            incident_id: env.incident_id,
            to_address: &to.email,
            to_name: &clean_header(&to.display_name),
            subject: env.subject,
            body_text: &parts.text,
            body_html: &parts.html,
            message_id: &message_id,
            in_reply_to: &in_reply_to,
            auto_submitted: if CAUSED_BY_MAIL.get() { "auto-replied" } else { "auto-generated" },
            now: state.clock.now_naive(),
        },
    )?;
    Ok(true)
}

/// A mail about the user's own account (not about an incident), sent whatever their preferences.
pub(super) fn account_mail(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    (kind, subject): (&str, &str),
    (link, link_label): (&str, &str),
    render: &Render<'_>,
) -> DbResult<()> {
    let subject = clean_header(subject);
    let env = Envelope { kind, subject: &subject, link, link_label, incident_id: None };
    queue(state, conn, user, &env, "queued", render)?;
    Ok(())
}

/// Queues one mail per recipient (each once, never the actor, only active users who may see
/// the incident and, for staff-only kinds, only staff), honouring each recipient's choice for
/// the kind: off, held for the digest, or sent at once. Delivery checks the recipient again.
pub(super) fn send(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    (recipients, actor_id): (&[i64], Option<i64>),
    (kind, subject): (&str, &str),
    render: &Render<'_>,
) -> DbResult<usize> {
    let mut ids: Vec<i64> = recipients.iter().copied().filter(|r| Some(*r) != actor_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    let k = key(inc.id);
    let link = format!("{}/incidents/{k}", state.config.base());
    let subject = clean_header(&format!("[{k}] {subject}"));
    let label = format!("Open {k}");
    let env = Envelope { kind, subject: &subject, link: &link, link_label: &label, incident_id: Some(inc.id) };
    let prefs = outbox::prefs_for(conn, &ids)?;
    let res = incidents::resource(conn, inc)?;
    let mut queued = 0;
    for u in users::list_by_ids(conn, &ids)?.into_iter().filter(|u| u.active && may_receive(&actor_of(u), kind, res)) {
        let mode = prefs.iter().find(|(id, k, _)| *id == u.id && k == kind).map(|(_, _, m)| m.as_str());
        let status = match mode {
            Some("off") => continue,
            Some("digest") => "held",
            _ => "queued",
        };
        if queue(state, conn, &u, &env, status, render)? {
            queued += 1;
        }
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

/// Why a queued mail must not go out now, if so: its recipient was deactivated, lost sight of
/// the incident, or is not staff and the mail is staff-only. Checked again at delivery because
/// access can change between queueing and sending (and while a mail waits for the digest).
pub fn withheld(conn: &mut DbConnection, m: &crate::db::models::OutboxMessage) -> DbResult<Option<&'static str>> {
    let Some(incident_id) = m.incident_id else {
        return Ok(None);
    };
    let Some(user_id) = m.user_id else {
        return Ok(Some("the mail has no recipient account"));
    };
    let user = match users::find(conn, user_id) {
        Ok(u) => u,
        Err(crate::db::DbError::NotFound) => return Ok(Some("the recipient no longer exists")),
        Err(e) => return Err(e),
    };
    if !user.active {
        return Ok(Some("the recipient's account is deactivated"));
    }
    let inc = match incidents::find(conn, incident_id) {
        Ok(i) => i,
        Err(crate::db::DbError::NotFound) => return Ok(Some("the incident no longer exists")),
        Err(e) => return Err(e),
    };
    let res = incidents::resource(conn, &inc)?;
    Ok((!may_receive(&actor_of(&user), &m.kind, res)).then_some("the recipient may no longer see this"))
}

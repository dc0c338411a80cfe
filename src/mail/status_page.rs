//! Mail to status page subscribers: the double opt-in confirmation, every public update and
//! every maintenance announcement. Subscribers are addresses, not users: times are in UTC, and
//! every mail carries its recipient's own unsubscribe link and a List-Unsubscribe header with
//! one-click unsubscription (RFC 8058). Outbox rows name no user and no incident, so a reply is
//! never filed on the incident.
//!
//! Mail to all subscribers is rendered once, in the transaction of the change, with a random
//! marker where the unsubscribe link goes, and stored as one `status_mailings` row; the
//! `status_mail` job (`service::status_page::fan_out`) copies it into the outbox for each
//! subscriber with the marker replaced (`personal`), a batch per transaction.

use super::clean_header;
use crate::db::status_page::{self as db, Mailing, OutboxRow, Subscriber};
use crate::db::{DbConnection, DbResult};
use crate::state::AppState;
use askama::Template;
use chrono::NaiveDateTime;

/// The secret behind a subscriber's one-click unsubscribe link (its hash is stored).
pub fn unsubscribe_token(state: &AppState, seed: &str) -> String {
    crate::crypto::hmac_hex(&state.secret, &format!("status-unsubscribe|{seed}"))
}

/// The one-click unsubscribe address for a subscriber.
pub fn unsubscribe_link(state: &AppState, s: &crate::db::status_page::Subscriber) -> String {
    format!("{}/status/unsubscribe?token={}", state.config.base(), unsubscribe_token(state, &s.unsubscribe_seed))
}

/// A stored UTC time as subscribers read it.
pub fn utc(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The public facts of one update; nothing else of the incident reaches a subscriber.
pub struct UpdateFacts {
    pub status_incident_id: i64,
    pub title: String,
    pub phase: String,
    /// The state the service was in when the update was posted, in words (for a "resolved"
    /// update, what it was during the incident).
    pub state: String,
    pub resolved: bool,
    pub service: String,
    pub body: String,
    pub at: NaiveDateTime,
}

/// A maintenance announcement: the public notice (or the generic text), never the release's
/// own title or notes.
pub struct MaintenanceFacts {
    pub headline: String,
    pub notice: String,
    pub services: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub cancelled: bool,
}

pub struct ConfirmFacts<'a> {
    pub confirm_link: &'a str,
    pub expires_at: NaiveDateTime,
    pub status_link: &'a str,
    pub unsubscribe_link: &'a str,
}

pub struct UpdateMail<'a> {
    pub f: &'a UpdateFacts,
    pub incident_link: &'a str,
    pub status_link: &'a str,
    pub unsubscribe_link: &'a str,
}

pub struct MaintenanceMail<'a> {
    pub f: &'a MaintenanceFacts,
    pub status_link: &'a str,
    pub unsubscribe_link: &'a str,
}

impl ConfirmFacts<'_> {
    pub fn expires(&self) -> String {
        utc(&self.expires_at)
    }
}

impl UpdateMail<'_> {
    pub fn when(&self) -> String {
        utc(&self.f.at)
    }
}

impl MaintenanceMail<'_> {
    pub fn window(&self) -> String {
        format!("{} – {}", utc(&self.f.starts_at), utc(&self.f.ends_at))
    }
}

#[derive(Template)]
#[template(path = "email/status_confirm.txt")]
struct ConfirmText<'a> {
    m: &'a ConfirmFacts<'a>,
}

#[derive(Template)]
#[template(path = "email/status_confirm.html")]
struct ConfirmHtml<'a> {
    m: &'a ConfirmFacts<'a>,
}

#[derive(Template)]
#[template(path = "email/status_update.txt")]
struct UpdateText<'a> {
    m: &'a UpdateMail<'a>,
}

#[derive(Template)]
#[template(path = "email/status_update.html")]
struct UpdateHtml<'a> {
    m: &'a UpdateMail<'a>,
}

#[derive(Template)]
#[template(path = "email/status_maintenance.txt")]
struct MaintenanceText<'a> {
    m: &'a MaintenanceMail<'a>,
}

#[derive(Template)]
#[template(path = "email/status_maintenance.html")]
struct MaintenanceHtml<'a> {
    m: &'a MaintenanceMail<'a>,
}

pub fn render_confirmation(m: &ConfirmFacts<'_>) -> askama::Result<(String, String)> {
    Ok((ConfirmText { m }.render()?, ConfirmHtml { m }.render()?))
}

pub fn render_update(m: &UpdateMail<'_>) -> askama::Result<(String, String)> {
    Ok((UpdateText { m }.render()?, UpdateHtml { m }.render()?))
}

pub fn render_maintenance(m: &MaintenanceMail<'_>) -> askama::Result<(String, String)> {
    Ok((MaintenanceText { m }.render()?, MaintenanceHtml { m }.render()?))
}

fn list_unsubscribe(link: &str) -> String {
    format!("<{}>", clean_header(link))
}

/// The confirmation mail with its one-time link.
pub fn confirmation(
    state: &AppState,
    conn: &mut DbConnection,
    to: &Subscriber,
    confirm_link: &str,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    let status_link = format!("{}/status", state.config.base());
    let unsubscribe = unsubscribe_link(state, to);
    let facts = ConfirmFacts { confirm_link, expires_at, status_link: &status_link, unsubscribe_link: &unsubscribe };
    let (text, html) = match render_confirmation(&facts) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(kind = "status_confirm", error = %e, "mail template failed to render");
            return Ok(());
        }
    };
    let host = state.config.mail_host();
    db::queue_mail(
        conn,
        &db::SubscriberMail {
            kind: "status_confirm",
            to: &to.email,
            subject: "Confirm your subscription to status updates",
            body_text: &text,
            body_html: &html,
            message_id: &format!("<statuspage-confirm.{}@{host}>", crate::crypto::random_token(8)),
            in_reply_to: "",
            list_unsubscribe: &list_unsubscribe(&unsubscribe),
            now: state.clock.now_naive(),
        },
    )
}

/// A fresh marker for the unsubscribe link: letters and digits only, so HTML escaping leaves
/// it alone, and random, so no typed text can contain it.
fn marker() -> String {
    format!("FWUNSUBSCRIBE{}", crate::crypto::random_token(16))
}

/// One update for every subscriber confirmed by now: rendered once, fanned out by the job.
pub fn update(state: &AppState, conn: &mut DbConnection, f: &UpdateFacts, status_update_id: i64) -> DbResult<()> {
    let base = state.config.base();
    let host = state.config.mail_host();
    let status_link = format!("{base}/status");
    let incident_link = format!("{base}/status/incidents/{}", f.status_incident_id);
    let mark = marker();
    let m = UpdateMail { f, incident_link: &incident_link, status_link: &status_link, unsubscribe_link: &mark };
    let (text, html) = match render_update(&m) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(kind = "status_update", error = %e, "mail template failed to render");
            return Ok(());
        }
    };
    db::insert_mailing(
        conn,
        &db::NewMailing {
            kind: "status_update",
            status_update_id: Some(status_update_id),
            subject: &clean_header(&format!("[Status] {}: {}", f.title, f.phase)),
            body_text: &text,
            body_html: &html,
            marker: &mark,
            thread: &format!("<statuspage-{}@{host}>", f.status_incident_id),
            message_prefix: &format!("statuspage-{}", f.status_incident_id),
            now: state.clock.now_naive(),
        },
    )
}

/// A maintenance announcement for every subscriber confirmed by now, threaded per release.
pub fn maintenance(state: &AppState, conn: &mut DbConnection, f: &MaintenanceFacts, release_id: i64) -> DbResult<()> {
    let host = state.config.mail_host();
    let status_link = format!("{}/status", state.config.base());
    let mark = marker();
    let m = MaintenanceMail { f, status_link: &status_link, unsubscribe_link: &mark };
    let (text, html) = match render_maintenance(&m) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(kind = "status_maintenance", error = %e, "mail template failed to render");
            return Ok(());
        }
    };
    db::insert_mailing(
        conn,
        &db::NewMailing {
            kind: "status_maintenance",
            status_update_id: None,
            subject: &clean_header(&format!("[Status] {}: {}", f.headline, f.services)),
            body_text: &text,
            body_html: &html,
            marker: &mark,
            thread: &format!("<statuspage-maintenance-{release_id}@{host}>"),
            message_prefix: &format!("statuspage-maintenance-{release_id}"),
            now: state.clock.now_naive(),
        },
    )
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A mailing's copy for one subscriber: their unsubscribe link in place of the marker, their
/// own Message-ID, the thread's In-Reply-To and the List-Unsubscribe header.
pub fn personal(state: &AppState, m: &Mailing, to: &Subscriber, now: NaiveDateTime) -> OutboxRow {
    let link = unsubscribe_link(state, to);
    let host = state.config.mail_host();
    OutboxRow {
        created_at: now,
        kind: m.kind.clone(),
        user_id: None,
        incident_id: None,
        to_address: to.email.clone(),
        to_name: String::new(),
        subject: m.subject.clone(),
        body_text: m.body_text.replace(&m.marker, &link),
        body_html: m.body_html.replace(&m.marker, &escape_html(&link)),
        message_id: format!("<{}.{}@{host}>", m.message_prefix, crate::crypto::random_token(8)),
        in_reply_to: m.thread.clone(),
        status: "queued".into(),
        attempts: 0,
        next_attempt_at: now,
        list_unsubscribe: list_unsubscribe(&link),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn update_mail_escapes_html_and_carries_the_unsubscribe_link() {
        let f = UpdateFacts {
            status_incident_id: 3,
            title: r#"Checkout <b>"slow"</b>"#.into(),
            phase: "Identified".into(),
            state: "Partial outage".into(),
            resolved: false,
            service: "Checkout".into(),
            body: "We found it & <script>fix</script> it.".into(),
            at: at("2026-03-02 10:30"),
        };
        let m = UpdateMail {
            f: &f,
            incident_link: "https://fw.example/status/incidents/3",
            status_link: "https://fw.example/status",
            unsubscribe_link: "https://fw.example/status/unsubscribe?token=abc",
        };
        let (text, html) = render_update(&m).expect("render");
        assert!(text.contains("We found it & <script>fix</script> it."), "{text}");
        assert!(text.contains("2026-03-02 10:30 UTC"));
        assert!(text.contains("https://fw.example/status/unsubscribe?token=abc"));
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&#60;script&#62;"));
        assert!(html.contains("https://fw.example/status/unsubscribe?token=abc"));
    }

    #[test]
    fn confirmation_mail_has_the_link_and_its_expiry() {
        let m = ConfirmFacts {
            confirm_link: "https://fw.example/status/confirm/xyz",
            expires_at: at("2026-03-04 09:00"),
            status_link: "https://fw.example/status",
            unsubscribe_link: "https://fw.example/status/unsubscribe?token=abc",
        };
        let (text, html) = render_confirmation(&m).expect("render");
        assert!(text.contains("https://fw.example/status/confirm/xyz") && text.contains("2026-03-04 09:00 UTC"));
        assert!(html.contains("https://fw.example/status/confirm/xyz"));
        assert!(text.contains("unsubscribe?token=abc"));
    }

    #[test]
    fn maintenance_mail_shows_the_notice_and_the_window_in_utc() {
        let f = MaintenanceFacts {
            headline: "Maintenance rescheduled".into(),
            notice: "Search <em>may</em> be slow.".into(),
            services: "Search".into(),
            starts_at: at("2026-03-05 22:00"),
            ends_at: at("2026-03-05 23:00"),
            cancelled: false,
        };
        let m = MaintenanceMail {
            f: &f,
            status_link: "https://fw.example/status",
            unsubscribe_link: "https://fw.example/status/unsubscribe?token=abc",
        };
        let (text, html) = render_maintenance(&m).expect("render");
        assert!(text.contains("Maintenance rescheduled") && text.contains("Search <em>may</em> be slow."), "{text}");
        assert!(text.contains("2026-03-05 22:00 UTC – 2026-03-05 23:00 UTC"), "{text}");
        assert!(!html.contains("<em>"), "{html}");
        assert!(html.contains("unsubscribe?token=abc"));
    }
}

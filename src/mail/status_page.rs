//! Mail to status page subscribers: the double opt-in confirmation and every public update.
//! Subscribers are addresses, not users: each mail is rendered for its recipient (their own
//! unsubscribe link), times are in UTC, and every mail carries a List-Unsubscribe header with
//! one-click unsubscription (RFC 8058). Outbox rows name no user and no incident, so a reply is
//! never filed on the incident.

use super::clean_header;
use crate::db::status_page::{self as db, Subscriber};
use crate::db::{DbConnection, DbResult};
use crate::service::AppState;
use askama::Template;
use chrono::NaiveDateTime;

/// A stored UTC time as subscribers read it.
pub fn utc(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The public facts of one update; nothing else of the incident reaches a subscriber.
pub struct UpdateFacts {
    pub status_incident_id: i64,
    pub title: String,
    pub phase: String,
    pub state: String,
    pub service: String,
    pub body: String,
    pub at: NaiveDateTime,
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

pub fn render_confirmation(m: &ConfirmFacts<'_>) -> askama::Result<(String, String)> {
    Ok((ConfirmText { m }.render()?, ConfirmHtml { m }.render()?))
}

pub fn render_update(m: &UpdateMail<'_>) -> askama::Result<(String, String)> {
    Ok((UpdateText { m }.render()?, UpdateHtml { m }.render()?))
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
    let unsubscribe = crate::service::status_page::unsubscribe_link(state, to);
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

/// One mail per confirmed subscriber, threaded per status page incident.
pub fn update(state: &AppState, conn: &mut DbConnection, f: &UpdateFacts, to: &[Subscriber]) -> DbResult<usize> {
    let base = state.config.base();
    let host = state.config.mail_host();
    let status_link = format!("{base}/status");
    let incident_link = format!("{base}/status/incidents/{}", f.status_incident_id);
    let subject = clean_header(&format!("[Status] {}: {}", f.title, f.phase));
    let thread = format!("<statuspage-{}@{host}>", f.status_incident_id);
    let now = state.clock.now_naive();
    let mut queued = 0;
    for s in to {
        let unsubscribe = crate::service::status_page::unsubscribe_link(state, s);
        let m =
            UpdateMail { f, incident_link: &incident_link, status_link: &status_link, unsubscribe_link: &unsubscribe };
        let (text, html) = match render_update(&m) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(kind = "status_update", error = %e, "mail template failed to render");
                return Ok(queued);
            }
        };
        db::queue_mail(
            conn,
            &db::SubscriberMail {
                kind: "status_update",
                to: &s.email,
                subject: &subject,
                body_text: &text,
                body_html: &html,
                message_id: &format!("<statuspage-{}.{}@{host}>", f.status_incident_id, crate::crypto::random_token(8)),
                in_reply_to: &thread,
                list_unsubscribe: &list_unsubscribe(&unsubscribe),
                now,
            },
        )?;
        queued += 1;
    }
    Ok(queued)
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
}

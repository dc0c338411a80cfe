//! Delivers the outbox. With SMTP configured, over SMTP (lettre), retrying temporary failures
//! with exponential backoff for 24 hours; without, each message becomes an `.eml` file under
//! `<data_dir>/mail/`.

use crate::config::{Config, SmtpTls};
use crate::db::models::OutboxMessage;
use chrono::{Duration, NaiveDateTime};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

/// How long a message is retried before it is marked failed.
pub const GIVE_UP_AFTER_HOURS: i64 = 24;

#[derive(Debug)]
pub struct SendError {
    pub temporary: bool,
    pub text: String,
}

/// Where mail goes as `.eml` files: Some when no SMTP host is configured.
pub fn file_directory(c: &Config) -> Option<std::path::PathBuf> {
    c.smtp_host.as_deref().is_none_or(str::is_empty).then(|| c.data_dir.join("mail"))
}

pub enum Mailer {
    Smtp(Box<SmtpTransport>),
    Files(std::path::PathBuf),
}

impl Mailer {
    pub fn from_config(c: &Config) -> Result<Mailer, String> {
        if let Some(dir) = file_directory(c) {
            return Ok(Mailer::Files(dir));
        }
        let host = c.smtp_host.as_deref().unwrap_or_default();
        let builder = match c.smtp_tls {
            SmtpTls::None => SmtpTransport::builder_dangerous(host),
            SmtpTls::Starttls => SmtpTransport::starttls_relay(host).map_err(|e| e.to_string())?,
            SmtpTls::Tls => SmtpTransport::relay(host).map_err(|e| e.to_string())?,
        };
        let mut builder = builder.port(c.smtp_port).timeout(Some(std::time::Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&c.smtp_user, &c.smtp_password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Mailer::Smtp(Box::new(builder.build())))
    }

    pub fn send(&self, c: &Config, m: &OutboxMessage) -> Result<(), SendError> {
        let permanent = |e: String| SendError { temporary: false, text: e };
        let from: Mailbox = c.mail_from.parse().map_err(|e| permanent(format!("mail_from: {e}")))?;
        let to = Mailbox::new(
            Some(super::clean_header(&m.to_name)).filter(|n| !n.is_empty()),
            m.to_address.parse().map_err(|e| permanent(format!("recipient: {e}")))?,
        );
        let mut b = Message::builder()
            .from(from)
            .to(to)
            .subject(super::clean_header(&m.subject))
            .message_id(Some(m.message_id.clone()));
        if !m.in_reply_to.is_empty() {
            b = b.in_reply_to(m.in_reply_to.clone()).references(m.in_reply_to.clone());
        }
        if !m.list_unsubscribe.is_empty() {
            b = b
                .header(ListUnsubscribe(super::clean_header(&m.list_unsubscribe)))
                .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
        }
        // RFC 3834: automatic mail, so auto-responders stay quiet and mail loops end here.
        let auto = if m.auto_submitted == "auto-replied" { "auto-replied" } else { "auto-generated" };
        b = b.header(AutoSubmitted(auto.into())).header(XAutoResponseSuppress("All".into()));
        if let Some(r) = c.mail_reply_to.as_deref().filter(|r| !r.is_empty()) {
            b = b.reply_to(r.parse().map_err(|e| permanent(format!("mail_reply_to: {e}")))?);
        }
        let email = b
            .multipart(MultiPart::alternative_plain_html(m.body_text.clone(), m.body_html.clone()))
            .map_err(|e| permanent(e.to_string()))?;
        match self {
            Mailer::Smtp(t) => t.send(&email).map(|_| ()).map_err(|e| SendError {
                // Refused connections, timeouts and 4xx answers are worth retrying; 5xx are not.
                temporary: !e.is_permanent(),
                text: e.to_string(),
            }),
            Mailer::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| SendError { temporary: true, text: e.to_string() })?;
                let name = format!("{:08}-{}.eml", m.id, m.kind);
                std::fs::write(dir.join(name), email.formatted())
                    .map_err(|e| SendError { temporary: true, text: e.to_string() })
            }
        }
    }
}

macro_rules! text_header {
    ($name:ident, $header:literal) => {
        /// A header lettre has no type for, with a value already cleaned of line breaks.
        #[derive(Debug, Clone)]
        struct $name(String);

        impl lettre::message::header::Header for $name {
            fn name() -> lettre::message::header::HeaderName {
                lettre::message::header::HeaderName::new_from_ascii_str($header)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($name(s.to_string()))
            }

            fn display(&self) -> lettre::message::header::HeaderValue {
                lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

// Status page mail: one-click unsubscription (RFC 2369, RFC 8058).
text_header!(ListUnsubscribe, "List-Unsubscribe");
text_header!(ListUnsubscribePost, "List-Unsubscribe-Post");
text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(XAutoResponseSuppress, "X-Auto-Response-Suppress");

/// When to try again after `attempts` failed attempts: 1, 2, 4 … minutes, at most an hour;
/// None once the message is older than the retry window.
pub fn next_attempt(created: NaiveDateTime, now: NaiveDateTime, attempts: i32) -> Option<NaiveDateTime> {
    if now - created >= Duration::hours(GIVE_UP_AFTER_HOURS) {
        return None;
    }
    let minutes = 1i64 << attempts.clamp(0, 6);
    Some(now + Duration::minutes(minutes.min(60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_after_a_day() {
        let t0 =
            chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z").map(|d| d.naive_utc()).unwrap_or_default();
        assert_eq!(next_attempt(t0, t0, 0), Some(t0 + Duration::minutes(1)));
        assert_eq!(next_attempt(t0, t0, 3), Some(t0 + Duration::minutes(8)));
        assert_eq!(next_attempt(t0, t0, 20), Some(t0 + Duration::minutes(60)));
        assert_eq!(next_attempt(t0, t0 + Duration::hours(24), 5), None);
    }
}

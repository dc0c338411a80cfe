//! One typed pair of templates per mail kind: `templates/email/<kind>.txt` and `.html`, both
//! extending `base.txt` / `base.html`. A mail is rendered once per recipient, because times are
//! shown in the recipient's own time zone.

use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

/// What the shared layout shows around a mail's own facts, for one recipient.
pub struct Frame<'a> {
    pub subject: &'a str,
    pub link: &'a str,
    pub link_label: &'a str,
    /// The preferences page; None for security mails, which cannot be turned off.
    pub prefs: Option<&'a str>,
    pub tz: Tz,
}

impl Frame<'_> {
    /// A stored UTC time in the recipient's zone, with the zone's abbreviation.
    pub fn time(&self, t: &NaiveDateTime) -> String {
        t.and_utc().with_timezone(&self.tz).format("%Y-%m-%d %H:%M %Z").to_string()
    }
}

/// The two parts of one mail.
#[derive(Debug)]
pub struct Rendered {
    pub text: String,
    pub html: String,
}

/// Incident fields only staff see (severity, priority, tier): only in mails to staff.
pub struct Summary {
    pub key: String,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub priority: String,
    pub service: String,
    pub tier: String,
    pub assignee: Option<String>,
}

pub struct IncidentCreated {
    pub inc: Summary,
    pub reporter: String,
    /// Who typed it in, when staff reported on someone's behalf.
    pub entered_by: Option<String>,
    pub description: String,
}

pub struct Assigned {
    pub inc: Summary,
    pub by: String,
}

pub struct Escalated {
    pub inc: Summary,
    pub from_tier: String,
    pub to_tier: String,
    /// False when the incident moved down a tier.
    pub upward: bool,
    pub reason: String,
    pub automatic: bool,
}

/// An SLA warning or breach.
pub struct Sla {
    pub inc: Summary,
    /// "first response" or "resolution".
    pub target: String,
    /// When the target is (or was) due.
    pub due: Option<NaiveDateTime>,
}

pub struct InternalNote {
    pub inc: Summary,
    pub author: String,
    pub body: String,
}

pub struct Reopened {
    pub inc: Summary,
    pub by: String,
}

/// Goes to customers too: public fields only.
pub struct PublicReply {
    pub key: String,
    pub title: String,
    pub author: String,
    pub body: String,
}

/// Goes to the reporter when their incident is filed: public fields only.
pub struct Received {
    pub key: String,
    pub title: String,
    /// When the first answer is due by the SLA, if a policy applies.
    pub answer_by: Option<NaiveDateTime>,
    /// Filed from an e-mail: a reply to this mail is added to the incident.
    pub by_mail: bool,
}

/// Goes to the reporter: public fields only.
pub struct Resolved {
    pub key: String,
    pub title: String,
    pub resolution: String,
    pub by: String,
    /// When the automatic close may happen, if it is switched on.
    pub closes_after: Option<NaiveDateTime>,
}

/// Goes to the reporter: public fields only.
pub struct Closed {
    pub key: String,
    pub title: String,
    pub resolution: String,
    pub automatic: bool,
}

pub struct PasswordReset {
    pub name: String,
    pub expires_at: NaiveDateTime,
}

pub struct PasswordChanged {
    pub name: String,
    pub at: NaiveDateTime,
}

pub struct EmailChanged {
    pub name: String,
    pub old_email: String,
    pub new_email: String,
    pub at: NaiveDateTime,
}

pub struct Digest {
    pub name: String,
    pub day: NaiveDate,
    pub items: Vec<DigestItem>,
}

pub struct DigestItem {
    pub subject: String,
    pub link: Option<String>,
}

/// `name(Facts) => "text path", "html path";` makes `pub fn name(&Facts, &Frame) -> Rendered`
/// with the two template structs hidden inside it.
/// An incident was linked to a problem whose fix had been released.
pub struct ProblemRecurred {
    pub name: String,
    pub problem_key: String,
    pub problem_title: String,
    pub incident_key: String,
    pub incident_title: String,
    pub fix_released_at: Option<NaiveDateTime>,
}

/// The incident that made a problem recurred was unlinked: the recurrence is withdrawn.
pub struct RecurrenceWithdrawn {
    pub name: String,
    pub problem_key: String,
    pub problem_title: String,
    pub incident_key: String,
    pub incident_title: String,
    /// The status label the problem is back to.
    pub status: String,
}

/// A corrective or preventive action passed its due date.
pub struct ActionOverdue {
    pub name: String,
    pub problem_key: String,
    pub problem_title: String,
    pub action: String,
    pub due: NaiveDate,
}

/// The weekly report summary.
pub struct WeeklyReport {
    pub name: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub sections: Vec<WeeklySection>,
}

/// One report in the weekly summary: its headline figures (label, this week, the week before).
#[derive(Debug, Clone)]
pub struct WeeklySection {
    pub title: String,
    pub link: String,
    pub figures: Vec<(String, String, String)>,
}

macro_rules! email_templates {
    ($($name:ident($facts:ty) => $txt:tt, $html:tt;)*) => {$(
        pub fn $name(f: &$facts, m: &Frame<'_>) -> askama::Result<Rendered> {
            #[derive(Template)]
            #[template(path = $txt)]
            struct Text<'a> {
                f: &'a $facts,
                m: &'a Frame<'a>,
            }
            #[derive(Template)]
            #[template(path = $html)]
            struct Html<'a> {
                f: &'a $facts,
                m: &'a Frame<'a>,
            }
            Ok(Rendered { text: Text { f, m }.render()?, html: Html { f, m }.render()? })
        }
    )*};
}

email_templates! {
    incident_created(IncidentCreated) => "email/incident_created.txt", "email/incident_created.html";
    assigned(Assigned) => "email/assigned.txt", "email/assigned.html";
    escalated(Escalated) => "email/escalated.txt", "email/escalated.html";
    sla_warning(Sla) => "email/sla_warning.txt", "email/sla_warning.html";
    sla_breach(Sla) => "email/sla_breach.txt", "email/sla_breach.html";
    received(Received) => "email/received.txt", "email/received.html";
    public_reply(PublicReply) => "email/public_reply.txt", "email/public_reply.html";
    internal_note(InternalNote) => "email/internal_note.txt", "email/internal_note.html";
    resolved(Resolved) => "email/resolved.txt", "email/resolved.html";
    closed(Closed) => "email/closed.txt", "email/closed.html";
    reopened(Reopened) => "email/reopened.txt", "email/reopened.html";
    password_reset(PasswordReset) => "email/password_reset.txt", "email/password_reset.html";
    password_changed(PasswordChanged) => "email/password_changed.txt", "email/password_changed.html";
    email_changed(EmailChanged) => "email/email_changed.txt", "email/email_changed.html";
    digest(Digest) => "email/digest.txt", "email/digest.html";
    problem_recurred(ProblemRecurred) => "email/problem_recurred.txt", "email/problem_recurred.html";
    action_overdue(ActionOverdue) => "email/action_overdue.txt", "email/action_overdue.html";
    weekly_report(WeeklyReport) => "email/weekly_report.txt", "email/weekly_report.html";
    problem_recurrence_withdrawn(RecurrenceWithdrawn) => "email/problem_recurrence_withdrawn.txt", "email/problem_recurrence_withdrawn.html";
}

#[cfg(test)]
mod tests;

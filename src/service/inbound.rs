//! Incoming mail: a message posted to /mail/inbound becomes a new incident, a public reply on the
//! incident it answers, a message in the review queue, or a refusal with its reason; each in one
//! transaction together with the record of the message, which is taken once per Message-ID.

use super::incidents::{NewIncidentInput, add_comment_in, change_status_in, create_in, record_link};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::{Incident, User};
use crate::db::{DbConnection, inbound, incidents, organizations, services, settings, users};
use crate::domain::inbound::{ClosedReply, UnknownSender, domain_of, subject_key, title_from_subject};
use crate::domain::incident::{BodyFormat, LinkKind, Mover, Status, key};
use crate::domain::notify::{Thread, reaches_customers, thread_of};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::role::Role;
use crate::mail::inbound::{ParsedMail, parse};
use std::borrow::Cow;

const KEY_UNKNOWN: &str = "inbound.unknown_sender";
const KEY_CLOSED: &str = "inbound.closed_reply";
const KEY_SERVICE: &str = "inbound.service_id";

/// What the admin decided about incoming mail (at /admin/inbound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSettings {
    pub unknown_sender: UnknownSender,
    pub closed_reply: ClosedReply,
    /// The service new incidents from mail are filed under; None: the first active service.
    pub service_id: Option<i64>,
}

pub fn settings(conn: &mut DbConnection) -> ServiceResult<InboundSettings> {
    let stored = settings::get_many(conn, &[KEY_UNKNOWN, KEY_CLOSED, KEY_SERVICE])?;
    let get = |k: &str| stored.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or("");
    Ok(InboundSettings {
        unknown_sender: UnknownSender::parse(get(KEY_UNKNOWN)).unwrap_or(UnknownSender::CreateCustomer),
        closed_reply: ClosedReply::parse(get(KEY_CLOSED)).unwrap_or(ClosedReply::Reopen),
        service_id: get(KEY_SERVICE).parse().ok(),
    })
}

pub fn update_settings(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    unknown_sender: &str,
    closed_reply: &str,
    service_id: &str,
) -> ServiceResult<InboundSettings> {
    authorize(&actor_of(admin), Action::ManageInbound, Resource::None)?;
    let mut errors = FieldErrors::default();
    let unknown = UnknownSender::parse(unknown_sender);
    if unknown.is_none() {
        errors.add("unknown_sender", "Choose what happens to mail from unknown senders.");
    }
    let closed = ClosedReply::parse(closed_reply);
    if closed.is_none() {
        errors.add("closed_reply", "Choose what a reply to a closed incident does.");
    }
    state.tx(|conn| {
        let service = match service_id.trim() {
            "" => None,
            s => match s.parse::<i64>().ok().map(|id| services::find(conn, id)) {
                Some(Ok(svc)) if svc.active => Some(svc.id),
                Some(Err(e)) if !matches!(e, crate::db::DbError::NotFound) => return Err(e.into()),
                _ => {
                    errors.add("service_id", "Choose an active service.");
                    None
                }
            },
        };
        std::mem::take(&mut errors).into_result()?;
        let (Some(unknown), Some(closed)) = (unknown, closed) else {
            return Err(ServiceError::Internal("validated settings missing".into()));
        };
        let now = state.clock.now_naive();
        settings::set(conn, KEY_UNKNOWN, unknown.as_str(), now)?;
        settings::set(conn, KEY_CLOSED, closed.as_str(), now)?;
        settings::set(conn, KEY_SERVICE, &service.map(|s| s.to_string()).unwrap_or_default(), now)?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "inbound.settings",
            "",
            &format!("unknown senders: {}; replies to closed: {}", unknown.as_str(), closed.as_str()),
        )?;
        settings(conn)
    })
}

/// What became of a message, as /mail/inbound answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// accepted, review, refused, or duplicate (taken before).
    pub status: &'static str,
    /// created, replied, reopened, follow_up; empty otherwise.
    pub outcome: &'static str,
    pub reason: String,
    pub incident: Option<String>,
    /// Refused as ambiguous or malformed: the sender's MTA should bounce it (HTTP 422).
    pub malformed: bool,
}

enum Fate {
    Filed {
        outcome: &'static str,
        incident_id: i64,
        comment_id: Option<i64>,
    },
    Review(String),
    Refused(String),
    /// Refused because it is ambiguous or malformed (several authors, duplicated headers).
    Malformed(String),
}

/// Takes one raw message.
pub fn receive(state: &AppState, raw: &[u8]) -> ServiceResult<Receipt> {
    let mail = parse(raw).unwrap_or_else(|| ParsedMail {
        message_id: format!("sha256-{}@firewatch", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw))),
        ..Default::default()
    });
    let result = crate::mail::caused_by_mail(|| {
        state.tx(|conn| {
            if inbound::exists(conn, &mail.message_id)? {
                return Ok(None);
            }
            // Claim the Message-ID first: a second delivery running at the same time waits here
            // and then finds it taken (in a savepoint, so the transaction survives the refusal).
            let claimed = diesel::Connection::transaction(conn, |conn| {
                inbound::insert(
                    conn,
                    &inbound::NewInbound {
                        message_id: &mail.message_id,
                        from_address: &mail.from_address,
                        from_name: &mail.from_name,
                        subject: &mail.subject,
                        status: "review",
                        outcome: "",
                        reason: "",
                        incident_id: None,
                        comment_id: None,
                        raw: None,
                        now: state.clock.now_naive(),
                    },
                )
            });
            let row = match claimed {
                Ok(id) => id,
                Err(crate::db::DbError::Conflict) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let fate = if mail.from_address.is_empty() && mail.body.is_empty() && mail.subject.is_empty() {
                Fate::Refused("not a mail message".into())
            } else {
                decide(state, conn, &mail)?
            };
            let receipt = finish(conn, row, &fate, raw)?;
            Ok(Some(receipt))
        })
    });
    match result {
        Ok(Some(r)) => {
            tracing::info!(message_id = %mail.message_id, status = r.status, outcome = r.outcome, reason = %r.reason, "inbound mail");
            Ok(r)
        }
        Ok(None) => {
            tracing::info!(message_id = %mail.message_id, "inbound mail: duplicate Message-ID, taken before");
            Ok(Receipt {
                status: "duplicate",
                outcome: "",
                reason: "this message was received before".into(),
                incident: None,
                malformed: false,
            })
        }
        Err(e) => Err(e),
    }
}

fn finish(conn: &mut DbConnection, row: i64, fate: &Fate, raw: &[u8]) -> ServiceResult<Receipt> {
    let (status, outcome, reason, incident_id, comment_id) = match fate {
        Fate::Filed { outcome, incident_id, comment_id } => ("accepted", *outcome, "", Some(*incident_id), *comment_id),
        Fate::Review(r) => ("review", "", r.as_str(), None, None),
        Fate::Refused(r) | Fate::Malformed(r) => ("refused", "", r.as_str(), None, None),
    };
    inbound::record_fate(conn, row, status, outcome, reason, incident_id, comment_id, Some(raw))?;
    Ok(Receipt {
        status,
        outcome,
        reason: reason.to_string(),
        incident: incident_id.map(key),
        malformed: matches!(fate, Fate::Malformed(_)),
    })
}

/// Which thread of the incident a reply answers, as far as its references show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// It answers mail the customer side of the incident saw.
    Public,
    /// It answers (or quotes) staff-only mail.
    StaffOnly,
    /// Nothing shows which: a subject tag only, or references we cannot place.
    Unknown,
}

/// The incident a message answers, if it names one (our Message-IDs in its references, an
/// earlier inbound message it answers, or `[INC-n]` in the subject), and which of its threads.
fn referenced_incident(
    state: &AppState,
    conn: &mut DbConnection,
    mail: &ParsedMail,
) -> ServiceResult<Option<(i64, Channel)>> {
    let host = state.config.mail_host();
    let bracketed: Vec<String> = mail.refs.iter().map(|r| format!("<{r}>")).collect();
    let sent = inbound::sent_among(conn, &bracketed)?;
    let filed = inbound::filed_among(conn, &mail.refs)?;
    // Each reference as (incident, staff-only?), most recent first; None where it is not ours.
    let placed: Vec<Option<(i64, Option<bool>)>> = mail
        .refs
        .iter()
        .zip(&bracketed)
        .map(|(r, b)| {
            if let Some((_, n, kind)) = sent.iter().find(|(m, _, _)| m == b) {
                return Some((*n, Some(!reaches_customers(kind))));
            }
            if let Some((_, n, internal)) = filed.iter().find(|(m, _, _)| m == r) {
                return Some((*n, Some(internal.unwrap_or(false))));
            }
            thread_of(r, &host).map(|t| match t {
                Thread::StaffOnly(n) => (n, Some(true)),
                // Our pattern but not in the outbox: which mail it was is unknown.
                Thread::Public(n) => (n, None),
            })
        })
        .collect();
    let Some((incident, _)) = placed.iter().flatten().next().copied() else {
        return Ok(subject_key(&mail.subject).map(|n| (n, Channel::Unknown)));
    };
    let ours: Vec<Option<bool>> = placed.iter().flatten().filter(|(n, _)| *n == incident).map(|(_, s)| *s).collect();
    let channel = if ours.contains(&Some(true)) {
        Channel::StaffOnly
    } else if placed.first().copied().flatten().is_some_and(|(n, s)| n == incident && s == Some(false)) {
        Channel::Public
    } else {
        Channel::Unknown
    };
    Ok(Some((incident, channel)))
}

fn decide(state: &AppState, conn: &mut DbConnection, mail: &ParsedMail) -> ServiceResult<Fate> {
    // Never filed as anyone: which header is the real one is the attacker's choice.
    if let Some(why) = &mail.malformed {
        return Ok(Fate::Malformed(why.clone()));
    }
    if let Some(why) = &mail.automatic {
        return Ok(Fate::Refused(why.clone()));
    }
    if inbound::is_ours(conn, &format!("<{}>", mail.message_id))?
        || mail.from_address == state.config.mail_from_address()
    {
        return Ok(Fate::Refused("our own message came back (mail loop)".into()));
    }
    if mail.from_address.is_empty() {
        return Ok(Fate::Refused("the message has no sender address".into()));
    }
    let sender = users::find_by_email(conn, &mail.from_address)?;
    if sender.as_ref().is_some_and(|u| !u.active) {
        return Ok(Fate::Refused(format!("{} belongs to a deactivated account", mail.from_address)));
    }
    if sender.is_none() && mail.list_mail {
        return Ok(Fate::Refused(format!("mailing-list mail from an unknown sender ({})", mail.from_address)));
    }
    if let (Some(_), Some(authserv)) = (&sender, &state.config.inbound_authserv_id)
        && !crate::domain::inbound::authenticated(&mail.auth_results, authserv)
    {
        return Ok(Fate::Review(format!(
            "mail from {} did not pass SPF or DMARC at {authserv}: it may be forged",
            mail.from_address
        )));
    }
    let cfg = settings(conn)?;
    let target = referenced_incident(state, conn, mail)?;
    // In a savepoint: a message the incident rules refuse goes to review with nothing half-written.
    let filed = diesel::Connection::transaction(conn, |conn| match target {
        Some((id, channel)) => reply(state, conn, mail, sender, (id, channel), &cfg),
        None => new_incident(state, conn, mail, sender, &cfg, None),
    });
    match filed {
        Err(ServiceError::Invalid(errors)) => {
            let why = errors.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            Ok(Fate::Review(format!("the message could not be filed: {why}")))
        }
        Err(ServiceError::Forbidden) => Ok(Fate::Review("the sender may not do this".into())),
        other => other,
    }
}

fn reply(
    state: &AppState,
    conn: &mut DbConnection,
    mail: &ParsedMail,
    sender: Option<User>,
    (id, channel): (i64, Channel),
    cfg: &InboundSettings,
) -> ServiceResult<Fate> {
    let k = key(id);
    let inc = match incidents::find(conn, id) {
        Ok(i) => i,
        Err(crate::db::DbError::NotFound) => {
            return Ok(Fate::Review(format!("the message refers to {k}, which does not exist")));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(sender) = sender else {
        return Ok(Fate::Review(format!("{} has no account and replied to {k}", mail.from_address)));
    };
    let actor = actor_of(&sender);
    let res = super::incidents::resource_of(conn, &inc)?;
    if !policy::allows(Some(&actor), Action::CommentPublic, res) {
        return Ok(Fate::Review(format!("{} may not reply to {k}", mail.from_address)));
    }
    if mail.body.trim().is_empty() && mail.attachments.is_empty() {
        return Ok(Fate::Review(format!("the reply to {k} is empty once the quoted text is removed")));
    }
    let staff = policy::allows(Some(&actor), Action::WorkIncident, res);
    // Staff answering staff-only mail, or mail we cannot place, write an internal note: only a
    // reply to what the customer saw may reach the customer.
    let internal = staff && policy::allows(Some(&actor), Action::UseInternalNotes, res) && channel != Channel::Public;
    let status = Status::parse(&inc.status).unwrap_or(Status::New);
    let mut outcome = if internal { "noted" } else { "replied" };
    if internal {
        // An internal note changes nothing the customer sees, the status included.
    } else if status == Status::Closed {
        match cfg.closed_reply {
            ClosedReply::FollowUp => return new_incident(state, conn, mail, Some(sender), cfg, Some(&inc)),
            ClosedReply::Reopen => {
                change_status_in(state, conn, &sender, inc.id, inc.version, "in_progress", "", Some(Mover::Staff))?;
                outcome = "reopened";
            }
        }
    } else if status == Status::Resolved && !staff {
        // "If the problem is not gone, reply": the reporter's answer reopens it.
        change_status_in(state, conn, &sender, inc.id, inc.version, "in_progress", "", Some(Mover::Staff))?;
        outcome = "reopened";
    }
    let (body, keep) = with_attachment_notes(state, &mail.body, &mail.attachments);
    let body = if body.trim().is_empty() { "(attachments only)".to_string() } else { body };
    let c = add_comment_in(state, conn, &sender, inc.id, &body, (internal, BodyFormat::Text))?;
    store(state, conn, inc.id, Some(c.id), &keep, sender.id, internal)?;
    Ok(Fate::Filed { outcome, incident_id: inc.id, comment_id: Some(c.id) })
}

fn new_incident(
    state: &AppState,
    conn: &mut DbConnection,
    mail: &ParsedMail,
    sender: Option<User>,
    cfg: &InboundSettings,
    follows: Option<&Incident>,
) -> ServiceResult<Fate> {
    let Some(service_id) = filing_service(conn, cfg)? else {
        return Ok(Fate::Review("there is no active service to file new incidents under".into()));
    };
    let reporter = match sender {
        Some(u) => u,
        None => match cfg.unknown_sender {
            UnknownSender::Reject => {
                return Ok(Fate::Refused(format!(
                    "{} has no account, and mail from unknown senders is refused",
                    mail.from_address
                )));
            }
            UnknownSender::CreateCustomer => {
                let domain = domain_of(&mail.from_address).unwrap_or_default();
                match organizations::by_domain(conn, &domain)? {
                    Some(org) => create_customer(state, conn, mail, Some(org.id))?,
                    None => {
                        return Ok(Fate::Refused(format!(
                            "{} has no account, and no organization has the domain {domain}",
                            mail.from_address
                        )));
                    }
                }
            }
        },
    };
    let inc = file(state, conn, mail, &reporter, service_id, follows)?;
    Ok(Fate::Filed {
        outcome: if follows.is_some() { "follow_up" } else { "created" },
        incident_id: inc.id,
        comment_id: None,
    })
}

pub(super) fn filing_service(conn: &mut DbConnection, cfg: &InboundSettings) -> ServiceResult<Option<i64>> {
    let all = services::all(conn)?;
    Ok(cfg
        .service_id
        .and_then(|id| all.iter().find(|s| s.id == id && s.active))
        .or_else(|| all.iter().filter(|s| s.active).min_by_key(|s| s.id))
        .map(|s| s.id))
}

/// Creates the incident, as `reporter`, with the mail's attachments on it.
pub(super) fn file(
    state: &AppState,
    conn: &mut DbConnection,
    mail: &ParsedMail,
    reporter: &User,
    service_id: i64,
    follows: Option<&Incident>,
) -> ServiceResult<Incident> {
    let (mut description, keep) = with_attachment_notes(state, &mail.body, &mail.attachments);
    let mut title = title_from_subject(&mail.subject);
    if let Some(prev) = follows {
        description = format!("Follow-up to {} (closed).\n\n{description}", key(prev.id));
        if crate::domain::inbound::subject_key(&title).is_some() {
            title = prev.title.clone();
        }
    }
    let input = NewIncidentInput {
        title,
        description,
        service_id: service_id.to_string(),
        impact: "medium".into(),
        urgency: "medium".into(),
        by_email: true,
        ..Default::default()
    };
    let inc = create_in(state, conn, reporter, &input)?;
    store(state, conn, inc.id, None, &keep, reporter.id, false)?;
    if let Some(prev) = follows {
        record_link(state, conn, &inc, prev, LinkKind::RelatedTo, reporter)?;
    }
    Ok(inc)
}

pub(super) fn create_customer(
    state: &AppState,
    conn: &mut DbConnection,
    mail: &ParsedMail,
    organization_id: Option<i64>,
) -> ServiceResult<User> {
    let name = if mail.from_name.trim().is_empty() {
        mail.from_address.split('@').next().unwrap_or("Customer").to_string()
    } else {
        mail.from_name.trim().to_string()
    };
    let name: String = name.chars().take(120).collect();
    let user = users::insert(
        conn,
        &users::NewUser {
            email: &mail.from_address,
            display_name: &name,
            role: Role::Customer.as_str(),
            organization_id,
            time_zone: "UTC",
            password_hash: None,
            now: state.clock.now_naive(),
        },
    )?;
    let meta = RequestMeta { ip: String::new(), user_agent: "inbound mail".into(), request_id: String::new() };
    state.audit(
        conn,
        &meta,
        None,
        "user.create",
        &user.email,
        &format!("customer created from an incoming mail (organization {organization_id:?})"),
    )?;
    Ok(user)
}

/// The file that holds a message's whole text when the comment had to be shortened.
const FULL_TEXT_NAME: &str = "message.txt";

/// Splits attachments into those kept and, for those over the limit, a note added to the text.
/// A text too long for a comment is cut, and kept whole as `message.txt` (under the same size
/// limit as any attachment), so nothing of it is lost.
pub(super) fn with_attachment_notes<'a>(
    state: &AppState,
    body: &str,
    all: &'a [crate::mail::inbound::Attachment],
) -> (String, Vec<Cow<'a, crate::mail::inbound::Attachment>>) {
    let limit = state.config.attachment_max_bytes;
    let most = state.config.attachment_max_count;
    let mut text = body.to_string();
    let mut keep = Vec::new();
    if all.len() > most {
        text.push_str(&format!(
            "\n\n({} of the {} attachments were not kept: at most {most} are kept from one message.)",
            all.len() - most,
            all.len()
        ));
    }
    for a in all.iter().take(most) {
        if a.data.len() as u64 > limit {
            text.push_str(&format!(
                "\n\n(The attachment {} ({}) was not kept: files over {} are refused.)",
                a.filename,
                human_size(a.data.len() as u64),
                human_size(limit)
            ));
        } else {
            keep.push(Cow::Borrowed(a));
        }
    }
    // Over-long text is cut to what a comment holds; the whole text is kept as a file.
    if text.len() > super::incidents::MAX_BODY_BYTES {
        let mut cut = super::incidents::MAX_BODY_BYTES - 300;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        if body.len() as u64 <= limit {
            text.push_str(&format!("\n\n(The message was shortened; the whole text is attached as {FULL_TEXT_NAME}.)"));
            keep.push(Cow::Owned(crate::mail::inbound::Attachment {
                filename: FULL_TEXT_NAME.into(),
                content_type: "text/plain".into(),
                data: body.as_bytes().to_vec(),
            }));
        } else {
            text.push_str(&format!(
                "\n\n(The message was shortened; its whole text ({}) is over the {} limit for files and was not kept.)",
                human_size(body.len() as u64),
                human_size(limit)
            ));
        }
    }
    (text, keep)
}

pub(super) fn store(
    state: &AppState,
    conn: &mut DbConnection,
    incident_id: i64,
    comment_id: Option<i64>,
    keep: &[Cow<'_, crate::mail::inbound::Attachment>],
    by: i64,
    internal: bool,
) -> ServiceResult<()> {
    let parts = keep.iter().map(|a| (a.filename.as_str(), a.content_type.as_str(), a.data.as_slice()));
    super::incidents::store_attachments(state, conn, (incident_id, comment_id), internal, parts, by)
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{b} bytes"),
    }
}

pub use super::inbound_review::{ReviewAction, list, original, originals, settle, show};

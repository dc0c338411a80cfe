//! Incoming mail after the fact: the admin's review queue (list, read, add to an incident, file
//! as new, dismiss) and the originals of filed messages offered to staff on the incident.

use super::inbound::{Receipt, create_customer, file, filing_service, settings, store, with_attachment_notes};
use super::incidents::{add_comment_in, load_visible};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::{InboundMessage, User};
use crate::db::{inbound, organizations, users};
use crate::domain::inbound::domain_of;
use crate::domain::incident::{BodyFormat, key, parse_key};
use crate::domain::policy::{self, Action, Resource};
use crate::mail::inbound::{ParsedMail, parse};

/// The review queue and the record of refused and accepted messages.
pub fn list(
    state: &AppState,
    admin: &User,
    status: Option<&str>,
    before: Option<i64>,
) -> ServiceResult<(Vec<InboundMessage>, i64)> {
    authorize(&actor_of(admin), Action::ManageInbound, Resource::None)?;
    let mut conn = state.conn()?;
    let rows = inbound::list(&mut conn, status, before, 50)?;
    let waiting = inbound::count_status(&mut conn, "review")?;
    Ok((rows, waiting))
}

/// One message with its text, for the admin to decide.
pub fn show(state: &AppState, admin: &User, id: i64) -> ServiceResult<(InboundMessage, Option<ParsedMail>)> {
    authorize(&actor_of(admin), Action::ManageInbound, Resource::None)?;
    let mut conn = state.conn()?;
    let m = inbound::find(&mut conn, id)?;
    let parsed = inbound::raw(&mut conn, id)?.and_then(|raw| parse(&raw));
    Ok((m, parsed))
}

/// The incident's messages whose original is still kept (for staff who read internal details).
pub fn originals(state: &AppState, user: &User, incident_id: i64) -> ServiceResult<Vec<InboundMessage>> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let (inc, res) = load_visible(&mut conn, &actor, incident_id)?;
    if !policy::allows(Some(&actor), Action::UseInternalNotes, res) {
        return Ok(Vec::new());
    }
    Ok(inbound::originals_for(&mut conn, inc.id)?)
}

/// One original message of the incident, as received: (Message-ID, bytes).
pub fn original(state: &AppState, user: &User, incident_id: i64, message: i64) -> ServiceResult<(String, Vec<u8>)> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let (inc, res) = load_visible(&mut conn, &actor, incident_id)?;
    if !policy::allows(Some(&actor), Action::UseInternalNotes, res) {
        return Err(ServiceError::NotFound);
    }
    let m = inbound::find(&mut conn, message)?;
    if m.incident_id != Some(inc.id) {
        return Err(ServiceError::NotFound);
    }
    let raw = inbound::raw(&mut conn, m.id)?.ok_or(ServiceError::NotFound)?;
    Ok((m.message_id, raw))
}

/// What an admin does with a message in review (or a refused one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewAction {
    /// Add it as a public reply to this incident (key).
    AddTo(String),
    /// File it as a new incident from its sender.
    Create,
    Dismiss,
}

pub fn settle(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    id: i64,
    action: &ReviewAction,
) -> ServiceResult<Receipt> {
    let actor = actor_of(admin);
    authorize(&actor, Action::ManageInbound, Resource::None)?;
    state.tx(|conn| {
        let m = inbound::find(conn, id)?;
        if !matches!(m.status.as_str(), "review" | "refused") {
            return Err(ServiceError::Conflict("This message was handled already.".into()));
        }
        let now = state.clock.now_naive();
        if *action == ReviewAction::Dismiss {
            inbound::settle(conn, id, "dismissed", "", None, None, admin.id, now)?;
            state.audit(conn, meta, Some(admin), "inbound.dismiss", &m.message_id, &m.subject)?;
            return Ok(Receipt {
                status: "dismissed",
                outcome: "",
                reason: String::new(),
                incident: None,
                malformed: false,
            });
        }
        let raw = inbound::raw(conn, id)?.unwrap_or_default();
        let Some(mail) = parse(&raw) else {
            return Err(ServiceError::Conflict("The original message is no longer kept; dismiss it instead.".into()));
        };
        let sender = users::find_by_email(conn, &mail.from_address)?.filter(|u| u.active);
        let (outcome, incident_id, comment_id) = match action {
            ReviewAction::AddTo(k) => {
                let Some(target) = parse_key(k.trim().to_uppercase().as_str()) else {
                    return Err(ServiceError::Invalid(FieldErrors::single(
                        "key",
                        "Enter an incident key like INC-42.",
                    )));
                };
                let inc = match load_visible(conn, &actor, target) {
                    Ok((i, _)) => i,
                    Err(ServiceError::NotFound) => {
                        return Err(ServiceError::Invalid(FieldErrors::single(
                            "key",
                            "There is no incident with that key.",
                        )));
                    }
                    Err(e) => return Err(e),
                };
                let res = super::incidents::resource_of(conn, &inc)?;
                let (author, preface) = match sender {
                    Some(s) if policy::allows(Some(&actor_of(&s)), Action::CommentPublic, res) => (s, String::new()),
                    _ => (admin.clone(), format!("Mail from {} <{}>:\n\n", mail.from_name, mail.from_address)),
                };
                let (body, keep) = with_attachment_notes(state, &mail.body, &mail.attachments);
                let body = format!("{preface}{}", if body.trim().is_empty() { "(attachments only)" } else { &body });
                // A staff member's own mail may quote staff-only mail: it stays internal.
                let internal =
                    preface.is_empty() && policy::allows(Some(&actor_of(&author)), Action::UseInternalNotes, res);
                let c = add_comment_in(state, conn, &author, inc.id, &body, (internal, BodyFormat::Text))?;
                store(state, conn, inc.id, Some(c.id), &keep, author.id, internal)?;
                ("replied", inc.id, Some(c.id))
            }
            ReviewAction::Create => {
                let reporter = match sender {
                    Some(u) => u,
                    None => match users::find_by_email(conn, &mail.from_address)? {
                        Some(_) => {
                            return Err(ServiceError::Conflict(
                                "The sender's account is deactivated; reactivate it first.".into(),
                            ));
                        }
                        None => {
                            let org =
                                organizations::by_domain(conn, &domain_of(&mail.from_address).unwrap_or_default())?;
                            create_customer(state, conn, &mail, org.map(|o| o.id))?
                        }
                    },
                };
                let cfg = settings(conn)?;
                let Some(service_id) = filing_service(conn, &cfg)? else {
                    return Err(ServiceError::Conflict("Create an active service first.".into()));
                };
                let inc = file(state, conn, &mail, &reporter, service_id, None)?;
                ("created", inc.id, None)
            }
            ReviewAction::Dismiss => return Err(ServiceError::Internal("dismiss is handled above".into())),
        };
        inbound::settle(conn, id, "accepted", outcome, Some(incident_id), comment_id, admin.id, now)?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "inbound.accept",
            &m.message_id,
            &format!("{outcome} {}", key(incident_id)),
        )?;
        Ok(Receipt {
            status: "accepted",
            outcome,
            reason: String::new(),
            incident: Some(key(incident_id)),
            malformed: false,
        })
    })
}

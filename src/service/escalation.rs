//! Escalation tiers: moving incidents between tiers (by hand, or automatically on an SLA
//! breach) and administering tiers, members and on-call rotations.

use super::incidents::{event, load_for};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::incidents::IncidentChanges;
use crate::db::models::{Incident, Tier, User};
use crate::db::{DbConnection, tiers, users};
use crate::domain::oncall::{self, ESCALATION_REASONS, Rotation, reason_label};
use crate::domain::policy::{self, Action, Resource};
use chrono::NaiveDate;

/// Where to move an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierTarget {
    Next,
    Previous,
    Tier(i64),
}

impl TierTarget {
    pub fn parse(s: &str) -> Option<TierTarget> {
        match s.trim() {
            "next" => Some(TierTarget::Next),
            "previous" => Some(TierTarget::Previous),
            other => other.parse().ok().map(TierTarget::Tier),
        }
    }
}

/// The active staff member on call for a tier today, if the tier has a rotation.
pub fn on_call_today(conn: &mut DbConnection, tier_id: i64, today: NaiveDate) -> ServiceResult<Option<User>> {
    let Some(rotation) = tiers::rotation(conn, tier_id)? else {
        return Ok(None);
    };
    let Some(user_id) = oncall::on_call(&rotation, today) else {
        return Ok(None);
    };
    let user = users::find(conn, user_id)?;
    let works = user.active && policy::role_may(actor_of(&user).role, Action::WorkIncident);
    Ok(works.then_some(user))
}

/// Who holds an incident after a tier change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The new tier's on-call person took it.
    OnCall(String),
    /// The assignee kept it, as the one who moved it chose.
    Kept(String),
    /// Nobody: the new tier has no one on call today.
    Nobody,
}

/// A tier change done: the incident, the tier it is in now, and who holds it.
#[derive(Debug, Clone)]
pub struct Moved {
    pub incident: Incident,
    pub tier: String,
    pub holder: Holder,
}

/// Moves the incident to another tier, assigning the target tier's on-call person (or nobody;
/// or, with `keep_assignee` and an assignee, keeping them), and writes the escalation record and
/// its timeline events. `actor` None means Firewatch itself (an SLA breach).
#[allow(clippy::too_many_arguments)]
pub(crate) fn move_to_tier(
    state: &AppState,
    conn: &mut DbConnection,
    inc: &Incident,
    version: i32,
    to: &Tier,
    actor: Option<&User>,
    reason_code: &str,
    reason_text: &str,
    keep_assignee: bool,
) -> ServiceResult<Moved> {
    let from = tiers::find(conn, inc.tier_id)?;
    let now = state.clock.now_naive();
    let keep = keep_assignee && inc.assignee_id.is_some();
    let on_call = if keep { None } else { on_call_today(conn, to.id, now.date())? };
    let changes = IncidentChanges {
        tier_id: Some(to.id),
        assignee_id: (!keep).then(|| on_call.as_ref().map(|u| u.id)),
        ..Default::default()
    };
    let old_assignee = match inc.assignee_id {
        Some(a) => users::find(conn, a)?.display_name,
        None => String::new(),
    };
    let updated = super::incidents::apply(conn, inc, version, &changes, now)?;
    let automatic = actor.is_none();
    tiers::record_escalation(
        conn,
        &tiers::NewEscalation {
            incident_id: inc.id,
            at: now,
            actor_id: actor.map(|a| a.id),
            from_tier_id: from.id,
            to_tier_id: to.id,
            reason_code,
            reason_text,
            automatic,
        },
    )?;
    let kind = if to.position > from.position { "escalated" } else { "deescalated" };
    let reason = match (reason_label(reason_code).unwrap_or(reason_code), reason_text.trim()) {
        (label, "") => label.to_string(),
        (label, text) => format!("{label}: {text}"),
    };
    let how = if automatic { "automatic" } else { "manual" };
    let actor_id = actor.map(|a| a.id);
    event(conn, &updated, actor_id, kind, how, &from.name, &format!("{} ({reason})", to.name), true, None, now)?;
    let moved = crate::mail::compose::Escalation {
        from_tier: &from.name,
        to_tier: &to.name,
        upward: to.position > from.position,
        reason: &reason,
        automatic,
    };
    crate::mail::compose::escalated(state, conn, &updated, &moved, actor_id)?;
    let new_name = on_call.map(|u| u.display_name).unwrap_or_default();
    if inc.assignee_id != updated.assignee_id {
        event(conn, &updated, actor_id, "assigned", "assignee", &old_assignee, &new_name, false, None, now)?;
    }
    let holder = match (keep, updated.assignee_id) {
        (true, _) => Holder::Kept(old_assignee),
        (false, Some(_)) => Holder::OnCall(new_name),
        (false, None) => Holder::Nobody,
    };
    Ok(Moved { incident: updated, tier: to.name.clone(), holder })
}

/// Escalates or de-escalates by hand. The reason is one of the listed codes; "other" needs text.
#[allow(clippy::too_many_arguments)]
pub fn escalate(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    version: i32,
    target: TierTarget,
    reason_code: &str,
    reason_text: &str,
    keep_assignee: bool,
) -> ServiceResult<Moved> {
    let actor = actor_of(user);
    state.tx(|conn| {
        let (inc, _) = load_for(conn, &actor, incident_id, Action::WorkIncident)?;
        let mut errors = FieldErrors::default();
        if !ESCALATION_REASONS.iter().any(|(c, _)| *c == reason_code) {
            errors.add("reason", "Choose a reason.");
        }
        let text = reason_text.trim();
        if reason_code == "other" && text.is_empty() {
            errors.add("reason_text", "Say why, when the reason is \u{201c}Other\u{201d}.");
        }
        if text.chars().count() > 500 {
            errors.add("reason_text", "Keep the reason under 500 characters.");
        }
        let all = tiers::all(conn)?;
        let idx = all.iter().position(|t| t.id == inc.tier_id).unwrap_or(0);
        let to = match target {
            TierTarget::Next => all.get(idx + 1),
            TierTarget::Previous => idx.checked_sub(1).and_then(|i| all.get(i)),
            TierTarget::Tier(id) => all.iter().find(|t| t.id == id && t.id != inc.tier_id),
        };
        let Some(to) = to.cloned() else {
            errors.add("tier", "Choose another tier.");
            return Err(ServiceError::Invalid(errors));
        };
        errors.into_result()?;
        move_to_tier(state, conn, &inc, version, &to, Some(user), reason_code, text, keep_assignee)
    })
}

#[derive(Debug, Clone, Default)]
pub struct TierInput {
    pub name: String,
    pub members: Vec<String>,
    pub rotation_enabled: bool,
    pub shift_days: String,
    pub start_date: String,
    /// Emails, one per line, in rotation order.
    pub rotation_emails: String,
    /// Lines "YYYY-MM-DD email".
    pub overrides: String,
}

/// Saves a tier: name, members, rotation.
pub fn update_tier(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    tier_id: i64,
    input: &TierInput,
) -> ServiceResult<()> {
    authorize(&actor_of(admin), Action::ManageTiers, Resource::None)?;
    state.tx(|conn| {
        let tier = tiers::find(conn, tier_id)?;
        let mut errors = FieldErrors::default();
        let name = crate::domain::validate::label(&input.name, "Name", 80).map_err(|e| errors.add("name", e)).ok();
        let mut members = Vec::new();
        for m in &input.members {
            match m.parse::<i64>().ok().map(|id| users::find(conn, id)) {
                Some(Ok(u)) if policy::role_may(actor_of(&u).role, Action::WorkIncident) => members.push(u.id),
                Some(Err(e)) if !matches!(e, crate::db::DbError::NotFound) => return Err(e.into()),
                _ => errors.add("members", "Members must be staff who work incidents."),
            }
        }
        let mut staff_by_email =
            |email: &str, field: &'static str, errors: &mut FieldErrors| -> ServiceResult<Option<i64>> {
                match users::find_by_email(conn, &email.trim().to_lowercase())? {
                    Some(u) if u.active && policy::role_may(actor_of(&u).role, Action::WorkIncident) => Ok(Some(u.id)),
                    _ => {
                        errors
                            .add(field, format!("{} is not an active staff member who works incidents.", email.trim()));
                        Ok(None)
                    }
                }
            };
        let rotation = if input.rotation_enabled {
            let shift_days = input.shift_days.trim().parse::<i64>().ok().filter(|d| (1..=365).contains(d));
            if shift_days.is_none() {
                errors.add("shift_days", "Shift length is a number of days from 1 to 365.");
            }
            let start = NaiveDate::parse_from_str(input.start_date.trim(), "%Y-%m-%d").ok();
            if start.is_none() {
                errors.add("start_date", "Enter the first day of the rotation.");
            }
            let mut order = Vec::new();
            for line in input.rotation_emails.lines().filter(|l| !l.trim().is_empty()) {
                if let Some(id) = staff_by_email(line, "rotation_emails", &mut errors)? {
                    order.push(id);
                }
            }
            if order.is_empty() {
                errors.add("rotation_emails", "List at least one person, one email per line.");
            }
            let mut overrides = Vec::new();
            for line in input.overrides.lines().filter(|l| !l.trim().is_empty()) {
                let mut parts = line.split_whitespace();
                let day = parts.next().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                match (day, parts.next()) {
                    (Some(day), Some(email)) => {
                        if let Some(id) = staff_by_email(email, "overrides", &mut errors)? {
                            overrides.push((day, id));
                        }
                    }
                    _ => errors.add("overrides", format!("'{}' is not \u{201c}YYYY-MM-DD email\u{201d}.", line.trim())),
                }
            }
            match (shift_days, start) {
                (Some(shift_days), Some(start)) => Some(Rotation { members: order, shift_days, start, overrides }),
                _ => None,
            }
        } else {
            None
        };
        errors.into_result()?;
        let name = name.unwrap_or_else(|| tier.name.clone());
        let now = state.clock.now_naive();
        tiers::rename(conn, tier_id, &name, now)?;
        members.sort_unstable();
        members.dedup();
        tiers::set_members(conn, tier_id, &members)?;
        tiers::set_rotation(conn, tier_id, rotation.as_ref())?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "tier.update",
            &format!("tier:{tier_id}"),
            &format!("{name}: {} member(s), rotation {}", members.len(), if rotation.is_some() { "on" } else { "off" }),
        )
    })
}

/// A tier as `/admin/tiers` lists it.
#[derive(Debug, Clone)]
pub struct TierSummary {
    pub id: i64,
    pub name: String,
    pub members: i64,
    /// Who is on call today; empty when nobody is.
    pub on_call: String,
}

pub fn tier_overview(state: &AppState, admin: &User) -> ServiceResult<Vec<TierSummary>> {
    authorize(&actor_of(admin), Action::ManageTiers, Resource::None)?;
    let today = state.clock.now_naive().date();
    let mut conn = state.conn()?;
    let counts: std::collections::HashMap<i64, i64> = tiers::member_counts(&mut conn)?.into_iter().collect();
    let mut rows = Vec::new();
    for t in tiers::all(&mut conn)? {
        let on_call = on_call_today(&mut conn, t.id, today)?.map(|u| u.display_name).unwrap_or_default();
        rows.push(TierSummary { members: counts.get(&t.id).copied().unwrap_or(0), id: t.id, name: t.name, on_call });
    }
    Ok(rows)
}

/// The tier form: the tier, the staff who may be members, and the values to show (`input` as
/// typed when it comes back with errors, else the stored ones).
pub fn tier_form(
    state: &AppState,
    admin: &User,
    id: i64,
    input: Option<TierInput>,
) -> ServiceResult<(Tier, Vec<User>, TierInput)> {
    authorize(&actor_of(admin), Action::ManageTiers, Resource::None)?;
    let mut conn = state.conn()?;
    let tier = tiers::find(&mut conn, id)?;
    let staff = users::active_with_roles(&mut conn, &super::incidents::working_roles(), 1000)?;
    let input = match input {
        Some(i) => i,
        None => {
            let members = tiers::members(&mut conn, id)?.iter().map(|m| m.to_string()).collect();
            let rotation = tiers::rotation(&mut conn, id)?;
            let email = |uid: i64| staff.iter().find(|u| u.id == uid).map(|u| u.email.clone()).unwrap_or_default();
            TierInput {
                name: tier.name.clone(),
                members,
                rotation_enabled: rotation.is_some(),
                shift_days: rotation.as_ref().map(|r| r.shift_days.to_string()).unwrap_or_else(|| "7".into()),
                start_date: rotation.as_ref().map(|r| r.start.to_string()).unwrap_or_default(),
                rotation_emails: rotation
                    .as_ref()
                    .map(|r| r.members.iter().map(|m| email(*m)).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default(),
                overrides: rotation
                    .as_ref()
                    .map(|r| {
                        r.overrides.iter().map(|(d, u)| format!("{d} {}", email(*u))).collect::<Vec<_>>().join("\n")
                    })
                    .unwrap_or_default(),
            }
        }
    };
    Ok((tier, staff, input))
}

//! Linking incidents to root-cause records, and the recurrence rule: an incident created after
//! the fix was released makes the problem recurred; unlinking the one that did withdraws it.

use super::problems::{event, status_of};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::history::{self, Record};
use crate::db::models::{Problem, User};
use crate::db::{DbConnection, problems, users};
use crate::domain::incident::{key as inc_key, parse_key as parse_inc_key};
use crate::domain::policy::{Action, Resource};
use crate::domain::problem::{ProblemStatus, is_recurrence, key, parse_key};
use chrono::NaiveDateTime;

/// Links an incident (by key) to a problem; from the problem page or the incident page.
pub fn link_incident(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    problem_id: i64,
    incident_key: &str,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let p = problems::find(conn, problem_id)?;
        link_in(state, conn, user, &p, incident_key)
    })
}

/// The incident-page side: links this incident to a problem named by key.
pub fn link_from_incident(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    problem_key: &str,
) -> ServiceResult<()> {
    let Some(pid) = parse_key(problem_key) else {
        return Err(ServiceError::Invalid(FieldErrors::single("problem", "Enter a problem key like PRB-7.")));
    };
    match link_incident(state, meta, user, pid, &inc_key(incident_id)) {
        Err(ServiceError::NotFound) => {
            Err(ServiceError::Invalid(FieldErrors::single("problem", "There is no problem with that key.")))
        }
        Err(ServiceError::Invalid(e)) => {
            let msg = e.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            Err(ServiceError::Invalid(FieldErrors::single("problem", msg)))
        }
        other => other,
    }
}

pub(super) fn link_in(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    p: &Problem,
    incident_key: &str,
) -> ServiceResult<()> {
    let invalid = |m: &str| ServiceError::Invalid(FieldErrors::single("incident", m));
    let Some(iid) = parse_inc_key(incident_key.trim().to_uppercase().as_str()) else {
        return Err(invalid("Enter an incident key like INC-42."));
    };
    let inc = match super::incidents::load_visible(conn, &actor_of(user), iid) {
        Ok((i, _)) => i,
        Err(ServiceError::NotFound) => return Err(invalid("There is no incident with that key.")),
        Err(e) => return Err(e),
    };
    if problems::links_of(conn, p.id)?.iter().any(|l| l.incident_id == inc.id) {
        return Err(invalid("This incident is linked to the problem already."));
    }
    let now = state.clock.now_naive();
    let after_fix = is_recurrence(status_of(p), p.fix_released_at, inc.created_at);
    problems::link_incident(conn, p.id, inc.id, user.id, after_fix, now)?;
    event(conn, p.id, Some(user.id), "incident_linked", ("", "", &inc_key(inc.id)), now)?;
    super::incidents::event(
        conn,
        &inc,
        Some(user.id),
        "linked",
        "problem",
        "",
        &format!("linked to problem {}", key(p.id)),
        true,
        None,
        now,
    )?;
    problems::touch(conn, p.id, now)?;
    if after_fix && status_of(p) != ProblemStatus::Recurred {
        // The fix did not hold: the problem recurred, and its owner hears it (once: a further
        // incident on a recurred problem is counted after the fix, and shown on its page).
        let from = status_of(p);
        let after =
            problems::set_status(conn, p.id, p.version, ProblemStatus::Recurred.as_str(), None, None, None, now)?
                .ok_or(ServiceError::Stale { current_version: p.version + 1 })?;
        event(conn, p.id, None, "recurred", ("status", from.as_str(), ProblemStatus::Recurred.as_str()), now)?;
        let why = format!("{} recurred after its fix ({})", key(p.id), inc_key(inc.id));
        crate::service::help::problem_changed(state, conn, &after, &why, Some(user.id))?;
        for b in crate::db::bugs::for_problem(conn, p.id)? {
            if matches!(b.status.as_str(), "released" | "verified") && !b.fix_ineffective {
                crate::db::bugs::set_ineffective(conn, b.id, true, now)?;
                history::write(conn, Record::Bug(b.id), None, "fix_ineffective", ("", "", &key(p.id)), now)?;
            }
        }
        if let Some(owner) = p.owner_id.map(|o| users::find(conn, o)).transpose()?.filter(|u| u.active) {
            crate::mail::compose::problem_recurred(state, conn, &owner, p, &inc)?;
        }
    }
    Ok(())
}

pub fn unlink_incident(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    problem_id: i64,
    incident_id: i64,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let p = problems::find(conn, problem_id)?;
        let links = problems::links_of(conn, p.id)?;
        let Some(link) = links.iter().find(|l| l.incident_id == incident_id) else {
            return Err(ServiceError::NotFound);
        };
        problems::unlink_incident(conn, p.id, incident_id)?;
        let now = state.clock.now_naive();
        event(conn, p.id, Some(user.id), "incident_unlinked", ("", &inc_key(incident_id), ""), now)?;
        problems::touch(conn, p.id, now)?;
        let others_recur = links.iter().any(|l| l.incident_id != incident_id && l.after_fix);
        if link.after_fix && !others_recur && status_of(&p) == ProblemStatus::Recurred {
            withdraw_recurrence(state, conn, user, &p, incident_id, now)?;
        }
        Ok(())
    })
}

/// The only incident that made the problem recurred is gone: back to the status it had before
/// (from its history), its bugs' fixes count again, and the owner hears it.
fn withdraw_recurrence(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    p: &Problem,
    incident_id: i64,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let before = history::of(conn, Record::Problem(p.id))?
        .into_iter()
        .rev()
        .find(|e| e.kind == "recurred")
        .and_then(|e| ProblemStatus::parse(&e.old_value))
        .filter(|s| *s != ProblemStatus::Recurred)
        .unwrap_or(ProblemStatus::FixReleased);
    let after = problems::set_status(conn, p.id, p.version, before.as_str(), None, None, None, now)?
        .ok_or(ServiceError::Stale { current_version: p.version + 1 })?;
    event(
        conn,
        p.id,
        Some(user.id),
        "recurrence_withdrawn",
        ("status", ProblemStatus::Recurred.as_str(), before.as_str()),
        now,
    )?;
    let why = format!("{}: the incident that recurred ({}) was unlinked", key(p.id), inc_key(incident_id));
    crate::service::help::problem_changed(state, conn, &after, &why, Some(user.id))?;
    for b in crate::db::bugs::for_problem(conn, p.id)? {
        if b.fix_ineffective {
            crate::db::bugs::set_ineffective(conn, b.id, false, now)?;
            history::write(conn, Record::Bug(b.id), Some(user.id), "fix_effective_again", ("", "", &key(p.id)), now)?;
        }
    }
    if let Some(owner) = p.owner_id.map(|o| users::find(conn, o)).transpose()?.filter(|u| u.active) {
        let inc = crate::db::incidents::find(conn, incident_id)?;
        crate::mail::compose::problem_recurrence_withdrawn(state, conn, &owner, p, &inc, before.label())?;
    }
    Ok(())
}

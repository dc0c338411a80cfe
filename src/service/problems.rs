//! Root-cause records: one function per change (create, edit, status, link an incident, actions),
//! each writing its problem event in the same transaction; and the read models of the pages,
//! including the postmortem draft.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::history::{self, Record};
use crate::db::models::{Problem, ProblemAction, User};
use crate::db::problems::{self, ProblemFields};
use crate::db::{DbConnection, services, users};
use crate::domain::policy::{Action, Resource};
use crate::domain::problem::{ActionStatus, CATEGORIES, ProblemStatus, check_transition, key, list_lines};
use chrono::{NaiveDate, NaiveDateTime};

use super::problem_links::link_in;
pub use super::problem_links::{link_from_incident, link_incident, unlink_incident};
pub(crate) use super::problem_pages::known_errors_for;
pub use super::problem_pages::{
    ActionView, LinkedIncident, ListRow, OpenAction, ProblemPage, TimelineEntry, describe, for_incident, list,
    open_actions, page, postmortem,
};

/// What the problem form sends.
#[derive(Debug, Clone, Default)]
pub struct ProblemInput {
    pub title: String,
    pub statement: String,
    pub category: String,
    pub analysis: String,
    pub contributing_factors: String,
    pub five_whys: String,
    pub customer_impact: String,
    pub workaround: String,
    /// A staff user id, or empty.
    pub owner: String,
    pub services: Vec<String>,
    /// Days without a new incident after the fix release before it counts as verified (1–365;
    /// empty means the default).
    pub watch_days: String,
}

/// The watch period a problem gets unless someone sets another.
pub const DEFAULT_WATCH_DAYS: i32 = 30;

pub(super) fn status_of(p: &Problem) -> ProblemStatus {
    ProblemStatus::parse(&p.status).unwrap_or(ProblemStatus::Investigating)
}

fn validate(conn: &mut DbConnection, input: &ProblemInput) -> ServiceResult<(ProblemFields, Vec<i64>)> {
    let mut errors = FieldErrors::default();
    let title = crate::domain::validate::label(&input.title, "Title", 200).map_err(|e| errors.add("title", e)).ok();
    if !CATEGORIES.iter().any(|(c, _)| *c == input.category) {
        errors.add("category", "Choose a root-cause category.");
    }
    let mut texts = Vec::new();
    for (field, what, value) in [
        ("statement", "The problem statement", &input.statement),
        ("analysis", "The analysis", &input.analysis),
        ("contributing_factors", "The contributing factors", &input.contributing_factors),
        ("five_whys", "The five whys", &input.five_whys),
        ("customer_impact", "The customer impact", &input.customer_impact),
        ("workaround", "The workaround", &input.workaround),
    ] {
        texts.push(super::incidents::check_body(value, field, what, &mut errors).unwrap_or_default());
    }
    let owner_id = match input.owner.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => super::incidents::check_assignable(conn, id, &mut errors, "owner")?.map(|u| u.id),
            Err(_) => {
                errors.add("owner", "Choose an active staff member who works incidents.");
                None
            }
        },
    };
    let all_services = services::all(conn)?;
    let mut service_ids = Vec::new();
    for s in &input.services {
        match s.parse::<i64>().ok().filter(|id| all_services.iter().any(|svc| svc.id == *id)) {
            Some(id) if !service_ids.contains(&id) => service_ids.push(id),
            Some(_) => {}
            None => errors.add("services", "Choose services from the list."),
        }
    }
    let watch_days = match input.watch_days.trim() {
        "" => Some(DEFAULT_WATCH_DAYS),
        d => d.parse::<i32>().ok().filter(|d| (1..=365).contains(d)),
    };
    if watch_days.is_none() {
        errors.add("watch_days", "Enter the watch period in days (1 to 365).");
    }
    errors.into_result()?;
    let [statement, analysis, contributing_factors, five_whys, customer_impact, workaround]: [String; 6] =
        texts.try_into().map_err(|_| ServiceError::Internal("validated texts missing".into()))?;
    Ok((
        ProblemFields {
            title: title.unwrap_or_default(),
            statement,
            category: input.category.clone(),
            analysis,
            contributing_factors: list_lines(&contributing_factors).join("\n"),
            five_whys: list_lines(&five_whys).join("\n"),
            customer_impact,
            workaround,
            owner_id,
            watch_days: watch_days.unwrap_or(DEFAULT_WATCH_DAYS),
        },
        service_ids,
    ))
}

/// Writes one problem event: `change` is (field, old value, new value).
pub(super) fn event(
    conn: &mut DbConnection,
    problem_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    (field, old_value, new_value): (&str, &str, &str),
    now: NaiveDateTime,
) -> ServiceResult<()> {
    history::write(conn, Record::Problem(problem_id), actor_id, kind, (field, old_value, new_value), now)?;
    Ok(())
}

/// A new problem; `from_incident` (a key) links that incident at once.
pub fn create(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    input: &ProblemInput,
    from_incident: &str,
) -> ServiceResult<Problem> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let (fields, service_ids) = validate(conn, input)?;
        let now = state.clock.now_naive();
        let p = problems::insert(conn, &fields, ProblemStatus::Investigating.as_str(), user.id, now)?;
        problems::set_services(conn, p.id, &service_ids)?;
        event(conn, p.id, Some(user.id), "created", ("", "", &p.title), now)?;
        if !from_incident.trim().is_empty() {
            link_in(state, conn, user, &p, from_incident)?;
        }
        Ok(problems::find(conn, p.id)?)
    })
}

/// Edits the analysis fields; refused as stale when someone changed the problem meanwhile.
pub fn update(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    input: &ProblemInput,
) -> ServiceResult<Problem> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let before = problems::find(conn, id)?;
        let (fields, service_ids) = validate(conn, input)?;
        let now = state.clock.now_naive();
        if before.version != version {
            return Err(ServiceError::Stale { current_version: before.version });
        }
        let after = problems::update_fields(conn, id, version, &fields, now)?
            .ok_or(ServiceError::Stale { current_version: before.version + 1 })?;
        for (field, old, new) in [
            ("title", &before.title, &after.title),
            ("statement", &before.statement, &after.statement),
            ("category", &before.category, &after.category),
            ("analysis", &before.analysis, &after.analysis),
            ("contributing factors", &before.contributing_factors, &after.contributing_factors),
            ("five whys", &before.five_whys, &after.five_whys),
            ("customer impact", &before.customer_impact, &after.customer_impact),
            ("workaround", &before.workaround, &after.workaround),
        ] {
            if old != new {
                event(conn, id, Some(user.id), "field_changed", (field, old, new), now)?;
            }
        }
        if before.watch_days != after.watch_days {
            let (old, new) = (before.watch_days.to_string(), after.watch_days.to_string());
            event(conn, id, Some(user.id), "field_changed", ("watch period", &old, &new), now)?;
        }
        if before.owner_id != after.owner_id {
            let name = |conn: &mut DbConnection, o: Option<i64>| -> ServiceResult<String> {
                Ok(match o {
                    Some(o) => users::find(conn, o)?.display_name,
                    None => String::new(),
                })
            };
            let (old, new) = (name(conn, before.owner_id)?, name(conn, after.owner_id)?);
            event(conn, id, Some(user.id), "field_changed", ("owner", &old, &new), now)?;
        }
        if problems::services_of(conn, id)? != {
            let mut s = service_ids.clone();
            s.sort_unstable();
            s
        } {
            problems::set_services(conn, id, &service_ids)?;
            event(conn, id, Some(user.id), "field_changed", ("services", "", &service_ids.len().to_string()), now)?;
        }
        Ok(after)
    })
}

pub fn change_status(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    to: &str,
    resolution: &str,
) -> ServiceResult<Problem> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let p = problems::find(conn, id)?;
        let Some(to) = ProblemStatus::parse(to) else {
            return Err(ServiceError::Invalid(FieldErrors::single("status", "Choose a status from the list.")));
        };
        if p.version != version {
            return Err(ServiceError::Stale { current_version: p.version });
        }
        let open = problems::actions_of(conn, id)?
            .iter()
            .filter(|a| ActionStatus::parse(&a.status).is_some_and(ActionStatus::is_open))
            .count();
        let from = status_of(&p);
        if let Err(e) = check_transition(from, to, resolution, open) {
            let field = if e == crate::domain::problem::ProblemTransitionError::ResolutionRequired {
                "resolution"
            } else {
                "status"
            };
            return Err(ServiceError::Invalid(FieldErrors::single(field, e.to_string())));
        }
        let now = state.clock.now_naive();
        let resolution = resolution.trim();
        let fix_at = match to {
            ProblemStatus::FixReleased => Some(Some(now)),
            ProblemStatus::FixInProgress | ProblemStatus::RootCauseIdentified | ProblemStatus::Investigating => {
                Some(None)
            }
            _ => None,
        };
        let closed_at = match to {
            ProblemStatus::Closed => Some(Some(now)),
            _ if from == ProblemStatus::Closed => Some(None),
            _ => None,
        };
        let res = (to == ProblemStatus::Closed).then_some(resolution);
        let after = problems::set_status(conn, id, version, to.as_str(), res, fix_at, closed_at, now)?
            .ok_or(ServiceError::Stale { current_version: p.version + 1 })?;
        event(conn, id, Some(user.id), "status_changed", ("status", from.as_str(), to.as_str()), now)?;
        if to == ProblemStatus::Closed {
            event(conn, id, Some(user.id), "field_changed", ("resolution", "", resolution), now)?;
        }
        let why = format!("{} moved from {} to {}", key(id), from.label(), to.label());
        crate::service::help::problem_changed(state, conn, &after, &why, Some(user.id))?;
        Ok(after)
    })
}

#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub title: String,
    pub kind: String,
    pub owner: String,
    /// YYYY-MM-DD or empty.
    pub due: String,
}

pub fn add_action(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    problem_id: i64,
    input: &ActionInput,
) -> ServiceResult<ProblemAction> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let p = problems::find(conn, problem_id)?;
        let mut errors = FieldErrors::default();
        let title = crate::domain::validate::label(&input.title, "The action", 200)
            .map_err(|e| errors.add("action_title", e))
            .ok();
        if !["corrective", "preventive"].contains(&input.kind.as_str()) {
            errors.add("action_kind", "Choose corrective or preventive.");
        }
        let owner = match input.owner.trim() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(id) => super::incidents::check_assignable(conn, id, &mut errors, "action_owner")?.map(|u| u.id),
                Err(_) => {
                    errors.add("action_owner", "Choose an active staff member who works incidents.");
                    None
                }
            },
        };
        let due = match input.due.trim() {
            "" => None,
            d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.add("action_due", "Enter the due date as YYYY-MM-DD.");
                    None
                }
            },
        };
        errors.into_result()?;
        let title = title.unwrap_or_default();
        let now = state.clock.now_naive();
        let a = problems::insert_action(
            conn,
            &problems::NewAction {
                problem_id: p.id,
                title: &title,
                kind: &input.kind,
                owner_id: owner,
                due_date: due,
                now,
            },
        )?;
        event(conn, p.id, Some(user.id), "action_added", (&input.kind, "", &title), now)?;
        problems::touch(conn, p.id, now)?;
        Ok(a)
    })
}

pub fn set_action_status(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    problem_id: i64,
    action_id: i64,
    status: &str,
    reason: &str,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageProblems, Resource::None)?;
    state.tx(|conn| {
        let a = problems::find_action(conn, action_id)?;
        if a.problem_id != problem_id {
            return Err(ServiceError::NotFound);
        }
        let Some(to) = ActionStatus::parse(status) else {
            return Err(ServiceError::Invalid(FieldErrors::single("action_status", "Choose a status from the list.")));
        };
        let reason = reason.trim();
        if to == ActionStatus::WontDo && reason.is_empty() {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "action_reason",
                "Say why the action will not be done.",
            )));
        }
        if a.status == to.as_str() {
            return Ok(());
        }
        let now = state.clock.now_naive();
        problems::set_action_status(
            conn,
            a.id,
            to.as_str(),
            if to == ActionStatus::WontDo { reason } else { "" },
            now,
        )?;
        let text = if to == ActionStatus::WontDo { format!("{} ({reason})", a.title) } else { a.title.clone() };
        event(conn, problem_id, Some(user.id), "action_status", (to.as_str(), &a.status, &text), now)?;
        problems::touch(conn, problem_id, now)?;
        Ok(())
    })
}

/// The overdue-action job's lock (PostgreSQL advisory lock key).
const OVERDUE_LOCK: i64 = 0x5f1a_0005;

/// Tells owners of overdue actions, once per action (a job).
pub fn notify_overdue_actions(state: &AppState) -> ServiceResult<usize> {
    state.tx(|conn| {
        if !crate::db::try_job_lock(conn, OVERDUE_LOCK)? {
            return Ok(0);
        }
        let now = state.clock.now_naive();
        let mut told = 0;
        for a in problems::overdue_unnotified(conn, now.date())? {
            problems::mark_overdue_notified(conn, a.id, now)?;
            let (Some(owner_id), Some(due)) = (a.owner_id, a.due_date) else { continue };
            let owner = users::find(conn, owner_id)?;
            if !owner.active {
                continue;
            }
            let p = problems::find(conn, a.problem_id)?;
            crate::mail::compose::action_overdue(state, conn, &owner, &p, &a, due)?;
            told += 1;
        }
        Ok(told)
    })
}

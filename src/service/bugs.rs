//! Bug fixes: one function per change, each with its bug event in the same transaction; the list
//! ordered by impact, and the bug page.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::bugs::{self, BugFields};
use crate::db::history::{self, Record};
use crate::db::models::{Bug, HistoryEntry, Incident, Problem, User};
use crate::db::{DbConnection, problems, services, users};
use crate::domain::bug::{BugStatus, impact, key};
use crate::domain::incident::{Severity, key as inc_key, parse_key as parse_inc_key};
use crate::domain::policy::{self, Action, Resource};
use chrono::NaiveDateTime;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct BugInput {
    pub title: String,
    pub description: String,
    pub service_id: String,
    pub severity: String,
    pub external_ref: String,
    pub assignee: String,
}

fn validate(conn: &mut DbConnection, input: &BugInput) -> ServiceResult<BugFields> {
    let mut errors = FieldErrors::default();
    let title = crate::domain::validate::label(&input.title, "Title", 200).map_err(|e| errors.add("title", e)).ok();
    let description = super::incidents::check_body(&input.description, "description", "The description", &mut errors);
    let service_id = match input.service_id.trim() {
        "" => None,
        s => match s.parse::<i64>().ok().map(|id| services::find(conn, id)) {
            Some(Ok(svc)) => Some(svc.id),
            Some(Err(crate::db::DbError::NotFound)) | None => {
                errors.add("service_id", "Choose a service from the list.");
                None
            }
            Some(Err(e)) => return Err(e.into()),
        },
    };
    if Severity::parse(&input.severity).is_none() {
        errors.add("severity", "Choose a severity.");
    }
    let external_ref = input.external_ref.trim().to_string();
    if external_ref.chars().count() > 500 || external_ref.chars().any(char::is_control) {
        errors.add("external_ref", "The reference must be one line of at most 500 characters.");
    }
    let assignee_id = match input.assignee.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => super::incidents::check_assignable(conn, id, &mut errors, "assignee")?.map(|u| u.id),
            Err(_) => {
                errors.add("assignee", "Choose an active staff member who works incidents.");
                None
            }
        },
    };
    errors.into_result()?;
    Ok(BugFields {
        title: title.unwrap_or_default(),
        description: description.unwrap_or_default(),
        service_id,
        severity: input.severity.clone(),
        external_ref,
        assignee_id,
    })
}

fn event(
    conn: &mut DbConnection,
    bug_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    change: (&str, &str, &str),
    now: NaiveDateTime,
) -> ServiceResult<()> {
    history::write(conn, Record::Bug(bug_id), actor_id, kind, change, now)?;
    Ok(())
}

/// A new bug; `from_problem` (a key) links it to that problem at once.
pub fn create(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    input: &BugInput,
    from_problem: &str,
) -> ServiceResult<Bug> {
    authorize(&actor_of(user), Action::ManageBugs, Resource::None)?;
    state.tx(|conn| {
        let fields = validate(conn, input)?;
        let now = state.clock.now_naive();
        let b = bugs::insert(conn, &fields, user.id, now)?;
        event(conn, b.id, Some(user.id), "created", ("", "", &b.title), now)?;
        if !from_problem.trim().is_empty() {
            link_in(state, conn, user, &b, from_problem)?;
        }
        Ok(b)
    })
}

pub fn update(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    version: i32,
    input: &BugInput,
) -> ServiceResult<Bug> {
    authorize(&actor_of(user), Action::ManageBugs, Resource::None)?;
    state.tx(|conn| {
        let before = bugs::find(conn, id)?;
        let fields = validate(conn, input)?;
        if before.version != version {
            return Err(ServiceError::Stale { current_version: before.version });
        }
        let now = state.clock.now_naive();
        let after = bugs::update_fields(conn, id, version, &fields, now)?
            .ok_or(ServiceError::Stale { current_version: before.version + 1 })?;
        for (field, old, new) in [
            ("title", &before.title, &after.title),
            ("description", &before.description, &after.description),
            ("severity", &before.severity, &after.severity),
            ("external reference", &before.external_ref, &after.external_ref),
        ] {
            if old != new {
                event(conn, id, Some(user.id), "field_changed", (field, old, new), now)?;
            }
        }
        if before.assignee_id != after.assignee_id {
            let name = match after.assignee_id {
                Some(a) => users::find(conn, a)?.display_name,
                None => String::new(),
            };
            event(conn, id, Some(user.id), "field_changed", ("assignee", "", &name), now)?;
        }
        if before.service_id != after.service_id {
            event(conn, id, Some(user.id), "field_changed", ("service", "", ""), now)?;
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
) -> ServiceResult<Bug> {
    authorize(&actor_of(user), Action::ManageBugs, Resource::None)?;
    state.tx(|conn| {
        let b = bugs::find(conn, id)?;
        let from = BugStatus::parse(&b.status).unwrap_or(BugStatus::Open);
        let Some(to) = BugStatus::parse(to).filter(|t| from.next().contains(t)) else {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "status",
                format!("A bug cannot move from {} to that status.", from.label()),
            )));
        };
        if b.version != version {
            return Err(ServiceError::Stale { current_version: b.version });
        }
        let now = state.clock.now_naive();
        let after = bugs::set_status(conn, id, version, to.as_str(), now)?
            .ok_or(ServiceError::Stale { current_version: b.version + 1 })?;
        event(conn, id, Some(user.id), "status_changed", ("status", from.as_str(), to.as_str()), now)?;
        Ok(after)
    })
}

/// Links a problem (PRB-n) or an incident (INC-n) to the bug.
pub fn link(state: &AppState, _meta: &RequestMeta, user: &User, id: i64, target: &str) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageBugs, Resource::None)?;
    state.tx(|conn| {
        let b = bugs::find(conn, id)?;
        link_in(state, conn, user, &b, target)
    })
}

fn link_in(state: &AppState, conn: &mut DbConnection, user: &User, b: &Bug, target: &str) -> ServiceResult<()> {
    let invalid = |m: &str| ServiceError::Invalid(FieldErrors::single("target", m));
    let target = target.trim().to_uppercase();
    let now = state.clock.now_naive();
    let exists = |r: Result<(), crate::db::DbError>| match r {
        Err(crate::db::DbError::Conflict) => Err(invalid("This is linked to the bug already.")),
        other => other.map_err(ServiceError::from),
    };
    if let Some(pid) = crate::domain::problem::parse_key(&target) {
        let p = match problems::find(conn, pid) {
            Ok(p) => p,
            Err(crate::db::DbError::NotFound) => return Err(invalid("There is no problem with that key.")),
            Err(e) => return Err(e.into()),
        };
        if bugs::problems_of(conn, b.id)?.iter().any(|x| x.id == p.id) {
            return Err(invalid("This is linked to the bug already."));
        }
        exists(bugs::link_problem(conn, b.id, p.id))?;
        event(conn, b.id, Some(user.id), "linked", ("problem", "", &crate::domain::problem::key(p.id)), now)?;
        history::write(conn, Record::Problem(p.id), Some(user.id), "bug_linked", ("", "", &key(b.id)), now)?;
    } else if let Some(iid) = parse_inc_key(&target) {
        let inc = match super::incidents::load_visible(conn, &actor_of(user), iid) {
            Ok((i, _)) => i,
            Err(ServiceError::NotFound) => return Err(invalid("There is no incident with that key.")),
            Err(e) => return Err(e),
        };
        if bugs::incidents_of(conn, b.id)?.iter().any(|x| x.id == inc.id) {
            return Err(invalid("This is linked to the bug already."));
        }
        exists(bugs::link_incident(conn, b.id, inc.id))?;
        event(conn, b.id, Some(user.id), "linked", ("incident", "", &inc_key(inc.id)), now)?;
        super::incidents::event(
            conn,
            &inc,
            Some(user.id),
            "linked",
            "bug",
            "",
            &format!("linked to bug {}", key(b.id)),
            true,
            None,
            now,
        )?;
    } else {
        return Err(invalid("Enter a problem key like PRB-7 or an incident key like INC-42."));
    }
    bugs::touch(conn, b.id, now)?;
    Ok(())
}

pub fn unlink(state: &AppState, _meta: &RequestMeta, user: &User, id: i64, target: &str) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageBugs, Resource::None)?;
    state.tx(|conn| {
        let b = bugs::find(conn, id)?;
        let removed = if let Some(pid) = crate::domain::problem::parse_key(target) {
            bugs::unlink_problem(conn, b.id, pid)?
        } else if let Some(iid) = parse_inc_key(target) {
            bugs::unlink_incident(conn, b.id, iid)?
        } else {
            0
        };
        if removed == 0 {
            return Err(ServiceError::NotFound);
        }
        let now = state.clock.now_naive();
        event(conn, b.id, Some(user.id), "unlinked", ("", target, ""), now)?;
        bugs::touch(conn, b.id, now)?;
        Ok(())
    })
}

pub struct ListRow {
    pub bug: Bug,
    pub impact: u32,
    pub incidents: usize,
    pub organizations: usize,
    pub assignee: String,
}

/// Bugs, the ones that hurt most first (or newest first). Bugs are counted in hundreds, so the
/// impact (incidents linked to the bug or to its problems, each once) is computed over the latest
/// 1,000 in three queries.
pub fn list(state: &AppState, user: &User, status: Option<&str>, by_impact: bool) -> ServiceResult<Vec<ListRow>> {
    authorize(&actor_of(user), Action::ViewBugs, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let all = bugs::list(conn, status, 1000)?;
    let ids: Vec<i64> = all.iter().map(|b| b.id).collect();
    let facts = bugs::incident_facts(conn, &ids)?;
    let names: HashMap<i64, String> =
        users::list_by_ids(conn, &all.iter().filter_map(|b| b.assignee_id).collect::<Vec<_>>())?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
    let mut rows: Vec<ListRow> = all
        .into_iter()
        .map(|b| {
            let mine: Vec<&bugs::IncidentFact> = facts.iter().filter(|f| f.bug_id == b.id).collect();
            let (score, organizations) = impact_of(&mine);
            ListRow {
                impact: score,
                incidents: mine.len(),
                organizations,
                assignee: b.assignee_id.and_then(|a| names.get(&a).cloned()).unwrap_or_default(),
                bug: b,
            }
        })
        .collect();
    if by_impact {
        rows.sort_by(|a, b| {
            let done = |r: &ListRow| BugStatus::parse(&r.bug.status).is_some_and(BugStatus::is_done);
            done(a).cmp(&done(b)).then(b.impact.cmp(&a.impact)).then(b.bug.id.cmp(&a.bug.id))
        });
    }
    rows.truncate(200);
    Ok(rows)
}

/// A bug's impact and the organizations it reaches, from the incidents it touches (each once).
fn impact_of(facts: &[&bugs::IncidentFact]) -> (u32, usize) {
    let sevs: Vec<&str> = facts.iter().map(|f| f.severity.as_str()).collect();
    let mut orgs: Vec<i64> = facts.iter().filter_map(|f| f.organization_id).collect();
    orgs.sort_unstable();
    orgs.dedup();
    (impact(&sevs, orgs.len()), orgs.len())
}

pub struct BugPage {
    pub bug: Bug,
    pub service: String,
    pub assignee: Option<User>,
    pub problems: Vec<Problem>,
    pub incidents: Vec<Incident>,
    pub events: Vec<(HistoryEntry, String)>,
    pub impact: u32,
    pub can_manage: bool,
    pub next_statuses: Vec<BugStatus>,
    pub services: Vec<crate::db::models::Service>,
    pub staff: Vec<User>,
    /// The release that ships (or shipped) the fix.
    pub release: Option<crate::db::models::Release>,
}

pub fn page(state: &AppState, user: &User, id: i64) -> ServiceResult<BugPage> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewBugs, Resource::None)?;
    let can_manage = policy::allows(Some(&actor), Action::ManageBugs, Resource::None);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let bug = bugs::find(conn, id)?;
    let problems = bugs::problems_of(conn, id)?;
    let incidents = bugs::incidents_of(conn, id)?;
    let events = history::of(conn, Record::Bug(id))?;
    let mut people: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    people.extend(bug.assignee_id);
    let names: HashMap<i64, User> = users::list_by_ids(conn, &people)?.into_iter().map(|u| (u.id, u)).collect();
    let events = events
        .into_iter()
        .map(|e| {
            let who = e
                .actor_id
                .and_then(|a| names.get(&a).map(|u| u.display_name.clone()))
                .unwrap_or_else(|| "Firewatch".into());
            (e, who)
        })
        .collect();
    let services = services::all(conn)?;
    let facts = bugs::incident_facts(conn, &[id])?;
    let (impact, _) = impact_of(&facts.iter().collect::<Vec<_>>());
    let staff =
        if can_manage { users::active_with_roles(conn, &super::incidents::working_roles(), 500)? } else { Vec::new() };
    let release = match bug.release_id {
        Some(r) if policy::allows(Some(&actor), Action::ViewReleases, Resource::None) => {
            Some(crate::db::releases::find(conn, r)?)
        }
        _ => None,
    };
    Ok(BugPage {
        release,
        service: bug
            .service_id
            .and_then(|s| services.iter().find(|x| x.id == s).map(|x| x.name.clone()))
            .unwrap_or_default(),
        assignee: bug.assignee_id.and_then(|a| names.get(&a).cloned()),
        impact,
        next_statuses: BugStatus::parse(&bug.status).unwrap_or(BugStatus::Open).next().to_vec(),
        problems,
        incidents,
        events,
        can_manage,
        services,
        staff,
        bug,
    })
}

/// The bugs behind a problem, for its page.
pub fn for_problem(state: &AppState, user: &User, problem_id: i64) -> ServiceResult<Vec<Bug>> {
    if !policy::allows(Some(&actor_of(user)), Action::ViewBugs, Resource::None) {
        return Ok(Vec::new());
    }
    Ok(bugs::for_problem(&mut *state.conn()?, problem_id)?)
}

pub fn describe(e: &HistoryEntry) -> String {
    let label = |s: &str| BugStatus::parse(s).map(BugStatus::label).unwrap_or("?").to_lowercase();
    match e.kind.as_str() {
        "created" => "Bug recorded".to_string(),
        "status_changed" => format!("Status {} → {}", label(&e.old_value), label(&e.new_value)),
        "field_changed" => format!("Changed the {}", e.field),
        "linked" => format!("Linked {}", e.new_value),
        "unlinked" => format!("Unlinked {}", e.old_value),
        "fix_ineffective" => format!("The fix did not hold: {} recurred", e.new_value),
        "fix_renewed" => format!("A new fix shipped in release {}: no longer marked ineffective", e.new_value),
        other => other.replace('_', " "),
    }
}

//! The read models of root-cause records: the list, the problem page with its combined
//! timeline and figures, open actions, an incident's problems, and the postmortem draft.

use super::problems::status_of;
use super::{AppState, ServiceResult, actor_of, authorize};
use crate::db::history::{self, Record};
use crate::db::models::{Incident, Problem, ProblemAction, User};
use crate::db::problems;
use crate::db::{DbConnection, incidents, organizations, services, users};
use crate::domain::incident::key as inc_key;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::problem::{ActionStatus, ProblemStatus, key, median, recurrence};
use chrono::NaiveDateTime;
use std::collections::HashMap;

pub struct ListRow {
    pub problem: Problem,
    pub owner: String,
    pub incidents: usize,
    /// Incidents linked in the last 30 days.
    pub recent: usize,
    pub recurred: bool,
}

pub fn list(
    state: &AppState,
    user: &User,
    status: Option<&str>,
    after: Option<(NaiveDateTime, i64)>,
) -> ServiceResult<Vec<ListRow>> {
    authorize(&actor_of(user), Action::ViewProblems, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let rows = problems::list(conn, status, after, 50)?;
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let links = problems::links_of_many(conn, &ids)?;
    let dates = problems::incident_dates_of_many(conn, &ids)?;
    let owners: HashMap<i64, String> =
        users::list_by_ids(conn, &rows.iter().filter_map(|p| p.owner_id).collect::<Vec<_>>())?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
    let now = state.clock.now_naive();
    Ok(rows
        .into_iter()
        .map(|p| {
            let mine: Vec<_> = links.iter().filter(|l| l.problem_id == p.id).collect();
            let times: Vec<NaiveDateTime> = dates.iter().filter(|(pid, _)| *pid == p.id).map(|(_, t)| *t).collect();
            ListRow {
                owner: p.owner_id.and_then(|o| owners.get(&o).cloned()).unwrap_or_default(),
                incidents: mine.len(),
                recent: recurrence(&times, now, 30, 1)[0],
                recurred: mine.iter().any(|l| l.after_fix),
                problem: p,
            }
        })
        .collect())
}

pub struct LinkedIncident {
    pub incident: Incident,
    pub organization: String,
    pub linked_at: NaiveDateTime,
    pub after_fix: bool,
}

/// One entry of the combined timeline: the problem's own events and its incidents'.
pub struct TimelineEntry {
    pub at: NaiveDateTime,
    pub actor: String,
    /// "PRB-3" or "INC-42".
    pub source: String,
    pub text: String,
}

pub struct ActionView {
    pub action: ProblemAction,
    pub owner: String,
    pub overdue: bool,
}

pub struct ProblemPage {
    pub problem: Problem,
    pub owner: Option<User>,
    pub services: Vec<(i64, String)>,
    pub incidents: Vec<LinkedIncident>,
    pub timeline: Vec<TimelineEntry>,
    pub actions: Vec<ActionView>,
    pub organizations_affected: usize,
    pub total_to_resolve: Option<chrono::Duration>,
    pub median_to_resolve: Option<chrono::Duration>,
    /// Linked incidents in the last three 30-day periods, newest first.
    pub recurrence: Vec<usize>,
    pub can_manage: bool,
    pub next_statuses: Vec<ProblemStatus>,
    pub all_services: Vec<crate::db::models::Service>,
    pub staff: Vec<User>,
    /// The bugs behind the problem (for those who may read bugs).
    pub bugs: Vec<crate::db::models::Bug>,
    /// Help articles that are this problem's known-error workaround: (slug, title).
    pub help_articles: Vec<(String, String)>,
}

pub fn page(state: &AppState, user: &User, id: i64) -> ServiceResult<ProblemPage> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewProblems, Resource::None)?;
    let can_manage = policy::allows(Some(&actor), Action::ManageProblems, Resource::None);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let problem = problems::find(conn, id)?;
    let links = problems::links_of(conn, id)?;
    let incs = problems::incidents_of(conn, id)?;
    let orgs: HashMap<i64, String> = organizations::names(conn)?.into_iter().collect();
    let incidents: Vec<LinkedIncident> = incs
        .into_iter()
        .filter_map(|i| {
            let l = links.iter().find(|l| l.incident_id == i.id)?;
            Some(LinkedIncident {
                organization: i.organization_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_default(),
                linked_at: l.linked_at,
                after_fix: l.after_fix,
                incident: i,
            })
        })
        .collect();
    let mut affected: Vec<i64> = incidents.iter().filter_map(|l| l.incident.organization_id).collect();
    affected.sort_unstable();
    affected.dedup();
    let durations: Vec<chrono::Duration> =
        incidents.iter().filter_map(|l| l.incident.resolved_at.map(|r| r - l.incident.created_at)).collect();
    let total_to_resolve = (!durations.is_empty()).then(|| durations.iter().copied().sum());
    let median_to_resolve = median(durations);
    // Sales read problems without internal notes.
    let internal = can_manage;
    let own_events = history::of(conn, Record::Problem(id))?;
    let inc_events = problems::incident_events_of(conn, id, internal)?;
    let comment_ids: Vec<i64> = inc_events.iter().filter_map(|e| e.comment_id).collect();
    let comments: HashMap<i64, String> =
        incidents::comments_by_ids(conn, &comment_ids, internal)?.into_iter().map(|c| (c.id, c.body)).collect();
    let mut people: Vec<i64> = own_events.iter().filter_map(|e| e.actor_id).collect();
    people.extend(inc_events.iter().filter_map(|e| e.actor_id));
    people.extend(problem.owner_id);
    let actions_raw = problems::actions_of(conn, id)?;
    people.extend(actions_raw.iter().filter_map(|a| a.owner_id));
    let names: HashMap<i64, User> = users::list_by_ids(conn, &people)?.into_iter().map(|u| (u.id, u)).collect();
    let name = |a: Option<i64>| {
        a.and_then(|a| names.get(&a).map(|u| u.display_name.clone())).unwrap_or_else(|| "Firewatch".into())
    };
    let mut timeline: Vec<TimelineEntry> = own_events
        .iter()
        .map(|e| TimelineEntry { at: e.at, actor: name(e.actor_id), source: key(id), text: describe(e) })
        .collect();
    timeline.extend(inc_events.iter().map(|e| {
        let mut text = super::incidents::describe_event(e);
        if let Some(body) = e.comment_id.and_then(|c| comments.get(&c)) {
            text = format!("{text}: {}", excerpt(body, 200));
        }
        TimelineEntry { at: e.at, actor: name(e.actor_id), source: inc_key(e.incident_id), text }
    }));
    timeline.sort_by_key(|t| t.at);
    let today = state.clock.now_naive().date();
    let actions = actions_raw
        .into_iter()
        .map(|a| ActionView {
            owner: a.owner_id.and_then(|o| names.get(&o).map(|u| u.display_name.clone())).unwrap_or_default(),
            overdue: ActionStatus::parse(&a.status).is_some_and(ActionStatus::is_open)
                && a.due_date.is_some_and(|d| d < today),
            action: a,
        })
        .collect();
    let service_ids = problems::services_of(conn, id)?;
    let all_services = services::all(conn)?;
    let svc_names =
        all_services.iter().filter(|s| service_ids.contains(&s.id)).map(|s| (s.id, s.name.clone())).collect();
    let times: Vec<NaiveDateTime> = incidents.iter().map(|l| l.incident.created_at).collect();
    let staff =
        if can_manage { users::active_with_roles(conn, &super::incidents::working_roles(), 500)? } else { Vec::new() };
    let bugs = if policy::allows(Some(&actor), Action::ViewBugs, Resource::None) {
        crate::db::bugs::for_problem(conn, id)?
    } else {
        Vec::new()
    };
    let help_articles = crate::db::help::for_problem(conn, id)?.into_iter().map(|a| (a.slug, a.title)).collect();
    Ok(ProblemPage {
        bugs,
        help_articles,
        owner: problem.owner_id.and_then(|o| names.get(&o).cloned()),
        services: svc_names,
        incidents,
        timeline,
        actions,
        organizations_affected: affected.len(),
        total_to_resolve,
        median_to_resolve,
        recurrence: recurrence(&times, state.clock.now_naive(), 30, 3),
        can_manage,
        next_statuses: status_of(&problem).next().to_vec(),
        all_services,
        staff,
        problem,
    })
}

fn excerpt(s: &str, n: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > n { format!("{}…", one_line.chars().take(n).collect::<String>()) } else { one_line }
}

pub fn describe(e: &crate::db::models::HistoryEntry) -> String {
    let label = |s: &str| ProblemStatus::parse(s).map(ProblemStatus::label).unwrap_or("?").to_lowercase();
    match e.kind.as_str() {
        "created" => "Problem recorded".to_string(),
        "status_changed" => format!("Status {} → {}", label(&e.old_value), label(&e.new_value)),
        "recurred" => "Recurred: an incident created after the fix was released was linked".to_string(),
        "recurrence_withdrawn" => {
            format!("No longer recurred: the incident that recurred was unlinked; back to {}", label(&e.new_value))
        }
        "fix_released" => format!("The fix shipped in release {}", e.new_value),
        "fix_partly_released" => {
            format!("Release {} shipped part of the fix; still waiting for {}", e.old_value, e.new_value)
        }
        "help_article_flagged" => format!("Workaround article “{}” marked fixed and flagged for review", e.new_value),
        "help_article_unfixed" => format!("Workaround article “{}” applies again after the rollback", e.new_value),
        "verified" => format!("Verified: no new incident in the {} days after the fix", e.new_value),
        "field_changed" if e.field == "resolution" => format!("Resolution: {}", e.new_value),
        "field_changed" => format!("Changed the {}", e.field),
        "incident_linked" | "bug_linked" => format!("Linked {}", e.new_value),
        "incident_unlinked" => format!("Unlinked {}", e.old_value),
        "action_added" => format!("Added a {} action: {}", e.field, e.new_value),
        "action_status" => format!(
            "Action {}: {}",
            ActionStatus::parse(&e.field).map(ActionStatus::label).unwrap_or("?").to_lowercase(),
            e.new_value
        ),
        other => other.replace('_', " "),
    }
}

pub struct OpenAction {
    pub action: ProblemAction,
    pub problem_key: String,
    pub problem_title: String,
    pub owner: String,
    pub overdue: bool,
}

/// Every open action, overdue first (`/problems/actions`).
pub fn open_actions(state: &AppState, user: &User) -> ServiceResult<Vec<OpenAction>> {
    authorize(&actor_of(user), Action::ViewProblems, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let actions = problems::open_actions(conn, 500)?;
    let pids: Vec<i64> = actions.iter().map(|a| a.problem_id).collect();
    let probs: HashMap<i64, Problem> = problems::find_many(conn, &pids)?.into_iter().map(|p| (p.id, p)).collect();
    let owners: HashMap<i64, String> =
        users::list_by_ids(conn, &actions.iter().filter_map(|a| a.owner_id).collect::<Vec<_>>())?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
    let today = state.clock.now_naive().date();
    Ok(actions
        .into_iter()
        .map(|a| OpenAction {
            problem_key: key(a.problem_id),
            problem_title: probs.get(&a.problem_id).map(|p| p.title.clone()).unwrap_or_default(),
            owner: a.owner_id.and_then(|o| owners.get(&o).cloned()).unwrap_or_default(),
            overdue: a.due_date.is_some_and(|d| d < today),
            action: a,
        })
        .collect())
}

/// The problems an incident is linked to, for its page (staff who may read problems only).
pub fn for_incident(state: &AppState, user: &User, incident_id: i64) -> ServiceResult<Vec<Problem>> {
    if !policy::allows(Some(&actor_of(user)), Action::ViewProblems, Resource::None) {
        return Ok(Vec::new());
    }
    Ok(problems::for_incident(&mut *state.conn()?, incident_id)?)
}

/// Open problems with a known-error workaround that may match the incident and are not linked
/// to it yet (`linked`), best first: what those who read problems but do not work incidents
/// (sales) see on the incident page, read-only. Staff who work incidents get these among their
/// suggestions.
pub(crate) fn known_errors_for(
    conn: &mut DbConnection,
    inc: &Incident,
    linked: &[i64],
) -> ServiceResult<Vec<crate::service::incidents::SimilarProblem>> {
    let words = crate::db::similar::similar_words(&inc.title, &inc.description);
    let found = crate::db::similar::similar_problems(
        conn,
        &words,
        Some(inc.service_id),
        linked,
        crate::service::incidents::SUGGESTIONS,
    )?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let rows: HashMap<i64, Problem> = problems::find_many(conn, &ids)?.into_iter().map(|p| (p.id, p)).collect();
    Ok(found
        .into_iter()
        .filter_map(|(id, score)| rows.get(&id).map(|p| (p, score)))
        .filter(|(p, _)| !p.workaround.trim().is_empty())
        .map(|(p, score)| crate::service::incidents::SimilarProblem {
            key: key(p.id),
            title: p.title.clone(),
            score,
            workaround: p.workaround.clone(),
        })
        .collect())
}

/// The postmortem draft as one Markdown document.
pub fn postmortem(state: &AppState, user: &User, id: i64) -> ServiceResult<(String, String)> {
    let p = page(state, user, id)?;
    let pr = &p.problem;
    let k = key(pr.id);
    let fmt_t = |t: &NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut md = format!("# Postmortem {k}: {}\n\n", pr.title);
    md.push_str(&format!(
        "Status: {}. Root-cause category: {}.{}\n\n",
        status_of(pr).label(),
        crate::domain::problem::category_label(&pr.category),
        p.owner.as_ref().map(|o| format!(" Owner: {}.", o.display_name)).unwrap_or_default()
    ));
    let section = |md: &mut String, title: &str, body: &str| {
        md.push_str(&format!(
            "## {title}\n\n{}\n\n",
            if body.trim().is_empty() { "_Not written yet._" } else { body.trim() }
        ));
    };
    section(&mut md, "Problem statement", &pr.statement);
    section(&mut md, "Customer impact", &pr.customer_impact);
    md.push_str(&format!(
        "Incidents: {}. Organizations affected: {}. Total time to resolve: {}. Median time to resolve: {}.\n\n",
        p.incidents.len(),
        p.organizations_affected,
        p.total_to_resolve.map(crate::domain::sla::span_text).unwrap_or_else(|| "—".into()),
        p.median_to_resolve.map(crate::domain::sla::span_text).unwrap_or_else(|| "—".into()),
    ));
    md.push_str("## Timeline\n\n");
    for t in &p.timeline {
        md.push_str(&format!("- {} · {} · {}: {}\n", fmt_t(&t.at), t.source, t.actor, t.text.replace('\n', " ")));
    }
    md.push('\n');
    section(&mut md, "Root cause", &pr.analysis);
    let factors: Vec<String> = pr.contributing_factors.lines().map(|l| format!("- {l}")).collect();
    section(&mut md, "Contributing factors", &factors.join("\n"));
    if !pr.five_whys.trim().is_empty() {
        let whys: Vec<String> = pr.five_whys.lines().enumerate().map(|(i, l)| format!("{}. {l}", i + 1)).collect();
        section(&mut md, "Five whys", &whys.join("\n"));
    }
    if !pr.workaround.trim().is_empty() {
        section(&mut md, "Workaround", &pr.workaround);
    }
    let actions: Vec<String> = p
        .actions
        .iter()
        .map(|a| {
            let facts = format!(
                "({}{}{})",
                a.action.kind,
                if a.owner.is_empty() { String::new() } else { format!(", {}", a.owner) },
                a.action.due_date.map(|d| format!(", due {d}")).unwrap_or_default()
            );
            let title = a.action.title.replace('\n', " ");
            match ActionStatus::parse(&a.action.status) {
                // Dropped actions stay in the record, with why they were dropped.
                Some(ActionStatus::WontDo) => {
                    format!("- ~~{title}~~ {facts}: won't do, {}", a.action.reason.replace('\n', " "))
                }
                Some(ActionStatus::Done) => format!("- [x] {title} {facts}"),
                Some(ActionStatus::InProgress) => format!("- [ ] {title} {facts}, in progress"),
                _ => format!("- [ ] {title} {facts}"),
            }
        })
        .collect();
    section(&mut md, "Actions", &actions.join("\n"));
    Ok((format!("{k}-postmortem.md"), md))
}

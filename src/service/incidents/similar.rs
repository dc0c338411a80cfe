//! Suggestions by likeness of title and description: past incidents and open problems like an
//! incident (a fragment of its page, loaded apart from it because matching costs as much as the
//! rest of the page), and earlier reports like one being written.

use super::queue::visibility;
use super::{load_visible, status_of};
use crate::db::models::{Incident, Service, User};
use crate::db::queue::Visibility;
use crate::db::{DbConnection, incidents};
use crate::domain::incident::key;
use crate::domain::policy::{self, Action, Resource};
use crate::service::{AppState, ServiceError, ServiceResult, actor_of, authorize};
use std::collections::HashMap;

/// A past incident like this one (staff who work incidents).
#[derive(Debug, Clone)]
pub struct SimilarIncident {
    pub key: String,
    pub title: String,
    pub status: &'static str,
    pub service: String,
    /// 1–100: how close to a perfect match.
    pub score: u8,
}

/// An open problem that may be this incident's root cause.
#[derive(Debug, Clone)]
pub struct SimilarProblem {
    pub key: String,
    pub title: String,
    pub score: u8,
    /// The known error's workaround, if the problem has one.
    pub workaround: String,
}

/// How many suggestions of each kind a page shows.
pub const SUGGESTIONS: usize = 5;

/// What the similar-incidents fragment of an incident page shows.
#[derive(Debug, Clone)]
pub struct SimilarPanel {
    pub key: String,
    pub title: String,
    /// Similar past incidents not linked yet.
    pub incidents: Vec<SimilarIncident>,
    /// Open problems that may match, not linked yet (those who also read problems).
    pub problems: Vec<SimilarProblem>,
    pub can_view_problems: bool,
    pub can_manage_problems: bool,
}

/// The suggestions for one incident, for those who work it (others: not found or forbidden,
/// as for the incident itself).
pub fn panel(state: &AppState, user: &User, id: i64) -> ServiceResult<SimilarPanel> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let (inc, res) = load_visible(conn, &actor, id)?;
    if !policy::allows(Some(&actor), Action::WorkIncident, res) {
        return Err(ServiceError::Forbidden);
    }
    let can_view_problems = policy::allows(Some(&actor), Action::ViewProblems, Resource::None);
    let linked_incidents: Vec<i64> = incidents::links_for(conn, inc.id)?
        .iter()
        .map(|l| if l.from_id == inc.id { l.to_id } else { l.from_id })
        .collect();
    let linked_problems: Vec<i64> = if can_view_problems {
        crate::db::problems::for_incident(conn, inc.id)?.iter().map(|p| p.id).collect()
    } else {
        Vec::new()
    };
    let lists = super::queue::lists(state, conn)?;
    let (found, problems) =
        suggestions(conn, &inc, &lists.services, &linked_incidents, can_view_problems.then_some(&linked_problems[..]))?;
    Ok(SimilarPanel {
        key: key(inc.id),
        title: inc.title,
        incidents: found,
        problems,
        can_view_problems,
        can_manage_problems: policy::allows(Some(&actor), Action::ManageProblems, Resource::None),
    })
}

/// Past incidents and open problems like this incident, by its title and description, leaving
/// out what it is linked to already. `linked_problems` is None when the viewer may not read
/// problems (then none are suggested).
fn suggestions(
    conn: &mut DbConnection,
    inc: &Incident,
    services: &[Service],
    linked_incidents: &[i64],
    linked_problems: Option<&[i64]>,
) -> ServiceResult<(Vec<SimilarIncident>, Vec<SimilarProblem>)> {
    let words = crate::db::similar::similar_words(&inc.title, &inc.description);
    let found = crate::db::similar::similar_incidents(
        conn,
        &words,
        Some(inc.id),
        Some(inc.service_id),
        &Visibility::Everything,
        linked_incidents,
        SUGGESTIONS,
    )?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let rows: HashMap<i64, Incident> = incidents::find_many(conn, &ids)?.into_iter().map(|i| (i.id, i)).collect();
    let names: HashMap<i64, &str> = services.iter().map(|s| (s.id, s.name.as_str())).collect();
    let similar = found
        .into_iter()
        .filter_map(|(id, score)| rows.get(&id).map(|i| (i, score)))
        .map(|(i, score)| SimilarIncident {
            key: key(i.id),
            title: i.title.clone(),
            status: status_of(i).label(),
            service: names.get(&i.service_id).map(|s| s.to_string()).unwrap_or_default(),
            score,
        })
        .collect();
    let similar_problems = match linked_problems {
        Some(linked) => {
            let found = crate::db::similar::similar_problems(conn, &words, Some(inc.service_id), linked, SUGGESTIONS)?;
            let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
            let rows: HashMap<i64, crate::db::models::Problem> =
                crate::db::problems::find_many(conn, &ids)?.into_iter().map(|p| (p.id, p)).collect();
            found
                .into_iter()
                .filter_map(|(id, score)| {
                    rows.get(&id).map(|p| SimilarProblem {
                        key: crate::domain::problem::key(p.id),
                        title: p.title.clone(),
                        score,
                        workaround: p.workaround.clone(),
                    })
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok((similar, similar_problems))
}

/// A report being written, checked against earlier ones: the key and title (nothing else) of
/// up to `SUGGESTIONS` incidents like it that the user may see, the chosen service's first.
pub fn similar_titles(
    state: &AppState,
    user: &User,
    title: &str,
    description: &str,
    service_id: Option<i64>,
) -> ServiceResult<Vec<(String, String)>> {
    let actor = actor_of(user);
    authorize(&actor, Action::CreateIncident, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let vis = visibility(conn, &actor)?;
    let words = crate::db::similar::similar_words(title, description);
    let found = crate::db::similar::similar_incidents(conn, &words, None, service_id, &vis, &[], SUGGESTIONS)?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let mut rows: HashMap<i64, Incident> = incidents::find_many(conn, &ids)?.into_iter().map(|i| (i.id, i)).collect();
    let mut out = Vec::new();
    for (id, _) in found {
        let Some(inc) = rows.remove(&id) else { continue };
        // The query already keeps to what the viewer may see; the policy has the last word.
        let res = super::resource_of(conn, &inc)?;
        if policy::allows(Some(&actor), Action::ViewIncident, res) {
            out.push((key(inc.id), inc.title));
        }
    }
    Ok(out)
}

//! Feedback on articles: "was this helpful?" votes (one per visitor per article), suggestion
//! opens and deflections, review flags, and the known-error loop (a problem's fix released by a
//! deployment marks its workaround articles "Fixed in release X" and flags them for review).

use super::{Card, actor_opt, may_read};
use crate::crypto::{hmac_hex, sha256_hex};
use crate::db::help::{self, ArticleSummary, Deflection, NewVote};
use crate::db::history::{self, Record};
use crate::db::models::Problem;
use crate::db::models::User;
use crate::db::{DbConnection, DbError};
use crate::domain::help::{DEFLECTION_WINDOW_MINUTES, Rating, VOTE_COMMENT_MAX};
use crate::domain::policy::{Action, Resource};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult, actor_of, authorize};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// Who answers "was this helpful?": a signed-in user, or an anonymous visitor known by the
/// random token of their visitor cookie (only its hash is stored).
pub enum Voter<'a> {
    User(&'a User),
    Visitor(&'a str),
}

pub(super) fn user_voter(user_id: i64) -> String {
    format!("user:{user_id}")
}

fn visitor_voter(token: &str) -> String {
    format!("visitor:{}", sha256_hex(token))
}

/// How many new anonymous answers one IP address may give an article in 24 hours. Visitors are
/// told apart by a cookie, which a script simply drops; this bounds what it can stuff in. A
/// visitor changing their answer is not a new one.
pub const ANON_VOTES_PER_IP_PER_DAY: i64 = 10;

/// The IP address as stored with anonymous votes: an HMAC with the instance's secret (the
/// address itself is not kept).
fn ip_key(state: &AppState, ip: &str) -> String {
    hmac_hex(&state.secret, &format!("help-vote-ip|{ip}"))
}

/// Records the visitor's answer; a second answer from the same visitor replaces the first.
/// Anonymous visitors' new answers are also limited per IP address (`ANON_VOTES_PER_IP_PER_DAY`
/// per article). Returns whether an earlier answer was replaced.
pub fn vote(
    state: &AppState,
    voter: Voter<'_>,
    ip: &str,
    slug: &str,
    helpful: &str,
    comment: &str,
) -> ServiceResult<bool> {
    let user = match voter {
        Voter::User(u) => Some(u),
        Voter::Visitor(_) => None,
    };
    let actor = actor_opt(user);
    let key = match voter {
        Voter::User(u) => user_voter(u.id),
        Voter::Visitor(t) if t.len() >= 32 => visitor_voter(t),
        Voter::Visitor(_) => {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "helpful",
                "Your browser refused the cookie that keeps one answer per visitor.",
            )));
        }
    };
    let helpful = match helpful {
        "yes" => true,
        "no" => false,
        _ => return Err(ServiceError::Invalid(FieldErrors::single("helpful", "Answer yes or no."))),
    };
    let comment = if helpful { String::new() } else { comment.trim().to_string() };
    if comment.chars().count() > VOTE_COMMENT_MAX {
        return Err(ServiceError::Invalid(FieldErrors::single(
            "comment",
            format!("Keep the comment to {VOTE_COMMENT_MAX} characters."),
        )));
    }
    state.tx(|conn| {
        let a = help::summary_by_slug(conn, slug)?;
        if !may_read(actor.as_ref(), &a) || a.status != "published" {
            return Err(ServiceError::NotFound);
        }
        let now = state.clock.now_naive();
        let ip_hash = if user.is_none() { ip_key(state, ip) } else { String::new() };
        match help::vote_of(conn, a.id, &key)? {
            Some(v) => {
                help::change_vote(conn, v.id, helpful, &comment, now)?;
                Ok(true)
            }
            None if user.is_none()
                && help::anonymous_votes_from(conn, a.id, &ip_hash, now - Duration::hours(24))?
                    >= ANON_VOTES_PER_IP_PER_DAY =>
            {
                Err(ServiceError::Invalid(FieldErrors::single(
                    "helpful",
                    "Many answers about this article came from your network today, so yours was not counted. Sign in to answer, or try again tomorrow.",
                )))
            }
            None => match help::insert_vote(
                conn,
                &NewVote {
                    article_id: a.id,
                    voter: &key,
                    user_id: user.map(|u| u.id),
                    helpful,
                    comment: &comment,
                    ip_hash: &ip_hash,
                    now,
                },
            ) {
                Ok(()) => Ok(false),
                Err(DbError::Conflict) => Err(ServiceError::Conflict("Your answer was already recorded.".into())),
                Err(e) => Err(e.into()),
            },
        }
    })
}

/// A suggestion of the new-incident form was opened: recorded so that, if the user files no
/// incident within the window, it counts as a deflection. Returns the article's slug.
pub fn record_open(state: &AppState, user: &User, slug: &str) -> ServiceResult<String> {
    let actor = actor_of(user);
    authorize(&actor, Action::CreateIncident, Resource::None)?;
    state.tx(|conn| {
        let a = help::summary_by_slug(conn, slug)?;
        if !may_read(Some(&actor), &a) {
            return Err(ServiceError::NotFound);
        }
        help::insert_open(conn, a.id, user.id, state.clock.now_naive())?;
        Ok(a.slug)
    })
}

/// Called inside the transaction that files an incident: the filer's suggestion opens of the
/// last `DEFLECTION_WINDOW_MINUTES` did not deflect it.
pub(crate) fn incident_filed(
    state: &AppState,
    conn: &mut DbConnection,
    user_id: i64,
    incident_id: i64,
) -> ServiceResult<()> {
    let since = state.clock.now_naive() - Duration::minutes(DEFLECTION_WINDOW_MINUTES);
    help::settle_opens(conn, user_id, since, incident_id)?;
    Ok(())
}

/// Called inside a release's deployment transaction when `problem_id`'s fix ships: each
/// article that is the problem's workaround shows "Fixed in release X" and is flagged for
/// review, with an event on the article and a line in the problem's history.
pub(crate) fn fix_released(
    state: &AppState,
    conn: &mut DbConnection,
    problem_id: i64,
    release: &str,
    actor_id: Option<i64>,
) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    let key = crate::domain::problem::key(problem_id);
    for a in help::for_problem(conn, problem_id)? {
        help::set_fixed_in(conn, a.id, release, now)?;
        let reason = format!("{key}'s fix shipped in release {release}: check whether the workaround is still needed.");
        help::set_review(conn, a.id, Some((&reason, now)))?;
        help::insert_event(conn, a.id, actor_id, "fix_released", &format!("fixed in release {release} ({key})"), now)?;
        history::write(
            conn,
            Record::Problem(problem_id),
            actor_id,
            "help_article_flagged",
            ("article", "", &a.title),
            now,
        )?;
    }
    Ok(())
}

/// Called inside the transaction of every change of a problem's status (by hand, a recurrence,
/// a rollback): a workaround article that says "Fixed in release X" while the problem's fix is
/// no longer out (`domain::help::fix_shipped`) loses the note and is flagged for review, so the
/// note never outlives the fix. `why` says what happened, for the flag and the history.
pub(crate) fn problem_changed(
    state: &AppState,
    conn: &mut DbConnection,
    p: &Problem,
    why: &str,
    actor_id: Option<i64>,
) -> ServiceResult<()> {
    if crate::domain::help::fix_shipped(&p.status, p.fix_released_at.is_some()) {
        return Ok(());
    }
    let now = state.clock.now_naive();
    let key = crate::domain::problem::key(p.id);
    for a in help::for_problem(conn, p.id)?.into_iter().filter(|a| !a.fixed_in_release.is_empty()) {
        help::set_fixed_in(conn, a.id, "", now)?;
        let reason =
            format!("{why}: {key}'s workaround applies again (it said fixed in release {}).", a.fixed_in_release);
        help::set_review(conn, a.id, Some((&reason, now)))?;
        help::insert_event(conn, a.id, actor_id, "fix_withdrawn", why, now)?;
        history::write(conn, Record::Problem(p.id), actor_id, "help_article_unfixed", ("article", "", &a.title), now)?;
    }
    Ok(())
}

/// A writer has looked at a flagged article: the flag goes.
pub fn mark_reviewed(state: &AppState, user: &User, id: i64) -> ServiceResult<ArticleSummary> {
    authorize(&actor_of(user), Action::WriteHelp, Resource::None)?;
    state.tx(|conn| {
        let a = help::summary_of(conn, id)?;
        let now = state.clock.now_naive();
        help::set_review(conn, a.id, None)?;
        help::insert_event(conn, a.id, Some(user.id), "reviewed", &a.review_reason, now)?;
        Ok(a)
    })
}

pub struct ReviewRow {
    pub card: Card,
    pub id: i64,
    pub rating: Rating,
    pub deflection: Deflection,
    pub review_reason: String,
    pub flagged_at: Option<NaiveDateTime>,
}

pub struct ReviewView {
    /// Flagged for review (a fix released, a rollback), oldest flag first.
    pub flagged: Vec<ReviewRow>,
    /// More articles are flagged than `flagged` lists (`FLAGGED_LIMIT`).
    pub more_flagged: bool,
    /// Enough votes and fewer than half helpful, worst first.
    pub poorly_rated: Vec<ReviewRow>,
    /// The latest "No" answers with a comment: (article, comment, when).
    pub complaints: Vec<(Card, String, NaiveDateTime)>,
    /// Articles whose suggestions were opened, most deflections first.
    pub deflections: Vec<ReviewRow>,
    pub total: Deflection,
    pub can_write: bool,
}

/// How many flagged articles `/help/review` lists (it says when there are more).
pub const FLAGGED_LIMIT: i64 = 200;

/// `/help/review`: what needs a writer's attention, and how often articles answered a question
/// before it became an incident.
pub fn review(state: &AppState, user: &User) -> ServiceResult<ReviewView> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewHelpFeedback, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let ratings = help::ratings(conn, None)?;
    let cutoff = state.clock.now_naive() - Duration::minutes(DEFLECTION_WINDOW_MINUTES);
    let deflections = help::deflections(conn, cutoff, None)?;
    let mut flagged = help::flagged(conn, FLAGGED_LIMIT + 1)?;
    let more_flagged = flagged.len() as i64 > FLAGGED_LIMIT;
    flagged.truncate(usize::try_from(FLAGGED_LIMIT).unwrap_or(200));
    let complaints = help::recent_complaints(conn, 20)?;
    let mut ids: Vec<i64> = ratings.iter().filter(|(_, r)| r.poorly_rated()).map(|(id, _)| *id).collect();
    ids.extend(deflections.keys());
    ids.extend(complaints.iter().map(|c| c.0));
    let articles: HashMap<i64, ArticleSummary> = help::find_many(conn, &ids)?.into_iter().map(|a| (a.id, a)).collect();
    let row = |a: &ArticleSummary| ReviewRow {
        card: Card::of(a),
        id: a.id,
        rating: ratings.get(&a.id).copied().unwrap_or_default(),
        deflection: deflections.get(&a.id).copied().unwrap_or_default(),
        review_reason: a.review_reason.clone(),
        flagged_at: a.review_flagged_at,
    };
    let mut poorly_rated: Vec<ReviewRow> =
        ratings.iter().filter(|(_, r)| r.poorly_rated()).filter_map(|(id, _)| articles.get(id)).map(row).collect();
    poorly_rated.sort_by_key(|r| (r.rating.helpful_percent().unwrap_or(0), -r.rating.total(), r.id));
    let mut by_deflection: Vec<ReviewRow> = deflections.keys().filter_map(|id| articles.get(id)).map(row).collect();
    by_deflection.sort_by_key(|r| (-r.deflection.deflected, -r.deflection.opens, r.id));
    let total = deflections.values().fold(Deflection::default(), |t, d| Deflection {
        opens: t.opens + d.opens,
        deflected: t.deflected + d.deflected,
        filed: t.filed + d.filed,
    });
    Ok(ReviewView {
        flagged: flagged.iter().map(row).collect(),
        more_flagged,
        poorly_rated,
        complaints: complaints
            .into_iter()
            .filter_map(|(id, text, at)| articles.get(&id).map(|a| (Card::of(a), text, at)))
            .collect(),
        deflections: by_deflection,
        total,
        can_write: crate::domain::policy::allows(Some(&actor), Action::WriteHelp, Resource::None),
    })
}

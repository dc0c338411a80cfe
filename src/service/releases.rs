//! Releases: planning, the readiness gate (checklist, approval, no unexcused SEV1/SEV2),
//! deployment (its bugs released, their problems fix-released, the watch window opened), suspect
//! incidents, rollback; and the jobs that end watch windows and verify quiet fixes.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::history::{self, Record};
use crate::db::models::{Bug, HistoryEntry, Incident, Release, ReleaseCheck, ReleaseSuspect, User};
use crate::db::releases::{self, ReleaseFields, ReleaseStamp};
use crate::db::{DbConnection, bugs, incidents, problems, services, users};
use crate::domain::bug::BugStatus;
use crate::domain::incident::key as inc_key;
use crate::domain::policy::{self, Action, Resource};
use crate::domain::problem::ProblemStatus;
use crate::domain::release::{DEPLOYMENT_TYPES, Override, Readiness, ReleaseStatus};
use chrono::{Duration, NaiveDateTime, TimeZone};
use std::collections::HashMap;

/// The tag an incident gets when it opens on a service a release is watching.
pub const SUSPECT_TAG: &str = "release-suspect";

#[derive(Debug, Clone, Default)]
pub struct ReleaseInput {
    pub version: String,
    pub title: String,
    pub notes: String,
    pub deployment_type: String,
    /// `YYYY-MM-DDTHH:MM` in the user's time zone, or empty.
    pub window_start: String,
    pub window_end: String,
    pub rollback_plan: String,
    pub monitor_hours: String,
    pub services: Vec<String>,
    /// What the public status page and its subscribers read about the scheduled window.
    pub maintenance_notice: String,
}

fn local_time(s: &str, tz: chrono_tz::Tz) -> Result<Option<NaiveDateTime>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").map_err(|_| ())?;
    tz.from_local_datetime(&naive).earliest().map(|t| Some(t.naive_utc())).ok_or(())
}

fn validate(conn: &mut DbConnection, user: &User, input: &ReleaseInput) -> ServiceResult<(ReleaseFields, Vec<i64>)> {
    let mut errors = FieldErrors::default();
    let version =
        crate::domain::validate::label(&input.version, "Version", 60).map_err(|e| errors.add("version", e)).ok();
    let title = crate::domain::validate::label(&input.title, "Title", 200).map_err(|e| errors.add("title", e)).ok();
    let notes = super::incidents::check_body(&input.notes, "notes", "The release notes", &mut errors);
    let rollback_plan =
        super::incidents::check_body(&input.rollback_plan, "rollback_plan", "The rollback plan", &mut errors);
    let maintenance_notice = super::status_page::check_notice(&input.maintenance_notice, &mut errors);
    if !DEPLOYMENT_TYPES.iter().any(|(c, _)| *c == input.deployment_type) {
        errors.add("deployment_type", "Choose how the release is deployed.");
    }
    let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let start =
        local_time(&input.window_start, tz).map_err(|_| errors.add("window_start", "Enter a date and time.")).ok();
    let end = local_time(&input.window_end, tz).map_err(|_| errors.add("window_end", "Enter a date and time.")).ok();
    if let (Some(Some(s)), Some(Some(e))) = (start, end)
        && e <= s
    {
        errors.add("window_end", "The window must end after it starts.");
    }
    let monitor_hours = match input.monitor_hours.trim() {
        "" => Some(72),
        h => h.parse::<i32>().ok().filter(|h| (1..=24 * 90).contains(h)),
    };
    if monitor_hours.is_none() {
        errors.add("monitor_hours", "Enter the watch window in hours (1 to 2160).");
    }
    let all = services::all(conn)?;
    let mut service_ids = Vec::new();
    for s in &input.services {
        match s.parse::<i64>().ok().filter(|id| all.iter().any(|svc| svc.id == *id)) {
            Some(id) if !service_ids.contains(&id) => service_ids.push(id),
            Some(_) => {}
            None => errors.add("services", "Choose services from the list."),
        }
    }
    errors.into_result()?;
    Ok((
        ReleaseFields {
            version: version.unwrap_or_default(),
            title: title.unwrap_or_default(),
            notes: notes.unwrap_or_default(),
            deployment_type: input.deployment_type.clone(),
            window_start: start.flatten(),
            window_end: end.flatten(),
            rollback_plan: rollback_plan.unwrap_or_default(),
            monitor_hours: monitor_hours.unwrap_or(72),
            maintenance_notice: maintenance_notice.unwrap_or_default(),
        },
        service_ids,
    ))
}

fn event(
    conn: &mut DbConnection,
    release_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    (field, old_value, new_value): (&str, &str, &str),
    now: NaiveDateTime,
) -> ServiceResult<()> {
    history::write(conn, Record::Release(release_id), actor_id, kind, (field, old_value, new_value), now)?;
    Ok(())
}

/// Announces on the status page what a change did to the release's scheduled maintenance (see
/// `status_page::maintenance_changed`), with a history line saying so.
fn announce(
    state: &AppState,
    conn: &mut DbConnection,
    release_id: i64,
    before: Option<&crate::domain::status_page::Announced>,
    after: &Release,
    user: &User,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let after = super::status_page::announced(conn, after, now)?;
    if let Some(news) = super::status_page::maintenance_changed(state, conn, release_id, before, after.as_ref(), now)? {
        event(conn, release_id, Some(user.id), "status_page", (news.as_str(), "", ""), now)?;
    }
    Ok(())
}

fn version_taken() -> ServiceError {
    ServiceError::Invalid(FieldErrors::single("version", "A release with this version exists already."))
}

pub fn create(state: &AppState, _meta: &RequestMeta, user: &User, input: &ReleaseInput) -> ServiceResult<Release> {
    authorize(&actor_of(user), Action::ManageReleases, Resource::None)?;
    state.tx(|conn| {
        let (fields, service_ids) = validate(conn, user, input)?;
        if releases::find_by_version(conn, &fields.version)?.is_some() {
            return Err(version_taken());
        }
        let now = state.clock.now_naive();
        let r = releases::insert(conn, &fields, user.id, now)?;
        releases::set_services(conn, r.id, &service_ids)?;
        event(conn, r.id, Some(user.id), "created", ("", "", &r.version), now)?;
        Ok(r)
    })
}

pub fn update(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    lock: i32,
    input: &ReleaseInput,
) -> ServiceResult<Release> {
    authorize(&actor_of(user), Action::ManageReleases, Resource::None)?;
    state.tx(|conn| {
        let before = releases::find(conn, id)?;
        let (fields, service_ids) = validate(conn, user, input)?;
        if releases::find_by_version(conn, &fields.version)?.is_some_and(|r| r.id != id) {
            return Err(version_taken());
        }
        if before.lock_version != lock {
            return Err(ServiceError::Stale { current_version: before.lock_version });
        }
        let now = state.clock.now_naive();
        let announced = super::status_page::announced(conn, &before, now)?;
        let after = releases::update_fields(conn, id, lock, &fields, now)?
            .ok_or(ServiceError::Stale { current_version: before.lock_version + 1 })?;
        releases::set_services(conn, id, &service_ids)?;
        event(conn, id, Some(user.id), "edited", ("", "", ""), now)?;
        announce(state, conn, id, announced.as_ref(), &after, user, now)?;
        Ok(after)
    })
}

/// Ticks (or unticks) one readiness item in the user's name.
pub fn tick(state: &AppState, _meta: &RequestMeta, user: &User, id: i64, check_id: i64, on: bool) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageReleases, Resource::None)?;
    state.tx(|conn| {
        let r = releases::find(conn, id)?;
        let c = releases::find_check(conn, check_id)?;
        if c.release_id != r.id {
            return Err(ServiceError::NotFound);
        }
        if ReleaseStatus::parse(&r.status) != Some(ReleaseStatus::Planned) {
            return Err(ServiceError::Conflict("The checklist can change only while the release is planned.".into()));
        }
        let now = state.clock.now_naive();
        if on {
            releases::set_check(conn, c.id, Some(user.id), Some(now))?;
        } else {
            releases::set_check(conn, c.id, None, None)?;
        }
        event(conn, r.id, Some(user.id), if on { "ticked" } else { "unticked" }, ("check", "", &c.label), now)?;
        Ok(())
    })
}

/// The product owner's sign-off. An override reason lets the release go despite the SEV1/SEV2
/// incidents open on its services now, and only those: they are recorded with the approval, and
/// one opened later holds the release back again. A reason given when nothing blocks is kept,
/// noted as unused.
pub fn approve(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    override_reason: &str,
) -> ServiceResult<Override> {
    authorize(&actor_of(user), Action::ApproveRelease, Resource::None)?;
    state.tx(|conn| {
        let r = releases::find(conn, id)?;
        if ReleaseStatus::parse(&r.status) != Some(ReleaseStatus::Planned) {
            return Err(ServiceError::Conflict("Only a planned release can be approved.".into()));
        }
        let reason = override_reason.trim();
        if reason.chars().count() > 1000 || reason.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "override_reason",
                "The override reason is one line of at most 1,000 characters.",
            )));
        }
        let now = state.clock.now_naive();
        let covered = if reason.is_empty() {
            Vec::new()
        } else {
            let services = releases::services_of(conn, r.id)?;
            releases::blocking_incidents(conn, &services)?
        };
        releases::approve(conn, r.id, user.id, reason, now)?;
        releases::set_overrides(conn, r.id, &covered)?;
        let keys: Vec<String> = covered.iter().copied().map(inc_key).collect();
        event(conn, r.id, Some(user.id), "approved", ("override_for", &keys.join(", "), reason), now)?;
        Ok(match (reason.is_empty(), keys.is_empty()) {
            (true, _) => Override::None,
            (false, true) => Override::Unused,
            (false, false) => Override::Covers(keys),
        })
    })
}

fn readiness(conn: &mut DbConnection, r: &Release) -> ServiceResult<Readiness> {
    let checks = releases::checks_of(conn, r.id)?;
    let svc = releases::services_of(conn, r.id)?;
    Ok(Readiness {
        unticked: checks.iter().filter(|c| c.checked_at.is_none()).map(|c| c.label.clone()).collect(),
        approved: r.approved_at.is_some(),
        blocking: releases::uncovered_blocking(conn, r.id, &svc)?.into_iter().map(inc_key).collect(),
        overridden: !r.override_reason.trim().is_empty(),
    })
}

/// Moves the release along: ready, deploying, deployed (which opens the watch window), closed,
/// or rolled_back (with a reason).
pub fn transition(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    lock: i32,
    to: &str,
    reason: &str,
) -> ServiceResult<Release> {
    authorize(&actor_of(user), Action::ManageReleases, Resource::None)?;
    state.tx(|conn| {
        let r = releases::find(conn, id)?;
        if r.lock_version != lock {
            return Err(ServiceError::Stale { current_version: r.lock_version });
        }
        let from = ReleaseStatus::parse(&r.status).unwrap_or(ReleaseStatus::Planned);
        let invalid = |m: String| ServiceError::Invalid(FieldErrors::single("status", m));
        let Some(to) = ReleaseStatus::parse(to) else {
            return Err(invalid("Choose what happens next.".into()));
        };
        let allowed = match to {
            ReleaseStatus::Ready => from == ReleaseStatus::Planned,
            ReleaseStatus::Deploying => from == ReleaseStatus::Ready,
            ReleaseStatus::Deployed => matches!(from, ReleaseStatus::Ready | ReleaseStatus::Deploying),
            ReleaseStatus::Closed => from == ReleaseStatus::Monitoring,
            ReleaseStatus::RolledBack => from.can_roll_back(),
            ReleaseStatus::Planned => from == ReleaseStatus::Ready,
            ReleaseStatus::Monitoring => false,
        };
        if !allowed {
            return Err(invalid(format!(
                "A {} release cannot become {}.",
                from.label().to_lowercase(),
                to.label().to_lowercase()
            )));
        }
        // Going out: the gate is checked again, as a SEV1/SEV2 may have opened since "ready".
        if from == ReleaseStatus::Ready && matches!(to, ReleaseStatus::Deploying | ReleaseStatus::Deployed) {
            let obstacles = readiness(conn, &r)?.obstacles();
            if !obstacles.is_empty() {
                return Err(invalid(format!("Not clear to deploy: {}", obstacles.join(" "))));
            }
        }
        let now = state.clock.now_naive();
        let mut stamp = ReleaseStamp::default();
        let mut stored = to;
        match to {
            ReleaseStatus::Ready => {
                let obstacles = readiness(conn, &r)?.obstacles();
                if !obstacles.is_empty() {
                    return Err(invalid(obstacles.join(" ")));
                }
            }
            ReleaseStatus::Deployed => {
                stamp.deployed_at = Some(Some(now));
                stamp.monitor_until = Some(Some(now + Duration::hours(i64::from(r.monitor_hours))));
                stored = ReleaseStatus::Monitoring;
            }
            ReleaseStatus::RolledBack => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(ServiceError::Invalid(FieldErrors::single(
                        "reason",
                        "Say why the release is rolled back.",
                    )));
                }
                stamp.rolled_back_at = Some(Some(now));
                stamp.rollback_reason = Some(reason.to_string());
            }
            ReleaseStatus::Planned => {
                // Back to planning: the approval and what its override covered no longer hold.
                stamp.approved_by = Some(None);
                stamp.approved_at = Some(None);
                stamp.override_reason = Some(String::new());
                releases::set_overrides(conn, r.id, &[])?;
            }
            _ => {}
        }
        let announced = super::status_page::announced(conn, &r, now)?;
        let after = releases::set_status(conn, r.id, lock, stored.as_str(), &stamp, now)?
            .ok_or(ServiceError::Stale { current_version: r.lock_version + 1 })?;
        event(conn, r.id, Some(user.id), "status_changed", ("status", from.as_str(), to.as_str()), now)?;
        announce(state, conn, r.id, announced.as_ref(), &after, user, now)?;
        match to {
            ReleaseStatus::Deployed => {
                let until = after.monitor_until.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
                event(conn, r.id, None, "monitoring", ("until", "", &until), now)?;
                ship(state, conn, &after, user)?;
            }
            ReleaseStatus::RolledBack => {
                event(conn, r.id, Some(user.id), "rolled_back", ("reason", "", reason.trim()), now)?;
                unship(state, conn, &after, user)?;
            }
            _ => {}
        }
        Ok(after)
    })
}

fn bug_event(
    conn: &mut DbConnection,
    bug: &Bug,
    actor: Option<i64>,
    kind: &str,
    change: (&str, &str, &str),
    now: NaiveDateTime,
) -> ServiceResult<()> {
    history::write(conn, Record::Bug(bug.id), actor, kind, change, now)?;
    Ok(())
}

fn problem_event(
    conn: &mut DbConnection,
    problem_id: i64,
    actor: Option<i64>,
    kind: &str,
    change: (&str, &str, &str),
    now: NaiveDateTime,
) -> ServiceResult<()> {
    history::write(conn, Record::Problem(problem_id), actor, kind, change, now)?;
    Ok(())
}

/// Deployed: the release's bugs are released (a bug whose earlier fix did not hold has a new one
/// now), and each of their problems whose bugs are all shipped has its fix out.
fn ship(state: &AppState, conn: &mut DbConnection, r: &Release, user: &User) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    let mut problem_ids: Vec<i64> = Vec::new();
    for b in releases::bugs_of(conn, r.id)? {
        if BugStatus::parse(&b.status) == Some(BugStatus::WontFix) {
            continue;
        }
        if b.status != BugStatus::Released.as_str() {
            bugs::set_status(conn, b.id, b.version, BugStatus::Released.as_str(), now)?;
            bug_event(conn, &b, Some(user.id), "status_changed", ("status", &b.status, "released"), now)?;
        }
        if b.fix_ineffective {
            bugs::set_ineffective(conn, b.id, false, now)?;
            bug_event(conn, &b, Some(user.id), "fix_renewed", ("release", "", &r.version), now)?;
        }
        for p in bugs::problems_of(conn, b.id)? {
            if !problem_ids.contains(&p.id) {
                problem_ids.push(p.id);
            }
        }
    }
    for pid in problem_ids {
        let p = problems::find(conn, pid)?;
        let st = ProblemStatus::parse(&p.status).unwrap_or(ProblemStatus::Investigating);
        if matches!(st, ProblemStatus::Closed | ProblemStatus::FixReleased | ProblemStatus::Verified) {
            continue;
        }
        let waiting: Vec<String> = bugs::for_problem(conn, p.id)?
            .iter()
            .filter(|b| !crate::domain::bug::is_shipped(&b.status, b.fix_ineffective))
            .map(|b| crate::domain::bug::key(b.id))
            .collect();
        if !waiting.is_empty() {
            // Part of the fix is out; the problem waits for the rest.
            problem_event(
                conn,
                p.id,
                Some(user.id),
                "fix_partly_released",
                ("release", &r.version, &waiting.join(", ")),
                now,
            )?;
            continue;
        }
        problems::set_status(conn, p.id, p.version, "fix_released", None, Some(Some(now)), None, now)?;
        problem_event(conn, p.id, Some(user.id), "status_changed", ("status", st.as_str(), "fix_released"), now)?;
        problem_event(conn, p.id, Some(user.id), "fix_released", ("release", "", &r.version), now)?;
        crate::service::help::fix_released(state, conn, p.id, &r.version, Some(user.id))?;
    }
    Ok(())
}

/// Rolled back: the bugs are open again and their problems wait for another fix, also when the
/// watch window had closed and the fix was verified meanwhile.
fn unship(state: &AppState, conn: &mut DbConnection, r: &Release, user: &User) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    for b in releases::bugs_of(conn, r.id)? {
        if !matches!(BugStatus::parse(&b.status), Some(BugStatus::Released | BugStatus::Verified)) {
            continue;
        }
        bugs::set_status(conn, b.id, b.version, BugStatus::Open.as_str(), now)?;
        bug_event(conn, &b, Some(user.id), "status_changed", ("status", &b.status, "open"), now)?;
        for p in bugs::problems_of(conn, b.id)? {
            let st = ProblemStatus::parse(&p.status).unwrap_or(ProblemStatus::Investigating);
            if !matches!(st, ProblemStatus::FixReleased | ProblemStatus::Verified | ProblemStatus::Recurred) {
                continue;
            }
            let Some(after) =
                problems::set_status(conn, p.id, p.version, "fix_in_progress", None, Some(None), None, now)?
            else {
                continue;
            };
            problem_event(
                conn,
                p.id,
                Some(user.id),
                "status_changed",
                ("status", st.as_str(), "fix_in_progress"),
                now,
            )?;
            let why = format!("Release {} was rolled back", r.version);
            crate::service::help::problem_changed(state, conn, &after, &why, Some(user.id))?;
        }
    }
    Ok(())
}

/// Puts a bug (BUG-n) into the release, or takes it out.
pub fn set_bug(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    bug_key: &str,
    add: bool,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageReleases, Resource::None)?;
    state.tx(|conn| {
        let r = releases::find(conn, id)?;
        let invalid = |m: &str| ServiceError::Invalid(FieldErrors::single("bug", m));
        let Some(bid) = crate::domain::bug::parse_key(bug_key) else {
            return Err(invalid("Enter a bug key like BUG-12."));
        };
        let b = match bugs::find(conn, bid) {
            Ok(b) => b,
            Err(crate::db::DbError::NotFound) => return Err(invalid("There is no bug with that key.")),
            Err(e) => return Err(e.into()),
        };
        let now = state.clock.now_naive();
        let k = crate::domain::bug::key(b.id);
        if add {
            if b.release_id == Some(r.id) {
                return Err(invalid("The bug is in this release already."));
            }
            releases::assign_bug(conn, b.id, Some(r.id), now)?;
            event(conn, r.id, Some(user.id), "bug_added", ("bug", "", &k), now)?;
            bug_event(conn, &b, Some(user.id), "field_changed", ("fix release", "", &r.version), now)?;
        } else {
            if b.release_id != Some(r.id) {
                return Err(ServiceError::NotFound);
            }
            releases::assign_bug(conn, b.id, None, now)?;
            event(conn, r.id, Some(user.id), "bug_removed", ("bug", &k, ""), now)?;
        }
        Ok(())
    })
}

/// Staff who work incidents confirm (a change failure) or dismiss a suspect incident.
pub fn decide_suspect(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    incident_id: i64,
    confirm: bool,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::DecideReleaseSuspect, Resource::None)?;
    state.tx(|conn| {
        let r = releases::find(conn, id)?;
        let now = state.clock.now_naive();
        let status = if confirm { "confirmed" } else { "dismissed" };
        if releases::decide_suspect(conn, r.id, incident_id, status, user.id, now)? == 0 {
            return Err(ServiceError::NotFound);
        }
        event(conn, r.id, Some(user.id), "suspect", (status, "", &inc_key(incident_id)), now)?;
        Ok(())
    })
}

/// A new incident on a service a release is watching becomes a suspect of that release.
pub(crate) fn on_incident_created(state: &AppState, conn: &mut DbConnection, inc: &Incident) -> ServiceResult<()> {
    let now = state.clock.now_naive();
    let watching = releases::watching(conn, inc.service_id, now)?;
    if watching.is_empty() {
        return Ok(());
    }
    for rid in &watching {
        releases::add_suspect(conn, *rid, inc.id)?;
        event(conn, *rid, None, "suspect", ("suspect", "", &inc_key(inc.id)), now)?;
    }
    let mut tags: Vec<String> = incidents::tags_for(conn, &[inc.id])?.into_iter().map(|(_, t)| t).collect();
    if !tags.iter().any(|t| t == SUSPECT_TAG) {
        tags.push(SUSPECT_TAG.to_string());
        incidents::set_tags(conn, inc.id, &tags)?;
    }
    Ok(())
}

/// The release-watch job's lock (PostgreSQL advisory lock key).
const WATCH_LOCK: i64 = 0x5f1a_0006;

/// The job: ends watch windows, and verifies fixes whose problems stayed quiet for their watch
/// period. Returns (releases closed, problems verified).
pub fn watch(state: &AppState) -> ServiceResult<(usize, usize)> {
    state.tx(|conn| {
        if !crate::db::try_job_lock(conn, WATCH_LOCK)? {
            return Ok((0, 0));
        }
        let now = state.clock.now_naive();
        let mut closed = 0;
        for r in releases::watch_over(conn, now)? {
            if releases::set_status(conn, r.id, r.lock_version, "closed", &ReleaseStamp::default(), now)?.is_some() {
                event(conn, r.id, None, "watch_ended", ("", "", ""), now)?;
                closed += 1;
            }
        }
        let mut verified = 0;
        for p in problems::fix_released_before(conn, now)? {
            let Some(released) = p.fix_released_at else { continue };
            if released + Duration::days(i64::from(p.watch_days)) > now {
                continue;
            }
            if problems::set_status(conn, p.id, p.version, "verified", None, None, None, now)?.is_none() {
                continue;
            }
            let days = p.watch_days.to_string();
            problem_event(conn, p.id, None, "verified", ("watch_days", "", &days), now)?;
            for b in bugs::for_problem(conn, p.id)? {
                if b.status == BugStatus::Released.as_str() {
                    bugs::set_status(conn, b.id, b.version, BugStatus::Verified.as_str(), now)?;
                    bug_event(conn, &b, None, "status_changed", ("status", "released", "verified"), now)?;
                }
            }
            verified += 1;
        }
        Ok((closed, verified))
    })
}

// ---------- read models ----------

pub fn list(state: &AppState, user: &User, status: Option<&str>) -> ServiceResult<Vec<Release>> {
    authorize(&actor_of(user), Action::ViewReleases, Resource::None)?;
    Ok(releases::list(&mut *state.conn()?, status, 200)?)
}

pub struct CheckView {
    pub check: ReleaseCheck,
    pub by: String,
}

pub struct ReleasePage {
    pub release: Release,
    pub services: Vec<(i64, String)>,
    pub checks: Vec<CheckView>,
    /// Planned: what stops it being ready; ready: what stops its deployment.
    pub obstacles: Vec<String>,
    /// The incidents the approval's override covers (their keys).
    pub covered: Vec<String>,
    pub approver: String,
    pub bugs: Vec<Bug>,
    pub suspects: Vec<(ReleaseSuspect, Incident)>,
    pub change_failure: bool,
    pub events: Vec<(HistoryEntry, String)>,
    pub can_manage: bool,
    pub can_approve: bool,
    pub can_decide_suspects: bool,
    pub all_services: Vec<crate::db::models::Service>,
}

pub fn page(state: &AppState, user: &User, id: i64) -> ServiceResult<ReleasePage> {
    let actor = actor_of(user);
    authorize(&actor, Action::ViewReleases, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let release = releases::find(conn, id)?;
    let checks = releases::checks_of(conn, id)?;
    let service_ids = releases::services_of(conn, id)?;
    let all_services = services::all(conn)?;
    let events = history::of(conn, Record::Release(id))?;
    let mut people: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    people.extend(checks.iter().filter_map(|c| c.checked_by));
    people.extend(release.approved_by);
    let names: HashMap<i64, String> =
        users::list_by_ids(conn, &people)?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let name = |a: Option<i64>| a.and_then(|a| names.get(&a).cloned()).unwrap_or_else(|| "Firewatch".into());
    let obstacles =
        if matches!(ReleaseStatus::parse(&release.status), Some(ReleaseStatus::Planned | ReleaseStatus::Ready)) {
            readiness(conn, &release)?.obstacles()
        } else {
            Vec::new()
        };
    let covered = releases::overrides_of(conn, id)?.into_iter().map(inc_key).collect();
    let suspects = releases::suspects_of(conn, id)?;
    Ok(ReleasePage {
        services: all_services.iter().filter(|s| service_ids.contains(&s.id)).map(|s| (s.id, s.name.clone())).collect(),
        checks: checks
            .into_iter()
            .map(|c| CheckView { by: c.checked_by.map(|b| name(Some(b))).unwrap_or_default(), check: c })
            .collect(),
        obstacles,
        covered,
        approver: release.approved_by.map(|a| name(Some(a))).unwrap_or_default(),
        bugs: releases::bugs_of(conn, id)?,
        change_failure: suspects.iter().any(|(s, _)| s.status == "confirmed"),
        suspects,
        events: events
            .into_iter()
            .map(|e| {
                let who = name(e.actor_id);
                (e, who)
            })
            .collect(),
        can_manage: policy::allows(Some(&actor), Action::ManageReleases, Resource::None),
        can_approve: policy::allows(Some(&actor), Action::ApproveRelease, Resource::None),
        can_decide_suspects: policy::allows(Some(&actor), Action::DecideReleaseSuspect, Resource::None),
        all_services,
        release,
    })
}

pub fn describe(e: &HistoryEntry) -> String {
    let label = |s: &str| ReleaseStatus::parse(s).map(ReleaseStatus::label).unwrap_or("?").to_lowercase();
    match e.kind.as_str() {
        "created" => format!("Release {} planned", e.new_value),
        "edited" => "Edited the release".to_string(),
        "ticked" => format!("Ticked: {}", e.new_value),
        "unticked" => format!("Unticked: {}", e.new_value),
        "approved" if e.new_value.is_empty() => "Approved".to_string(),
        "approved" if e.field == "override_for" && e.old_value.is_empty() => {
            format!("Approved with an override reason that is unused, as nothing was blocking: {}", e.new_value)
        }
        "approved" if e.field == "override_for" => {
            format!("Approved, overriding the open incidents {}: {}", e.old_value, e.new_value)
        }
        "approved" => format!("Approved, overriding open incidents: {}", e.new_value),
        "status_changed" => format!("Status {} → {}", label(&e.old_value), label(&e.new_value)),
        "monitoring" => format!("Watching for new incidents until {}", e.new_value),
        "rolled_back" => format!("Rolled back: {}", e.new_value),
        "bug_added" => format!("Added {}", e.new_value),
        "bug_removed" => format!("Removed {}", e.old_value),
        "suspect" => format!(
            "{} {}",
            match e.field.as_str() {
                "confirmed" => "Confirmed as caused by the release:",
                "dismissed" => "Dismissed as unrelated:",
                _ => "Suspect incident:",
            },
            e.new_value
        ),
        "watch_ended" => "The watch window ended".to_string(),
        "status_page" => match crate::domain::status_page::MaintenanceNews::parse(&e.field) {
            Some(n) => format!("Status page: {} (subscribers are mailed)", n.label().to_lowercase()),
            None => "Status page changed".to_string(),
        },
        other => other.replace('_', " "),
    }
}

// ---------- checklist template ----------

pub fn checklist(state: &AppState, user: &User) -> ServiceResult<Vec<crate::db::models::ChecklistItem>> {
    authorize(&actor_of(user), Action::ManageChecklist, Resource::None)?;
    Ok(releases::checklist(&mut *state.conn()?, false)?)
}

pub fn add_checklist_item(state: &AppState, meta: &RequestMeta, user: &User, label: &str) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageChecklist, Resource::None)?;
    let label = crate::domain::validate::label(label, "The item", 200)
        .map_err(|e| ServiceError::Invalid(FieldErrors::single("label", e)))?;
    state.tx(|conn| {
        releases::add_checklist_item(conn, &label)?;
        state.audit(conn, meta, Some(user), "checklist.add", "", &label)
    })
}

pub fn set_checklist_item(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    id: i64,
    active: bool,
) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::ManageChecklist, Resource::None)?;
    state.tx(|conn| {
        if releases::set_checklist_item_active(conn, id, active)? == 0 {
            return Err(ServiceError::NotFound);
        }
        state.audit(
            conn,
            meta,
            Some(user),
            if active { "checklist.enable" } else { "checklist.disable" },
            &id.to_string(),
            "",
        )
    })
}

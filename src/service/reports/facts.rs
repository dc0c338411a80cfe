//! Report facts: one narrow row per incident with the times reports count (first resolution,
//! reopening, the runs of resolved/closed, business-hours resolution time), recomputed from the
//! incident and its status changes whenever triggers mark it dirty. Reports refresh the dirty
//! rows before they read, so their figures are always current; a job keeps the backlog small.

use crate::db::DbConnection;
use crate::db::reports::{self, FactGroups, FactRow, FactTimes, Filter, Timing};
use crate::domain::report::Period;
use crate::domain::sla::{Calendar, ClockState, Phase, phase_of_status, utc};
use crate::service::ServiceResult;
use crate::service::sla::{ClockInput, SlaBook};
use chrono::{DateTime, NaiveDateTime};
use std::collections::HashMap;

/// Incidents recomputed per round.
const BATCH: i64 = 2_000;

/// The most incidents a report request brings up to date before it reads.
pub const PER_REQUEST: usize = 20_000;

fn secs(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

pub(super) fn time(s: i64) -> NaiveDateTime {
    DateTime::from_timestamp(s, 0).map(|d| d.naive_utc()).unwrap_or_default()
}

/// What the facts of one incident are computed from: its row, its status changes and tier
/// moves (in time order), the SLA book, the tiers' order and the moment of computing.
struct Inputs<'a> {
    book: &'a SlaBook,
    position: &'a HashMap<i64, i32>,
    now: NaiveDateTime,
}

/// The facts of one incident.
fn facts_of(
    inp: &Inputs,
    t: &Timing,
    changes: &[(NaiveDateTime, String)],
    moves: &[&reports::EscalationRow],
) -> FactRow {
    let first_resolved = changes.iter().find(|(_, s)| s == "resolved").map(|(at, _)| *at);
    let mut reopened = None;
    let mut spans: Vec<(i64, Option<i64>)> = Vec::new();
    let mut previous = "new";
    for (at, s) in changes {
        if previous == "resolved" && s != "closed" && s != "resolved" && first_resolved.is_some_and(|f| *at > f) {
            reopened = reopened.or(Some(*at));
        }
        let (was, is) = (phase_of_status(previous) == Phase::Done, phase_of_status(s) == Phase::Done);
        match (was, is) {
            (false, true) => spans.push((secs(*at), None)),
            (true, false) => {
                if let Some(last) = spans.last_mut() {
                    last.1 = Some(secs(*at));
                }
            }
            _ => {}
        }
        previous = s;
    }
    let done_since = spans.last().filter(|(_, end)| end.is_none()).map(|(start, _)| *start);
    let business = first_resolved.and_then(|r| match inp.book.calendar(&t.severity, t.organization_id)? {
        cal @ Calendar::Business { .. } => Some(cal.business_time(utc(t.created_at), utc(r)).num_seconds()),
        Calendar::Always => None,
    });
    let (paused_s, waiting_since_s) = waiting(changes);
    let pos = |id: i64| inp.position.get(&id).copied().unwrap_or(0);
    let top_tier_id =
        moves.iter().filter(|m| pos(m.to_tier_id) > pos(m.from_tier_id)).map(|m| m.to_tier_id).max_by_key(|t| pos(*t));
    let mut row = FactRow {
        incident_id: t.id,
        created_s: secs(t.created_at),
        acknowledged_s: t.acknowledged_at.map(secs),
        first_resolved_s: first_resolved.map(secs),
        reopened_s: reopened.map(secs),
        done_since_s: done_since,
        done_spans: spans
            .iter()
            .map(|(s, e)| format!("{s}-{}", e.map(|e| e.to_string()).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(";"),
        service_id: t.service_id,
        organization_id: t.organization_id,
        assignee_id: t.assignee_id,
        tier_id: t.tier_id,
        severity: t.severity.clone(),
        business_mttr_s: business,
        fr_met_s: None,
        fr_breach_s: None,
        fr_due_s: None,
        fr_warn_s: None,
        fr_outcome_s: None,
        res_met_s: None,
        res_breach_s: None,
        res_due_s: None,
        res_warn_s: None,
        res_outcome_s: None,
        paused_s,
        waiting_since_s,
        start_tier_id: Some(moves.first().map_or(t.tier_id, |m| m.from_tier_id)),
        top_tier_id,
        tier_stints: first_resolved.map(|r| stints_text(t, r, moves)).unwrap_or_default(),
        moves: reports::encode_moves(moves),
    };
    sla_outcomes(inp, t, changes, done_since, &mut row);
    row
}

/// Waiting on the customer: the finished stretches in seconds, and the start of the current one.
fn waiting(changes: &[(NaiveDateTime, String)]) -> (i64, Option<i64>) {
    let mut total = 0;
    let mut since: Option<NaiveDateTime> = None;
    for (at, s) in changes {
        match (phase_of_status(s) == Phase::Waiting, since) {
            (true, None) => since = Some(*at),
            (false, Some(w)) => {
                total += (*at - w).num_seconds();
                since = None;
            }
            _ => {}
        }
    }
    (total, since.map(secs))
}

/// Time in each tier from creation to the first resolution, summed per tier: "tier:secs;...".
fn stints_text(t: &Timing, resolved_at: NaiveDateTime, moves: &[&reports::EscalationRow]) -> String {
    let mut sum: Vec<(i64, i64)> = Vec::new();
    let mut add = |tier: i64, d: i64| match sum.iter_mut().find(|(t, _)| *t == tier) {
        Some((_, s)) => *s += d,
        None => sum.push((tier, d)),
    };
    let mut tier = moves.first().map_or(t.tier_id, |m| m.from_tier_id);
    let mut since = t.created_at;
    for m in moves.iter().filter(|m| m.at < resolved_at) {
        add(tier, (m.at - since).num_seconds());
        tier = m.to_tier_id;
        since = m.at;
    }
    add(tier, (resolved_at - since).num_seconds());
    sum.iter().map(|(t, d)| format!("{t}:{d}")).collect::<Vec<_>>().join(";")
}

/// The SLA targets as the clocks stand at the moment of computing: met, breached, or (a
/// running clock) when it falls due and when it warns.
fn sla_outcomes(inp: &Inputs, t: &Timing, changes: &[(NaiveDateTime, String)], done: Option<i64>, row: &mut FactRow) {
    let input = ClockInput {
        severity: &t.severity,
        organization_id: t.organization_id,
        created_at: t.created_at,
        first_response_at: t.first_response_at,
        changes,
    };
    let Some(c) = inp.book.clocks(&input, utc(inp.now)) else { return };
    let naive = |d: Option<chrono::DateTime<chrono::Utc>>| d.map(|d| d.timestamp());
    let read = |r: &crate::domain::sla::ClockReading, met: Option<i64>| {
        let breach = if r.state == ClockState::Breached { naive(r.breached_at) } else { None };
        let running = r.state == ClockState::Running;
        let due = naive(r.due).filter(|_| running);
        let warn = naive(r.warn_at).filter(|_| running);
        (met, breach, due, warn, breach.or(met).or(due))
    };
    (row.fr_met_s, row.fr_breach_s, row.fr_due_s, row.fr_warn_s, row.fr_outcome_s) =
        read(&c.first_response, t.first_response_at.map(secs));
    (row.res_met_s, row.res_breach_s, row.res_due_s, row.res_warn_s, row.res_outcome_s) = read(&c.resolution, done);
}

/// Recomputes the facts of dirty incidents, `limit` at most (None: all); returns how many.
pub fn refresh(conn: &mut DbConnection, limit: Option<usize>, now: NaiveDateTime) -> ServiceResult<usize> {
    let book = SlaBook::load(conn)?;
    let position: HashMap<i64, i32> = crate::db::tiers::all(conn)?.into_iter().map(|t| (t.id, t.position)).collect();
    let inputs = Inputs { book: &book, position: &position, now };
    let mut done = 0;
    loop {
        let want = limit.map_or(BATCH, |l| BATCH.min(l.saturating_sub(done) as i64));
        if want <= 0 {
            return Ok(done);
        }
        let ids = reports::dirty_ids(conn, want)?;
        if ids.is_empty() {
            return Ok(done);
        }
        if done == 0 && ids.len() as i64 == BATCH {
            reports::note_backlog(conn)?;
        }
        let rows = reports::timings_of(conn, &ids, &Filter::default())?;
        let mut changes: HashMap<i64, Vec<(NaiveDateTime, String)>> = HashMap::new();
        for (id, at, s) in reports::status_changes_of(conn, &ids)? {
            changes.entry(id).or_default().push((at, s));
        }
        let moves = reports::escalations_of(conn, &ids)?;
        let mut moves_of: HashMap<i64, Vec<&reports::EscalationRow>> = HashMap::new();
        for m in &moves {
            moves_of.entry(m.incident_id).or_default().push(m);
        }
        let (none, no_moves) = (Vec::new(), Vec::new());
        let facts: Vec<FactRow> = rows
            .iter()
            .map(|t| {
                facts_of(&inputs, t, changes.get(&t.id).unwrap_or(&none), moves_of.get(&t.id).unwrap_or(&no_moves))
            })
            .collect();
        reports::write_facts(conn, &ids, &facts)?;
        done += ids.len();
    }
}

/// The facts of a new incident from what is about to be written for it (the demo loader's
/// rows: its status changes and tier moves in time order), without reading anything back.
pub fn of_new(
    book: &SlaBook,
    position: &HashMap<i64, i32>,
    now: NaiveDateTime,
    t: &Timing,
    changes: &[(NaiveDateTime, String)],
    moves: &[&reports::EscalationRow],
) -> FactRow {
    facts_of(&Inputs { book, position, now }, t, changes, moves)
}

/// Rebuilds up to `limit` packs of facts that changed (the job; a report rebuilds the ones of
/// its own days before it reads); returns how many.
pub fn pack(conn: &mut DbConnection, limit: i64) -> ServiceResult<usize> {
    Ok(reports::rebuild_dirty_packs(conn, limit)?)
}

/// A fact as the report code reads incidents (the fields facts keep).
pub(super) fn timing(f: &FactGroups) -> Timing {
    Timing {
        id: f.incident_id,
        created_at: time(f.created_s),
        acknowledged_at: f.acknowledged_s.map(time),
        severity: f.severity.to_string(),
        service_id: f.service_id,
        organization_id: f.organization_id,
        assignee_id: f.assignee_id,
        tier_id: f.tier_id,
        is_open: f.done_since_s.is_none(),
        status: String::new(),
        first_response_at: None,
        title: String::new(),
    }
}

/// Incidents created in the period that are linked to a problem.
pub fn created_linked(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<Timing>> {
    Ok(reports::facts_linked_created(conn, secs(p.from), secs(p.to), f)?.iter().map(timing).collect())
}

/// The facts of incidents created in the period.
pub fn created_rows(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<FactTimes>> {
    Ok(reports::facts_created(conn, secs(p.from), secs(p.to), f)?)
}

/// The facts of incidents first resolved in the period.
pub fn resolved_rows(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<FactTimes>> {
    Ok(reports::facts_resolved(conn, secs(p.from), secs(p.to), f)?)
}

/// The headline figures' inputs for a previous period: of the incidents created in it, the time
/// to acknowledge (if acknowledged) and whether any was escalated; of those first resolved in
/// it, the time to resolve and whether it was reopened.
pub struct Brief {
    pub created: usize,
    pub escalated: usize,
    pub to_acknowledge: Vec<chrono::Duration>,
    pub to_resolve: Vec<chrono::Duration>,
    pub reopened: usize,
}

pub fn brief(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Brief> {
    let mut b = created_brief(conn, p, f)?;
    let resolved = reports::facts_resolved_brief(conn, secs(p.from), secs(p.to), f)?;
    b.to_resolve = resolved.iter().filter_map(|(c, r, _)| r.map(|r| chrono::Duration::seconds(r - c))).collect();
    b.reopened = resolved.iter().filter(|(_, _, re)| re.is_some()).count();
    Ok(b)
}

/// The brief of the incidents created in the period only (nothing resolved is read).
pub fn created_brief(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Brief> {
    let created = reports::facts_created_brief(conn, secs(p.from), secs(p.to), f)?;
    Ok(Brief {
        created: created.len(),
        escalated: created.iter().filter(|(_, _, top)| top.is_some()).count(),
        to_acknowledge: created.iter().filter_map(|(c, a, _)| a.map(|a| chrono::Duration::seconds(a - c))).collect(),
        to_resolve: Vec::new(),
        reopened: 0,
    })
}

/// Time in each tier of incidents first resolved in the period: (incident, tier, seconds).
pub fn stints(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<(i64, i64, i64)>> {
    Ok(reports::facts_stints(conn, secs(p.from), secs(p.to), f)?)
}

/// Tier moves made in the period of incidents that pass the filter, in time order.
pub fn moves(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<reports::MoveRow>> {
    Ok(reports::moves_between(conn, secs(p.from), secs(p.to), f)?)
}

/// The tiers of incidents created in the period: (incident, current tier, starting tier,
/// highest tier reached).
pub fn created_tiers(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<reports::CreatedTiers>> {
    Ok(reports::facts_created_tiers(conn, secs(p.from), secs(p.to), f)?)
}

/// Incidents that may have been open during the period: when each was created and its runs of
/// resolved/closed (Unix seconds).
pub struct MaybeOpen {
    pub id: i64,
    pub created_s: i64,
    spans: Vec<(i64, Option<i64>)>,
}

impl MaybeOpen {
    /// Open at `t`: created before it, and not in a run of resolved/closed that began before it
    /// and had not ended before it.
    pub fn open_at(&self, t: NaiveDateTime) -> bool {
        let t = secs(t);
        self.created_s < t && !self.spans.iter().any(|(s, e)| *s < t && e.is_none_or(|e| t <= e))
    }
}

/// The incidents open at each of `moments` (sorted, each once): every candidate's open
/// stretches, (created, first done], (done ended, next done], …, placed on the moments they
/// cover, instead of testing every candidate at every moment.
pub fn open_at_each(candidates: &[MaybeOpen], moments: &[NaiveDateTime]) -> Vec<Vec<i64>> {
    let at: Vec<i64> = moments.iter().map(|m| secs(*m)).collect();
    let mut out: Vec<Vec<i64>> = at.iter().map(|_| Vec::new()).collect();
    let covered = |from: i64, to: Option<i64>| {
        let lo = at.partition_point(|m| *m <= from);
        let hi = to.map_or(at.len(), |to| at.partition_point(|m| *m <= to));
        lo..hi.max(lo)
    };
    for c in candidates {
        let mut from = c.created_s;
        for (start, end) in &c.spans {
            for k in covered(from, Some(*start)) {
                out[k].push(c.id);
            }
            match end {
                Some(e) => from = from.max(*e),
                None => {
                    from = i64::MAX;
                    break;
                }
            }
        }
        if from != i64::MAX {
            for k in covered(from, None) {
                out[k].push(c.id);
            }
        }
    }
    out
}

pub fn maybe_open(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<MaybeOpen>> {
    Ok(reports::facts_maybe_open(conn, secs(p.from), secs(p.to), f, |id, created_s, spans| MaybeOpen {
        id,
        created_s,
        spans: spans
            .split(';')
            .filter_map(|span| {
                let (s, e) = span.split_once('-')?;
                Some((s.parse().ok()?, e.parse().ok()))
            })
            .collect(),
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    #[test]
    fn facts_follow_the_status_history() {
        let inc = Timing {
            id: 1,
            created_at: t("2026-03-02 09:00"),
            acknowledged_at: None,
            severity: "SEV1".into(),
            service_id: 1,
            organization_id: None,
            assignee_id: None,
            tier_id: 1,
            is_open: true,
            status: "closed".into(),
            first_response_at: None,
            title: String::new(),
        };
        let ch = |v: &[(&str, &str)]| v.iter().map(|(a, s)| (t(a), s.to_string())).collect::<Vec<_>>();
        let book = SlaBook::empty();
        let position = HashMap::new();
        let inputs = Inputs { book: &book, position: &position, now: t("2026-03-03 09:00") };
        let f = facts_of(
            &inputs,
            &inc,
            &ch(&[
                ("2026-03-02 10:00", "in_progress"),
                ("2026-03-02 11:00", "resolved"),
                ("2026-03-02 12:00", "in_progress"),
                ("2026-03-02 13:00", "resolved"),
                ("2026-03-02 14:00", "closed"),
            ]),
            &[],
        );
        assert_eq!(f.first_resolved_s, Some(secs(t("2026-03-02 11:00"))));
        assert_eq!(f.reopened_s, Some(secs(t("2026-03-02 12:00"))));
        assert_eq!(f.done_since_s, Some(secs(t("2026-03-02 13:00"))));
        let m = MaybeOpen {
            id: inc.id,
            created_s: secs(inc.created_at),
            spans: vec![
                (secs(t("2026-03-02 11:00")), Some(secs(t("2026-03-02 12:00")))),
                (secs(t("2026-03-02 13:00")), None),
            ],
        };
        assert_eq!(
            f.done_spans,
            format!("{}-{};{}-", secs(t("2026-03-02 11:00")), secs(t("2026-03-02 12:00")), secs(t("2026-03-02 13:00")))
        );
        assert!(!m.open_at(t("2026-03-02 09:00")), "not yet created");
        assert!(m.open_at(t("2026-03-02 10:30")));
        assert!(!m.open_at(t("2026-03-02 11:30")));
        assert!(!m.open_at(t("2026-03-02 12:00")), "a change at the moment itself is not yet applied");
        assert!(m.open_at(t("2026-03-02 12:30")));
        assert!(!m.open_at(t("2026-03-02 20:00")));
    }

    proptest::proptest! {
        /// The one-pass backlog equals asking every candidate at every moment.
        #[test]
        fn open_at_each_equals_open_at(
            incidents in proptest::collection::vec((0i64..100, proptest::collection::vec(1i64..30, 0..6), proptest::bool::ANY), 0..20),
            mut moments in proptest::collection::vec(0i64..400, 1..12),
        ) {
            let base = t("2026-03-02 00:00");
            let at = |m: i64| base + chrono::Duration::minutes(m);
            let candidates: Vec<MaybeOpen> = incidents
                .iter()
                .enumerate()
                .map(|(i, (created, steps, open_ended))| {
                    // Alternating done/open moments after creation: (start, end) pairs.
                    let mut marks = Vec::new();
                    let mut now = *created;
                    for s in steps {
                        now += s;
                        marks.push(secs(at(now)));
                    }
                    let mut spans: Vec<(i64, Option<i64>)> =
                        marks.chunks(2).map(|c| (c[0], c.get(1).copied())).collect();
                    if !open_ended && spans.last().is_some_and(|s| s.1.is_none()) {
                        spans.pop();
                    }
                    MaybeOpen { id: i as i64, created_s: secs(at(*created)), spans }
                })
                .collect();
            moments.sort();
            moments.dedup();
            let moments: Vec<NaiveDateTime> = moments.into_iter().map(at).collect();
            let fast = open_at_each(&candidates, &moments);
            for (k, m) in moments.iter().enumerate() {
                let slow: Vec<i64> = candidates.iter().filter(|c| c.open_at(*m)).map(|c| c.id).collect();
                proptest::prop_assert_eq!(&fast[k], &slow);
            }
        }
    }
}

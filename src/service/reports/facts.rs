//! Report facts: one narrow row per incident with the times reports count (first resolution,
//! reopening, the runs of resolved/closed, business-hours resolution time), recomputed from the
//! incident and its status changes whenever triggers mark it dirty. Reports refresh the dirty
//! rows before they read, so their figures are always current; a job keeps the backlog small.

use crate::db::DbConnection;
use crate::db::reports::{self, FactRow, Filter, Timing};
use crate::domain::report::Period;
use crate::domain::sla::{Calendar, Phase, phase_of_status, utc};
use crate::service::ServiceResult;
use crate::service::sla::SlaBook;
use chrono::{DateTime, NaiveDateTime};
use std::collections::HashMap;

/// Incidents recomputed per round.
const BATCH: i64 = 2_000;

/// The most incidents a report request brings up to date before it reads.
pub const PER_REQUEST: usize = 20_000;

fn secs(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

fn time(s: i64) -> NaiveDateTime {
    DateTime::from_timestamp(s, 0).map(|d| d.naive_utc()).unwrap_or_default()
}

/// The facts of one incident from its row and its status changes (in time order).
fn facts_of(book: &SlaBook, t: &Timing, changes: &[(NaiveDateTime, String)]) -> FactRow {
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
    let business = first_resolved.and_then(|r| match book.calendar(&t.severity, t.organization_id)? {
        cal @ Calendar::Business { .. } => Some(cal.business_time(utc(t.created_at), utc(r)).num_seconds()),
        Calendar::Always => None,
    });
    FactRow {
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
    }
}

/// Recomputes the facts of dirty incidents, `limit` at most (None: all); returns how many.
pub fn refresh(conn: &mut DbConnection, limit: Option<usize>) -> ServiceResult<usize> {
    let book = SlaBook::load(conn)?;
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
        let rows = reports::timings_of(conn, &ids, &Filter::default())?;
        let mut changes: HashMap<i64, Vec<(NaiveDateTime, String)>> = HashMap::new();
        for (id, at, s) in reports::status_changes_of(conn, &ids)? {
            changes.entry(id).or_default().push((at, s));
        }
        let none = Vec::new();
        let facts: Vec<FactRow> =
            rows.iter().map(|t| facts_of(&book, t, changes.get(&t.id).unwrap_or(&none))).collect();
        reports::write_facts(conn, &ids, &facts)?;
        done += ids.len();
    }
}

/// A fact as the report code reads incidents (the fields facts keep).
fn timing(f: &FactRow) -> Timing {
    Timing {
        id: f.incident_id,
        created_at: time(f.created_s),
        acknowledged_at: f.acknowledged_s.map(time),
        severity: f.severity.clone(),
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

/// Incidents created in the period.
pub fn created(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<Timing>> {
    Ok(reports::facts_created(conn, secs(p.from), secs(p.to), f)?.iter().map(timing).collect())
}

/// Incidents first resolved in the period, with that moment, when they were reopened
/// afterwards (if they were) and their business-hours resolution time (if their SLA counts it).
pub struct Resolved {
    pub incident: Timing,
    pub at: NaiveDateTime,
    pub reopened: bool,
    pub business: Option<chrono::Duration>,
}

pub fn resolved(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<Resolved>> {
    Ok(reports::facts_resolved(conn, secs(p.from), secs(p.to), f)?
        .iter()
        .map(|r| Resolved {
            incident: timing(r),
            at: time(r.first_resolved_s.unwrap_or(r.created_s)),
            reopened: r.reopened_s.is_some(),
            business: r.business_mttr_s.map(chrono::Duration::seconds),
        })
        .collect())
}

/// Incidents that may have been open during the period, each with its runs of resolved/closed.
pub struct MaybeOpen {
    pub incident: Timing,
    spans: Vec<(i64, Option<i64>)>,
}

impl MaybeOpen {
    /// Open at `t`: created before it, and not in a run of resolved/closed that began before it
    /// and had not ended before it.
    pub fn open_at(&self, t: NaiveDateTime) -> bool {
        let t = secs(t);
        secs(self.incident.created_at) < t && !self.spans.iter().any(|(s, e)| *s < t && e.is_none_or(|e| t <= e))
    }
}

pub fn maybe_open(conn: &mut DbConnection, p: &Period, f: &Filter) -> ServiceResult<Vec<MaybeOpen>> {
    Ok(reports::facts_maybe_open(conn, secs(p.from), secs(p.to), f)?
        .iter()
        .map(|r| MaybeOpen {
            incident: timing(r),
            spans: r
                .done_spans
                .split(';')
                .filter_map(|span| {
                    let (s, e) = span.split_once('-')?;
                    Some((s.parse().ok()?, e.parse().ok()))
                })
                .collect(),
        })
        .collect())
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
        let f = facts_of(
            &book,
            &inc,
            &ch(&[
                ("2026-03-02 10:00", "in_progress"),
                ("2026-03-02 11:00", "resolved"),
                ("2026-03-02 12:00", "in_progress"),
                ("2026-03-02 13:00", "resolved"),
                ("2026-03-02 14:00", "closed"),
            ]),
        );
        assert_eq!(f.first_resolved_s, Some(secs(t("2026-03-02 11:00"))));
        assert_eq!(f.reopened_s, Some(secs(t("2026-03-02 12:00"))));
        assert_eq!(f.done_since_s, Some(secs(t("2026-03-02 13:00"))));
        let m = MaybeOpen {
            incident: timing(&f),
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
}

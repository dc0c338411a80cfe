//! The queue filters reports link to: escalated, reopened, SLA breached (first response late),
//! first resolved in a date range, and "counted by" one report figure (exactly the incidents
//! the figure counts, recomputed for the same filter bar).

use super::queue::QueueParams;
use crate::db::models::User;
use crate::db::queue::{Breached, QueueFilter};
use crate::domain::report::local_midnight_utc;
use crate::service::reports::{self, Kind};
use crate::service::{AppState, ServiceResult};

/// What the report filters narrow the queue to: the ids (None: no id restriction) and the
/// "counted by" banner.
#[derive(Default)]
pub(super) struct Narrowed {
    pub within: Option<Vec<i64>>,
    pub label: Option<String>,
}

/// Computes the id restrictions before the queue takes its connection (a report reads with its
/// own). Staff only: customers' queues ignore these.
pub(super) fn narrow(state: &AppState, user: &User, p: &QueueParams) -> ServiceResult<Narrowed> {
    if !narrows(user, p) {
        return Ok(Narrowed::default());
    }
    let mut out = Narrowed::default();
    let restrict = |ids: Vec<i64>, out: &mut Narrowed| {
        out.within = Some(match out.within.take() {
            None => ids,
            Some(prev) => prev.into_iter().filter(|i| ids.binary_search(i).is_ok()).collect(),
        });
    };
    if let Some((slug, figure, q)) = &p.counted_by {
        let kind = Kind::parse(slug).ok_or(crate::service::ServiceError::NotFound)?;
        let (label, mut ids) = reports::figure_ids(state, user, kind, q, figure)?
            .unwrap_or_else(|| (format!("{}: no such figure", kind.title()), Vec::new()));
        ids.sort_unstable();
        out.label = Some(label);
        restrict(ids, &mut out);
    }
    if p.escalated {
        let mut conn = state.conn()?;
        let ids = crate::db::reports::escalated_ids(&mut conn)?;
        restrict(ids, &mut out);
    }
    Ok(out)
}

/// Whether `narrow` has anything to compute (and so may take connections of its own).
pub(super) fn narrows(user: &User, p: &QueueParams) -> bool {
    user_is_staff(user) && (p.counted_by.is_some() || p.escalated)
}

fn user_is_staff(user: &User) -> bool {
    crate::service::actor_of(user).role.is_staff()
}

/// The filters that are plain conditions on the incidents.
pub(super) fn apply(p: &QueueParams, tz: chrono_tz::Tz, narrowed: Narrowed, f: &mut QueueFilter) {
    f.within = narrowed.within;
    f.reopened = p.reopened;
    f.breached = match p.breached.as_str() {
        "response" => Some(Breached::Response),
        "resolution" => Some(Breached::Resolution),
        "any" => Some(Breached::Either),
        _ => None,
    };
    f.resolved_from = p.resolved_from.map(|d| local_midnight_utc(d, tz));
    f.resolved_before = p.resolved_to.and_then(|d| d.succ_opt()).map(|d| local_midnight_utc(d, tz));
}

/// The filters of what needs attention now: SLA at risk, unanswered, waiting on the customer
/// for more than N days.
pub(super) fn attention(p: &QueueParams, now: chrono::NaiveDateTime, f: &mut QueueFilter) {
    f.at_risk_at = p.at_risk.then_some(now);
    f.unanswered = p.unanswered;
    f.waiting_since_before = p.waiting_days.map(|d| now - chrono::Duration::days(i64::from(d.min(3650))));
}

impl QueueParams {
    /// A report filter is set: the queue shows every status unless some are chosen.
    pub fn any_report_filter(&self) -> bool {
        self.counted_by.is_some()
            || self.escalated
            || self.reopened
            || !self.breached.is_empty()
            || self.resolved_from.is_some()
            || self.resolved_to.is_some()
    }
}

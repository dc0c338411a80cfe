//! The parts of a demo incident's history that reports read: tier moves (by hand with a reason,
//! or automatic when the SLA clock breaches) and the SLA clocks themselves, computed by the same
//! rules the app applies, so that demo data fills the escalation and SLA reports truthfully.

use crate::db::bulk::{EscalationRow, IncidentRow};
use crate::db::models::Tier;
use crate::domain::sla::utc;
use crate::service::sla::{ClockInput, SlaBook};
use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use rand::rngs::StdRng;

/// Manual reasons for moving up a tier (automatic moves say "sla_breach").
const UP_REASONS: [&str; 4] = ["needs_expertise", "sla_risk", "customer_request", "major_impact"];

/// A tier move before the incident has an id: (at, from, to, reason, automatic).
pub struct Move {
    pub at: NaiveDateTime,
    pub from: usize,
    pub to: usize,
    pub reason: &'static str,
    pub automatic: bool,
}

/// Tier moves between `created` and `until` (the first resolution, or now): an automatic one at
/// the first-response breach for some breached incidents, otherwise by hand for a share that
/// grows with severity; some climb further, a few come back down.
pub fn moves(
    rng: &mut StdRng,
    tiers: usize,
    severity: &str,
    created: NaiveDateTime,
    until: NaiveDateTime,
    breach: Option<NaiveDateTime>,
) -> Vec<Move> {
    let mut out = Vec::new();
    if tiers < 2 || until <= created {
        return out;
    }
    let share = match severity {
        "SEV1" => 0.45,
        "SEV2" => 0.25,
        "SEV3" => 0.08,
        _ => 0.03,
    };
    let span = (until - created).num_seconds().max(60);
    let at_fraction =
        |rng: &mut StdRng, lo: f64| created + Duration::seconds((span as f64 * rng.random_range(lo..0.9)) as i64);
    let first = match breach.filter(|b| *b < until) {
        Some(b) if rng.random_bool(0.6) => Move { at: b, from: 0, to: 1, reason: "sla_breach", automatic: true },
        _ if rng.random_bool(share) => {
            let reason = UP_REASONS[rng.random_range(0..UP_REASONS.len())];
            Move { at: at_fraction(rng, 0.05), from: 0, to: 1, reason, automatic: false }
        }
        _ => return out,
    };
    let mut at = first.at;
    out.push(first);
    let mut tier = 1;
    while tier + 1 < tiers && rng.random_bool(0.3) {
        at += Duration::seconds(((until - at).num_seconds().max(60) as f64 * rng.random_range(0.1..0.5)) as i64);
        if at >= until {
            break;
        }
        let reason = UP_REASONS[rng.random_range(0..UP_REASONS.len())];
        out.push(Move { at, from: tier, to: tier + 1, reason, automatic: false });
        tier += 1;
    }
    if rng.random_bool(0.15) {
        at += Duration::seconds(((until - at).num_seconds().max(60) as f64 * rng.random_range(0.1..0.5)) as i64);
        if at < until {
            out.push(Move { at, from: tier, to: tier - 1, reason: "resolved_at_lower_tier", automatic: false });
        }
    }
    out
}

pub fn escalation_rows(moves: &[Move], tiers: &[Tier], actor: i64) -> Vec<EscalationRow> {
    moves
        .iter()
        .map(|m| EscalationRow {
            incident_id: 0,
            at: m.at,
            actor_id: (!m.automatic).then_some(actor),
            from_tier_id: tiers[m.from].id,
            to_tier_id: tiers[m.to].id,
            reason_code: m.reason.into(),
            reason_text: String::new(),
            automatic: m.automatic,
        })
        .collect()
}

/// Fills the row's SLA times from its clocks at `now`: due and warning times of running clocks,
/// and the marks the SLA job would have left (so that loading demo data sends no mail).
pub fn sla_times(book: &SlaBook, row: &mut IncidentRow, changes: &[(NaiveDateTime, String)], now: NaiveDateTime) {
    let input = ClockInput {
        severity: &row.severity,
        organization_id: row.organization_id,
        created_at: row.created_at,
        first_response_at: row.first_response_at,
        changes,
    };
    let Some(c) = book.clocks(&input, utc(now)) else { return };
    let naive = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.naive_utc());
    let passed = |t: Option<NaiveDateTime>| t.filter(|t| *t <= now);
    if row.first_response_at.is_none() {
        row.response_due_at = naive(c.first_response.due);
        row.response_warn_at = naive(c.first_response.warn_at).filter(|_| row.response_due_at.is_some());
    }
    row.resolution_due_at = naive(c.resolution.due);
    row.resolution_warn_at = naive(c.resolution.warn_at).filter(|_| row.resolution_due_at.is_some());
    row.response_warned_at = passed(row.response_warn_at);
    row.resolution_warned_at = passed(row.resolution_warn_at);
    row.response_breached_at = naive(c.first_response.breached_at);
    row.resolution_breached_at = naive(c.resolution.breached_at);
}

/// When the first-response clock breached, if it did.
pub fn first_response_breach(
    book: &SlaBook,
    row: &IncidentRow,
    changes: &[(NaiveDateTime, String)],
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let input = ClockInput {
        severity: &row.severity,
        organization_id: row.organization_id,
        created_at: row.created_at,
        first_response_at: row.first_response_at,
        changes,
    };
    book.clocks(&input, utc(now)).and_then(|c| c.first_response.breached_at).map(|t| t.naive_utc())
}

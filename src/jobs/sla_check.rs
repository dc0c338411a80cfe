//! Every 30 s: SLA warnings at 80 % of a target, breach events at the target, and the automatic
//! escalation one tier up when the severity's policy says so.

use super::JobReport;
use crate::db::sla::{self, Mark};
use crate::db::{incidents, tiers};
use crate::mail::compose;
use crate::service::incidents::event;
use crate::service::{AppState, ServiceResult, escalation};

const LOCK_ID: i64 = 0x5f1a_0001;
const BATCH: i64 = 500;

pub fn run(state: &AppState) -> ServiceResult<JobReport> {
    state.tx(|conn| {
        let mut report = JobReport::default();
        if !crate::db::try_job_lock(conn, LOCK_ID)? {
            return Ok(report);
        }
        let now = state.clock.now_naive();
        for id in sla::due_for_check(conn, now, BATCH)? {
            let inc = incidents::find(conn, id)?;
            let when = |t: Option<chrono::NaiveDateTime>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
            };
            // (moment reached, what to record, event, target field, target words, due, is a breach)
            let moments = [
                (
                    inc.response_warn_at,
                    Mark::ResponseWarned,
                    "sla_warning",
                    "first_response",
                    "first response",
                    inc.response_due_at,
                    false,
                ),
                (
                    inc.resolution_warn_at,
                    Mark::ResolutionWarned,
                    "sla_warning",
                    "resolution",
                    "resolution",
                    inc.resolution_due_at,
                    false,
                ),
                (
                    inc.response_due_at,
                    Mark::ResponseBreached,
                    "sla_breached",
                    "first_response",
                    "first response",
                    inc.response_due_at,
                    true,
                ),
                (
                    inc.resolution_due_at,
                    Mark::ResolutionBreached,
                    "sla_breached",
                    "resolution",
                    "resolution",
                    inc.resolution_due_at,
                    true,
                ),
            ];
            let mut first_breach = None;
            for (at, mark, kind, field, words, due, breach) in moments {
                if at.is_none_or(|t| t > now) || !sla::mark(conn, id, mark, now)? {
                    continue;
                }
                event(conn, &inc, None, kind, field, "", &when(due), true, None, now)?;
                compose::sla(state, conn, &inc, breach, words, due)?;
                if breach {
                    report.sla_breaches += 1;
                    first_breach.get_or_insert(words);
                } else {
                    report.sla_warnings += 1;
                }
            }
            let Some(target) = first_breach else { continue };
            let auto = sla::policy_for(conn, &inc.severity, inc.organization_id)?.is_some_and(|p| p.auto_escalate);
            if !auto {
                continue;
            }
            let all = tiers::all(conn)?;
            let next = all.iter().position(|t| t.id == inc.tier_id).and_then(|i| all.get(i + 1)).cloned();
            if let Some(next) = next {
                let current = incidents::find(conn, id)?;
                let reason = if target == "first response" {
                    "First response target breached"
                } else {
                    "Resolution target breached"
                };
                escalation::move_to_tier(
                    state,
                    conn,
                    &current,
                    current.version,
                    &next,
                    None,
                    "sla_breach",
                    reason,
                    false,
                )?;
                report.escalations += 1;
            }
        }
        Ok(report)
    })
}

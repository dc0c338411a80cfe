//! Every 30 s: SLA warnings at 80 % of a target, breach events at the target, and the automatic
//! escalation one tier up when the severity's policy says so.

use super::JobReport;
use crate::db::sla::{self, Mark};
use crate::db::{incidents, tiers};
use crate::service::incidents::event;
use crate::service::{AppState, ServiceResult, escalation};

const LOCK_ID: i64 = 0x5f1a_0001;
const BATCH: i64 = 500;

pub fn run(state: &AppState) -> ServiceResult<JobReport> {
    state.tx(|conn| {
        let mut report = JobReport::default();
        if !sla::try_job_lock(conn, LOCK_ID)? {
            return Ok(report);
        }
        let now = state.clock.now_naive();
        for id in sla::due_for_check(conn, now, BATCH)? {
            let inc = incidents::find(conn, id)?;
            let when = |t: Option<chrono::NaiveDateTime>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
            };
            let mut breached = Vec::new();
            if inc.response_warn_at.is_some_and(|t| t <= now) && sla::mark(conn, id, Mark::ResponseWarned, now)? {
                event(
                    conn,
                    &inc,
                    None,
                    "sla_warning",
                    "first_response",
                    "",
                    &when(inc.response_due_at),
                    true,
                    None,
                    now,
                )?;
                report.sla_warnings += 1;
            }
            if inc.resolution_warn_at.is_some_and(|t| t <= now) && sla::mark(conn, id, Mark::ResolutionWarned, now)? {
                event(
                    conn,
                    &inc,
                    None,
                    "sla_warning",
                    "resolution",
                    "",
                    &when(inc.resolution_due_at),
                    true,
                    None,
                    now,
                )?;
                report.sla_warnings += 1;
            }
            if inc.response_due_at.is_some_and(|t| t <= now) && sla::mark(conn, id, Mark::ResponseBreached, now)? {
                event(
                    conn,
                    &inc,
                    None,
                    "sla_breached",
                    "first_response",
                    "",
                    &when(inc.response_due_at),
                    true,
                    None,
                    now,
                )?;
                breached.push("First response target breached");
            }
            if inc.resolution_due_at.is_some_and(|t| t <= now) && sla::mark(conn, id, Mark::ResolutionBreached, now)? {
                event(
                    conn,
                    &inc,
                    None,
                    "sla_breached",
                    "resolution",
                    "",
                    &when(inc.resolution_due_at),
                    true,
                    None,
                    now,
                )?;
                breached.push("Resolution target breached");
            }
            report.sla_breaches += breached.len();
            let Some(reason) = breached.first() else { continue };
            let auto = sla::policy_for(conn, &inc.severity, inc.organization_id)?.is_some_and(|p| p.auto_escalate);
            if !auto {
                continue;
            }
            let all = tiers::all(conn)?;
            let next = all.iter().position(|t| t.id == inc.tier_id).and_then(|i| all.get(i + 1)).cloned();
            if let Some(next) = next {
                let current = incidents::find(conn, id)?;
                escalation::move_to_tier(state, conn, &current, current.version, &next, None, "sla_breach", reason)?;
                report.escalations += 1;
            }
        }
        Ok(report)
    })
}

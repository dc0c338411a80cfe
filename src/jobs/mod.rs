//! Background jobs. `serve` runs them on a timer; `firewatch jobs run-once` runs each once (for
//! tests and cron-style setups). Every job is idempotent and takes a per-job lock on
//! PostgreSQL, so several app instances can share one database.

mod auto_close;
mod deliver;
mod digest;
mod inbound_prune;
mod sla_check;

use crate::service::{AppState, ServiceResult};
use std::time::Duration;

/// How often the scheduler wakes up.
pub const TICK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobReport {
    pub sla_warnings: usize,
    pub sla_breaches: usize,
    pub escalations: usize,
    pub auto_closed: usize,
    pub digests: usize,
    pub mails_sent: usize,
    pub mail_failures: usize,
    pub inbound_pruned: usize,
    pub actions_overdue: usize,
    pub releases_closed: usize,
    pub problems_verified: usize,
}

/// Runs every job once.
pub fn run_once(state: &AppState) -> ServiceResult<JobReport> {
    let mut r = sla_check::run(state)?;
    r.auto_closed = auto_close::run(state)?;
    r.digests = digest::run(state)?;
    r.inbound_pruned = inbound_prune::run(state)?;
    r.actions_overdue = crate::service::problems::notify_overdue_actions(state)?;
    (r.releases_closed, r.problems_verified) = crate::service::releases::watch(state)?;
    (r.mails_sent, r.mail_failures) = deliver::run(state)?;
    Ok(r)
}

/// Starts the scheduler on the current actix runtime.
pub fn spawn(state: AppState) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(TICK);
        loop {
            tick.tick().await;
            let st = state.clone();
            match actix_web::web::block(move || run_once(&st)).await {
                Ok(Ok(r)) if r != JobReport::default() => tracing::info!(?r, "jobs ran"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "jobs failed"),
                Err(e) => tracing::error!(error = %e, "jobs could not run"),
            }
        }
    });
}

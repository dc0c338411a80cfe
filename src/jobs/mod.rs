//! Background jobs. `serve` runs them on a timer; `firewatch jobs run-once` runs each once (for
//! tests and cron-style setups). Every job is idempotent and takes a per-job lock on
//! PostgreSQL, so several app instances can share one database. Each job runs on its own: one
//! that fails is logged by name and the others (mail delivery above all) still run.

mod auto_close;
mod deliver;
mod digest;
mod inbound_prune;
mod sla_check;

use crate::service::{AppState, ServiceResult};
use std::time::Duration;

/// How often the scheduler wakes up.
pub const TICK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Status page mail copied into the outbox, one per subscriber.
    pub status_mails: usize,
    /// Weekly report summaries queued.
    pub weekly_reports: usize,
    /// Incidents whose report facts were brought up to date.
    pub report_facts: usize,
    /// The jobs that failed this time (their errors are in the log).
    pub failed: Vec<&'static str>,
}

/// One job of a tick: its name for the log, and the run that adds its figures to the report.
type Job<S> = (&'static str, fn(&S, &mut JobReport) -> ServiceResult<()>);

/// Every job, in order. Delivery comes last so it sends what the others just queued.
const JOBS: [Job<AppState>; 10] = [
    ("sla_check", |s, r| {
        let x = sla_check::run(s)?;
        (r.sla_warnings, r.sla_breaches, r.escalations) = (x.sla_warnings, x.sla_breaches, x.escalations);
        Ok(())
    }),
    ("auto_close", |s, r| {
        r.auto_closed = auto_close::run(s)?;
        Ok(())
    }),
    ("digest", |s, r| {
        r.digests = digest::run(s)?;
        Ok(())
    }),
    ("inbound_prune", |s, r| {
        r.inbound_pruned = inbound_prune::run(s)?;
        Ok(())
    }),
    ("overdue_actions", |s, r| {
        r.actions_overdue = crate::service::problems::notify_overdue_actions(s)?;
        Ok(())
    }),
    ("release_watch", |s, r| {
        (r.releases_closed, r.problems_verified) = crate::service::releases::watch(s)?;
        Ok(())
    }),
    ("status_mail", |s, r| {
        r.status_mails = crate::service::status_page::fan_out(s)?;
        Ok(())
    }),
    ("report_facts", |s, r| {
        r.report_facts =
            s.tx(|conn| crate::service::reports::facts::refresh(conn, Some(50_000), s.clock.now_naive()))?;
        crate::service::reports::facts::pack(&mut *s.conn()?, 2_000)?;
        Ok(())
    }),
    ("weekly_report", |s, r| {
        r.weekly_reports = crate::service::reports::mail_weekly(s)?;
        Ok(())
    }),
    ("deliver", |s, r| {
        (r.mails_sent, r.mail_failures) = deliver::run(s)?;
        Ok(())
    }),
];

/// Runs every job once. A failing job does not stop the others: it is logged with its name and
/// listed in `JobReport::failed`.
pub fn run_once(state: &AppState) -> JobReport {
    run_each(state, &JOBS)
}

fn run_each<S>(state: &S, jobs: &[Job<S>]) -> JobReport {
    let mut report = JobReport::default();
    for (name, job) in jobs {
        if let Err(e) = job(state, &mut report) {
            tracing::error!(job = name, error = %e, "job failed; the other jobs still run");
            report.failed.push(name);
        }
    }
    report
}

/// Starts the scheduler on the current actix runtime.
pub fn spawn(state: AppState) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(TICK);
        loop {
            tick.tick().await;
            let st = state.clone();
            match actix_web::web::block(move || run_once(&st)).await {
                Ok(r) if r != JobReport::default() => tracing::info!(?r, "jobs ran"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "jobs could not run"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ServiceError;

    #[test]
    fn a_failing_job_does_not_stop_the_ones_after_it() {
        let jobs: [Job<()>; 3] = [
            ("sla_check", |_, r| {
                r.sla_warnings = 2;
                Ok(())
            }),
            ("broken", |_, _| Err(ServiceError::Internal("the table is gone".into()))),
            ("deliver", |_, r| {
                r.mails_sent = 3;
                Ok(())
            }),
        ];
        let r = run_each(&(), &jobs);
        assert_eq!((r.sla_warnings, r.mails_sent), (2, 3), "the jobs before and after the failure ran");
        assert_eq!(r.failed, vec!["broken"]);
    }
}

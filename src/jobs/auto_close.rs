//! Daily hygiene: incidents resolved longer ago than `auto_close_days` are closed.

use crate::db::incidents::IncidentChanges;
use crate::db::{incidents, sla};
use crate::domain::incident::Status;
use crate::service::incidents::{apply, event};
use crate::service::{AppState, ServiceResult};
use chrono::Duration;

const LOCK_ID: i64 = 0x5f1a_0002;

pub fn run(state: &AppState) -> ServiceResult<usize> {
    let days = state.config.auto_close_days;
    if days <= 0 {
        return Ok(0);
    }
    state.tx(|conn| {
        if !crate::db::try_job_lock(conn, LOCK_ID)? {
            return Ok(0);
        }
        let now = state.clock.now_naive();
        let mut closed = 0;
        for id in sla::resolved_before(conn, now - Duration::days(days), 500)? {
            let inc = incidents::find(conn, id)?;
            let changes = IncidentChanges {
                status: Some(Status::Closed.as_str().into()),
                is_open: Some(false),
                closed_at: Some(Some(now)),
                ..Default::default()
            };
            let inc = apply(conn, &inc, inc.version, &changes, now)?;
            event(
                conn,
                &inc,
                None,
                "status_changed",
                "status",
                Status::Resolved.as_str(),
                Status::Closed.as_str(),
                false,
                None,
                now,
            )?;
            crate::mail::compose::status(state, conn, &inc, Status::Closed.as_str(), None)?;
            closed += 1;
        }
        Ok(closed)
    })
}

//! Sends what the outbox holds. Claims are taken in their own transaction, so a crash between
//! claiming and sending only delays a message until its claim expires; it is never lost.

use crate::db::outbox;
use crate::mail::deliver::{Mailer, next_attempt};
use crate::service::{AppState, ServiceError, ServiceResult};

const BATCH: i64 = 50;

/// Returns (sent, failed attempts).
pub fn run(state: &AppState) -> ServiceResult<(usize, usize)> {
    let mailer = Mailer::from_config(&state.config).map_err(ServiceError::Internal)?;
    let mut conn = state.conn()?;
    let now = state.clock.now_naive();
    let claimed = outbox::claim_due(&mut conn, now, BATCH)?;
    let (mut sent, mut failed) = (0, 0);
    for m in claimed {
        match mailer.send(&state.config, &m) {
            Ok(()) => {
                outbox::mark_sent(&mut conn, m.id, state.clock.now_naive())?;
                sent += 1;
            }
            Err(e) => {
                let next = if e.temporary { next_attempt(m.created_at, now, m.attempts) } else { None };
                tracing::warn!(outbox_id = m.id, temporary = e.temporary, error = %e.text, "mail delivery failed");
                outbox::mark_attempt_failed(&mut conn, m.id, &e.text, next)?;
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

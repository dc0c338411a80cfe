//! Sends what the outbox holds. Claims are taken in their own transaction, so a crash between
//! claiming and sending only delays a message until its claim expires; it is never lost. Before
//! each message the job renews its claim on the rest of the batch, so a slow SMTP server cannot
//! let the claim run out mid-batch and another instance send the same message again.

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
    let Some(first) = claimed.first() else {
        return Ok((0, 0));
    };
    match &mailer {
        Mailer::Files(dir) => tracing::info!(
            messages = claimed.len(),
            directory = %dir.display(),
            "no SMTP host configured: writing outgoing mail as .eml files instead of sending it"
        ),
        Mailer::Smtp(_) => tracing::debug!(messages = claimed.len(), "sending outgoing mail over SMTP"),
    }
    let mut held_until = first.next_attempt_at;
    let mut pending: Vec<i64> = claimed.iter().map(|m| m.id).collect();
    let (mut sent, mut failed) = (0, 0);
    for m in claimed {
        let until = outbox::claim_until(state.clock.now_naive());
        pending = outbox::renew_claims(&mut conn, &pending, held_until, until)?;
        held_until = until;
        if !pending.contains(&m.id) {
            tracing::warn!(outbox_id = m.id, "another delivery run took this message over; leaving it to that run");
            continue;
        }
        pending.retain(|id| *id != m.id);
        if let Some(why) = crate::mail::withheld(&mut conn, &m)? {
            tracing::info!(outbox_id = m.id, reason = why, "mail not sent: the recipient may no longer receive it");
            outbox::mark_attempt_failed(&mut conn, m.id, &format!("not sent: {why}"), None)?;
            continue;
        }
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

//! The daily digest: at 08:00 in each user's time zone, one mail with the notifications they
//! chose to receive that way.

use crate::db::{outbox, users};
use crate::mail::compose;
use crate::service::{AppState, ServiceResult};
use chrono::{TimeZone, Timelike};

const LOCK_ID: i64 = 0x5f1a_0003;
const SEND_HOUR: u32 = 8;

pub fn run(state: &AppState) -> ServiceResult<usize> {
    state.tx(|conn| {
        if !crate::db::try_job_lock(conn, LOCK_ID)? {
            return Ok(0);
        }
        let now = state.clock.now();
        let mut sent = 0;
        for user_id in outbox::users_with_held(conn)? {
            let user = users::find(conn, user_id)?;
            let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
            let local = now.with_timezone(&tz);
            let today = local.date_naive();
            if local.hour() < SEND_HOUR || outbox::last_digest(conn, user_id)?.is_some_and(|d| d >= today) {
                continue;
            }
            // Today's digest covers what was held before 08:00; later mail waits for tomorrow's.
            let Some(cutoff) = today
                .and_hms_opt(SEND_HOUR, 0, 0)
                .and_then(|t| tz.from_local_datetime(&t).earliest())
                .map(|t| t.naive_utc())
            else {
                continue;
            };
            let held = outbox::held_for(conn, user_id, cutoff)?;
            let all_ids: Vec<i64> = held.iter().map(|m| m.id).collect();
            // Access may have changed since the mail was held: leave out what they may no longer see.
            let mut still = Vec::with_capacity(held.len());
            for m in held {
                if crate::mail::withheld(conn, &m)?.is_none() {
                    still.push(m);
                }
            }
            if !still.is_empty() {
                compose::digest(state, conn, &user, today, &still)?;
            }
            outbox::mark_digested(conn, &all_ids)?;
            if still.is_empty() {
                continue;
            }
            outbox::set_last_digest(conn, user_id, today)?;
            sent += 1;
        }
        Ok(sent)
    })
}

//! Refused and dismissed messages keep their raw bytes for a while so an admin can still act on
//! them; after `KEEP_DAYS` only the record (sender, subject, reason) stays. Accepted messages keep
//! their original for the incident's staff for `inbound_raw_days` (default 90).

use crate::db::inbound;
use crate::service::{AppState, ServiceResult};

pub const KEEP_DAYS: i64 = 30;

pub fn run(state: &AppState) -> ServiceResult<usize> {
    let now = state.clock.now_naive();
    let mut conn = state.conn()?;
    let refused =
        inbound::forget_raw_before(&mut conn, &["refused", "dismissed"], now - chrono::Duration::days(KEEP_DAYS))?;
    let accepted = inbound::forget_raw_before(
        &mut conn,
        &["accepted"],
        now - chrono::Duration::days(state.config.inbound_raw_days),
    )?;
    Ok(refused + accepted)
}

//! Refused and dismissed messages keep their raw bytes for a while so an admin can still act on
//! them; after `KEEP_DAYS` only the record (sender, subject, reason) stays.

use crate::db::inbound;
use crate::service::{AppState, ServiceResult};

pub const KEEP_DAYS: i64 = 30;

pub fn run(state: &AppState) -> ServiceResult<usize> {
    let cutoff = state.clock.now_naive() - chrono::Duration::days(KEEP_DAYS);
    Ok(inbound::forget_raw_before(&mut *state.conn()?, cutoff)?)
}

//! Failures counted in memory per client address within a sliding window, for endpoints whose
//! failures have no account to lock: the inbound mail token. Per process: a second instance
//! counts on its own, which still keeps guessing at a crawl.

use chrono::{Duration, NaiveDateTime};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Wrong inbound tokens from one address before it is refused unheard, and for how long.
pub const INBOUND_TOKEN_FAILURES: usize = 10;
pub const INBOUND_TOKEN_WINDOW_MINUTES: i64 = 15;

/// Addresses remembered at most; past that the quietest are forgotten first, so a flood from
/// many addresses cannot grow the map without bound.
const MAX_KEYS: usize = 10_000;

pub struct FailureWindow {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<NaiveDateTime>>>,
}

impl FailureWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self { limit: limit.max(1), window, failures: Mutex::new(HashMap::new()) }
    }

    /// The refusal for an address that failed `limit` times within the window: how many
    /// seconds until its oldest counted failure leaves the window. `None`: go ahead.
    pub fn blocked_for(&self, key: &str, now: NaiveDateTime) -> Option<i64> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = map.get_mut(key)?;
        Self::prune(times, now - self.window);
        if times.is_empty() {
            map.remove(key);
            return None;
        }
        let oldest = *times.front()?;
        (times.len() >= self.limit).then(|| (oldest + self.window - now).num_seconds().max(1))
    }

    pub fn record(&self, key: &str, now: NaiveDateTime) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= MAX_KEYS {
            let since = now - self.window;
            map.retain(|_, t| {
                Self::prune(t, since);
                !t.is_empty()
            });
            if map.len() >= MAX_KEYS
                && let Some(quietest) = map.iter().min_by_key(|(_, t)| t.back().copied()).map(|(k, _)| k.clone())
            {
                map.remove(&quietest);
            }
        }
        let times = map.entry(key.to_string()).or_default();
        Self::prune(times, now - self.window);
        times.push_back(now);
        // Only the newest `limit` matter for the decision.
        while times.len() > self.limit {
            times.pop_front();
        }
    }

    fn prune(times: &mut VecDeque<NaiveDateTime>, since: NaiveDateTime) {
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).map(|d| d.naive_utc()).unwrap_or_default()
            + Duration::minutes(minute)
    }

    #[test]
    fn the_limit_within_the_window_blocks_until_the_oldest_failure_ages_out() {
        let w = FailureWindow::new(3, Duration::minutes(15));
        for m in 0..3 {
            assert_eq!(w.blocked_for("10.0.0.1", at(m)), None);
            w.record("10.0.0.1", at(m));
        }
        assert_eq!(w.blocked_for("10.0.0.1", at(3)), Some(12 * 60));
        assert_eq!(w.blocked_for("10.0.0.2", at(3)), None, "per address");
        assert_eq!(w.blocked_for("10.0.0.1", at(15)), None, "the first failure left the window");
        w.record("10.0.0.1", at(15));
        assert!(w.blocked_for("10.0.0.1", at(15)).is_some());
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let w = FailureWindow::new(2, Duration::minutes(15));
        for i in 0..(MAX_KEYS + 50) {
            w.record(&format!("a{i}"), at(0));
        }
        let len = w.failures.lock().map(|m| m.len()).unwrap_or(0);
        assert!(len <= MAX_KEYS, "{len}");
    }
}

//! Remembered queue counts. Counting up to 10,001 matches walks that many index entries, which
//! was the largest single cost of a queue page at a million incidents; a busy queue is opened
//! by many agents with the same filters. A remembered count is dropped by any write committed
//! through `AppState::tx` (the generation moves) and after `FRESH`, which bounds how stale a
//! count can be after writes this process cannot see (another instance on PostgreSQL, a bulk
//! load).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts below this are cheap to take again and are never remembered.
const WORTH_REMEMBERING: i64 = 1_000;
const FRESH: Duration = Duration::from_secs(10);
/// Distinct filters kept at once; beyond it the memory is cleared and starts again.
const MAX_ENTRIES: usize = 2_000;

#[derive(Default)]
pub struct CountCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (i64, u64, Instant)>>,
}

impl CountCache {
    /// Something was written: every remembered count may be wrong now.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The count for `key`, from memory while it is fresh, else from `count`.
    pub fn get_or<E>(&self, key: String, count: impl FnOnce() -> Result<i64, E>) -> Result<i64, E> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Ok(map) = self.entries.lock()
            && let Some((n, g, at)) = map.get(&key)
            && *g == generation
            && at.elapsed() < FRESH
        {
            return Ok(*n);
        }
        let n = count()?;
        if n >= WORTH_REMEMBERING
            && let Ok(mut map) = self.entries.lock()
        {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (n, generation, Instant::now()));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(cache: &CountCache, key: &str, value: i64, calls: &mut u32) -> i64 {
        cache
            .get_or::<()>(key.into(), || {
                *calls += 1;
                Ok(value)
            })
            .unwrap_or(-1)
    }

    #[test]
    fn large_counts_are_remembered_until_a_write() {
        let cache = CountCache::default();
        let mut calls = 0;
        assert_eq!(counted(&cache, "open", 5_000, &mut calls), 5_000);
        assert_eq!(counted(&cache, "open", 6_000, &mut calls), 5_000);
        assert_eq!(calls, 1);
        cache.invalidate();
        assert_eq!(counted(&cache, "open", 6_000, &mut calls), 6_000);
        assert_eq!(calls, 2);
    }

    #[test]
    fn small_counts_are_always_taken_again() {
        let cache = CountCache::default();
        let mut calls = 0;
        counted(&cache, "mine", 12, &mut calls);
        assert_eq!(counted(&cache, "mine", 13, &mut calls), 13);
        assert_eq!(calls, 2);
    }
}

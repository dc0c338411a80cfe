//! What incident pages read over and over: queue counts and the short lists (services,
//! organizations, staff, tiers) every queue page offers as filters. Counting up to 10,001
//! matches walks that many index entries, which was the largest single cost of a queue page at
//! a million incidents, and a busy queue is opened by many agents with the same filters.
//! Everything remembered is dropped by any write committed through `AppState::tx` (the
//! generation moves) and after `FRESH`, which bounds how stale it can be after writes this
//! process cannot see (another instance on PostgreSQL, a bulk load).
//!
//! The public status page's data (`status_page::Snapshot`: `/status`, `/status.json` and the
//! feed) is remembered the same way, and also only until the app clock reaches the snapshot's
//! own `valid_until` (a maintenance window starting or ending, midnight, 10 s at most).

use crate::db::DbConnection;
use crate::db::models::{Service, Tier};
use crate::db::views::SavedView;
use crate::service::ServiceResult;
use crate::service::status_page::Snapshot;
use chrono::NaiveDateTime;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts below this are cheap to take again and are never remembered.
const WORTH_REMEMBERING: i64 = 1_000;
const FRESH: Duration = Duration::from_secs(10);
/// Distinct filters kept at once; beyond it the memory is cleared and starts again.
const MAX_ENTRIES: usize = 2_000;

/// How many incidents match, as far as was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    pub n: i64,
    /// Only the newest matches were looked at, so there may be more than `n`.
    pub at_least: bool,
}

impl Count {
    pub fn exact(n: i64) -> Count {
        Count { n, at_least: false }
    }
}

/// The lists a queue page filters by.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub services: Vec<Service>,
    /// (id, name), by name.
    pub organizations: Vec<(i64, String)>,
    /// (id, name) of the active staff who work incidents, by name.
    pub staff: Vec<(i64, String)>,
    pub tiers: Vec<Tier>,
    /// Every SLA policy and calendar.
    pub sla: crate::service::sla::SlaBook,
}

/// Names and tiers by id. One created since the lists were read, by a process whose writes do
/// not clear this one's cache (another instance), is not in them yet: it is looked up.
impl Lists {
    pub fn service_name(&self, conn: &mut DbConnection, id: i64) -> ServiceResult<String> {
        match self.services.iter().find(|s| s.id == id) {
            Some(s) => Ok(s.name.clone()),
            None => Ok(crate::db::services::find(conn, id)?.name),
        }
    }

    pub fn organization_name(&self, conn: &mut DbConnection, id: i64) -> ServiceResult<String> {
        match self.organizations.iter().find(|(o, _)| *o == id) {
            Some((_, name)) => Ok(name.clone()),
            None => Ok(crate::db::organizations::find(conn, id)?.name),
        }
    }

    pub fn tier(&self, conn: &mut DbConnection, id: i64) -> ServiceResult<Tier> {
        match self.tiers.iter().find(|t| t.id == id) {
            Some(t) => Ok(t.clone()),
            None => Ok(crate::db::tiers::find(conn, id)?),
        }
    }
}

type Remembered<T> = Mutex<Option<(T, u64, Instant)>>;

#[derive(Default)]
pub struct ReadCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (Count, u64, Instant)>>,
    /// Counts being taken again right now.
    counting: Mutex<std::collections::HashSet<String>>,
    /// Signalled when a count being taken is done.
    counted: std::sync::Condvar,
    lists: Remembered<Arc<Lists>>,
    status: Remembered<Arc<Snapshot>>,
    /// How many times the status snapshot was computed (for tests and logs).
    status_loads: AtomicU64,
    /// Each viewer's saved views (user id, with the shared ones), shown above every queue page.
    views: PerUser<Vec<SavedView>>,
    /// Each user's canned responses (id, label), offered under every incident's reply box.
    macros: PerUser<Vec<(i64, String)>>,
}

/// Something remembered per user (and a flag of the user's), like the lists.
struct PerUser<V>(Mutex<HashMap<(i64, bool), Stamped<V>>>);

/// A value with the write generation and the moment it was read at.
type Stamped<V> = (Arc<V>, u64, Instant);

impl<V> Default for PerUser<V> {
    fn default() -> Self {
        PerUser(Mutex::new(HashMap::new()))
    }
}

impl<V> PerUser<V> {
    fn get_or<E>(&self, generation: u64, key: (i64, bool), load: impl FnOnce() -> Result<V, E>) -> Result<Arc<V>, E> {
        if let Ok(map) = self.0.lock()
            && let Some((v, g, at)) = map.get(&key)
            && *g == generation
            && at.elapsed() < FRESH
        {
            return Ok(v.clone());
        }
        let v = Arc::new(load()?);
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (v.clone(), generation, Instant::now()));
        }
        Ok(v)
    }
}

impl ReadCache {
    /// The lists, from memory while they are fresh, else from `load`.
    pub fn lists<E>(&self, load: impl FnOnce() -> Result<Lists, E>) -> Result<Arc<Lists>, E> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Ok(slot) = self.lists.lock()
            && let Some((lists, g, at)) = slot.as_ref()
            && *g == generation
            && at.elapsed() < FRESH
        {
            return Ok(lists.clone());
        }
        let lists = Arc::new(load()?);
        if let Ok(mut slot) = self.lists.lock() {
            *slot = Some((lists.clone(), generation, Instant::now()));
        }
        Ok(lists)
    }

    /// The status page's snapshot, from memory while it is fresh at `now` (app clock), else from
    /// `load`, which gets the previous snapshot (fresh or not) to carry what did not change.
    pub fn status_snapshot<E>(
        &self,
        now: NaiveDateTime,
        load: impl FnOnce(Option<Arc<Snapshot>>) -> Result<Snapshot, E>,
    ) -> Result<Arc<Snapshot>, E> {
        let generation = self.generation.load(Ordering::Acquire);
        let mut previous = None;
        if let Ok(slot) = self.status.lock()
            && let Some((snap, g, at)) = slot.as_ref()
        {
            if *g == generation && at.elapsed() < FRESH && now < snap.valid_until && now >= snap.overview.generated_at {
                return Ok(snap.clone());
            }
            previous = Some(snap.clone());
        }
        self.status_loads.fetch_add(1, Ordering::Relaxed);
        let snap = Arc::new(load(previous)?);
        if let Ok(mut slot) = self.status.lock() {
            *slot = Some((snap.clone(), generation, Instant::now()));
        }
        Ok(snap)
    }

    /// A viewer's saved views, from memory while fresh, else from `load`.
    pub fn saved_views<E>(
        &self,
        key: (i64, bool),
        load: impl FnOnce() -> Result<Vec<SavedView>, E>,
    ) -> Result<Arc<Vec<SavedView>>, E> {
        self.views.get_or(self.generation.load(Ordering::Acquire), key, load)
    }

    /// A user's canned responses as the reply box offers them, from memory while fresh.
    pub fn macro_choices<E>(
        &self,
        user_id: i64,
        load: impl FnOnce() -> Result<Vec<(i64, String)>, E>,
    ) -> Result<Arc<Vec<(i64, String)>>, E> {
        self.macros.get_or(self.generation.load(Ordering::Acquire), (user_id, true), load)
    }

    /// How many times the status page's data was computed since start.
    pub fn status_loads(&self) -> u64 {
        self.status_loads.load(Ordering::Relaxed)
    }

    /// Something was written: every remembered count may be wrong now.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The count for `key`, from memory while it is fresh, else from `count`. While one request
    /// takes a large count again (after a write, or when it is no longer fresh), the others get
    /// the one remembered before instead of counting too: sixteen clients that found a common
    /// word's count out of date together used to count it sixteen times at once.
    pub fn get_or<E>(&self, key: String, count: impl FnOnce() -> Result<Count, E>) -> Result<Count, E> {
        let generation = self.generation.load(Ordering::Acquire);
        let mut previous = None;
        if let Ok(map) = self.entries.lock()
            && let Some((n, g, at)) = map.get(&key)
        {
            if *g == generation && at.elapsed() < FRESH {
                return Ok(*n);
            }
            previous = Some(*n);
        }
        let claimed = self.counting.lock().map(|mut busy| busy.insert(key.clone())).unwrap_or(true);
        match (claimed, previous) {
            (false, Some(n)) => return Ok(n),
            // Nothing to show meanwhile (the first search of a word since start): wait for the
            // request that counts rather than count alongside it.
            (false, None) => {
                if let Some(n) = self.wait_for(&key, generation) {
                    return Ok(n);
                }
            }
            _ => {}
        }
        let result = count();
        if let Ok(n) = &result
            && n.n >= WORTH_REMEMBERING
            && let Ok(mut map) = self.entries.lock()
        {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key.clone(), (*n, generation, Instant::now()));
        }
        // Remembered first: whoever waited reads it on waking.
        if claimed && let Ok(mut busy) = self.counting.lock() {
            busy.remove(&key);
            self.counted.notify_all();
        }
        result
    }
}

impl ReadCache {
    /// Waits (up to `WAIT`) until nobody is counting `key`, then the count they remembered.
    fn wait_for(&self, key: &str, generation: u64) -> Option<Count> {
        const WAIT: Duration = Duration::from_secs(5);
        let busy = self.counting.lock().ok()?;
        let (_busy, _) = self.counted.wait_timeout_while(busy, WAIT, |b| b.contains(key)).ok()?;
        drop(_busy);
        let map = self.entries.lock().ok()?;
        map.get(key).filter(|(_, g, _)| *g == generation).map(|(n, _, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(cache: &ReadCache, key: &str, value: i64, calls: &mut u32) -> i64 {
        cache
            .get_or::<()>(key.into(), || {
                *calls += 1;
                Ok(Count::exact(value))
            })
            .map(|c| c.n)
            .unwrap_or(-1)
    }

    #[test]
    fn large_counts_are_remembered_until_a_write() {
        let cache = ReadCache::default();
        let mut calls = 0;
        assert_eq!(counted(&cache, "open", 5_000, &mut calls), 5_000);
        assert_eq!(counted(&cache, "open", 6_000, &mut calls), 5_000);
        assert_eq!(calls, 1);
        cache.invalidate();
        assert_eq!(counted(&cache, "open", 6_000, &mut calls), 6_000);
        assert_eq!(calls, 2);
    }

    #[test]
    fn lists_are_loaded_again_after_a_write() {
        let cache = ReadCache::default();
        let load = |n: usize| move || Ok::<_, ()>(Lists { staff: vec![(1, "x".into()); n], ..Default::default() });
        assert_eq!(cache.lists(load(1)).map(|l| l.staff.len()), Ok(1));
        assert_eq!(cache.lists(load(2)).map(|l| l.staff.len()), Ok(1), "remembered");
        cache.invalidate();
        assert_eq!(cache.lists(load(2)).map(|l| l.staff.len()), Ok(2));
    }

    #[test]
    fn while_one_request_counts_again_the_others_get_the_previous_count() {
        let cache = ReadCache::default();
        let mut calls = 0;
        assert_eq!(counted(&cache, "common", 5_000, &mut calls), 5_000);
        cache.invalidate();
        // Another request is taking this count again right now.
        cache.counting.lock().map(|mut busy| busy.insert("common".to_string())).ok();
        assert_eq!(counted(&cache, "common", 6_000, &mut calls), 5_000, "the previous count");
        assert_eq!(calls, 1, "not counted twice at once");
        // Other counts are taken as usual.
        assert_eq!(counted(&cache, "new word", 7_000, &mut calls), 7_000);
        cache.counting.lock().map(|mut busy| busy.remove("common")).ok();
        assert_eq!(counted(&cache, "common", 6_000, &mut calls), 6_000, "counted again once free");
        assert_eq!(counted(&cache, "common", 8_000, &mut calls), 6_000, "and remembered");
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_first_count_is_taken_once_while_others_wait_for_it() {
        let cache = Arc::new(ReadCache::default());
        let calls = Arc::new(AtomicU64::new(0));
        let started = Arc::new(std::sync::Barrier::new(2));
        let counter = {
            let (cache, calls, started) = (cache.clone(), calls.clone(), started.clone());
            std::thread::spawn(move || {
                cache.get_or::<()>("common".into(), || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    started.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    Ok(Count::exact(5_000))
                })
            })
        };
        started.wait();
        let waited = cache.get_or::<()>("common".into(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(Count::exact(9_999))
        });
        assert_eq!(waited.map(|c| c.n), Ok(5_000), "the count the first request took");
        assert_eq!(counter.join().ok().and_then(|r| r.ok()).map(|c| c.n), Some(5_000));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "counted once");
    }

    #[test]
    fn small_counts_are_always_taken_again() {
        let cache = ReadCache::default();
        let mut calls = 0;
        counted(&cache, "mine", 12, &mut calls);
        assert_eq!(counted(&cache, "mine", 13, &mut calls), 13);
        assert_eq!(calls, 2);
    }
}

//! The store: the narrow interface the rest of the server uses for mocks.
//!
//! It ties the table, the expiry wheel and the clock together: creating assigns a CSPRNG id,
//! renders the response once and schedules expiry; reading and deleting check ownership and
//! liveness; expiry removes exactly the mocks whose time has come, with work proportional to them
//! (the wheel), never a scan of the table. Persistence or replication slot in here, behind the
//! same methods, without touching the serving path.
//!
//! A mock past `expires_at` stops serving at once (the serving path checks the deadline itself);
//! the reaper reclaims its memory within a second.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::id::{MockId, RandomUnavailable};
use super::table::{Full, MockTable};
use super::{Mock, Owner};
use crate::api::render::render_response;
use crate::api::validate::MockSpec;
use crate::clock::Clock;
use crate::wheel::{Key, Wheel};

/// Longest the reaper sleeps between looks at the wheel. Serving already refuses expired mocks on
/// time; this bounds only how long their memory lingers.
const REAPER_MAX_SLEEP_MS: u64 = 1000;

/// Why a create failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateError {
    /// A storage cap was reached.
    Full(Full),
    /// The OS random source failed.
    Random,
}

/// Store-wide totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub live: usize,
    pub bytes: usize,
    pub created: u64,
    pub deleted: u64,
    pub expired: u64,
}

/// Mocks, their expiry, and the clock that decides it.
pub struct Store {
    table: MockTable,
    /// Expiry timers. Each holds its mock (8 bytes with a niche, so a wheel node stays at 32
    /// bytes where an id would make it 48); a deleted mock's timer is removed with it.
    expiry: Mutex<Wheel<Arc<Mock>>>,
    clock: Clock,
    stripes: usize,
    /// Milliseconds one `ttl_seconds` unit lasts: 1000, except under the soak test's
    /// `--test-only-ttl-unit-ms`.
    ttl_unit_ms: u64,
    created: AtomicU64,
    deleted: AtomicU64,
    expired: AtomicU64,
    reaper_stop: Mutex<bool>,
    reaper_wake: Condvar,
    /// Each owner's live mocks by creation order, so listing one key's mocks never scans the
    /// table. Control path only.
    owners: Mutex<HashMap<Owner, OwnerList>>,
    /// Per worker, the mocks hit for the first time since the last rate sample. Each worker
    /// writes only its own (an uncontended lock, once per mock per second); the sampler drains
    /// them, so sampling costs what was hit, not the size of the table.
    touched: Box<[Touched]>,
}

#[repr(align(64))]
#[derive(Default)]
struct Touched(Mutex<Vec<MockId>>);

/// An owner's mock ids in creation order. Removal leaves a tombstone (counted in `dead`, the id
/// gone from the table) instead of shifting the vector; once tombstones outnumber live ids the
/// vector is compacted, so removal is amortised O(1) and an id costs 16 bytes here.
#[derive(Default)]
struct OwnerList {
    ids: Vec<MockId>,
    dead: usize,
}

/// One page of an owner's mocks, newest first.
pub struct Page {
    /// The owner's live mocks in all.
    pub total: usize,
    pub mocks: Vec<Arc<Mock>>,
}

impl Store {
    /// A store for `workers` serving threads with the given caps.
    pub fn new(clock: Clock, workers: usize, max_mocks: usize, max_bytes: usize) -> Store {
        let now = clock.now_ms();
        Store {
            table: MockTable::new(workers, max_mocks, max_bytes),
            expiry: Mutex::new(Wheel::new(now)),
            clock,
            stripes: workers,
            ttl_unit_ms: 1000,
            created: AtomicU64::new(0),
            deleted: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            reaper_stop: Mutex::new(false),
            reaper_wake: Condvar::new(),
            owners: Mutex::new(HashMap::new()),
            touched: (0..workers.max(1)).map(|_| Touched::default()).collect(),
        }
    }

    /// Makes one TTL second last `ms` milliseconds (soak tests only: lets mocks expire quickly
    /// through the real clock).
    pub fn set_ttl_unit_ms(&mut self, ms: u64) {
        self.ttl_unit_ms = ms.max(1);
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Creates a mock owned by `owner`.
    ///
    /// # Errors
    /// `Full` when a cap is reached (no stored mock is touched), `Random` when the OS CSPRNG fails.
    pub fn create(&self, owner: Owner, spec: MockSpec) -> Result<Arc<Mock>, CreateError> {
        let id = MockId::random().map_err(|RandomUnavailable| CreateError::Random)?;
        let rendered = render_response(&spec, &id.to_text());
        let ttl_ms = u64::from(spec.ttl_seconds) * self.ttl_unit_ms;
        let mut mock = Mock::new(id, owner, spec, rendered, self.clock.now_ms(), self.stripes);
        mock.set_ttl_ms(ttl_ms);
        let mock = Arc::new(mock);
        // Schedule expiry before the mock becomes visible, so a delete always finds its timer.
        let key = match lock(&self.expiry).insert(mock.expires_at_ms(), Arc::clone(&mock)) {
            Ok(key) => key,
            // The TTL is at least 60 s, so this only happens if the clock jumped mid-create.
            Err(_) => return Ok(mock),
        };
        mock.expiry_key.store(key.to_u64(), Ordering::Release);
        if let Err(full) = self.table.insert(Arc::clone(&mock)) {
            lock(&self.expiry).remove(key);
            return Err(CreateError::Full(full));
        }
        lock(&self.owners).entry(owner).or_default().ids.push(id);
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok(mock)
    }

    /// The live mock with this id, if `owner` owns it.
    pub fn get_owned(&self, id: MockId, owner: Owner) -> Option<Arc<Mock>> {
        let now = self.clock.now_ms();
        self.table
            .get(id)
            .filter(|m| m.owner == owner && m.is_live(now))
    }

    /// Deletes the live mock with this id if `owner` owns it.
    pub fn delete_owned(&self, id: MockId, owner: Owner) -> Option<Arc<Mock>> {
        let now = self.clock.now_ms();
        let mock = self
            .table
            .remove_if(id, |m| m.owner == owner && m.is_live(now))?;
        mock.mark_removed();
        self.unindex(&mock);
        let key = mock.expiry_key.load(Ordering::Acquire);
        if key != u64::MAX {
            lock(&self.expiry).remove(Key::from_u64(key));
        }
        self.deleted.fetch_add(1, Ordering::Relaxed);
        Some(mock)
    }

    /// The mock with this id, for serving (the caller checks liveness).
    ///
    /// **Locking behaviour:** the table shard's read lock, briefly.
    #[inline]
    pub fn lookup(&self, id: MockId) -> Option<Arc<Mock>> {
        self.table.get(id)
    }

    /// Runs `f` on the mock with this id (live or not) under the shard's read lock, without
    /// touching its reference count.
    #[inline]
    pub fn with<R>(&self, id: MockId, f: impl FnOnce(Option<&Arc<Mock>>) -> R) -> R {
        self.table.with(id, f)
    }

    /// Removes every mock whose expiry is due now; returns how many.
    pub fn purge_expired(&self) -> usize {
        let now = self.clock.now_ms();
        let mut due = Vec::new();
        lock(&self.expiry).poll(now, |_, mock| due.push(mock));
        let mut purged = 0;
        for due in due {
            let same = |m: &Mock| std::ptr::eq(m, Arc::as_ptr(&due)) && m.expires_at_ms() <= now;
            if let Some(mock) = self.table.remove_if(due.id, same) {
                mock.mark_removed();
                self.unindex(&mock);
                purged += 1;
            }
        }
        self.expired.fetch_add(purged as u64, Ordering::Relaxed);
        purged
    }

    fn unindex(&self, mock: &Mock) {
        let mut owners = lock(&self.owners);
        if let Some(mine) = owners.get_mut(&mock.owner) {
            mine.dead += 1;
            if mine.dead >= mine.ids.len() {
                owners.remove(&mock.owner);
            } else if mine.dead * 2 > mine.ids.len() {
                // More tombstones than live ids: drop them, keeping creation order.
                mine.ids.retain(|id| self.table.get(*id).is_some());
                mine.dead = 0;
            }
        }
    }

    /// A page of `owner`'s live mocks, newest first: `limit` of them after skipping `offset`.
    pub fn list_owned(&self, owner: Owner, offset: usize, limit: usize) -> Page {
        let now = self.clock.now_ms();
        let owners = lock(&self.owners);
        let Some(mine) = owners.get(&owner) else {
            return Page {
                total: 0,
                mocks: Vec::new(),
            };
        };
        let mocks = mine
            .ids
            .iter()
            .rev()
            .filter_map(|id| self.table.get(*id).filter(|m| m.is_live(now)))
            .skip(offset)
            .take(limit)
            .collect();
        Page {
            total: mine.ids.len() - mine.dead,
            mocks,
        }
    }

    /// Samples the hit totals of the mocks hit since the last sample into their per-second
    /// history (once a second, off the hot path).
    pub fn sample_rates(&self) {
        // Runs just after a second boundary: what moved since the last sample was hit in the
        // second that just ended.
        let sec = (self.clock.now_ms() / 1000).saturating_sub(1);
        for touched in self.touched.iter() {
            let ids = std::mem::take(&mut *lock(&touched.0));
            for id in ids {
                self.table.with(id, |mock| {
                    if let Some(mock) = mock {
                        mock.sample_rate(sec);
                    }
                });
            }
        }
    }

    /// Queues a mock that `worker` hit for the first time since the last rate sample.
    #[inline]
    pub fn touched(&self, worker: usize, id: MockId) {
        lock(&self.touched[worker % self.touched.len()].0).push(id);
    }

    /// Store-wide totals.
    pub fn totals(&self) -> Totals {
        Totals {
            live: self.table.len(),
            bytes: self.table.bytes(),
            created: self.created.load(Ordering::Relaxed),
            deleted: self.deleted.load(Ordering::Relaxed),
            expired: self.expired.load(Ordering::Relaxed),
        }
    }

    /// Runs the reaper on this thread until [`Store::stop_reaper`]: sleeps until the next expiry
    /// or second boundary, purges what is due, and samples hit rates once a second.
    pub fn run_reaper(&self) {
        loop {
            let now = self.clock.now_ms();
            let next = lock(&self.expiry).next_deadline();
            // Wake at the next expiry or the next second boundary (for rate sampling).
            let to_second = 1000 - now % 1000;
            let wait_ms = next
                .map_or(REAPER_MAX_SLEEP_MS, |d| d.saturating_sub(now))
                .clamp(1, to_second.min(REAPER_MAX_SLEEP_MS));
            let stop = lock(&self.reaper_stop);
            if *stop {
                return;
            }
            let (stop, _) = self
                .reaper_wake
                .wait_timeout(stop, Duration::from_millis(wait_ms))
                .unwrap_or_else(PoisonError::into_inner);
            if *stop {
                return;
            }
            drop(stop);
            self.purge_expired();
            if self.clock.now_ms() / 1000 != now / 1000 {
                self.sample_rates();
            }
        }
    }

    /// Makes [`Store::run_reaper`] return.
    pub fn stop_reaper(&self) {
        *lock(&self.reaper_stop) = true;
        self.reaper_wake.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate::{CreateLimits, parse_create};

    fn spec(ttl: u32) -> MockSpec {
        parse_create(
            format!(r#"{{"ttl_seconds":{ttl}}}"#).as_bytes(),
            &CreateLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn owner_list_survives_deletes_compaction_and_expiry_in_order() {
        let store = Store::new(Clock::manual(), 1, 1000, 1 << 30);
        let (a, b) = (Owner(1), Owner(2));
        let mine: Vec<MockId> = (0..10)
            .map(|i| store.create(a, spec(60 + i)).unwrap().id)
            .collect();
        let theirs = store.create(b, spec(60)).unwrap().id;
        // Delete 7 of 10: compaction runs once tombstones outnumber live ids.
        for id in &mine[..7] {
            assert!(store.delete_owned(*id, a).is_some());
        }
        assert!(store.delete_owned(theirs, a).is_none(), "not a's mock");
        let page = store.list_owned(a, 0, 100);
        assert_eq!(page.total, 3);
        let ids: Vec<MockId> = page.mocks.iter().map(|m| m.id).collect();
        assert_eq!(ids, [mine[9], mine[8], mine[7]]);
        assert_eq!(store.list_owned(a, 1, 1).mocks[0].id, mine[8]);
        // Expire the rest (TTLs 67..69 s) and b's (60 s).
        store.clock().advance(70_000);
        assert_eq!(store.purge_expired(), 4);
        assert_eq!(store.list_owned(a, 0, 100).total, 0);
        assert_eq!(store.list_owned(b, 0, 100).total, 0);
        assert_eq!(store.totals().live, 0);
    }
}

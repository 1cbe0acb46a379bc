//! The sharded, lock-striped mock table: the only module that takes a lock on mocks.
//!
//! # Design
//! A power-of-two number of shards, each a cache-line-aligned `RwLock<HashMap>` (ahash). Ids are
//! 128 uniformly random bits, so the shard comes straight from the id's high bits: no hash before
//! the shard, and no client can aim many mocks at one shard (the server picks every id).
//! Readers of different shards never touch the same cache line; readers of one shard share a read
//! lock. The serving path also keeps a per-worker cache in front of this table (`cache.rs`), so a
//! hot mock is looked up here once per worker, not once per hit.
//!
//! The table counts its mocks and their bytes against caps, so a flood of creates is refused
//! cleanly before it can exhaust memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::Mock;
use super::id::MockId;

type Map = HashMap<MockId, Arc<Mock>, ahash::RandomState>;

#[repr(align(64))]
struct Shard(RwLock<Map>);

/// Why an insert was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// `max_mocks` live mocks already.
    Count(usize),
    /// The mock would take stored bytes past `max_bytes`.
    Bytes(usize),
}

/// The mock table.
pub struct MockTable {
    shards: Box<[Shard]>,
    shift: u32,
    len: AtomicUsize,
    bytes: AtomicUsize,
    max_mocks: usize,
    max_bytes: usize,
}

/// Default shard count per CPU. 4× the cores keeps two writers on one shard rare while the whole
/// shard array stays a few KiB.
const SHARDS_PER_CPU: usize = 4;

impl MockTable {
    /// A table sized for `cpus` cores with the given caps.
    pub fn new(cpus: usize, max_mocks: usize, max_bytes: usize) -> MockTable {
        let n = (cpus.max(1) * SHARDS_PER_CPU).next_power_of_two();
        let shards = (0..n)
            .map(|_| Shard(RwLock::new(Map::with_hasher(ahash::RandomState::new()))))
            .collect();
        MockTable {
            shards,
            shift: 128 - n.trailing_zeros(),
            len: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            max_mocks,
            max_bytes,
        }
    }

    #[inline]
    fn shard(&self, id: MockId) -> &RwLock<Map> {
        // `shift` is 128 for a single shard; checked_shr turns that into shard 0.
        let index = id.as_u128().checked_shr(self.shift).unwrap_or(0) as usize;
        &self.shards[index].0
    }

    /// Inserts a mock, or refuses it when a cap would be passed (nothing is changed then).
    ///
    /// **Locking behaviour:** takes the write lock of the id's shard.
    pub fn insert(&self, mock: Arc<Mock>) -> Result<(), Full> {
        let size = mock.footprint();
        let count = self.len.fetch_add(1, Ordering::AcqRel);
        if count >= self.max_mocks {
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Count(self.max_mocks));
        }
        let used = self.bytes.fetch_add(size, Ordering::AcqRel);
        if used + size > self.max_bytes {
            self.bytes.fetch_sub(size, Ordering::AcqRel);
            self.len.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Bytes(self.max_bytes));
        }
        let previous = write(self.shard(mock.id)).insert(mock.id, mock);
        debug_assert!(previous.is_none(), "128-bit random id collided");
        Ok(())
    }

    /// The mock with this id, live or not.
    ///
    /// **Locking behaviour:** takes the read lock of the id's shard.
    #[inline]
    pub fn get(&self, id: MockId) -> Option<Arc<Mock>> {
        read(self.shard(id)).get(&id).cloned()
    }

    /// Runs `f` on the mock with this id under the shard's read lock, without touching its
    /// reference count.
    ///
    /// **Locking behaviour:** holds the read lock of the id's shard while `f` runs.
    #[inline]
    pub fn with<R>(&self, id: MockId, f: impl FnOnce(Option<&Arc<Mock>>) -> R) -> R {
        f(read(self.shard(id)).get(&id))
    }

    /// Removes a mock; `filter` sees it first and may refuse (for ownership checks).
    ///
    /// **Locking behaviour:** takes the write lock of the id's shard.
    pub fn remove_if(&self, id: MockId, filter: impl FnOnce(&Mock) -> bool) -> Option<Arc<Mock>> {
        let mut map = write(self.shard(id));
        if !filter(map.get(&id)?) {
            return None;
        }
        let mock = map.remove(&id)?;
        drop(map);
        self.len.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(mock.footprint(), Ordering::AcqRel);
        Some(mock)
    }

    /// Calls `f` on every stored mock, one shard at a time.
    ///
    /// **Locking behaviour:** holds each shard's read lock while visiting that shard.
    pub fn for_each(&self, mut f: impl FnMut(&Arc<Mock>)) {
        for shard in self.shards.iter() {
            for mock in read(&shard.0).values() {
                f(mock);
            }
        }
    }

    /// Live mocks stored.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no mock is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the stored mocks account for.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

/// A poisoned lock only means another thread panicked while holding it; the map itself is always
/// left consistent (each operation is one insert or remove), so keep serving.
fn read(lock: &RwLock<Map>) -> std::sync::RwLockReadGuard<'_, Map> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write(lock: &RwLock<Map>) -> std::sync::RwLockWriteGuard<'_, Map> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

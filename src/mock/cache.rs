//! A worker's private cache in front of the shared table.
//!
//! Direct-mapped by the id's low bits: a hit is one index and two compares, with no lock and no
//! shared write, so a mock hammered from every core is read from each core's own cache lines. An
//! entry is trusted only while its mock is live (`Mock::is_live` reads the `removed` flag and the
//! deadline); a deleted or expired mock falls through to the table, which no longer has it.
//! [`LocalCache::sweep`] drops dead entries so their memory is not held past the next sweep.

use std::sync::Arc;

use super::Mock;
use super::id::MockId;
use super::store::Store;

/// Slots per worker. 1024 × 8 bytes = 8 KiB fits in L1 next to the connection buffers, and a load
/// test rarely spreads its traffic over more mocks than that.
pub const CACHE_SLOTS: usize = 1024;

/// On a miss, one time in this many the looked-up mock takes over an occupied live slot. A mock
/// hit over and over is cached within a few hits, while hits spread over far more mocks than
/// slots stop churning the cache: each replacement costs two reference-count writes and evicts
/// an entry that may be hot. Measured with `benches/table.rs` (random over 100k mocks).
const ADMIT_ONE_IN: u32 = 8;

/// One worker's cache.
pub struct LocalCache {
    slots: Box<[Option<Arc<Mock>>]>,
    rng: fastrand::Rng,
}

impl Default for LocalCache {
    fn default() -> Self {
        LocalCache {
            slots: (0..CACHE_SLOTS).map(|_| None).collect(),
            rng: fastrand::Rng::with_seed(0x6d6f_636b),
        }
    }
}

impl LocalCache {
    /// Runs `f` on the live mock with this id: from the cache without a lock, else under the
    /// table shard's read lock (then perhaps cached). `None` when no live mock has this id.
    #[inline]
    pub fn with_live<R>(
        &mut self,
        store: &Store,
        id: MockId,
        now_ms: u64,
        f: impl FnOnce(&Mock) -> R,
    ) -> Option<R> {
        let slot = (id.as_u128() as usize) & (CACHE_SLOTS - 1);
        if let Some(m) = &self.slots[slot] {
            if m.id == id && m.is_live(now_ms) {
                return Some(f(m));
            }
        }
        self.with_live_slow(store, id, now_ms, slot, f)
    }

    #[inline(never)]
    fn with_live_slow<R>(
        &mut self,
        store: &Store,
        id: MockId,
        now_ms: u64,
        slot: usize,
        f: impl FnOnce(&Mock) -> R,
    ) -> Option<R> {
        let admit = match &self.slots[slot] {
            None => true,
            Some(m) => !m.is_live(now_ms) || self.rng.u32(..ADMIT_ONE_IN) == 0,
        };
        let slots = &mut self.slots;
        store.with(id, |found| {
            let mock = found.filter(|m| m.is_live(now_ms))?;
            if admit {
                slots[slot] = Some(Arc::clone(mock));
            }
            Some(f(mock))
        })
    }

    /// Drops every entry whose mock is no longer live; returns how many.
    pub fn sweep(&mut self, now_ms: u64) -> usize {
        let mut dropped = 0;
        for slot in self.slots.iter_mut() {
            if slot.as_ref().is_some_and(|m| !m.is_live(now_ms)) {
                *slot = None;
                dropped += 1;
            }
        }
        dropped
    }
}

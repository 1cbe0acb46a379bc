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

/// One worker's cache.
pub struct LocalCache {
    slots: Box<[Option<Arc<Mock>>]>,
}

impl Default for LocalCache {
    fn default() -> Self {
        LocalCache {
            slots: (0..CACHE_SLOTS).map(|_| None).collect(),
        }
    }
}

impl LocalCache {
    /// The live mock with this id: from the cache, else from the store (then cached).
    #[inline]
    pub fn lookup(&mut self, store: &Store, id: MockId, now_ms: u64) -> Option<&Arc<Mock>> {
        let slot = (id.as_u128() as usize) & (CACHE_SLOTS - 1);
        let cached = matches!(&self.slots[slot], Some(m) if m.id == id && m.is_live(now_ms));
        if !cached {
            let mock = store.lookup(id).filter(|m| m.is_live(now_ms))?;
            self.slots[slot] = Some(mock);
        }
        self.slots[slot].as_ref()
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

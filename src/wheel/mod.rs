//! Hierarchical timing wheel: O(1) insert and remove of millisecond deadlines, firing in
//! deadline order.
//!
//! Used per worker thread for delayed responses (items are `Waker`s, thousands pending) and for
//! mock expiry (items are ids, up to millions pending, deadlines up to days out). Neither use
//! needs more than millisecond resolution, and both need cancellation to be cheap, which a
//! binary heap does not give (O(log n) and no stable handle) and a timing wheel does.
//!
//! # Shape
//!
//! Time is a `u64` count of milliseconds from any origin the caller likes; the wheel only ever
//! compares and subtracts. It has `NUM_LEVELS` = 6 levels of `SLOTS` = 64 slots. A slot at
//! level `L` is `64^L` ms wide, so level 0 has 1 ms slots covering 64 ms, level 1 64 ms slots
//! covering ~4 s, then ~4 min, ~4.7 h, ~12 days, and level 5 has ~12-day slots covering
//! `64^6` ms = 2^36 ms ≈ 2.2 years.
//!
//! * **64 slots** because one `u64` then holds a level's occupied-bitfield, so "next non-empty
//!   slot" is a single `trailing_zeros`, and the slot of a deadline is a shift and a mask.
//! * **6 levels** because 2^36 ms (2.2 years) is far beyond anything the server schedules (mock
//!   expiry is at most 2 days out, which lands on level 4, or 5 when it straddles a 2^30-ms
//!   boundary), so the clamping below is never hit in practice, while each level costs only
//!   ~1 KiB and an entry cascades at most once per level below the one it was filed at (≤ 5
//!   moves in its life).
//! * **1 ms ticks** because delays and expiries are specified in ms, and a worker sleeping on
//!   the OS timer does not wake more precisely than that anyway.
//!
//! An entry with deadline `when` is filed at the level of the highest base-64 digit in which
//! `when` differs from the current time `elapsed` (`leading_zeros` of `elapsed ^ when`), under
//! the slot given by `when`'s digit at that level. As time reaches the start of a slot, its
//! entries are *cascaded*: re-filed relative to the new time, which puts each on a strictly
//! lower level, until at level 0 the slot start equals the deadline and the entry fires.
//!
//! A deadline in a later 2^36-ms rotation than `elapsed` (its bits above 36 differ; true of
//! anything 2^36 ms or more away) is clamped into the top level, under its own top digit. The top level is therefore a ring whose slots can hold
//! entries from several rotations; each top slot remembers a lower bound (its *floor*) of its
//! deadlines and is processed at the start of the 2^30-ms span holding that floor, where
//! entries still a rotation or more away are re-filed into the same slot. So a far deadline
//! costs one re-cascade per time its slot comes due, not one per rotation of idle time, and a
//! poll that jumps from 0 to `u64::MAX` still does bounded work.
//!
//! # Ownership
//!
//! The wheel owns its items. Entries live in a slab, a `Vec` of nodes (item, deadline, list
//! links, generation, level; 40 bytes with a `Waker` as the item), with vacated indexes kept
//! on a free stack (4 bytes each) and reused last-freed first. Slot lists are intrusive,
//! doubly linked by index through the slab, so insert, remove and each cascade step are O(1)
//! and, once the slab has grown to the peak number of pending entries, never allocate. The
//! slab never shrinks.
//!
//! A [`Key`] is an index plus the generation the node had when the entry was inserted. Every
//! time an index is vacated (fired or removed) its generation is bumped, so an old key is
//! recognised as stale and can neither remove nor observe the index's next occupant.
//!
//! # Ground rules (invariants, checked with `debug_assert!`)
//!
//! * A pending entry is in the due list (found due, not yet handed to `fire`) if and only if
//!   `when <= elapsed`; every other one has `when > elapsed` and is filed at the level in its
//!   `place`. That is how `remove` finds an entry's list. `insert` refuses deadlines at or
//!   before `elapsed` (returns the item), and `poll` never moves `elapsed` past the start of an
//!   occupied slot without processing it. The due list is empty outside `poll` unless a `fire`
//!   call panicked.
//! * An entry filed at level `L < 5` has `level_for(elapsed, when) == L` at all times outside
//!   `poll`: it lies in the current `64^(L+1)`-ms block of `elapsed`, in a slot after the one
//!   holding `elapsed`. Hence the earliest slot of a level is its lowest occupied one, and any
//!   non-empty lower level expires before every higher one.
//! * All pending entries with equal `when` sit in the same list, in insertion order.
//! * `len` equals the number of occupied slab entries, which equals the number of nodes in all
//!   lists.
//!
//! # Ordering guarantee
//!
//! Over the whole life of a wheel, entries are handed to `fire` in nondecreasing order of
//! deadline, and entries with equal deadlines in the order they were inserted. This holds
//! within one `poll` call however far it jumps, because slots are processed strictly in order
//! of their start and a slot's start is `<=` every deadline in it.
//!
//! # What it refuses
//!
//! * Deadlines at or before the current time: `insert` hands the item back as `Err`.
//! * Moving time backwards: `poll` with an earlier `now_ms` fires nothing and keeps `elapsed`.
//! * Being re-entered from `fire`: `fire` cannot reach the wheel (it is mutably borrowed).
//! * More than `u32::MAX - 1` entries pending at once: `insert` panics (that would be over
//!   100 GiB of slab).
//!
//! A panic in `fire` leaves the wheel consistent: entries found due but not yet handed out stay
//! in the due list, are still counted in `len` and removable, and are handed out first by the
//! next `poll`. A key whose generation wraps (2^32 reuses of one index while the key is held)
//! could alias; at one reuse per millisecond that takes 49 days of one index being reused
//! continuously while an old key to it is kept.

mod level;

use std::fmt;

use level::{Expiration, Level, List, Node};

/// log2 of the slots per level.
const LEVEL_BITS: u32 = 6;
/// Slots per level: 64, so that a level's occupied set is exactly one `u64`.
const SLOTS: usize = 1 << LEVEL_BITS;
/// Levels: 6, so the wheel spans 64^6 ms = 2^36 ms ≈ 2.2 years before clamping.
const NUM_LEVELS: usize = 6;
/// The top level, where out-of-range deadlines are clamped.
const TOP: usize = NUM_LEVELS - 1;
/// "No node" in links. Also why indexes stop at `u32::MAX - 1`.
const NIL: u32 = u32::MAX;
/// `Node::place` of a free slab index.
const VACANT: u8 = u8::MAX;

/// Handle to a pending entry. Generation-checked: a stale key (entry already fired or removed,
/// slab slot reused) never removes or touches another entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// Packs into a u64 (for storing in an AtomicU64); `from_u64(k.to_u64()) == k`.
    ///
    /// The generation is the high half and the index the low half.
    pub fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// Unpacks a value made by [`Key::to_u64`]. Any `u64` gives a valid key; one that was not
    /// made by `to_u64` is just (almost certainly) stale.
    pub fn from_u64(v: u64) -> Key {
        Key {
            index: v as u32,
            generation: (v >> 32) as u32,
        }
    }
}

/// A hierarchical timing wheel with millisecond ticks. See the [module docs](self).
pub struct Wheel<T> {
    /// Current time in ms. Only moves forward.
    elapsed: u64,
    /// Boxed so the wheel (~6 KiB of slot heads and floors) is cheap to move.
    levels: Box<[Level; NUM_LEVELS]>,
    /// Entries found due by `poll` and not yet handed to `fire`. Empty outside `poll` unless a
    /// `fire` call panicked.
    due: List,
    /// The slab. Indexes never move; vacant ones are on `free`.
    nodes: Vec<Node<T>>,
    /// Vacant indexes, reused last-freed first. A stack of its own rather than a chain through
    /// the vacant nodes: popping it does not wait on a cache miss in the slab, so consecutive
    /// inserts into a large, recycled slab overlap their misses instead of serialising them.
    free: Vec<u32>,
    /// Number of pending entries.
    len: usize,
}

impl<T> Wheel<T> {
    /// A wheel whose current time ("elapsed") is `now_ms` (any u64 origin, e.g. ms since process
    /// start or unix ms).
    pub fn new(now_ms: u64) -> Self {
        Self::with_capacity(now_ms, 0)
    }

    /// Like [`Wheel::new`], with room for `capacity` pending entries before the slab grows.
    pub fn with_capacity(now_ms: u64, capacity: usize) -> Self {
        Wheel {
            elapsed: now_ms,
            levels: Box::new(std::array::from_fn(Level::new)),
            due: List::EMPTY,
            nodes: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            len: 0,
        }
    }

    /// Schedules `item` to fire at `when_ms`. A deadline at or before the wheel's current time is
    /// not stored: the item is handed back as `Err(item)` so the caller fires it now.
    pub fn insert(&mut self, when_ms: u64, item: T) -> Result<Key, T> {
        if when_ms <= self.elapsed {
            return Err(item);
        }
        let index = self.alloc(when_ms, item);
        let level = level_for(self.elapsed, when_ms);
        self.levels[level].push(&mut self.nodes, index, when_ms);
        Ok(Key {
            index,
            generation: self.nodes[index as usize].generation,
        })
    }

    /// Removes a pending entry; `None` if the key is stale.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let node = self.nodes.get(key.index as usize)?;
        if node.generation != key.generation || node.place == VACANT {
            return None;
        }
        if node.when <= self.elapsed {
            // Found due by a `poll` whose `fire` panicked; not handed out yet.
            self.due.unlink(&mut self.nodes, key.index);
        } else {
            let level = node.place as usize;
            self.levels[level].unlink(&mut self.nodes, key.index);
        }
        Some(self.release(key.index))
    }

    /// Advances the wheel's time to `now_ms` (never backwards: an earlier `now_ms` is a no-op for
    /// time) and calls `fire(key, item)` for every entry with `when_ms <= now_ms`, each exactly
    /// once, in nondecreasing deadline order (ties in insertion order). The key passed to `fire`
    /// is already stale.
    ///
    /// Work is proportional to the entries fired or cascaded plus the slots processed (each
    /// step also looks at up to 6 level bitfields); pending entries that are not due and not in
    /// a slot that comes due are never looked at.
    pub fn poll(&mut self, now_ms: u64, mut fire: impl FnMut(Key, T)) {
        // Leftovers of a `fire` that panicked: due before anything still filed.
        self.fire_due(&mut fire);
        while let Some(exp) = self.next_expiration() {
            if exp.deadline > now_ms {
                break;
            }
            debug_assert!(
                exp.deadline > self.elapsed,
                "slot {exp:?} comes due at or before elapsed {}",
                self.elapsed
            );
            self.elapsed = exp.deadline;
            self.cascade(exp);
            self.fire_due(&mut fire);
        }
        self.elapsed = self.elapsed.max(now_ms);
    }

    /// The earliest instant at which `poll` could fire something (exact for level 0; for higher
    /// levels the start of the slot, which is <= every deadline in it), or `None` when empty.
    ///
    /// It is always after `elapsed`, except after a panic in `fire`, when it is `elapsed`.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.due.is_empty() {
            return Some(self.elapsed);
        }
        self.next_expiration().map(|exp| exp.deadline)
    }

    /// The wheel's current time in ms.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first slot to process: the earliest one of the lowest non-empty level.
    fn next_expiration(&self) -> Option<Expiration> {
        let (first, higher) = self.levels.iter().enumerate().find_map(|(level, l)| {
            l.next_expiration(self.elapsed)
                .map(|exp| (exp, &self.levels[level + 1..]))
        })?;
        debug_assert!(
            higher
                .iter()
                .filter_map(|l| l.next_expiration(self.elapsed))
                .all(|exp| exp.deadline > first.deadline),
            "a higher level expires no later than {first:?} (elapsed {})",
            self.elapsed
        );
        Some(first)
    }

    /// Processes a slot that has come due (`elapsed` is its start): every entry in it either is
    /// due now and moves to the due list, or is re-filed relative to `elapsed`, which puts it
    /// on a lower level (or, for a clamped entry still a rotation away, back into the same top
    /// slot, with a floor a rotation later).
    fn cascade(&mut self, exp: Expiration) {
        let mut pending = self.levels[exp.level].take(exp.slot);
        if exp.level == 0 {
            // A level-0 slot is one millisecond: everything in it is due. Splice, don't walk:
            // the walk is a chain of cache misses with 100k entries pending.
            if cfg!(debug_assertions) {
                self.check_all_due(pending);
            }
            self.due.append(&mut self.nodes, pending);
            return;
        }
        while let Some(idx) = pending.pop_front(&mut self.nodes) {
            let when = self.nodes[idx as usize].when;
            if when <= self.elapsed {
                debug_assert_eq!(
                    when, self.elapsed,
                    "entry {idx} in slot {exp:?} was due before the slot started"
                );
                self.due.push_back(&mut self.nodes, idx);
            } else {
                let level = level_for(self.elapsed, when);
                debug_assert!(
                    level < exp.level || level == TOP,
                    "entry {idx} (when {when}) from {exp:?} re-filed at level {level}, elapsed {}",
                    self.elapsed
                );
                self.levels[level].push(&mut self.nodes, idx, when);
            }
        }
    }

    /// Checks that every entry of a level-0 slot about to be handed out is due exactly now.
    fn check_all_due(&self, list: List) {
        let mut idx = list.head();
        while idx != NIL {
            let node = &self.nodes[idx as usize];
            debug_assert_eq!(
                node.when, self.elapsed,
                "entry {idx} in the level-0 slot of {} is due at {}",
                self.elapsed, node.when
            );
            idx = node.next;
        }
    }

    /// Hands every due entry to `fire`, vacating each before the call.
    fn fire_due(&mut self, fire: &mut impl FnMut(Key, T)) {
        while let Some(idx) = self.due.pop_front(&mut self.nodes) {
            let key = Key {
                index: idx,
                generation: self.nodes[idx as usize].generation,
            };
            let item = self.release(idx);
            fire(key, item);
        }
    }

    /// Takes a vacant index (reusing a freed one first) and stores the entry there. The
    /// caller files it in a list.
    fn alloc(&mut self, when: u64, item: T) -> u32 {
        self.len += 1;
        if let Some(idx) = self.free.pop() {
            let node = &mut self.nodes[idx as usize];
            debug_assert!(
                node.place == VACANT && node.item.is_none(),
                "freed index {idx} is occupied (place {})",
                node.place
            );
            node.when = when;
            // Not `node.item = Some(item)`: that would drop the old value, which means reading
            // it, and in a large recycled slab that read is a cache miss the insert then waits
            // on. The old value is `None` (a vacant node), so there is nothing to drop.
            let old = node.item.replace(item);
            debug_assert!(old.is_none(), "freed index {idx} still held an item");
            std::mem::forget(old);
            return idx;
        }
        let idx = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i != NIL)
            .expect("timing wheel full: u32::MAX - 1 entries pending");
        self.nodes.push(Node {
            when,
            prev: NIL,
            next: NIL,
            generation: 0,
            place: VACANT,
            item: Some(item),
        });
        idx
    }

    /// Vacates `idx`, which the caller has unlinked, and returns its item.
    fn release(&mut self, idx: u32) -> T {
        let node = &mut self.nodes[idx as usize];
        node.generation = node.generation.wrapping_add(1);
        node.place = VACANT;
        self.free.push(idx);
        self.len -= 1;
        match node.item.take() {
            Some(item) => item,
            None => unreachable!("released index {idx} held no item"),
        }
    }
}

impl<T> fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len)
            .field("next_deadline", &self.next_deadline())
            .field("slab", &self.nodes.len())
            .finish()
    }
}

/// The level an entry due at `when` is filed at when the time is `elapsed` (`when > elapsed`):
/// the level of the highest base-64 digit in which the two differ, clamped to the top level.
fn level_for(elapsed: u64, when: u64) -> usize {
    // Or-ing in the level-0 digit's bits caps the result from below at level 0 (and keeps
    // `leading_zeros` away from 64).
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let highest_bit = (u64::BITS - 1 - masked.leading_zeros()) as usize;
    (highest_bit / LEVEL_BITS as usize).min(TOP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const ROTATION: u64 = 1 << 36;
    /// Roughly now in unix ms, as the mock-expiry wheel would be started.
    const UNIX_NOW: u64 = 1_760_000_000_000;
    const DAY: u64 = 86_400_000;

    fn poll_all<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<T> {
        let mut out = Vec::new();
        wheel.poll(now, |_, item| out.push(item));
        out
    }

    #[test]
    fn level_for_table() {
        let cases: &[(u64, u64, usize)] = &[
            (0, 1, 0),
            (0, 63, 0),
            (0, 64, 1),
            (0, 4095, 1),
            (0, 4096, 2),
            (0, (1 << 18) - 1, 2),
            (0, 1 << 18, 3),
            (0, 1 << 24, 4),
            (0, (1 << 30) - 1, 4),
            (0, 1 << 30, 5),
            (0, ROTATION - 1, 5),
            // Beyond the wheel's span: clamped into the top level.
            (0, ROTATION, 5),
            (0, u64::MAX, 5),
            // Only the differing digits matter, not the distance.
            (63, 64, 1),
            (64, 127, 0),
            (4095, 4096, 2),
            ((1 << 30) - 1, 1 << 30, 5),
            // A unix-ms origin: 1_760_000_000_000 ends in 14 zero bits, so + 1 ms stays on
            // level 0 and + 1 s (1000 = 0b11_1110_1000, highest bit 9) lands on level 1.
            (UNIX_NOW, UNIX_NOW + 1, 0),
            (UNIX_NOW, UNIX_NOW + 1000, 1),
        ];
        for &(elapsed, when, level) in cases {
            assert_eq!(
                level_for(elapsed, when),
                level,
                "elapsed {elapsed}, when {when}"
            );
        }
        // Exhaustively against the definition for small times.
        for elapsed in 0..300u64 {
            for when in elapsed + 1..elapsed + 9000 {
                let expect = (0..NUM_LEVELS)
                    .rev()
                    .find(|&l| elapsed >> (6 * l) != when >> (6 * l))
                    .unwrap();
                assert_eq!(
                    level_for(elapsed, when),
                    expect,
                    "elapsed {elapsed}, when {when}"
                );
            }
        }
    }

    #[test]
    fn key_packs_into_u64() {
        for (index, generation) in [(0, 0), (1, 2), (u32::MAX - 1, u32::MAX), (7, 0)] {
            let key = Key { index, generation };
            assert_eq!(Key::from_u64(key.to_u64()), key);
        }
        assert_eq!(Key::from_u64(u64::MAX).to_u64(), u64::MAX);
    }

    #[test]
    fn fires_exactly_at_the_deadline_not_earlier() {
        for origin in [0, 1000, UNIX_NOW, u64::MAX - 5 * ROTATION] {
            for delta in [1, 2, 63, 64, 65, 4095, 4096, 4097, 1 << 20, DAY, 2 * DAY] {
                let mut wheel = Wheel::new(origin);
                let when = origin + delta;
                wheel.insert(when, delta).unwrap();
                assert!(
                    wheel.next_deadline().unwrap() <= when,
                    "origin {origin} delta {delta}"
                );
                // Step to 1 ms before, in a few uneven strides (exercises every cascade).
                for now in [origin + delta / 3, origin + delta / 2, when - 1] {
                    assert!(poll_all(&mut wheel, now).is_empty(), "early at {now}");
                }
                assert_eq!(wheel.len(), 1);
                assert_eq!(
                    wheel.next_deadline(),
                    Some(when),
                    "origin {origin} delta {delta}"
                );
                assert_eq!(poll_all(&mut wheel, when), vec![delta]);
                assert!(wheel.is_empty());
                assert_eq!(wheel.next_deadline(), None);
                assert_eq!(wheel.elapsed(), when);
            }
        }
    }

    #[test]
    fn elapsed_deadlines_are_handed_back() {
        let mut wheel = Wheel::new(100);
        assert_eq!(wheel.insert(100, "now"), Err("now"));
        assert_eq!(wheel.insert(3, "past"), Err("past"));
        assert_eq!(wheel.insert(0, "origin"), Err("origin"));
        assert!(wheel.insert(101, "next").is_ok());
        assert_eq!(poll_all(&mut wheel, 500), vec!["next"]);
        assert_eq!(wheel.insert(500, "now again"), Err("now again"));
        assert_eq!(wheel.insert(499, "past again"), Err("past again"));
        assert!(wheel.is_empty());

        let mut edge = Wheel::new(u64::MAX);
        assert_eq!(edge.insert(u64::MAX, 1), Err(1));
    }

    #[test]
    fn poll_never_moves_time_backwards() {
        let mut wheel = Wheel::new(1000);
        wheel.insert(1500, 'a').unwrap();
        assert!(poll_all(&mut wheel, 10).is_empty());
        assert_eq!(wheel.elapsed(), 1000);
        assert!(poll_all(&mut wheel, 1200).is_empty());
        assert!(poll_all(&mut wheel, 1100).is_empty());
        assert_eq!(wheel.elapsed(), 1200);
        assert_eq!(poll_all(&mut wheel, 1500), vec!['a']);
    }

    #[test]
    fn remove_before_fire() {
        let mut wheel = Wheel::new(0);
        let a = wheel.insert(10, 'a').unwrap();
        let b = wheel.insert(5000, 'b').unwrap();
        let c = wheel.insert(10, 'c').unwrap();
        assert_eq!(wheel.len(), 3);
        assert_eq!(wheel.remove(a), Some('a'));
        assert_eq!(wheel.remove(a), None);
        assert_eq!(wheel.remove(b), Some('b'));
        assert_eq!(wheel.len(), 1);
        assert_eq!(poll_all(&mut wheel, 10_000), vec!['c']);
        assert_eq!(wheel.remove(c), None);
        assert!(wheel.is_empty());
    }

    #[test]
    fn stale_keys_after_fire_and_after_reuse() {
        let mut wheel = Wheel::new(0);
        let first = wheel.insert(5, 1).unwrap();
        let mut fired = Vec::new();
        wheel.poll(5, |key, item| fired.push((key, item)));
        assert_eq!(fired, vec![(first, 1)]);
        assert_eq!(wheel.remove(first), None, "key of a fired entry");

        // The freed index is reused by the next insert, under a new generation.
        let second = wheel.insert(10, 2).unwrap();
        assert_eq!(second.index, first.index);
        assert_ne!(second, first);
        assert_eq!(
            wheel.remove(first),
            None,
            "old key must not remove the new occupant"
        );
        assert_eq!(wheel.len(), 1);
        assert_eq!(wheel.remove(second), Some(2));

        // Keys that never existed.
        assert_eq!(wheel.remove(Key::from_u64(12345 << 32 | 999)), None);
        assert_eq!(wheel.remove(Key::from_u64(u64::MAX)), None);

        // Reuse after remove, too.
        let third = wheel.insert(20, 3).unwrap();
        assert_eq!(third.index, first.index);
        assert_eq!(wheel.remove(second), None);
        assert_eq!(poll_all(&mut wheel, 20), vec![3]);
    }

    #[test]
    fn slab_reuses_indexes() {
        let mut wheel = Wheel::with_capacity(0, 16);
        for round in 0..10u64 {
            for i in 0..16 {
                wheel.insert(round * 100 + 1 + i, i).unwrap();
            }
            assert_eq!(poll_all(&mut wheel, round * 100 + 99).len(), 16);
        }
        assert_eq!(wheel.nodes.len(), 16);
    }

    #[test]
    fn big_jump_fires_everything_in_order() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut wheel = Wheel::new(UNIX_NOW);
        let mut whens: Vec<u64> = (0..20_000)
            .map(|_| UNIX_NOW + rng.u64(1..=2 * DAY))
            .collect();
        for (i, &when) in whens.iter().enumerate() {
            wheel.insert(when, (when, i)).unwrap();
        }
        let fired = poll_all(&mut wheel, UNIX_NOW + 2 * DAY);
        assert!(wheel.is_empty());
        assert_eq!(wheel.elapsed(), UNIX_NOW + 2 * DAY);
        // Nondecreasing deadlines; equal deadlines in insertion order.
        assert!(fired.windows(2).all(|w| w[0] < w[1]), "out of order");
        whens.sort_unstable();
        assert_eq!(fired.iter().map(|&(w, _)| w).collect::<Vec<_>>(), whens);
    }

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let mut wheel = Wheel::new(0);
        // Same deadline, inserted at different times (so first filed at different levels).
        // Filed at levels 2, 2, 1 and 0 respectively; the earlier ones cascade into the same
        // slots as the later ones are filed into.
        for (i, now) in [0u64, 100, 4096, 4170].into_iter().enumerate() {
            poll_all(&mut wheel, now);
            let level = level_for(now, 4200);
            assert_eq!(level, [2, 2, 1, 0][i]);
            wheel.insert(4200, i).unwrap();
            wheel.insert(4199, 10 + i).unwrap();
        }
        assert_eq!(poll_all(&mut wheel, 5000), vec![10, 11, 12, 13, 0, 1, 2, 3]);
    }

    #[test]
    fn deadlines_beyond_the_wheel_span_are_clamped_and_fire_on_time() {
        let far = [
            ROTATION,
            ROTATION + 1,
            3 * ROTATION + 12345,
            ROTATION * 1000 + 7,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut wheel = Wheel::new(5);
        for (i, &when) in far.iter().enumerate() {
            wheel.insert(when, i).unwrap();
        }
        for (i, &when) in far.iter().enumerate() {
            let next = wheel.next_deadline().unwrap();
            assert!(next <= when, "next_deadline {next} after {when}");
            assert!(poll_all(&mut wheel, when - 1).is_empty(), "early: {i}");
            assert_eq!(poll_all(&mut wheel, when), vec![i]);
        }
        assert!(wheel.is_empty());

        // One jump over all of them, from a unix-ms origin: bounded work, right order.
        let mut wheel = Wheel::new(UNIX_NOW);
        let far_from_now = [
            UNIX_NOW + 3 * ROTATION + 12345,
            UNIX_NOW + ROTATION * 1000 + 7,
            u64::MAX - 1,
            u64::MAX,
        ];
        for (i, &when) in far_from_now.iter().enumerate() {
            wheel.insert(when, i).unwrap();
        }
        wheel.insert(UNIX_NOW + 1, 99).unwrap();
        assert_eq!(poll_all(&mut wheel, u64::MAX), vec![99, 0, 1, 2, 3]);
    }

    #[test]
    fn next_deadline_is_exact_at_level_0_and_a_slot_start_above() {
        let mut wheel = Wheel::new(1000);
        assert_eq!(wheel.next_deadline(), None);
        let k = wheel.insert(1000 + 4096 * 3 + 17, ()).unwrap();
        // Level 2 slot: starts at its 4096-ms boundary.
        assert_eq!(wheel.next_deadline(), Some(4096 * 3));
        wheel.insert(1010, ()).unwrap();
        assert_eq!(wheel.next_deadline(), Some(1010));
        poll_all(&mut wheel, 1010);
        assert_eq!(wheel.next_deadline(), Some(4096 * 3));
        wheel.remove(k);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn wakers_as_items() {
        let mut wheel = Wheel::new(0);
        let key = wheel.insert(3, std::task::Waker::noop().clone()).unwrap();
        wheel.insert(2, std::task::Waker::noop().clone()).unwrap();
        assert!(wheel.remove(key).is_some());
        let mut woken = 0;
        wheel.poll(10, |_, waker| {
            waker.wake();
            woken += 1;
        });
        assert_eq!(woken, 1);
    }

    #[test]
    fn a_panicking_fire_loses_nothing() {
        let mut wheel = Wheel::new(0);
        for i in 0..4 {
            wheel.insert(10, i).unwrap();
        }
        let removable = wheel.insert(10, 4).unwrap();
        wheel.insert(11, 5).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wheel.poll(20, |_, i| assert_ne!(i, 1, "boom"));
        }));
        assert!(result.is_err());
        assert_eq!(wheel.len(), 4);
        assert_eq!(wheel.next_deadline(), Some(wheel.elapsed()));
        assert_eq!(wheel.remove(removable), Some(4));
        assert_eq!(poll_all(&mut wheel, 20), vec![2, 3, 5]);
        assert!(wheel.is_empty());
    }

    /// Checks the wheel against a plain ordered map through many random operations.
    fn randomized(seed: u64, origin: u64, ops: usize) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut wheel: Wheel<u64> = Wheel::new(origin);
        // Reference: (when, id) -> key, and id -> (when, key).
        let mut model: BTreeMap<(u64, u64), Key> = BTreeMap::new();
        let mut live: BTreeMap<u64, (u64, Key)> = BTreeMap::new();
        let mut dead: Vec<Key> = Vec::new();
        let mut next_id = 0u64;

        for _ in 0..ops {
            let now = wheel.elapsed();
            match rng.u32(0..100) {
                0..=49 => {
                    let delta = match rng.u32(0..100) {
                        0..=4 => 0,
                        5..=39 => rng.u64(1..64),
                        40..=69 => rng.u64(1..5000),
                        70..=89 => rng.u64(1..=2 * DAY),
                        90..=96 => rng.u64(1..ROTATION),
                        _ => rng.u64(1..ROTATION * 50),
                    };
                    let when = now.saturating_add(delta);
                    let id = next_id;
                    next_id += 1;
                    match wheel.insert(when, id) {
                        Ok(key) => {
                            assert!(when > now, "stored elapsed deadline {when} <= {now}");
                            model.insert((when, id), key);
                            live.insert(id, (when, key));
                        }
                        Err(back) => {
                            assert_eq!(back, id);
                            assert!(when <= now, "refused future deadline {when} > {now}");
                        }
                    }
                }
                50..=64 => {
                    if !live.is_empty() && rng.bool() {
                        let probe = rng.u64(0..next_id);
                        let id = *live.range(probe..).next().or(live.iter().next()).unwrap().0;
                        let (when, key) = live.remove(&id).unwrap();
                        model.remove(&(when, id));
                        assert_eq!(wheel.remove(key), Some(id));
                        dead.push(key);
                    } else if !dead.is_empty() {
                        let key = dead[rng.usize(0..dead.len())];
                        assert_eq!(wheel.remove(key), None, "stale key removed something");
                    }
                }
                _ => {
                    let step = match rng.u32(0..100) {
                        0..=9 => 0,
                        10..=59 => rng.u64(1..5),
                        60..=84 => rng.u64(1..200),
                        85..=94 => rng.u64(1..100_000),
                        95..=98 => rng.u64(1..=2 * DAY),
                        _ => rng.u64(1..ROTATION * 3),
                    };
                    // Sometimes poll exactly at the wheel's own next deadline.
                    let target = match wheel.next_deadline() {
                        Some(d) if rng.u32(0..4) == 0 => d,
                        _ => now.saturating_add(step),
                    };
                    let target = if rng.u32(0..50) == 0 {
                        now.saturating_sub(7)
                    } else {
                        target
                    };
                    let mut fired = Vec::new();
                    wheel.poll(target, |key, id| fired.push((key, id)));
                    let mut expected = Vec::new();
                    while let Some(entry) = model.first_entry() {
                        if entry.key().0 > target {
                            break;
                        }
                        let ((when, id), key) = entry.remove_entry();
                        live.remove(&id);
                        dead.push(key);
                        expected.push((key, id, when));
                    }
                    // Exactly the due entries, each once, in (deadline, insertion) order.
                    let got: Vec<(Key, u64)> = fired;
                    let want: Vec<(Key, u64)> =
                        expected.iter().map(|&(k, id, _)| (k, id)).collect();
                    assert_eq!(got, want, "seed {seed}: poll {now} -> {target}");
                    assert_eq!(wheel.elapsed(), now.max(target));
                }
            }
            assert_eq!(wheel.len(), live.len());
            assert_eq!(wheel.is_empty(), live.is_empty());
            let true_next = model.keys().next().map(|&(when, _)| when);
            let next = wheel.next_deadline();
            assert_eq!(next.is_some(), true_next.is_some());
            if let (Some(next), Some(true_next)) = (next, true_next) {
                assert!(
                    next <= true_next,
                    "next_deadline {next} after earliest {true_next}"
                );
                assert!(
                    next > wheel.elapsed(),
                    "next_deadline {next} not in the future"
                );
            }
            if dead.len() > 10_000 {
                dead.drain(..5_000);
            }
        }
        // Drain the rest in one jump.
        let rest = poll_all(&mut wheel, u64::MAX);
        assert_eq!(rest.len(), model.len());
        assert!(
            rest.iter()
                .zip(model.keys())
                .all(|(&id, &(_, mid))| id == mid)
        );
        assert!(wheel.is_empty());
    }

    #[test]
    fn randomized_against_a_reference_model() {
        randomized(0x5eed_0001, 0, 200_000);
        randomized(0x5eed_0002, UNIX_NOW, 200_000);
        randomized(0x5eed_0003, u64::MAX - 100 * ROTATION, 50_000);
        randomized(0x5eed_0004, 123_456_789, 50_000);
    }
}

//! One level of the wheel, and the intrusive lists its slots are made of.
//!
//! A [`Level`] owns 64 slot lists, an `occupied` bitfield with one bit per non-empty slot, and a
//! per-slot `floor` (a lower bound on the deadlines in the slot). It owns no entries: the lists
//! are threaded through the wheel's slab of [`Node`]s by index, so every operation here takes
//! that slab as an argument, and moving an entry between slots or levels never allocates.
//!
//! # Ground rules
//!
//! * A node is in at most one list at a time. Its `place` is the level it was last filed at
//!   (set by [`Level::push`]), or the wheel's `VACANT`; the wheel tells a node that has moved on
//!   to its due list by the node's deadline. The caller of `push` must have unlinked the node
//!   from wherever it was before.
//! * Level `L` files a node under slot `(when >> 6L) & 63`, always. Which *occurrence* of that
//!   slot is meant is the wheel's business; see [`Level::next_expiration`].
//! * Bit `s` of `occupied` is set exactly when slot `s` is non-empty, and `floor[s]` is
//!   `u64::MAX` exactly when it is empty. `floor[s]` is the minimum deadline pushed into the slot
//!   since it was last empty; removing a node does not raise it (that would need a scan), so it
//!   is a lower bound, which is all that the expiration computation needs.

use super::{LEVEL_BITS, NIL, NUM_LEVELS, SLOTS};

/// One slab entry of the wheel: the item and its bookkeeping, at the entry's index.
///
/// The item sits in the same record as the links (rather than in an array of its own) so that
/// firing an entry, which reads both, costs one cache miss rather than two: with 100k entries
/// pending the slab is megabytes and list order is random with respect to index order.
#[derive(Debug)]
pub(super) struct Node<T> {
    /// Deadline in ms. Meaningless while the node is vacant.
    pub(super) when: u64,
    /// Previous node in the same list, or `NIL`.
    pub(super) prev: u32,
    /// Next node in the same list, or `NIL`.
    pub(super) next: u32,
    /// Bumped every time the node is vacated, so that keys to earlier occupants go stale.
    pub(super) generation: u32,
    /// The level the node was last filed at (`0..NUM_LEVELS`), or the wheel's `VACANT`.
    pub(super) place: u8,
    /// The item; `Some` exactly while the entry is pending (not vacant).
    pub(super) item: Option<T>,
}

/// A FIFO doubly-linked list of nodes, by index. `head == NIL` iff `tail == NIL` iff empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct List {
    head: u32,
    tail: u32,
}

impl List {
    pub(super) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    pub(super) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// The first node, or `NIL`.
    pub(super) fn head(&self) -> u32 {
        self.head
    }

    /// Appends node `idx`, which must not be in any list.
    pub(super) fn push_back<T>(&mut self, nodes: &mut [Node<T>], idx: u32) {
        debug_assert!(
            idx != self.head && idx != self.tail,
            "node {idx} pushed twice (head={}, tail={})",
            self.head,
            self.tail
        );
        let node = &mut nodes[idx as usize];
        node.prev = self.tail;
        node.next = NIL;
        if self.tail == NIL {
            debug_assert_eq!(self.head, NIL, "list with no tail but head {}", self.head);
            self.head = idx;
        } else {
            nodes[self.tail as usize].next = idx;
        }
        self.tail = idx;
    }

    /// Detaches and returns the first node.
    pub(super) fn pop_front<T>(&mut self, nodes: &mut [Node<T>]) -> Option<u32> {
        if self.head == NIL {
            return None;
        }
        let idx = self.head;
        let next = nodes[idx as usize].next;
        self.head = next;
        if next == NIL {
            debug_assert_eq!(
                self.tail, idx,
                "last node {idx} is not the tail {}",
                self.tail
            );
            self.tail = NIL;
        } else {
            nodes[next as usize].prev = NIL;
        }
        Some(idx)
    }

    /// Moves all of `other` to the end of this list in O(1).
    pub(super) fn append<T>(&mut self, nodes: &mut [Node<T>], other: List) {
        if other.head == NIL {
            return;
        }
        if self.tail == NIL {
            *self = other;
            return;
        }
        nodes[self.tail as usize].next = other.head;
        nodes[other.head as usize].prev = self.tail;
        self.tail = other.tail;
    }

    /// Detaches node `idx`, which must be in this list.
    pub(super) fn unlink<T>(&mut self, nodes: &mut [Node<T>], idx: u32) {
        let Node { prev, next, .. } = nodes[idx as usize];
        if prev == NIL {
            debug_assert_eq!(self.head, idx, "node {idx} has no prev but is not the head");
            self.head = next;
        } else {
            nodes[prev as usize].next = next;
        }
        if next == NIL {
            debug_assert_eq!(self.tail, idx, "node {idx} has no next but is not the tail");
            self.tail = prev;
        } else {
            nodes[next as usize].prev = prev;
        }
    }
}

/// A slot that needs processing, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Expiration {
    pub(super) level: usize,
    pub(super) slot: usize,
    /// The instant the slot must be processed at: the start of its next occurrence, which is
    /// `<=` every deadline in it.
    pub(super) deadline: u64,
}

/// One level: 64 slots of `64^level` ms each.
#[derive(Debug)]
pub(super) struct Level {
    level: usize,
    /// Bit `s` set iff `slots[s]` is non-empty.
    occupied: u64,
    slots: [List; SLOTS],
    /// Lower bound on the deadlines in each slot; `u64::MAX` for an empty slot.
    floor: [u64; SLOTS],
}

impl Level {
    pub(super) fn new(level: usize) -> Level {
        debug_assert!(level < NUM_LEVELS, "level {level} out of 0..{NUM_LEVELS}");
        Level {
            level,
            occupied: 0,
            slots: [List::EMPTY; SLOTS],
            floor: [u64::MAX; SLOTS],
        }
    }

    /// Files node `idx`, whose deadline is `when`, under the slot `when` maps to at this level.
    /// (`when` is passed rather than read back so that an insert into a cold slab node only
    /// stores to it.)
    pub(super) fn push<T>(&mut self, nodes: &mut [Node<T>], idx: u32, when: u64) {
        debug_assert_eq!(
            nodes[idx as usize].when, when,
            "node {idx} pushed with another deadline"
        );
        let slot = slot_for(when, self.level);
        nodes[idx as usize].place = self.level as u8;
        self.slots[slot].push_back(nodes, idx);
        self.occupied |= 1 << slot;
        self.floor[slot] = self.floor[slot].min(when);
    }

    /// Detaches node `idx`, which must be filed at this level.
    pub(super) fn unlink<T>(&mut self, nodes: &mut [Node<T>], idx: u32) {
        debug_assert_eq!(
            nodes[idx as usize].place as usize, self.level,
            "node {idx} unlinked from the wrong level"
        );
        let slot = slot_for(nodes[idx as usize].when, self.level);
        let list = &mut self.slots[slot];
        list.unlink(nodes, idx);
        if list.is_empty() {
            self.occupied &= !(1 << slot);
            self.floor[slot] = u64::MAX;
        }
    }

    /// Detaches the whole of `slot` and returns it as a list of its own.
    pub(super) fn take(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        self.floor[slot] = u64::MAX;
        std::mem::replace(&mut self.slots[slot], List::EMPTY)
    }

    /// The slot of this level that must be processed first, given the wheel's current time.
    ///
    /// The slot's deadline is the start of the `64^level`-ms span that contains the slot's
    /// floor. Below the top level every node was filed relative to the current block of
    /// `64^(level+1)` ms (the wheel's invariant), so that is simply the slot's start in the
    /// block that holds `elapsed`, and the lowest occupied slot is the earliest. At the top
    /// level nodes may lie whole rotations ahead (deadlines clamped from beyond the wheel's
    /// range), so slot order says nothing and the minimum over the occupied slots is taken.
    pub(super) fn next_expiration(&self, elapsed: u64) -> Option<Expiration> {
        if self.occupied == 0 {
            return None;
        }
        let span_mask = slot_span(self.level) - 1;
        if self.level + 1 < NUM_LEVELS {
            let slot = self.occupied.trailing_zeros() as usize;
            let deadline = self.floor[slot] & !span_mask;
            debug_assert_eq!(
                deadline,
                (elapsed & !(slot_span(self.level + 1) - 1))
                    | ((slot as u64) << (LEVEL_BITS as usize * self.level)),
                "level {} slot {slot}: floor {} is outside the block of elapsed {elapsed}",
                self.level,
                self.floor[slot]
            );
            debug_assert!(
                deadline > elapsed,
                "level {} slot {slot} starts at {deadline}, not after elapsed {elapsed}",
                self.level
            );
            return Some(Expiration {
                level: self.level,
                slot,
                deadline,
            });
        }
        let mut best: Option<Expiration> = None;
        let mut bits = self.occupied;
        while bits != 0 {
            let slot = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let deadline = self.floor[slot] & !span_mask;
            debug_assert!(
                deadline > elapsed,
                "top slot {slot} (floor {}) starts at {deadline}, not after elapsed {elapsed}",
                self.floor[slot]
            );
            if best.is_none_or(|b| deadline < b.deadline) {
                best = Some(Expiration {
                    level: self.level,
                    slot,
                    deadline,
                });
            }
        }
        best
    }
}

/// Width of one slot at `level`, in ms: `64^level`. (`level == NUM_LEVELS` gives the span of
/// the whole wheel.)
pub(super) fn slot_span(level: usize) -> u64 {
    1 << (LEVEL_BITS as usize * level)
}

/// The slot `when` is filed under at `level`: its `level`-th base-64 digit.
pub(super) fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (LEVEL_BITS as usize * level)) & (SLOTS as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(whens: &[u64]) -> Vec<Node<()>> {
        whens
            .iter()
            .map(|&when| Node {
                when,
                prev: NIL,
                next: NIL,
                generation: 0,
                place: u8::MAX,
                item: None,
            })
            .collect()
    }

    fn drain(list: &mut List, nodes: &mut [Node<()>]) -> Vec<u32> {
        std::iter::from_fn(|| list.pop_front(nodes)).collect()
    }

    #[test]
    fn slot_for_is_the_base_64_digit() {
        for digit in 0..64u64 {
            assert_eq!(slot_for(digit, 0), digit as usize);
            for level in 1..NUM_LEVELS {
                let when = digit << (6 * level);
                assert_eq!(slot_for(when, level), digit as usize, "level {level}");
                assert_eq!(slot_for(when + 63, level), digit as usize, "level {level}");
                // Higher digits do not leak into the slot.
                assert_eq!(slot_for(when | (1 << 50), level), digit as usize);
            }
        }
        assert_eq!(slot_span(0), 1);
        assert_eq!(slot_span(1), 64);
        assert_eq!(slot_span(NUM_LEVELS), 1 << 36);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn node_sizes_are_as_documented() {
        assert_eq!(std::mem::size_of::<Node<std::task::Waker>>(), 40);
        assert_eq!(std::mem::size_of::<Node<u64>>(), 40);
        assert_eq!(std::mem::size_of::<Level>(), 1040);
    }

    #[test]
    fn list_is_fifo_and_unlinks_anywhere() {
        let mut n = nodes(&[0; 5]);
        let mut list = List::EMPTY;
        for i in 0..5 {
            list.push_back(&mut n, i);
        }
        list.unlink(&mut n, 0); // head
        list.unlink(&mut n, 4); // tail
        list.unlink(&mut n, 2); // middle
        assert_eq!(drain(&mut list, &mut n), vec![1, 3]);
        assert!(list.is_empty());
        assert_eq!(list, List::EMPTY);

        list.push_back(&mut n, 3);
        list.unlink(&mut n, 3); // only node
        assert_eq!(list, List::EMPTY);

        let (mut a, mut b) = (List::EMPTY, List::EMPTY);
        a.append(&mut n, b); // empty + empty
        assert_eq!(a, List::EMPTY);
        b.push_back(&mut n, 4);
        a.append(&mut n, b); // empty + one
        let mut c = List::EMPTY;
        c.push_back(&mut n, 0);
        c.push_back(&mut n, 1);
        a.append(&mut n, c); // one + two
        a.append(&mut n, List::EMPTY);
        a.unlink(&mut n, 0); // a link made by append
        assert_eq!(drain(&mut a, &mut n), vec![4, 1]);
    }

    #[test]
    fn push_unlink_keep_occupied_and_floor_in_step() {
        // Level 1: slots are 64 ms wide. 70 and 100 share slot 1; 200 is slot 3.
        let mut n = nodes(&[100, 70, 200]);
        let mut level = Level::new(1);
        for i in 0..3 {
            let when = n[i as usize].when;
            level.push(&mut n, i, when);
        }
        assert_eq!(level.occupied, 0b1010);
        assert_eq!(level.floor[1], 70);
        assert_eq!(level.floor[3], 200);
        assert!(n.iter().all(|node| node.place == 1));

        // Removing the minimum leaves the floor as a (stale) lower bound.
        level.unlink(&mut n, 1);
        assert_eq!(level.floor[1], 70);
        level.unlink(&mut n, 0);
        assert_eq!(level.occupied, 0b1000);
        assert_eq!(level.floor[1], u64::MAX);

        let mut taken = level.take(3);
        assert_eq!(level.occupied, 0);
        assert_eq!(level.floor[3], u64::MAX);
        assert_eq!(drain(&mut taken, &mut n), vec![2]);
    }

    #[test]
    fn lower_level_expiration_is_the_lowest_slot_start_in_the_current_block() {
        // elapsed = 100 lies in level 1's block 0..4096, digit 1.
        let mut n = nodes(&[64 * 5 + 7, 64 * 3 + 63, 64 * 3 + 1]);
        let mut level = Level::new(1);
        for i in 0..3 {
            let when = n[i as usize].when;
            level.push(&mut n, i, when);
        }
        let exp = level.next_expiration(100).unwrap();
        assert_eq!(
            exp,
            Expiration {
                level: 1,
                slot: 3,
                deadline: 192
            }
        );
        assert_eq!(Level::new(0).next_expiration(100), None);
    }

    #[test]
    fn top_level_expiration_is_the_minimum_over_rotations() {
        let top = NUM_LEVELS - 1;
        let span = slot_span(top); // 2^30
        let rotation = slot_span(NUM_LEVELS); // 2^36
        let elapsed = 10 * span + 5; // digit 10 of rotation 0
        // Slot 2, two rotations ahead; slot 40, this rotation; slot 7, next rotation.
        let whens = [
            2 * rotation + 2 * span + 9,
            40 * span + 1,
            rotation + 7 * span,
        ];
        let mut n = nodes(&whens);
        let mut level = Level::new(top);
        for i in 0..3 {
            let when = n[i as usize].when;
            level.push(&mut n, i, when);
        }
        assert_eq!(level.next_expiration(elapsed).unwrap().deadline, 40 * span);
        level.unlink(&mut n, 1);
        let exp = level.next_expiration(elapsed).unwrap();
        assert_eq!((exp.slot, exp.deadline), (7, rotation + 7 * span));
        level.unlink(&mut n, 2);
        let exp = level.next_expiration(elapsed).unwrap();
        assert_eq!((exp.slot, exp.deadline), (2, 2 * rotation + 2 * span));
        // Every deadline is the start of the span holding the slot's floor: <= all its nodes.
        assert!(exp.deadline <= whens[0]);
    }
}

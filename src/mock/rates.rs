//! Per-mock hit rates over the last minute, sampled once a second off the hot path.
//!
//! Serving never touches this: it only bumps the mock's striped hit counter. Once a second the
//! sampler (the store's background thread) reads each mock's total, and for a mock whose total
//! moved, records the difference in that second's slot. A mock that was never hit has no ring at
//! all (an empty `Option`), so a million idle mocks cost nothing here; seconds with no hits are
//! never written — slots older than a minute are recognised by their stamp and read as zero.

/// Seconds of history kept.
pub const WINDOW_SECS: usize = 60;

/// A mock's per-second hit counts.
#[derive(Clone, Debug)]
pub struct RateRing {
    /// The hit total at the last sample.
    last_total: u64,
    /// The newest second written; slots for seconds after it (up to now) read as zero.
    newest_sec: u64,
    /// Hits per second, by `sec % WINDOW_SECS`, for the window ending at `newest_sec`.
    /// `u32` holds 4 billion hits in one second of one mock; more saturates.
    counts: [u32; WINDOW_SECS],
    /// Unix ms of the first and last second in which hits were seen (second resolution).
    pub first_hit_ms: Option<u64>,
    pub last_hit_ms: Option<u64>,
}

impl Default for RateRing {
    fn default() -> Self {
        RateRing {
            last_total: 0,
            newest_sec: 0,
            counts: [0; WINDOW_SECS],
            first_hit_ms: None,
            last_hit_ms: None,
        }
    }
}

impl RateRing {
    /// Records that the total was `total` at unix second `sec`; returns whether it moved.
    pub fn sample(&mut self, sec: u64, total: u64) -> bool {
        let delta = total.saturating_sub(self.last_total);
        self.last_total = total;
        if delta == 0 {
            return false;
        }
        if sec > self.newest_sec {
            // Zero the slots of the seconds skipped since the newest one written (at most a
            // whole window), so each slot only ever holds its own second.
            let skipped = (sec - self.newest_sec).min(WINDOW_SECS as u64);
            for back in 0..skipped {
                self.counts[((sec - back) % WINDOW_SECS as u64) as usize] = 0;
            }
            self.newest_sec = sec;
        }
        if self.newest_sec - sec < WINDOW_SECS as u64 {
            let slot = &mut self.counts[(sec % WINDOW_SECS as u64) as usize];
            *slot = slot.saturating_add(u32::try_from(delta).unwrap_or(u32::MAX));
        }
        self.first_hit_ms.get_or_insert(sec * 1000);
        self.last_hit_ms = Some(self.newest_sec * 1000);
        true
    }

    /// Hits per second for the `WINDOW_SECS` seconds ending with `now_sec`, oldest first.
    pub fn per_second(&self, now_sec: u64) -> Vec<u64> {
        (0..WINDOW_SECS as u64)
            .map(|back| {
                let sec = now_sec.wrapping_sub(WINDOW_SECS as u64 - 1 - back);
                let in_window =
                    sec <= self.newest_sec && self.newest_sec - sec < WINDOW_SECS as u64;
                if in_window {
                    u64::from(self.counts[(sec % WINDOW_SECS as u64) as usize])
                } else {
                    0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_land_in_their_second_and_age_out() {
        let mut r = RateRing::default();
        assert!(!r.sample(1000, 0));
        assert!(r.sample(1001, 5));
        assert!(r.sample(1002, 12));
        assert!(!r.sample(1003, 12));
        let s = r.per_second(1003);
        assert_eq!(s.len(), WINDOW_SECS);
        assert_eq!(&s[WINDOW_SECS - 3..], &[5, 7, 0]);
        assert_eq!(s.iter().sum::<u64>(), 12);
        assert_eq!(r.first_hit_ms, Some(1_001_000));
        assert_eq!(r.last_hit_ms, Some(1_002_000));
        // A minute later the old seconds read as zero, even though their slots were never reused.
        assert_eq!(
            r.per_second(1003 + WINDOW_SECS as u64).iter().sum::<u64>(),
            0
        );
    }

    #[test]
    fn skipped_seconds_read_as_zero_after_wrapping() {
        let mut r = RateRing::default();
        r.sample(100, 4);
        // 90 seconds later the slot of second 100 is reused for second 160: no stale 4 remains.
        r.sample(190, 5);
        let s = r.per_second(190);
        assert_eq!(s[WINDOW_SECS - 1], 1);
        assert_eq!(s.iter().sum::<u64>(), 1);
    }

    #[test]
    fn a_second_sampled_twice_accumulates() {
        let mut r = RateRing::default();
        r.sample(10, 3);
        r.sample(10, 4);
        assert_eq!(r.per_second(10)[WINDOW_SECS - 1], 4);
    }
}

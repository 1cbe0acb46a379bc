//! The clock that decides mock lifetimes: real in production, moved by hand in tests.
//!
//! Time is unix epoch milliseconds. The system clock is read once at start and then advanced by the
//! monotonic clock, so a wall-clock step (NTP, an operator) never makes a mock expire early or live
//! longer than its TTL. A manual clock starts at the real time and moves only when told to, so tests
//! can expire a 60-second mock without waiting 60 seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch.
#[derive(Clone, Debug)]
pub enum Clock {
    /// Real time: `unix_ms_at_start + start.elapsed()`.
    System {
        start: Instant,
        unix_ms_at_start: u64,
    },
    /// Time that moves only through [`Clock::advance`].
    Manual(Arc<AtomicU64>),
}

fn system_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Clock {
    /// The real clock.
    pub fn system() -> Clock {
        Clock::System {
            start: Instant::now(),
            unix_ms_at_start: system_unix_ms(),
        }
    }

    /// A manual clock that starts at the current real time.
    pub fn manual() -> Clock {
        Clock::Manual(Arc::new(AtomicU64::new(system_unix_ms())))
    }

    /// Now, in unix milliseconds.
    #[inline]
    pub fn now_ms(&self) -> u64 {
        match self {
            Clock::System {
                start,
                unix_ms_at_start,
            } => unix_ms_at_start + start.elapsed().as_millis() as u64,
            Clock::Manual(ms) => ms.load(Ordering::Acquire),
        }
    }

    /// Moves a manual clock forward by `ms`; returns whether this clock is manual.
    pub fn advance(&self, ms: u64) -> bool {
        match self {
            Clock::System { .. } => false,
            Clock::Manual(now) => {
                now.fetch_add(ms, Ordering::AcqRel);
                true
            }
        }
    }

    /// Whether this clock only moves when told to.
    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual();
        let t0 = clock.now_ms();
        assert_eq!(clock.now_ms(), t0);
        assert!(clock.advance(61_000));
        assert_eq!(clock.now_ms(), t0 + 61_000);
    }

    #[test]
    fn system_clock_is_near_wall_time_and_monotonic() {
        let clock = Clock::system();
        let a = clock.now_ms();
        let b = clock.now_ms();
        assert!(b >= a);
        assert!(a.abs_diff(system_unix_ms()) < 5_000);
        assert!(!clock.advance(1));
    }
}

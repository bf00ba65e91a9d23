//! The injected clock: the system clock in production, a hand-moved clock in tests.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time in whole Unix seconds, the unit of every expiry, window and statement.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now_unix_seconds(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs() as i64).unwrap_or(0)
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now_unix_seconds: AtomicI64,
}

impl ManualClock {
    pub fn starting_at(now_unix_seconds: i64) -> Self {
        ManualClock { now_unix_seconds: AtomicI64::new(now_unix_seconds) }
    }

    /// Starts at the system's current time.
    pub fn starting_now() -> Self {
        Self::starting_at(SystemClock.now_unix_seconds())
    }

    pub fn advance(&self, by: Duration) {
        self.now_unix_seconds.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_seconds(&self) -> i64 {
        self.now_unix_seconds.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_unix_seconds(), 1_000);
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.now_unix_seconds(), 1_061);
        assert!(SystemClock.now_unix_seconds() > 1_600_000_000);
    }
}

//! The one clock of numbind: the [`Clock`] trait services take by injection, and the system's time for code
//! that has no clock to be handed (signing a request, stamping a log record).

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time. Every expiry, window and statement is in whole Unix seconds; ordering stamps use milliseconds.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now_unix_millis(&self) -> i64;

    fn now_unix_seconds(&self) -> i64 {
        self.now_unix_millis().div_euclid(1000)
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        now_unix_millis()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now_unix_millis: AtomicI64,
}

impl ManualClock {
    pub fn starting_at(now_unix_seconds: i64) -> Self {
        ManualClock { now_unix_millis: AtomicI64::new(now_unix_seconds.saturating_mul(1000)) }
    }

    /// Starts at the system's current time.
    pub fn starting_now() -> Self {
        ManualClock { now_unix_millis: AtomicI64::new(now_unix_millis()) }
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now_unix_millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_millis(&self) -> i64 {
        self.now_unix_millis.load(Ordering::SeqCst)
    }
}

/// The system's time in whole Unix seconds (0 before 1970).
pub fn now_unix_seconds() -> i64 {
    now_unix_millis().div_euclid(1000)
}

/// The system's time in Unix milliseconds (0 before 1970).
pub fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_unix_seconds(), 1_000);
        clock.advance(Duration::from_millis(61_500));
        assert_eq!(clock.now_unix_seconds(), 1_061);
        assert_eq!(clock.now_unix_millis(), 1_061_500);
    }

    #[test]
    fn the_system_clock_agrees_with_the_free_functions() {
        let before = now_unix_seconds();
        let clock_now = SystemClock.now_unix_seconds();
        assert!(before > 1_600_000_000 && clock_now >= before && clock_now - before <= 1);
    }
}

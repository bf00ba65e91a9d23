//! The rules that bound code guessing: failed redemptions per number (then a lock) and a global guard.

use std::time::Duration;

/// The limits, from `Config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedemptionLimits {
    /// A number whose failures within `failed_redemption_window` exceed this is locked.
    pub max_failed_redemptions_per_number: u32,
    pub failed_redemption_window: Duration,
    pub number_lock_duration: Duration,
    /// Failed redemptions (all numbers) admitted per minute; beyond it, redemptions wait.
    pub max_failed_redemptions_global_per_minute: u32,
}

/// The global guard's window.
pub(crate) const GLOBAL_GUARD_WINDOW_SECONDS: i64 = 60;

/// Why a redemption was not even tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedemptionBlock {
    /// The number is locked after too many failures: the user is told.
    NumberLocked { retry_after_seconds: u64 },
    /// Too many failures everywhere: not this user's fault, the OSS retries later.
    GlobalGuard { retry_after_seconds: u64 },
}

impl RedemptionLimits {
    /// Does this many failures within the window (the latest one included) lock the number?
    pub fn failures_lock_the_number(&self, failures_in_window: u32) -> bool {
        failures_in_window > self.max_failed_redemptions_per_number
    }

    /// The earliest failure time that still counts for a number, given when its last lock ended.
    pub fn failure_window_start(&self, now: i64, previous_lock_ended_at: Option<i64>) -> i64 {
        let window_start = now - self.failed_redemption_window.as_secs() as i64;
        previous_lock_ended_at.map_or(window_start, |ended| window_start.max(ended))
    }

    /// Is the number under a lock that ends at `locked_until`?
    pub fn lock_in_force(locked_until: i64, now: i64) -> Option<RedemptionBlock> {
        (locked_until > now)
            .then(|| RedemptionBlock::NumberLocked { retry_after_seconds: seconds_until(locked_until, now) })
    }

    /// The guard's verdict, given the failures of the last minute and when the oldest of them happened.
    pub fn global_guard(
        &self,
        failures_last_minute: u32,
        oldest_failure_at: Option<i64>,
        now: i64,
    ) -> Option<RedemptionBlock> {
        if failures_last_minute < self.max_failed_redemptions_global_per_minute {
            return None;
        }
        let frees_up_at = oldest_failure_at.map_or(now + 1, |oldest| oldest + GLOBAL_GUARD_WINDOW_SECONDS);
        Some(RedemptionBlock::GlobalGuard { retry_after_seconds: seconds_until(frees_up_at, now) })
    }
}

/// Whole seconds from `now` to `then`, at least one.
fn seconds_until(then: i64, now: i64) -> u64 {
    (then - now).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RedemptionLimits {
        RedemptionLimits {
            max_failed_redemptions_per_number: 5,
            failed_redemption_window: Duration::from_secs(900),
            number_lock_duration: Duration::from_secs(3600),
            max_failed_redemptions_global_per_minute: 600,
        }
    }

    #[test]
    fn the_sixth_failure_in_the_window_locks_the_number() {
        assert!(!limits().failures_lock_the_number(5));
        assert!(limits().failures_lock_the_number(6));
    }

    #[test]
    fn failures_before_the_end_of_the_last_lock_do_not_count() {
        assert_eq!(limits().failure_window_start(10_000, None), 9_100);
        assert_eq!(limits().failure_window_start(10_000, Some(9_500)), 9_500);
        assert_eq!(limits().failure_window_start(10_000, Some(5_000)), 9_100);
    }

    #[test]
    fn a_lock_answers_with_the_seconds_left() {
        assert_eq!(
            RedemptionLimits::lock_in_force(1_060, 1_000),
            Some(RedemptionBlock::NumberLocked { retry_after_seconds: 60 })
        );
        assert_eq!(RedemptionLimits::lock_in_force(1_000, 1_000), None);
    }

    #[test]
    fn the_global_guard_trips_at_its_limit_until_the_oldest_failure_leaves_the_minute() {
        assert_eq!(limits().global_guard(599, Some(990), 1_000), None);
        assert_eq!(
            limits().global_guard(600, Some(990), 1_000),
            Some(RedemptionBlock::GlobalGuard { retry_after_seconds: 50 })
        );
    }
}

//! When each activation's (or purchase's) last poll was admitted, to tell a box that polls too often to slow down.
//!
//! The interval counts from the start of the previous poll, not from its answer: a long-poll the platform held for
//! the interval or longer may be followed at once, so a confirmation that lands just after a held poll timed out
//! reaches the box without a further interval's delay. A poll answered at once still waits the whole interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries older than this are forgotten when the map grows.
const FORGET_AFTER_SECONDS: i64 = 3600;
const PRUNE_ABOVE_ENTRIES: usize = 10_000;
/// The clock counts whole seconds and the box times its interval from when it sent the previous poll, a moment
/// before the platform admitted it: a poll up to this much early is admitted.
const GRACE_SECONDS: i64 = 1;

#[derive(Clone, Default)]
pub(crate) struct PollPacing {
    last_admitted: Arc<Mutex<HashMap<String, i64>>>,
}

impl PollPacing {
    /// Admits this poll and remembers when; `Err(seconds to wait)` when the previous poll of `key` was admitted
    /// less than `interval_seconds` ago (then nothing is remembered, so a refused poll does not push the next
    /// one further away).
    pub(crate) fn admit(&self, key: &str, interval_seconds: i64, now: i64) -> Result<(), u64> {
        let mut last_admitted = self.last_admitted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(previous) = last_admitted.get(key) {
            if now < previous + interval_seconds - GRACE_SECONDS {
                return Err((previous + interval_seconds - now) as u64);
            }
        }
        if last_admitted.len() > PRUNE_ABOVE_ENTRIES {
            last_admitted.retain(|_, admitted_at| now - *admitted_at < FORGET_AFTER_SECONDS);
        }
        last_admitted.insert(key.to_owned(), now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_within_the_interval_of_the_last_poll_must_wait_the_rest() {
        let pacing = PollPacing::default();
        assert_eq!(pacing.admit("act-1", 5, 100), Ok(()));
        assert_eq!(pacing.admit("act-1", 5, 102), Err(3));
        assert_eq!(pacing.admit("act-1", 5, 103), Err(2), "a refused poll does not restart the interval");
        assert_eq!(pacing.admit("act-1", 5, 104), Ok(()), "a second early is within the grace");
        assert_eq!(pacing.admit("act-2", 5, 101), Ok(()));
    }

    #[test]
    fn a_poll_right_after_a_long_poll_held_for_the_interval_is_admitted() {
        let pacing = PollPacing::default();
        assert_eq!(pacing.admit("act-1", 5, 100), Ok(()));
        // The platform held that poll for 25 seconds and answered at 125: the box polls again at once.
        assert_eq!(pacing.admit("act-1", 5, 125), Ok(()));
        assert_eq!(pacing.admit("act-1", 5, 125), Err(5), "but not twice at once");
    }
}

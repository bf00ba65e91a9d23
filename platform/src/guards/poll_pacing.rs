//! When each activation's last poll was answered, to tell a box that polls too often to slow down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries older than this are forgotten when the map grows.
const FORGET_AFTER_SECONDS: i64 = 3600;
const PRUNE_ABOVE_ENTRIES: usize = 10_000;

#[derive(Clone, Default)]
pub(crate) struct PollPacing {
    last_answered: Arc<Mutex<HashMap<String, i64>>>,
}

impl PollPacing {
    /// `Err(seconds to wait)` when the previous poll of this activation was answered less than `interval` ago.
    pub(crate) fn check(&self, activation_id: &str, interval_seconds: i64, now: i64) -> Result<(), u64> {
        let last_answered = self.last_answered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match last_answered.get(activation_id) {
            Some(previous) if now < previous + interval_seconds => Err((previous + interval_seconds - now) as u64),
            _ => Ok(()),
        }
    }

    pub(crate) fn record_answer(&self, activation_id: &str, now: i64) {
        let mut last_answered = self.last_answered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if last_answered.len() > PRUNE_ABOVE_ENTRIES {
            last_answered.retain(|_, answered_at| now - *answered_at < FORGET_AFTER_SECONDS);
        }
        last_answered.insert(activation_id.to_owned(), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_within_the_interval_of_the_last_answer_must_wait_the_rest() {
        let pacing = PollPacing::default();
        assert_eq!(pacing.check("act-1", 5, 100), Ok(()));
        pacing.record_answer("act-1", 100);
        assert_eq!(pacing.check("act-1", 5, 102), Err(3));
        assert_eq!(pacing.check("act-1", 5, 105), Ok(()));
        assert_eq!(pacing.check("act-2", 5, 101), Ok(()));
    }
}

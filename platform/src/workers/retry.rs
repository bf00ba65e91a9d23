//! The retry schedule every outbox worker draws from: the shared full-jitter policy in the outboxes' unit, whole
//! seconds.

use numbind_process::backoff::RetryPolicy;
use std::time::Duration;

const MAX_RETRY_DELAY_SECONDS: u64 = 60;
/// Full jitter from 1 s, doubling per attempt up to [`MAX_RETRY_DELAY_SECONDS`]; whole seconds, the outbox's unit.
const RETRY_POLICY: RetryPolicy =
    RetryPolicy::new(Duration::from_secs(1), Duration::from_secs(MAX_RETRY_DELAY_SECONDS))
        .with_floor(Duration::from_secs(1));

/// Exponential backoff with full jitter: uniform in 1..=min(cap, 2^attempts) seconds.
pub(super) fn retry_delay_seconds(attempts: i64) -> i64 {
    let attempt = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    i64::try_from(RETRY_POLICY.random_delay(attempt, None).as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_up_to_the_cap_and_stay_positive() {
        for attempts in 0..40 {
            let delay = retry_delay_seconds(attempts);
            let ceiling = (1i64 << attempts.min(20)).min(MAX_RETRY_DELAY_SECONDS as i64);
            assert!((1..=ceiling).contains(&delay), "attempt {attempts}: {delay}");
        }
    }
}

//! Retry delays: exponential backoff with full jitter, never shorter than a server's `Retry-After`.

use std::time::Duration;

/// How retries of platform calls and SMS submits are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl BackoffPolicy {
    /// The delay before retry number `attempt` (1 for the first retry): uniform in
    /// `[0, min(max, initial * 2^(attempt-1))]`, scaled by `random_fraction` in `[0, 1]`, and at least `retry_after`.
    pub fn delay(&self, attempt: u32, random_fraction: f64, retry_after: Option<Duration>) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self.initial.saturating_mul(1u32 << exponent).min(self.max);
        let jittered = ceiling.mul_f64(random_fraction.clamp(0.0, 1.0));
        // Never zero: a retry loop that spins is worse than one that waits a little.
        let jittered = jittered.max(Duration::from_millis(10));
        match retry_after {
            Some(at_least) => jittered.max(at_least),
            None => jittered,
        }
    }
}

/// A fraction in `[0, 1]` from the system random source (0.5 if it fails: jitter is not a secret).
pub fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 4];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: BackoffPolicy = BackoffPolicy { initial: Duration::from_millis(500), max: Duration::from_secs(30) };

    #[test]
    fn the_ceiling_doubles_per_attempt_up_to_the_maximum() {
        assert_eq!(POLICY.delay(1, 1.0, None), Duration::from_millis(500));
        assert_eq!(POLICY.delay(3, 1.0, None), Duration::from_secs(2));
        assert_eq!(POLICY.delay(40, 1.0, None), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_spreads_the_delay_from_almost_zero_to_the_ceiling() {
        assert_eq!(POLICY.delay(3, 0.0, None), Duration::from_millis(10));
        assert_eq!(POLICY.delay(3, 0.5, None), Duration::from_secs(1));
    }

    #[test]
    fn a_retry_after_is_honoured() {
        assert_eq!(POLICY.delay(1, 0.0, Some(Duration::from_secs(5))), Duration::from_secs(5));
        assert!(random_fraction() <= 1.0);
    }
}

//! The one retry schedule of numbind: exponential backoff with full jitter, floored by a server's `Retry-After`.
//!
//! Every loop that retries (the agent's platform calls, the OSS's calls and SMS submits, the ESME's reconnects,
//! the platform's SMS outbox) draws its delays here, so they agree on three things: the unit (a [`Duration`]),
//! the minimum delay ([`RetryPolicy::floor`], so a retry loop never spins), and what happens when the system's
//! random source fails (the longest wait of the attempt: a stalled retry is safer than a synchronised storm).

use std::time::Duration;

/// How the retries of one kind of operation are spaced. Attempt `n` (0 for the first retry) waits a uniform draw
/// from `[floor, max(floor, min(cap, base * 2^n))]`, and never less than a `Retry-After` the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first retry's draw.
    pub base: Duration,
    /// The ceiling no draw exceeds (a `Retry-After` may still ask for more).
    pub cap: Duration,
    /// The shortest wait: a retry loop that spins is worse than one that waits a little.
    pub floor: Duration,
}

impl RetryPolicy {
    /// A policy starting at `base`, capped at `cap`, with a 10 ms floor.
    pub const fn new(base: Duration, cap: Duration) -> Self {
        RetryPolicy { base, cap, floor: Duration::from_millis(10) }
    }

    /// The same policy with another floor.
    pub const fn with_floor(self, floor: Duration) -> Self {
        RetryPolicy { floor, ..self }
    }

    /// The ceiling of the draw for attempt `attempt` (0 for the first retry).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(20);
        self.base.saturating_mul(factor).min(self.cap).max(self.floor)
    }

    /// The wait before attempt `attempt`: `random_fraction` (in `[0, 1]`; anything else counts as 1) of the way
    /// from the floor to the ceiling, and at least `retry_after`.
    pub fn delay(&self, attempt: u32, random_fraction: f64, retry_after: Option<Duration>) -> Duration {
        let fraction = if random_fraction.is_finite() { random_fraction.clamp(0.0, 1.0) } else { 1.0 };
        let ceiling = self.ceiling(attempt);
        let spread = ceiling.saturating_sub(self.floor);
        let jittered = self.floor + spread.mul_f64(fraction);
        match retry_after {
            Some(asked) => jittered.max(asked),
            None => jittered,
        }
    }

    /// The wait before attempt `attempt`, with a fresh draw from the system's random source.
    pub fn random_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        self.delay(attempt, random_fraction(), retry_after)
    }
}

/// A [`RetryPolicy`] with its attempt counter, for a loop that retries one operation until it succeeds.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    attempt: u32,
}

impl Backoff {
    pub fn new(policy: RetryPolicy) -> Self {
        Backoff { policy, attempt: 0 }
    }

    /// The ceiling of the next draw.
    pub fn ceiling(&self) -> Duration {
        self.policy.ceiling(self.attempt)
    }

    /// How many delays were drawn since the last [`Backoff::reset`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The next wait, with `random_fraction` in `[0, 1]`; advances the schedule.
    pub fn next_delay(&mut self, random_fraction: f64, retry_after: Option<Duration>) -> Duration {
        let delay = self.policy.delay(self.attempt, random_fraction, retry_after);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// The next wait, with a fresh draw from the system's random source; advances the schedule.
    pub fn next_random_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        self.next_delay(random_fraction(), retry_after)
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A uniform fraction in `[0, 1]` from the system's random source; 1.0 (the longest wait) if the source fails.
pub fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / ((1u64 << 53) - 1) as f64,
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30));

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let mut backoff = Backoff::new(POLICY);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(backoff.ceiling().as_millis());
            backoff.next_delay(0.5, None);
        }
        assert_eq!(ceilings, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
        assert_eq!(backoff.attempt(), 10);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(500));
        assert_eq!(POLICY.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_spreads_from_the_floor_to_the_ceiling() {
        assert_eq!(POLICY.delay(2, 0.0, None), Duration::from_millis(10));
        assert_eq!(POLICY.delay(2, 1.0, None), Duration::from_secs(2));
        let draws: Vec<Duration> = (0..200).map(|_| POLICY.random_delay(3, None)).collect();
        assert!(draws.iter().all(|draw| (Duration::from_millis(10)..=Duration::from_secs(4)).contains(draw)));
        // The fourth attempt draws from [10 ms, 4 s]: both halves of the range must be hit.
        assert!(draws.iter().any(|draw| draw.as_millis() < 2000) && draws.iter().any(|draw| draw.as_millis() >= 2000));
    }

    #[test]
    fn a_fraction_that_is_not_a_number_waits_the_longest() {
        assert_eq!(POLICY.delay(0, f64::NAN, None), Duration::from_millis(500));
        assert_eq!(POLICY.delay(0, 7.0, None), Duration::from_millis(500));
        assert_eq!(POLICY.delay(0, -1.0, None), Duration::from_millis(10));
    }

    #[test]
    fn a_retry_after_is_a_floor_never_a_ceiling() {
        assert_eq!(POLICY.delay(0, 0.0, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(POLICY.delay(8, 1.0, Some(Duration::from_secs(2))), Duration::from_secs(30));
    }

    #[test]
    fn a_floor_above_the_base_is_the_whole_range() {
        let policy =
            RetryPolicy::new(Duration::from_millis(50), Duration::from_secs(5)).with_floor(Duration::from_millis(100));
        assert_eq!(policy.delay(0, 0.7, None), Duration::from_millis(100));
        assert_eq!(policy.delay(2, 1.0, None), Duration::from_millis(200));
    }

    #[test]
    fn random_fractions_lie_in_the_unit_interval() {
        assert!((0..1000).map(|_| random_fraction()).all(|fraction| (0.0..=1.0).contains(&fraction)));
    }
}

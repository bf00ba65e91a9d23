//! Full-jitter exponential backoff (base 500 ms, cap 30 s) that never waits less than a `Retry-After`.

use std::time::Duration;

/// The retry schedule of one operation: attempt `n` waits a uniform draw from `[0, min(cap, base * 2^n)]`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    /// A schedule starting at `base` and never drawing from a range wider than `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff { base, cap, attempt: 0 }
    }

    /// The ceiling of the draw for the current attempt.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next wait: `random_fraction` (in `[0, 1]`) of the ceiling, but at least `retry_after`.
    /// Advances the schedule.
    pub fn next_delay(&mut self, random_fraction: f64, retry_after: Option<Duration>) -> Duration {
        let fraction = if random_fraction.is_finite() { random_fraction.clamp(0.0, 1.0) } else { 1.0 };
        let jittered = self.ceiling().mul_f64(fraction);
        self.attempt = self.attempt.saturating_add(1);
        match retry_after {
            Some(asked) => jittered.max(asked),
            None => jittered,
        }
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A uniform fraction in `[0, 1]` from the system random source (1.0, the longest wait, if it fails).
pub fn random_fraction(random: &dyn ring::rand::SecureRandom) -> f64 {
    let mut bytes = [0u8; 8];
    match random.fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(backoff.ceiling().as_millis());
            backoff.next_delay(0.5, None);
        }
        assert_eq!(ceilings, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(500));
    }

    #[test]
    fn full_jitter_draws_stay_within_zero_and_the_ceiling_and_spread_out() {
        let random = SystemRandom::new();
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut draws = Vec::new();
        for _ in 0..200 {
            backoff.reset();
            for _ in 0..3 {
                backoff.next_delay(random_fraction(&random), None);
            }
            let ceiling = backoff.ceiling();
            let delay = backoff.next_delay(random_fraction(&random), None);
            assert!(delay <= ceiling, "{delay:?} > {ceiling:?}");
            draws.push(delay.as_millis());
        }
        // The fourth attempt draws from [0, 4 s]: both halves of the range must be hit.
        assert!(draws.iter().any(|draw| *draw < 2000) && draws.iter().any(|draw| *draw >= 2000), "{draws:?}");
    }

    #[test]
    fn a_retry_after_is_a_floor_never_a_ceiling() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        assert_eq!(backoff.next_delay(0.0, Some(Duration::from_secs(7))), Duration::from_secs(7));
        for _ in 0..8 {
            backoff.next_delay(0.0, None);
        }
        assert_eq!(backoff.next_delay(1.0, Some(Duration::from_secs(2))), Duration::from_secs(30));
    }

    #[test]
    fn random_fractions_lie_in_the_unit_interval() {
        let random = SystemRandom::new();
        for _ in 0..1000 {
            let fraction = random_fraction(&random);
            assert!((0.0..=1.0).contains(&fraction));
        }
    }
}

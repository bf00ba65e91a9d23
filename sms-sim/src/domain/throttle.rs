//! A token bucket per account: `max_submits_per_second` tokens, refilled continuously.

use std::time::Instant;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate_per_second: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate_per_second: u32, now: Instant) -> TokenBucket {
        let rate = f64::from(rate_per_second.max(1));
        TokenBucket { rate_per_second: rate, tokens: rate, refilled_at: now }
    }

    /// Takes one token; false means throttled.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate_per_second).min(self.rate_per_second);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_over_the_rate_is_throttled_and_time_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(3, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        assert!(bucket.try_take(start + Duration::from_millis(400)));
    }
}

//! The submit throttle: one token bucket per ESME account (`max_submits_per_second`), held in memory only.

use crate::domain::throttle::TokenBucket;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The token buckets of the accounts that submitted since start, by `system_id`.
#[derive(Debug, Default)]
pub(crate) struct SubmitThrottle {
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl SubmitThrottle {
    /// Takes a submit token from the account's bucket; false means throttled.
    pub(crate) fn try_take(&self, system_id: &str, rate_per_second: u32) -> bool {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return false };
        if let Some(bucket) = buckets.get_mut(system_id) {
            return bucket.try_take(now);
        }
        buckets.entry(system_id.to_owned()).or_insert_with(|| TokenBucket::new(rate_per_second, now)).try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_own_bucket() {
        let throttle = SubmitThrottle::default();
        assert!(throttle.try_take("oss", 1));
        assert!(!throttle.try_take("oss", 1));
        assert!(throttle.try_take("bank", 1));
    }
}

//! A circuit breaker per OSS (per province at a national hub): after a few calls in a row that could not reach an
//! OSS, calls to it fail at once for a pause, then one call probes it again. A province whose OSS is down then
//! costs the others nothing: the billing worker's batches and the merchants' inline attempts no longer wait out
//! its timeout on every call, and its queued work is retried with the outbox's backoff as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls in a row that could not reach an OSS before its breaker opens.
const OPEN_AFTER_UNREACHABLE_CALLS: u32 = 3;
/// How long an open breaker refuses calls before letting one probe through.
const OPEN_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct BreakerState {
    unreachable_in_a_row: u32,
    open_until: Option<Instant>,
}

/// The breakers of one client, by the OSS's base URL.
#[derive(Debug, Default)]
pub(crate) struct OssBreakers {
    by_base_url: Mutex<HashMap<String, BreakerState>>,
}

impl OssBreakers {
    /// `Err(time left)` while the breaker of `base_url` is open. Once the pause is over, one call is let through
    /// as a probe and the breaker stays open for the others until the probe's outcome is recorded.
    pub(crate) fn admit(&self, base_url: &str, now: Instant) -> Result<(), Duration> {
        let mut breakers = self.by_base_url.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(state) = breakers.get_mut(base_url) else { return Ok(()) };
        match state.open_until {
            Some(open_until) if now < open_until => Err(open_until - now),
            Some(_) => {
                state.open_until = Some(now + OPEN_FOR);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records whether a call reached `base_url` (any HTTP answer counts as reached). Returns true when this
    /// call opened the breaker, for the caller to log once.
    pub(crate) fn record(&self, base_url: &str, reached: bool, now: Instant) -> bool {
        let mut breakers = self.by_base_url.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if reached {
            breakers.remove(base_url);
            return false;
        }
        let state = breakers.entry(base_url.to_owned()).or_default();
        state.unreachable_in_a_row += 1;
        let opens = state.unreachable_in_a_row >= OPEN_AFTER_UNREACHABLE_CALLS;
        let was_closed = state.open_until.is_none();
        if opens {
            state.open_until = Some(now + OPEN_FOR);
        }
        opens && was_closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEIJING: &str = "https://oss-bj.example";
    const GUANGDONG: &str = "https://oss-gd.example";

    #[test]
    fn a_breaker_opens_after_three_unreachable_calls_and_only_for_that_oss() {
        let (breakers, start) = (OssBreakers::default(), Instant::now());
        assert!(!breakers.record(BEIJING, false, start));
        assert!(!breakers.record(BEIJING, false, start));
        assert_eq!(breakers.admit(BEIJING, start), Ok(()), "two failures leave it closed");
        assert!(breakers.record(BEIJING, false, start), "the third opens it");
        assert_eq!(breakers.admit(BEIJING, start + Duration::from_secs(1)), Err(Duration::from_secs(4)));
        assert_eq!(breakers.admit(GUANGDONG, start + Duration::from_secs(1)), Ok(()), "other provinces go on");
    }

    #[test]
    fn after_the_pause_one_probe_goes_through_and_its_outcome_decides() {
        let (breakers, start) = (OssBreakers::default(), Instant::now());
        for _ in 0..3 {
            breakers.record(BEIJING, false, start);
        }
        let later = start + OPEN_FOR;
        assert_eq!(breakers.admit(BEIJING, later), Ok(()), "the probe");
        assert!(breakers.admit(BEIJING, later).is_err(), "the others wait for the probe");
        assert!(!breakers.record(BEIJING, false, later), "a failed probe keeps it open, not newly opened");
        assert!(breakers.admit(BEIJING, later + Duration::from_secs(1)).is_err());
        let much_later = later + OPEN_FOR;
        assert_eq!(breakers.admit(BEIJING, much_later), Ok(()));
        assert!(!breakers.record(BEIJING, true, much_later));
        assert_eq!(breakers.admit(BEIJING, much_later), Ok(()), "a probe that got through closes it");
        assert_eq!(breakers.admit(BEIJING, much_later), Ok(()));
    }
}

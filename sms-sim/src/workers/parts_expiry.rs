//! Expires the parts of concatenated MT whose siblings did not arrive within `concatenation_timeout`: they are
//! undeliverable, and each one's receipt (when asked for) says so.

use crate::state::AppState;
use numbind_process::clock::now_unix_millis;
use std::sync::Arc;
use std::time::Duration;

/// How often to look for expired parts: a tenth of the timeout, between 100 ms and 30 s.
fn check_interval(timeout: Duration) -> Duration {
    (timeout / 10).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

pub(crate) async fn run_parts_expiry(state: Arc<AppState>) {
    let timeout = state.config.concatenation_timeout;
    let mut ticker = tokio::time::interval(check_interval(timeout));
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now_ms = now_unix_millis();
        let created_before_ms = now_ms.saturating_sub(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
        match state.store.call(move |store| store.has_parts_created_before(created_before_ms)).await {
            Ok(false) => continue,
            Ok(true) => {}
            Err(error) => {
                tracing::error!(%error, "cannot look for expired parts of concatenated mt");
                continue;
            }
        }
        match state.store.call_write(move |store| store.expire_parts(created_before_ms, now_ms)).await {
            Ok(0) => {}
            Ok(expired) => {
                tracing::info!(expired, "parts of concatenated mt expired as undeliverable");
                state.delivery_wakeup.notify_one();
            }
            Err(error) => tracing::error!(%error, "cannot expire parts of concatenated mt"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_interval_follows_the_timeout_within_bounds() {
        assert_eq!(check_interval(Duration::from_secs(600)), Duration::from_secs(30));
        assert_eq!(check_interval(Duration::from_secs(5)), Duration::from_millis(500));
        assert_eq!(check_interval(Duration::ZERO), Duration::from_millis(100));
    }
}

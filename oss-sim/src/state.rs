//! Shared state of one running OSS: config, store, platform client, metrics, worker wake-ups, shutdown.

use crate::clients::platform::PlatformClient;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use numbind_process::backoff::RetryPolicy;
use numbind_process::clock::now_unix_millis;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) platform: PlatformClient,
    pub(crate) metrics: Metrics,
    /// Wakes the command worker (a new SMS was stored).
    pub(crate) inbox_wakeup: Notify,
    /// Wakes the reply sender (a reply was queued).
    pub(crate) outbox_wakeup: Notify,
    pub(crate) shutdown: CancellationToken,
}

impl AppState {
    pub(crate) fn new(config: Config, store: Store, platform: PlatformClient, shutdown: CancellationToken) -> AppState {
        let metrics = Metrics::new(store.write_collector());
        AppState {
            config,
            store,
            platform,
            metrics,
            inbox_wakeup: Notify::new(),
            outbox_wakeup: Notify::new(),
            shutdown,
        }
    }

    /// How retries of platform calls and SMS submits are spaced.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(self.config.retry_initial_backoff, self.config.retry_max_backoff)
    }

    /// When retry number `attempt` of something is due (1 for the first retry), in Unix milliseconds.
    pub(crate) fn retry_at_ms(&self, attempt: u32, retry_after: Option<Duration>) -> i64 {
        let delay = self.retry_policy().random_delay(attempt.saturating_sub(1), retry_after);
        now_unix_millis().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
    }
}

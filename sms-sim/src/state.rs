//! Shared state of one running SMS centre: config, store, routes, metrics, bound sessions, throttles.

use crate::config::Config;
use crate::domain::routing::Routes;
use crate::domain::throttle::TokenBucket;
use crate::metrics::Metrics;
use crate::smpp::registry::SessionRegistry;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) routes: Routes,
    pub(crate) metrics: Metrics,
    pub(crate) sessions: SessionRegistry,
    throttles: Mutex<HashMap<String, TokenBucket>>,
    /// Wakes the delivery loop (new MO, a receiver bound).
    pub(crate) delivery_wakeup: Notify,
    pub(crate) shutdown: CancellationToken,
}

impl AppState {
    pub(crate) fn new(config: Config, store: Store, shutdown: CancellationToken) -> AppState {
        let metrics = Metrics::new(store.write_collector());
        AppState {
            routes: Routes::from_accounts(&config.accounts),
            config,
            store,
            metrics,
            sessions: SessionRegistry::default(),
            throttles: Mutex::new(HashMap::new()),
            delivery_wakeup: Notify::new(),
            shutdown,
        }
    }

    /// Takes a submit token from the account's bucket; false means throttled.
    pub(crate) fn try_take_submit_token(&self, system_id: &str, rate_per_second: u32) -> bool {
        let now = Instant::now();
        let Ok(mut throttles) = self.throttles.lock() else { return false };
        if let Some(bucket) = throttles.get_mut(system_id) {
            return bucket.try_take(now);
        }
        throttles.entry(system_id.to_owned()).or_insert_with(|| TokenBucket::new(rate_per_second, now)).try_take(now)
    }
}

/// The system's time in Unix milliseconds, under the name `smpp/` imports it by: the one clock is
/// `numbind_process::clock` (this alias goes once `smpp/` imports it from there).
pub(crate) use numbind_process::clock::now_unix_millis as now_unix_ms;

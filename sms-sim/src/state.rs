//! Shared state of one running SMS centre: config, store, routes, metrics, bound sessions, throttles.

use crate::config::Config;
use crate::domain::routing::Routes;
use crate::guards::submit_throttle::SubmitThrottle;
use crate::metrics::Metrics;
use crate::smpp::registry::SessionRegistry;
use crate::store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) routes: Routes,
    pub(crate) metrics: Metrics,
    pub(crate) sessions: SessionRegistry,
    pub(crate) submit_throttle: SubmitThrottle,
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
            submit_throttle: SubmitThrottle::default(),
            delivery_wakeup: Notify::new(),
            shutdown,
        }
    }

    /// Takes a submit token from the account's bucket; false means throttled. (`smpp/` calls it by this name;
    /// the throttle itself is `guards::submit_throttle`.)
    pub(crate) fn try_take_submit_token(&self, system_id: &str, rate_per_second: u32) -> bool {
        self.submit_throttle.try_take(system_id, rate_per_second)
    }
}

/// The system's time in Unix milliseconds, under the name `smpp/` imports it by: the one clock is
/// `numbind_process::clock` (this alias goes once `smpp/` imports it from there).
pub(crate) use numbind_process::clock::now_unix_millis as now_unix_ms;

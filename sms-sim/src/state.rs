//! Shared state of one running SMS centre: config, store, routes, metrics, bound sessions, throttles.

use crate::config::Config;
use crate::domain::routing::Routes;
use crate::guards::session_registry::SessionRegistry;
use crate::guards::submit_throttle::SubmitThrottle;
use crate::metrics::Metrics;
use crate::store::Store;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) store: Store,
    /// Swapped whole when the routing tables are reloaded (SIGHUP); an MO routes by the one it read.
    routes: RwLock<Arc<Routes>>,
    pub(crate) metrics: Metrics,
    pub(crate) sessions: SessionRegistry,
    pub(crate) submit_throttle: SubmitThrottle,
    /// Wakes the delivery loop (new MO, a receiver bound).
    pub(crate) delivery_wakeup: Notify,
    pub(crate) shutdown: CancellationToken,
}

impl AppState {
    pub(crate) fn new(config: Config, store: Store, routes: Routes, shutdown: CancellationToken) -> AppState {
        let metrics = Metrics::new(store.write_collector());
        AppState {
            routes: RwLock::new(Arc::new(routes)),
            config,
            store,
            metrics,
            sessions: SessionRegistry::default(),
            submit_throttle: SubmitThrottle::default(),
            delivery_wakeup: Notify::new(),
            shutdown,
        }
    }
}

impl AppState {
    /// The routes in use now.
    pub(crate) fn routes(&self) -> Arc<Routes> {
        self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn replace_routes(&self, routes: Routes) {
        *self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(routes);
    }
}

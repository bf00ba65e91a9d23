//! Prometheus metrics of the SMS centre (`/metrics`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Why the SMS centre answered an MO itself instead of routing it (`MoRefusal::as_str`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RefusalLabels {
    pub(crate) reason: &'static str,
}

#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) mo_received: Counter,
    pub(crate) mo_delivered: Counter,
    pub(crate) mo_redelivered: Counter,
    pub(crate) mo_refused: Family<RefusalLabels, Counter>,
    pub(crate) mt_submitted: Counter,
    pub(crate) throttled: Counter,
    pub(crate) sessions_bound: Gauge,
}

impl Metrics {
    pub(crate) fn new(database: numbind_sqlite::DatabaseWriteCollector) -> Metrics {
        let mut registry = Registry::with_prefix("smsc");
        let metrics = Metrics {
            mo_received: Counter::default(),
            mo_delivered: Counter::default(),
            mo_redelivered: Counter::default(),
            mo_refused: Family::default(),
            mt_submitted: Counter::default(),
            throttled: Counter::default(),
            sessions_bound: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("mo_received", "MO messages accepted from phones", metrics.mo_received.clone());
        registry.register("mo_delivered", "MO messages acknowledged by an ESME", metrics.mo_delivered.clone());
        registry.register("mo_redelivered", "MO delivery attempts after the first", metrics.mo_redelivered.clone());
        registry.register(
            "mo_refused",
            "MO answered by the SMS centre itself: no province of the operator serves the sender",
            metrics.mo_refused.clone(),
        );
        registry.register("mt_submitted", "MT messages stored from submit_sm", metrics.mt_submitted.clone());
        registry.register("throttled", "submit_sm refused with ESME_RTHROTTLED", metrics.throttled.clone());
        registry.register("sessions_bound", "SMPP sessions currently bound", metrics.sessions_bound.clone());
        registry.register_collector(Box::new(database));
        Metrics { registry, ..metrics }
    }

    /// The registry `GET /metrics` encodes.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}

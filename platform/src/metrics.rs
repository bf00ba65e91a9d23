//! Prometheus metrics of the platform, rendered as text on `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ResultLabel {
    pub result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PaymentLabels {
    pub state: String,
    pub reason: String,
}

/// A routing fault at the hub: the province the table chose (`-` for none) and what went wrong.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RoutingFaultLabels {
    pub province: String,
    /// `not_our_subscriber` (the province's OSS does not know the number) or `no_province` (the table routes a
    /// confirmed number nowhere).
    pub kind: &'static str,
}

/// One delivery attempt to an OSS: the province whose OSS it went to (`-`: the one OSS) and its result.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProvinceResultLabels {
    pub province: String,
    pub result: &'static str,
}

/// A refusal by the national hub's own checks: which check, on which path (`redemption`, `confirmation`, `payment`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HubRefusalLabels {
    pub check: &'static str,
    pub path: &'static str,
}

/// One billing call to an OSS: the province of its queue (`-`: bindings without one), charge or refund, and result.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct BillingAttemptLabels {
    pub province: String,
    pub kind: &'static str,
    pub result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProvinceLabel {
    pub province: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub route: String,
    pub status: u16,
}

/// The platform's counters and gauges, with their registry.
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Arc<Registry>,
    pub activations_issued: Counter,
    pub redemptions: Family<ResultLabel, Counter>,
    pub confirmations: Family<OutcomeLabel, Counter>,
    pub waiting_terminals: Gauge,
    pub notifications_sent: Counter,
    pub http_requests: Family<RouteLabels, Counter>,
    pub redemption_failures: Family<ReasonLabel, Counter>,
    pub numbers_locked: Counter,
    pub terminal_sessions_opened: Counter,
    /// Payments entering a state (with its denial or cancellation reason, `-` for none).
    pub payments: Family<PaymentLabels, Counter>,
    pub refunds: Family<ResultLabel, Counter>,
    pub merchant_events_delivered: Counter,
    /// Routing faults at a national hub, by province and kind: the operator's tables to fix, not the user's fault.
    pub routing_faults: Family<RoutingFaultLabels, Counter>,
    /// Revocation deliveries to each province's OSS, by result: one province failing shows on its own line.
    pub oss_revocation_attempts: Family<ProvinceResultLabels, Counter>,
    /// The imported routing version in use (0: none, or the tables of `--segments-file`).
    pub routing_version: Gauge,
    /// Refusals by the national hub's own checks (`numbind_hub_refusals_total`), by check and path.
    pub hub_refusals: Family<HubRefusalLabels, Counter>,
    /// Billing calls by the workers to each province's OSS, by kind and result.
    pub billing_attempts: Family<BillingAttemptLabels, Counter>,
    /// Charges and refunds queued for each province's OSS (due or waiting for their retry).
    pub billing_outbox_depth: Family<ProvinceLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::build(None)
    }
}

impl Metrics {
    /// The platform's metrics, with the database's commit counters (SQLite's) read at each scrape.
    pub(crate) fn new(database: Option<numbind_sqlite::DatabaseWriteCollector>) -> Self {
        Metrics::build(database)
    }

    fn build(database: Option<numbind_sqlite::DatabaseWriteCollector>) -> Self {
        let mut registry = Registry::default();
        if let Some(database) = database {
            registry.register_collector(Box::new(database));
        }
        let activations_issued = Counter::default();
        let redemptions = Family::<ResultLabel, Counter>::default();
        let confirmations = Family::<OutcomeLabel, Counter>::default();
        let waiting_terminals = Gauge::default();
        let notifications_sent = Counter::default();
        let http_requests = Family::<RouteLabels, Counter>::default();
        registry.register("activations_issued", "Activations issued to terminals", activations_issued.clone());
        registry.register("redemptions", "Code redemptions by result", redemptions.clone());
        registry.register("confirmations", "OSS confirmations by outcome", confirmations.clone());
        registry.register("waiting_terminals", "Terminals waiting in a long-poll", waiting_terminals.clone());
        registry.register(
            "notifications_sent",
            "Notification SMS accepted by the SMS centre",
            notifications_sent.clone(),
        );
        registry.register("http_requests", "HTTP requests by route and status", http_requests.clone());
        let redemption_failures = Family::<ReasonLabel, Counter>::default();
        let numbers_locked = Counter::default();
        registry.register(
            "redemption_failures",
            "Failed redemptions counted against the guessing limits, by reason",
            redemption_failures.clone(),
        );
        registry.register("numbers_locked", "Numbers locked after too many failed redemptions", numbers_locked.clone());
        let terminal_sessions_opened = Counter::default();
        registry.register(
            "terminal_sessions_opened",
            "Terminal sessions opened (signed handshakes)",
            terminal_sessions_opened.clone(),
        );
        let payments = Family::<PaymentLabels, Counter>::default();
        let refunds = Family::<ResultLabel, Counter>::default();
        let merchant_events_delivered = Counter::default();
        registry.register("payments", "Payments entering a state, by state and reason", payments.clone());
        registry.register("refunds", "Refunds settled, by result", refunds.clone());
        registry.register(
            "merchant_events_delivered",
            "Merchant events acknowledged",
            merchant_events_delivered.clone(),
        );
        let routing_faults = Family::<RoutingFaultLabels, Counter>::default();
        registry.register(
            "routing_faults",
            "Numbers the hub routed to a province whose OSS does not know them, or to no province, by province and kind",
            routing_faults.clone(),
        );
        let oss_revocation_attempts = Family::<ProvinceResultLabels, Counter>::default();
        registry.register(
            "oss_revocation_attempts",
            "Revocation deliveries to the OSS, by province (`-`: the one OSS) and result",
            oss_revocation_attempts.clone(),
        );
        let routing_version = Gauge::default();
        registry.register(
            "routing_version",
            "The imported routing version this platform routes by (0: none, or the tables given at start)",
            routing_version.clone(),
        );
        let hub_refusals = Family::<HubRefusalLabels, Counter>::default();
        registry.register(
            "numbind_hub_refusals",
            "Calls the national hub refused by its own checks before asking any province, by check and path",
            hub_refusals.clone(),
        );
        let billing_attempts = Family::<BillingAttemptLabels, Counter>::default();
        registry.register(
            "billing_attempts",
            "Charge and refund calls of the billing workers, by province (`-`: bindings without one), kind and result",
            billing_attempts.clone(),
        );
        let billing_outbox_depth = Family::<ProvinceLabel, Gauge>::default();
        registry.register(
            "billing_outbox_depth",
            "Charges and refunds queued for each province's OSS (`-`: bindings without one)",
            billing_outbox_depth.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            routing_version,
            hub_refusals,
            billing_attempts,
            billing_outbox_depth,
            routing_faults,
            oss_revocation_attempts,
            payments,
            refunds,
            merchant_events_delivered,
            activations_issued,
            redemptions,
            confirmations,
            waiting_terminals,
            notifications_sent,
            http_requests,
            redemption_failures,
            numbers_locked,
            terminal_sessions_opened,
        }
    }

    pub(crate) fn count_redemption(&self, result: &str) {
        self.redemptions.get_or_create(&ResultLabel { result: result.to_owned() }).inc();
    }

    pub(crate) fn count_redemption_failure(&self, reason: &str) {
        self.redemption_failures.get_or_create(&ReasonLabel { reason: reason.to_owned() }).inc();
    }

    pub(crate) fn count_routing_fault(&self, province: Option<numbind_routing::ProvinceCode>, kind: &'static str) {
        let province = province.map_or("-", numbind_routing::ProvinceCode::as_str).to_owned();
        self.routing_faults.get_or_create(&RoutingFaultLabels { province, kind }).inc();
    }

    pub(crate) fn count_oss_revocation(&self, province: Option<numbind_routing::ProvinceCode>, result: &'static str) {
        let province = province.map_or("-", numbind_routing::ProvinceCode::as_str).to_owned();
        self.oss_revocation_attempts.get_or_create(&ProvinceResultLabels { province, result }).inc();
    }

    pub(crate) fn count_hub_refusal(&self, check: crate::domain::hub_checks::HubCheck, path: &'static str) {
        self.hub_refusals.get_or_create(&HubRefusalLabels { check: check.as_str(), path }).inc();
    }

    pub(crate) fn count_billing_attempt(
        &self,
        province: Option<numbind_routing::ProvinceCode>,
        kind: &'static str,
        result: &'static str,
    ) {
        let province = province.map_or("-", numbind_routing::ProvinceCode::as_str).to_owned();
        self.billing_attempts.get_or_create(&BillingAttemptLabels { province, kind, result }).inc();
    }

    pub(crate) fn set_billing_outbox_depth(&self, province: Option<numbind_routing::ProvinceCode>, depth: i64) {
        let province = province.map_or("-", numbind_routing::ProvinceCode::as_str).to_owned();
        self.billing_outbox_depth.get_or_create(&ProvinceLabel { province }).set(depth);
    }

    pub(crate) fn count_confirmation(&self, outcome: &str) {
        self.confirmations.get_or_create(&OutcomeLabel { outcome: outcome.to_owned() }).inc();
    }

    pub(crate) fn count_payment(&self, state: &str, reason: Option<&str>) {
        let labels = PaymentLabels { state: state.to_owned(), reason: reason.unwrap_or("-").to_owned() };
        self.payments.get_or_create(&labels).inc();
    }

    pub(crate) fn count_refund(&self, result: &str) {
        self.refunds.get_or_create(&ResultLabel { result: result.to_owned() }).inc();
    }

    /// The registry `GET /metrics` encodes.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_appear_with_their_labels() {
        let metrics = Metrics::default();
        metrics.count_redemption("claimed");
        metrics.activations_issued.inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, metrics.registry()).unwrap();
        assert!(text.contains("redemptions_total{result=\"claimed\"} 1"), "{text}");
        assert!(text.contains("activations_issued_total 1"), "{text}");
        assert!(text.contains("waiting_terminals 0"), "{text}");
        metrics.count_hub_refusal(crate::domain::hub_checks::HubCheck::Blacklist, "redemption");
        metrics.count_billing_attempt(Some(numbind_routing::ProvinceCode::parse("BJ").unwrap()), "charge", "answered");
        metrics.set_billing_outbox_depth(None, 3);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, metrics.registry()).unwrap();
        assert!(text.contains("numbind_hub_refusals_total{check=\"blacklist\",path=\"redemption\"} 1"), "{text}");
        assert!(text.contains("billing_attempts_total{province=\"BJ\",kind=\"charge\",result=\"answered\"} 1"));
        assert!(text.contains("billing_outbox_depth{province=\"-\"} 3"), "{text}");
    }
}

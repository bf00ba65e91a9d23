//! Prometheus metrics of the OSS (`/metrics`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CommandLabels {
    pub(crate) kind: &'static str,
    pub(crate) outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PlatformCallLabels {
    pub(crate) endpoint: &'static str,
    pub(crate) result: &'static str,
}

#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) sms_received: Counter,
    pub(crate) sms_duplicates: Counter,
    pub(crate) commands: Family<CommandLabels, Counter>,
    pub(crate) platform_calls: Family<PlatformCallLabels, Counter>,
    pub(crate) replies_sent: Counter,
    pub(crate) charges: Family<ChargeLabels, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ChargeLabels {
    pub(crate) outcome: &'static str,
}

impl Metrics {
    pub(crate) fn new(database: numbind_sqlite::DatabaseWriteCollector) -> Metrics {
        let mut registry = Registry::default();
        let metrics = Metrics {
            sms_received: Counter::default(),
            sms_duplicates: Counter::default(),
            commands: Family::default(),
            platform_calls: Family::default(),
            replies_sent: Counter::default(),
            charges: Family::default(),
            registry: Registry::default(),
        };
        registry.register("sms_received", "SMS delivered by the SMS centre and stored", metrics.sms_received.clone());
        registry.register("sms_duplicates", "redeliveries of an SMS already stored", metrics.sms_duplicates.clone());
        registry.register("commands", "SMS commands processed, by kind and outcome", metrics.commands.clone());
        registry.register(
            "platform_calls",
            "calls to the platform, by endpoint and result",
            metrics.platform_calls.clone(),
        );
        registry.register("replies_sent", "reply SMS acknowledged by the SMS centre", metrics.replies_sent.clone());
        registry.register("charges", "charges decided for the platform, by outcome", metrics.charges.clone());
        registry.register_collector(Box::new(database));
        Metrics { registry, ..metrics }
    }

    pub(crate) fn count_platform_call(&self, endpoint: &'static str, result: &'static str) {
        self.platform_calls.get_or_create(&PlatformCallLabels { endpoint, result }).inc();
    }

    pub(crate) fn count_charge(&self, outcome: &numbind_wire::api::ChargeOutcome) {
        let outcome = match outcome {
            numbind_wire::api::ChargeOutcome::Charged { .. } => "charged",
            numbind_wire::api::ChargeOutcome::Declined { .. } => "declined",
        };
        self.charges.get_or_create(&ChargeLabels { outcome }).inc();
    }

    /// The registry `GET /metrics` encodes.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    #[cfg(test)]
    fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_are_exported_under_their_documented_names() {
        let metrics = Metrics::new(crate::store::Store::open_in_memory().unwrap().write_collector());
        metrics.sms_received.inc();
        metrics.commands.get_or_create(&CommandLabels { kind: "bind", outcome: "bound" }).inc();
        metrics.count_platform_call("redemptions", "ok");
        let text = metrics.render().unwrap();
        for name in ["sms_received_total 1", "sms_duplicates_total", "replies_sent_total", "database_commits_total 0"] {
            assert!(text.contains(name), "{name} in {text}");
        }
        assert!(text.contains(r#"commands_total{kind="bind",outcome="bound"} 1"#), "{text}");
        assert!(text.contains(r#"platform_calls_total{endpoint="redemptions",result="ok"} 1"#), "{text}");
    }
}

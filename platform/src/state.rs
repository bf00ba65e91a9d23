//! Shared state of the HTTP handlers and workers: store, signing key, settings, in-memory registries, metrics.

use crate::config::Config;
use crate::domain::redemption_limits::RedemptionLimits;
use crate::guards::{poll_pacing, replay_guard, session_tickets, terminal_keys, waiters};
use crate::store::Store;
use numbind_process::clock::Clock;
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::statement::{BindingStatement, PlatformSigningKey, SignedStatement};
use numbind_wire::ShortCode;
use ring::rand::SystemRandom;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What every handler and worker shares: one pointer, so a clone is one reference count and a future that holds
/// the state (a waiting long-poll holds it for the whole wait) holds 8 bytes, not the ~220 of the fields.
#[derive(Clone)]
pub(crate) struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The fields of [`AppState`].
pub(crate) struct SharedState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub signing_key: Arc<PlatformSigningKey>,
    /// Seals and opens terminal session tickets (key derived from `signing_key`).
    pub session_tickets: Arc<session_tickets::SessionTickets>,
    pub clock: Arc<dyn Clock>,
    pub random: SystemRandom,
    pub waiters: waiters::ActivationWaiters,
    pub poll_pacing: poll_pacing::PollPacing,
    /// Nonces seen within the timestamp window, in memory; refuses requests signed before this process started.
    pub replay_guard: replay_guard::ReplayGuard,
    /// Registered terminal keys (immutable once registered), so authentication reads no database.
    pub terminal_keys: terminal_keys::TerminalKeyCache,
    pub metrics: crate::metrics::Metrics,
    /// The hub's routing table in use (swapped when a new version is imported): a new binding records its
    /// number's province and the table's version.
    pub routing: crate::active_routing::ActiveRouting,
    /// Signalled after a transaction queued notification SMS.
    pub outbox_changed: Arc<Notify>,
    /// Signalled after a transaction queued revocations for the OSS (`outbox_oss`).
    pub oss_outbox_changed: Arc<Notify>,
    /// Signalled after a transaction queued a charge or a refund for the OSS (`outbox_billing`).
    pub billing_outbox_changed: Arc<Notify>,
    /// Signalled after a transaction queued a merchant event (`merchant_events`).
    pub merchant_events_changed: Arc<Notify>,
    /// The OSS client of the one inline charge attempt (short timeout), when the OSS is configured.
    pub inline_billing: Option<crate::clients::oss_client::OssClient>,
    /// Where payment reconciliation reads the OSS's bill lines and the SMS centre's sent messages.
    pub reconciliation_sources: crate::operator_views::payment_differences::ReconciliationSources,
    /// MACs confirmation numbers (key derived from `signing_key`).
    pub confirmation_key: crate::domain::payment::ConfirmationKey,
    /// Cancelled at shutdown: long-polls answer at once.
    pub shutdown: CancellationToken,
}

/// The settings handlers read, from `Config`.
#[derive(Debug)]
pub(crate) struct Settings {
    pub short_code: ShortCode,
    pub oss_secret: ComponentSecret,
    pub activation_ttl: Duration,
    pub poll_interval: Duration,
    pub long_poll_max_wait: Duration,
    pub request_timestamp_window: Duration,
    pub statement_lifetime: Duration,
    pub terminal_session_lifetime: Duration,
    pub require_manifest: bool,
    pub max_activations_per_window: u32,
    pub activation_rate_window: Duration,
    pub redemption_limits: RedemptionLimits,
    pub payment_confirmation_threshold: i64,
    pub payment_confirmation_ttl: Duration,
    pub idempotency_key_retention: Duration,
    /// How often a newly imported routing version is looked for.
    pub routing_refresh_interval: Duration,
    /// The most one charge may be nationwide, checked before any province is asked.
    pub national_charge_limit: crate::domain::hub_checks::NationalChargeLimit,
}

impl Settings {
    pub(crate) fn from_config(config: &Config) -> Self {
        Settings {
            short_code: config.short_code.clone(),
            oss_secret: config.oss_secret.clone(),
            activation_ttl: config.activation_ttl,
            poll_interval: config.poll_interval,
            long_poll_max_wait: config.long_poll_max_wait,
            request_timestamp_window: config.request_timestamp_window,
            statement_lifetime: config.statement_lifetime,
            terminal_session_lifetime: config.terminal_session_lifetime,
            require_manifest: config.require_manifest,
            max_activations_per_window: config.max_activations_per_window,
            activation_rate_window: config.activation_rate_window,
            payment_confirmation_threshold: config.payment_confirmation_threshold,
            payment_confirmation_ttl: config.payment_confirmation_ttl,
            idempotency_key_retention: config.idempotency_key_retention,
            routing_refresh_interval: config.routing_refresh_interval,
            national_charge_limit: config.national_charge_limit,
            redemption_limits: RedemptionLimits {
                max_failed_redemptions_per_number: config.max_failed_redemptions_per_number,
                failed_redemption_window: config.failed_redemption_window,
                number_lock_duration: config.number_lock_duration,
                max_failed_redemptions_global_per_minute: config.max_failed_redemptions_global_per_minute,
            },
        }
    }
}

impl AppState {
    /// Wakes the OSS revocation workers (one per province at a hub) after a commit queued a revocation; one that
    /// is busy finds the stored permit when it next waits.
    pub(crate) fn announce_oss_revocation(&self) {
        self.oss_outbox_changed.notify_waiters();
        self.oss_outbox_changed.notify_one();
    }

    /// Wakes the billing workers (one per province at a hub) after a commit queued a charge or a refund; one that is
    /// busy finds the stored permit when it next waits.
    pub(crate) fn announce_billing(&self) {
        self.billing_outbox_changed.notify_waiters();
        self.billing_outbox_changed.notify_one();
    }

    /// Tells whoever waits on a terminal's binding that it changed (bound, revoked, replaced): a watching box's
    /// long-poll, the box's purchase long-polls (a revocation cancels the payments waiting for confirmation) and
    /// the merchant event worker (their cancellations are events).
    pub(crate) fn announce_binding_change(&self, terminal_id: &numbind_wire::TerminalId) {
        self.waiters.wake(&crate::guards::waiters::binding_waiter_key(terminal_id));
        self.merchant_events_changed.notify_one();
    }

    /// The state of a platform serving `config` with this key and store; `shutdown` is cancelled at shutdown.
    /// Fails only if the session ticket key cannot be derived from the signing key.
    pub(crate) fn new(
        config: &Config,
        signing_key: PlatformSigningKey,
        store: Store,
        shutdown: CancellationToken,
    ) -> Result<Self, ring::error::Unspecified> {
        let metrics = crate::metrics::Metrics::new(store.write_collector());
        if let Some(version) = config.active_routing.current().and_then(|in_use| in_use.stored_version) {
            metrics.routing_version.set(version);
        }
        let session_tickets = Arc::new(session_tickets::SessionTickets::new(&signing_key)?);
        let confirmation_key = crate::domain::payment::ConfirmationKey::from_secret(
            &signing_key.derive_secret(crate::domain::payment::CONFIRMATION_KEY_LABEL),
        );
        let inline_billing =
            crate::clients::oss_client::OssClient::from_config(config, config.inline_charge_timeout).ok().flatten();
        // Fails only on a trusted-authorities file that cannot be read (the OSS workers and the SMPP-TLS link refuse
        // it too); then both sides read as not configured, and this warning says why.
        let reconciliation_sources = crate::operator_views::payment_differences::ReconciliationSources::from_config(
            config,
        )
        .unwrap_or_else(|error| {
            tracing::warn!(error = %format!("{error:#}"), "payment reconciliation cannot read the other sides");
            Default::default()
        });
        Ok(AppState(Arc::new(SharedState {
            store,
            settings: Arc::new(Settings::from_config(config)),
            signing_key: Arc::new(signing_key),
            session_tickets,
            clock: config.clock.clone(),
            random: SystemRandom::new(),
            waiters: waiters::ActivationWaiters::default(),
            poll_pacing: poll_pacing::PollPacing::default(),
            replay_guard: replay_guard::ReplayGuard::new(
                config.clock.now_unix_seconds(),
                config.request_timestamp_window.as_secs() as i64,
                config.max_remembered_nonces,
            ),
            terminal_keys: terminal_keys::TerminalKeyCache::default(),
            metrics,
            routing: config.active_routing.clone(),
            outbox_changed: Arc::new(Notify::new()),
            oss_outbox_changed: Arc::new(Notify::new()),
            billing_outbox_changed: Arc::new(Notify::new()),
            merchant_events_changed: Arc::new(Notify::new()),
            inline_billing,
            reconciliation_sources,
            confirmation_key,
            shutdown,
        })))
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_unix_seconds()
    }

    /// Signs a statement issued now, valid for the configured lifetime; the caller fills the rest.
    pub(crate) fn sign_statement(&self, fill: impl FnOnce(i64, i64) -> BindingStatement) -> SignedStatement {
        let (issued_at, expires_at) = self.statement_validity();
        self.signing_key.sign(&fill(issued_at, expires_at))
    }

    /// When a statement issued now is issued and expires.
    pub(crate) fn statement_validity(&self) -> (i64, i64) {
        let issued_at = self.now();
        (issued_at, issued_at.saturating_add(self.settings.statement_lifetime.as_secs() as i64))
    }

    /// Is `timestamp` within the accepted window around now?
    pub(crate) fn timestamp_is_fresh(&self, timestamp_unix_seconds: i64) -> bool {
        // `abs_diff`: a hostile timestamp (i64::MIN) must not overflow the subtraction.
        timestamp_unix_seconds.abs_diff(self.now()) <= self.settings.request_timestamp_window.as_secs()
    }
}

//! numbind service platform: terminal registry, activation codes, bindings, signed statements, notifications.
//!
//! `run(config, listener, shutdown)` serves the HTTP API (see `numbind_wire::api`) until `shutdown` completes.

mod active_routing;
mod audit_key;
pub mod blacklist_admin;
#[cfg(feature = "cli")]
pub mod cli;
mod clients;
pub mod config;
mod console;
pub mod domain;
mod error;
mod guards;
mod http;
mod hub_gate;
pub mod manifest;
pub mod merchant_admin;
mod metrics;
mod operator_actions;
mod operator_views;
pub mod operators;
pub mod routing_admin;
mod signing_key;
mod state;
pub mod statements;
pub mod store;
mod workers;

pub use active_routing::SharedRouting;
pub use audit_key::{audit_key_path, load_or_create_audit_key, read_audit_key};
pub use config::{CmppLink, CmppVersion, Config, LinkConfig, SmscLink};
pub use domain::operator::OperatorRole;
pub use domain::statement_schedule::StatementDay;
pub use operator_views::EXPORT_PAGES_READ;
pub use operators::{
    create_operator_token, revoke_operator_token, verify_audit_chain, verify_audit_trail, AuditVerifyReport,
};
pub use signing_key::{load_or_create_signing_key, public_key_path};

use anyhow::Context;
use clients::sms_sender::SmsSender;
use numbind_process::tls::ServerTls;
use numbind_wire::statement::PlatformSigningKey;
use state::AppState;
use std::future::Future;
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use workers::notifications::run_notification_worker;

/// How often seen nonces and failed redemptions that no check can look at any more are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Serves the platform on `listener` until `shutdown` completes; sends notifications when an SMSC is configured.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    prepare(config).await?.serve(listener, shutdown).await
}

/// A platform whose signing key is loaded (or created) and whose database is open, checked and migrated: ready
/// to serve. The CLI announces `listening` between `prepare` and `serve`, so the line means ready for boxes.
pub struct PreparedPlatform {
    config: Config,
    signing_key: PlatformSigningKey,
    store: Store,
    tls: Option<ServerTls>,
}

/// Loads or creates the signing key, reads the TLS certificate and opens the database, once.
pub async fn prepare(config: Config) -> anyhow::Result<PreparedPlatform> {
    let tls = match &config.tls {
        Some(files) => Some(ServerTls::load(files.clone()).context("the platform's tls certificate")?),
        None => None,
    };
    let key_path = config.signing_key_path.clone();
    let signing_key = tokio::task::spawn_blocking(move || load_or_create_signing_key(&key_path)).await??;
    let database_path = config.database_path.clone();
    let audit_key_file = audit_key_path(&config.database_path);
    let audit_key = tokio::task::spawn_blocking(move || load_or_create_audit_key(&audit_key_file)).await??;
    let location =
        config.database_location.clone().unwrap_or(numbind_database::DatabaseLocation::Sqlite(database_path));
    let described = location.describe();
    let store = tokio::task::spawn_blocking(move || Store::open_at(&location))
        .await?
        .with_context(|| format!("cannot open the database {described}"))?
        .with_audit_key(audit_key);
    // A platform that carried on a tampered chain would sign its next checkpoint over the forgery.
    let keys = numbind_wire::statement::PinnedPlatformKeys::new(vec![signing_key.public_key()]);
    store.call(move |store| store.check_audit_head(&keys)).await.context(
        "refusing to start on an audit chain whose head does not verify (run `numbind audit verify` to see why)",
    )?;
    match config.routing.clone() {
        Some(table) => config.active_routing.replace(table, None),
        None => {
            if let Some(stored) = store.call(|store| store.active_routing_table()).await? {
                config.active_routing.replace(routing_admin::routing_table_of(&stored)?, Some(stored.version));
                tracing::info!(version = stored.version, fingerprint = %stored.table.fingerprint, "routing by the imported tables");
            }
        }
    }
    anyhow::ensure!(
        config.provincial_oss_urls.is_empty() || config.active_routing.is_routing(),
        "--oss-url PROVINCE=URL needs the routing tables: --segments-file, or an import (`numbind routing import`)"
    );
    let now = config.clock.now_unix_seconds();
    if let Some(last_unkeyed) = store.call(move |store| store.key_audit_chain(now)).await? {
        tracing::info!(last_unkeyed, "audit events are keyed from now on; the earlier ones have no MAC");
    }
    Ok(PreparedPlatform { config, signing_key, store, tls })
}

impl PreparedPlatform {
    /// The public half of the statement-signing key, which boxes pin.
    pub fn public_key(&self) -> numbind_wire::statement::PlatformPublicKey {
        self.signing_key.public_key()
    }

    /// The routing table the platform decides by, followed as new versions are imported.
    pub fn routing(&self) -> SharedRouting {
        SharedRouting(self.config.active_routing.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let PreparedPlatform { config, signing_key, store, tls } = self;
        serve_prepared(config, signing_key, store, (listener, tls), shutdown).await
    }
}

async fn serve_prepared(
    config: Config,
    signing_key: PlatformSigningKey,
    store: Store,
    (listener, tls): (TcpListener, Option<ServerTls>),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = CancellationToken::new();
    let state = AppState::new(&config, signing_key, store, token.clone())
        .map_err(|_| anyhow::anyhow!("cannot derive the session ticket key from the signing key"))?;
    let mut background = tokio::task::JoinSet::new();
    if let Some(link) = &config.smsc {
        let sender = SmsSender::connect(link, &config.short_code, token.child_token());
        background.spawn(run_notification_worker(state.clone(), sender, token.clone()));
    } else {
        tracing::warn!("no sms centre configured: notification sms stay queued in the outbox");
    }
    background.spawn(purge_expired_guard_rows(state.clone(), token.clone()));
    if config.routing.is_none() {
        background.spawn(active_routing::follow_imported_versions(state.clone(), token.clone()));
    }
    workers::oss_revocations::spawn_oss_revocation_worker(&mut background, &config, &state, &token)?;
    workers::audit_checkpoints::spawn_audit_checkpoint_worker(&mut background, &config, &state, &token)?;
    workers::billing_queues::spawn_billing_workers(&mut background, &config, &state, &token)?;
    workers::merchant_events::spawn_merchant_event_worker(&mut background, &config, &state, &token)?;
    workers::statement_schedule::spawn_statement_schedule_worker(&mut background, &config, &state, &token);
    let shutdown_token = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        shutdown_token.cancel();
    });
    let address = listener.local_addr()?;
    tracing::info!(%address, tls = tls.is_some(), key_id = state.signing_key.key_id(), "platform serving");
    let app = http::router(state, config.max_concurrent_requests);
    numbind_process::http_server::serve(listener, app, token.clone(), tls).await;
    token.cancel();
    while background.join_next().await.is_some() {}
    Ok(())
}

/// Keeps the replay and guessing guards small: nonces whose request timestamps left the window (in memory; no
/// request that old is accepted) and failed redemptions older than the longest window any limit looks back over;
/// and forgets merchants' idempotency keys past their retention.
async fn purge_expired_guard_rows(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(PURGE_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
        let now = state.now();
        state.replay_guard.purge_expired(now);
        let failure_window = state.settings.redemption_limits.failed_redemption_window.max(Duration::from_secs(60));
        let failure_cutoff = now - failure_window.as_secs() as i64;
        let purged = state.store.call(move |store| store.purge_redemption_failures_before(failure_cutoff)).await;
        if let Err(error) = purged {
            tracing::error!(error = %error, "cannot purge expired replay and guessing guard rows");
        }
        let key_cutoff = now - state.settings.idempotency_key_retention.as_secs() as i64;
        match state.store.call(move |store| store.forget_idempotency_keys_before(key_cutoff)).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "idempotency keys past their retention forgotten"),
            Err(error) => tracing::error!(error = %error, "cannot forget idempotency keys past their retention"),
        }
    }
}

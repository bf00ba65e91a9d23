//! numbind-oss-sim: a realistic operator OSS. It keeps subscribers (status, plan, device limit, balance) and
//! the binding record of truth for billing, receives the users' SMS commands from the SMS centre (SMPP), runs
//! them against the platform (HTTP + HMAC), and answers the users by SMS.
//!
//! Exactly once, crash-safe: a received SMS is committed to `inbox` (deduplicated by the SMS centre's message
//! ID) before the SMS centre gets its ack; each step of a command is durable before the next; the outcome is
//! recorded in the same transaction that queues the reply in `outbox_sms`; replies are sent until acked.

mod clients;
pub mod config;
pub mod domain;
mod error;
mod http;
mod metrics;
mod state;
mod store;
mod workers;

#[cfg(feature = "cli")]
pub mod cli;

pub use config::{CmppLink, CmppVersion, Config, LinkConfig, SmscLink};
pub use domain::binding::{BindingRecord, BindingRecordState};
pub use domain::ledger::ChargeRecord;
pub use domain::subscriber::{Plan, Subscriber, SubscriberStatus};
pub use http::bindings::BindingList;
pub use http::charges::ChargeRecordList;
pub use http::subscribers::{CreateSubscriberRequest, SubscriberList, UpdateSubscriberRequest};

use anyhow::Context;
use numbind_process::tls::ServerTls;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Runs the OSS (admin HTTP API on `http_listener`, SMPP session, workers) until `shutdown` completes.
pub async fn run(
    config: Config,
    http_listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    require_admin_authentication(&config)?;
    let tls = match &config.tls {
        Some(files) => Some(ServerTls::load(files.clone()).context("the oss's tls certificate")?),
        None => None,
    };
    let store = open_store(&config).await?;
    let platform = clients::platform::PlatformClient::new(
        &config.platform_url,
        config.platform_secret.clone(),
        config.platform_request_timeout,
        config.trusted_authorities.as_deref(),
    )
    .context("building the platform client")?;
    let token = CancellationToken::new();
    let (smsc_client, inbound) = clients::smsc::start_session(&config.smsc, token.child_token());
    let state = Arc::new(state::AppState::new(config, store, platform, token.clone()));

    let receiver = tokio::spawn(workers::receiver::run_receiver(state.clone(), inbound));
    let commands = tokio::spawn(workers::commands::run_command_worker(state.clone()));
    let sender = tokio::spawn(workers::sender::run_sender(state.clone(), smsc_client));
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    tracing::info!(short_code = %state.config.short_code, "oss started");
    numbind_process::http_server::serve(http_listener, http::router(state.clone()), token.clone(), tls).await;
    token.cancel();
    receiver.await.context("sms receiver task")?;
    commands.await.context("command worker task")?;
    sender.await.context("reply sender task")?;
    tracing::info!("oss stopped");
    Ok(())
}

/// The admin API reads every subscriber's full number and lifts suspensions: it never runs open by accident.
fn require_admin_authentication(config: &Config) -> anyhow::Result<()> {
    match (&config.admin_token, config.insecure_no_admin_token) {
        (Some(_), _) => Ok(()),
        (None, true) => {
            tracing::warn!("the admin api runs without a token: anyone who can connect reads every subscriber");
            Ok(())
        }
        (None, false) => anyhow::bail!(
            "the admin api needs a token (--admin-token-file or NUMBIND_OSS_ADMIN_TOKEN); \
             --insecure-no-admin-token runs it open to anyone who can connect"
        ),
    }
}

async fn open_store(config: &Config) -> anyhow::Result<store::Store> {
    let database_path = config.database_path.clone();
    let seed = config.seed_demo_subscribers.then(|| match config.province {
        Some(province) => domain::subscriber::demo_subscribers_of_province(province),
        None => domain::subscriber::demo_subscribers(),
    });
    let store = tokio::task::spawn_blocking(move || {
        let store = store::Store::open(&database_path)?;
        if let Some(subscribers) = seed {
            let inserted = store.seed_subscribers(&subscribers, numbind_process::clock::now_unix_millis())?;
            tracing::info!(inserted, "demo subscribers seeded");
        }
        Ok::<_, store::StoreError>(store)
    })
    .await?
    .with_context(|| format!("opening the oss database {}", config.database_path.display()))?;
    Ok(store)
}

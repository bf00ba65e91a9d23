//! numbind-sms-sim: the SMS centre (an SMPP 3.4 server for ESMEs) and the phones (an HTTP API).
//!
//! A phone's SMS to a short code is stored as `queued` (HTTP 202 after commit), then delivered as
//! `deliver_sm` to a bound receiver of the account that routes that short code, and redelivered until an
//! ESME answers ESME_ROK. An ESME's `submit_sm` to a mobile number is stored, then answered, and lands in the
//! phone's inbox. See `numbind_smpp` for the vendor TLVs 0x1401 and 0x1402.

pub mod config;
mod domain;
mod error;
mod http;
mod smpp;
mod state;
mod store;
mod telemetry;

#[cfg(feature = "cli")]
pub mod cli;

pub use config::{Config, ConfigFile, ConfigFileError, EsmeAccount};
pub use error::{SmscErrorBody, SmscErrorCode};

use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Runs the SMS centre on the given listeners until `shutdown` completes; ESMEs are unbound politely.
pub async fn run(
    config: Config,
    http_listener: TcpListener,
    smpp_listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let database_path = config.database_path.clone();
    let store = tokio::task::spawn_blocking(move || store::Store::open(&database_path))
        .await?
        .with_context(|| format!("opening the sms centre database {}", config.database_path.display()))?;
    let token = CancellationToken::new();
    let state = Arc::new(state::AppState::new(config, store, token.clone()));

    let delivery = tokio::spawn(smpp::delivery::run_delivery_loop(state.clone()));
    let smpp_server = tokio::spawn(smpp::server::serve_smpp(smpp_listener, state.clone()));
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    let served = axum::serve(http_listener, http::router(state.clone()))
        .with_graceful_shutdown(token.clone().cancelled_owned())
        .await;
    token.cancel();
    smpp_server.await.context("smpp server task")?;
    delivery.await.context("delivery task")?;
    served.context("http server")?;
    tracing::info!("sms centre stopped");
    Ok(())
}

//! numbind-sms-sim: the SMS centre (an SMPP 3.4 server for ESMEs, a CMPP 2.0/3.0 ISMG for service providers)
//! and the phones (an HTTP API).
//!
//! A phone's SMS to a short code is stored as `queued` (HTTP 202 after commit), then delivered as
//! `deliver_sm` to a bound receiver of the account that routes that short code, and redelivered until an
//! ESME answers ESME_ROK. An ESME's `submit_sm` to a mobile number is stored, then answered, and lands in the
//! phone's inbox. See `numbind_smpp` for the vendor TLVs 0x1401 (sent only to accounts with `vendor_tlvs`) and
//! 0x1402.

mod cmpp;
pub mod config;
mod domain;
mod error;
mod guards;
mod http;
mod metrics;
mod routing_reload;
mod smpp;
mod state;
mod store;
mod workers;

#[cfg(feature = "cli")]
pub mod cli;

pub use config::{AccountProtocol, Config, ConfigFile, ConfigFileError, EsmeAccount, NumberFormat};
pub use routing_reload::RoutingSource;

use anyhow::Context;
use numbind_process::tls::ServerTls;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the SMS centre listens: the phones' HTTP API, SMPP, and (with a certificate in the config) SMPP over
/// TLS.
#[derive(Debug)]
pub struct Listeners {
    pub http: TcpListener,
    pub smpp: TcpListener,
    pub smpp_tls: Option<TcpListener>,
    /// CMPP 2.0/3.0 service providers (the SMS centre as an ISMG); `None` serves no CMPP.
    pub cmpp: Option<TcpListener>,
}

/// Runs the SMS centre on the given listeners until `shutdown` completes; ESMEs are unbound politely.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let smpp_tls = match (&listeners.smpp_tls, &config.tls) {
        (None, _) => None,
        (Some(_), Some(files)) => Some(ServerTls::load(files.clone()).context("the smpp tls certificate")?),
        (Some(_), None) => anyhow::bail!("an smpp tls listener needs a certificate and key"),
    };
    let routes = domain::routing::Routes::build(&config.accounts, config.routing.clone())
        .context("routing the accounts' short codes")?;
    let database_path = config.database_path.clone();
    let store = tokio::task::spawn_blocking(move || store::Store::open(&database_path))
        .await?
        .with_context(|| format!("opening the sms centre database {}", config.database_path.display()))?;
    let token = CancellationToken::new();
    if let Some(version) = routes.table_version() {
        tracing::info!(routing_version = %version, "routing the short codes by province");
    }
    let routing_source = config.routing_source.clone();
    let state = Arc::new(state::AppState::new(config, store, routes, token.clone()));
    if let Some(source) = routing_source {
        routing_reload::reload_routes_on_sighup(state.clone(), source);
    }

    let delivery = tokio::spawn(workers::delivery::run_delivery_loop(state.clone()));
    let parts_expiry = tokio::spawn(workers::parts_expiry::run_parts_expiry(state.clone()));
    let smpp_server = tokio::spawn(smpp::server::serve_smpp(listeners.smpp, state.clone(), None));
    let smpp_tls_server = match (listeners.smpp_tls, smpp_tls) {
        (Some(listener), Some(tls)) => Some(tokio::spawn(smpp::server::serve_smpp(listener, state.clone(), Some(tls)))),
        _ => None,
    };
    let cmpp_server = listeners.cmpp.map(|listener| tokio::spawn(cmpp::server::serve_cmpp(listener, state.clone())));
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    numbind_process::http_server::serve(listeners.http, http::router(state.clone()), token.clone(), None).await;
    token.cancel();
    smpp_server.await.context("smpp server task")?;
    if let Some(server) = smpp_tls_server {
        server.await.context("smpp tls server task")?;
    }
    if let Some(server) = cmpp_server {
        server.await.context("cmpp server task")?;
    }
    delivery.await.context("delivery task")?;
    parts_expiry.await.context("parts expiry task")?;
    tracing::info!("sms centre stopped");
    Ok(())
}

//! A started system: where its parts listen, its components' tasks, and stopping them together.

use numbind_process::data_dir::StateLock;
use numbind_wire::statement::PlatformPublicKey;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Where the parts of a running system listen, and the files a client of it pins.
#[derive(Debug, Clone)]
pub struct SystemAddresses {
    pub platform_http: SocketAddr,
    /// `http://` or `https://` and the platform's address.
    pub platform_url: String,
    pub smsc_http: SocketAddr,
    /// The plain SMPP listener.
    pub smsc_smpp: SocketAddr,
    /// The SMPP over TLS listener, under `Transport::Tls`.
    pub smsc_smpp_tls: Option<SocketAddr>,
    /// The SMS centre's CMPP 2.0/3.0 listener.
    pub smsc_cmpp: SocketAddr,
    pub oss_http: SocketAddr,
    /// At a hub, each province's OSS admin listener (the first is `oss_http`); empty otherwise.
    pub provincial_oss_http: Vec<(numbind_routing::ProvinceCode, SocketAddr)>,
    /// The platform's statement-signing key, which boxes pin.
    pub platform_key: PlatformPublicKey,
    pub platform_key_file: PathBuf,
    /// The local authority's certificate (`<data-dir>/tls/ca.pem`), under `Transport::Tls`.
    pub authority_certificate: Option<PathBuf>,
    /// The demo merchant's credentials file (`<data-dir>/merchant-demo-films.json`), when the system made one.
    pub merchant_credentials: Option<PathBuf>,
}

impl SystemAddresses {
    /// The SMPP listener the components bind to: the TLS one when there is one.
    pub fn linked_smpp(&self) -> SocketAddr {
        self.smsc_smpp_tls.unwrap_or(self.smsc_smpp)
    }
}

type ComponentOutcome = (&'static str, anyhow::Result<()>);

/// The three components running on a tokio runtime; all stop when [`RunningSystem::stop`] is called or the
/// value is dropped.
pub struct RunningSystem {
    pub addresses: SystemAddresses,
    components: JoinSet<ComponentOutcome>,
    shutdown: CancellationToken,
    /// The components spawned, by name, for saying which are still stopping.
    names: Vec<&'static str>,
    _locks: Vec<StateLock>,
}

impl RunningSystem {
    pub(crate) fn new(addresses: SystemAddresses, locks: Vec<StateLock>) -> RunningSystem {
        RunningSystem {
            addresses,
            components: JoinSet::new(),
            shutdown: CancellationToken::new(),
            names: Vec::new(),
            _locks: locks,
        }
    }

    /// Runs a component on the current runtime; `serve` is handed the future that completes when the system stops.
    pub(crate) fn spawn<F, Fut>(&mut self, name: &'static str, serve: F)
    where
        F: FnOnce(WaitForCancellationFutureOwned) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let running = serve(self.shutdown.clone().cancelled_owned());
        self.names.push(name);
        self.components.spawn(async move { (name, running.await) });
    }

    /// Tells every component to stop (they finish what they are doing in their own tasks).
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Waits for `stop` or for any component to end; either way stops the others, waits for them and reports
    /// the first failure.
    pub async fn supervise(mut self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut components = std::mem::take(&mut self.components);
        let mut first_failure = None;
        tokio::select! {
            () = stop => {},
            Some(finished) = components.join_next() => {
                first_failure = Some(describe(finished));
            }
        }
        self.shutdown.cancel();
        let mut still_running = self.names.clone();
        let mut patience =
            tokio::time::interval_at(tokio::time::Instant::now() + WAIT_BEFORE_NAMING, WAIT_BEFORE_NAMING);
        loop {
            let finished = tokio::select! {
                finished = components.join_next() => finished,
                _ = patience.tick() => {
                    tracing::info!(components = %still_running.join(", "), "waiting for components to stop");
                    continue;
                }
            };
            let Some(finished) = finished else { break };
            if let Ok((name, _)) = &finished {
                still_running.retain(|running| running != name);
            }
            let outcome = describe(finished);
            if first_failure.is_none() && outcome.is_err() {
                first_failure = Some(outcome);
            }
        }
        first_failure.unwrap_or(Ok(()))
    }
}

/// How long stopping components may take before the log names the ones still running, and again each time
/// that much more has passed: a stop that takes longer than this is said, not silent.
const WAIT_BEFORE_NAMING: Duration = Duration::from_millis(500);

impl Drop for RunningSystem {
    fn drop(&mut self) {
        // The components wind down in their own tasks, as after `stop`, rather than being aborted mid-write.
        self.shutdown.cancel();
        self.components.detach_all();
    }
}

fn describe(finished: Result<ComponentOutcome, tokio::task::JoinError>) -> anyhow::Result<()> {
    match finished {
        Ok((name, Ok(()))) => {
            tracing::info!(component = name, "stopped");
            Ok(())
        }
        Ok((name, Err(error))) => Err(error.context(format!("{name} failed"))),
        Err(join_error) => Err(anyhow::anyhow!("a component panicked: {join_error}")),
    }
}

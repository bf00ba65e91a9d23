//! numbind started in-process on its own tokio runtime (2 workers, like the machine): the platform alone, the
//! SMS centre alone, or the whole system (SMS centre, platform, OSS) as `numbind_system` starts it for
//! `numbind up`.

use crate::http_load::Target;
use anyhow::Context;
use numbind_process::local_authority::LocalAuthorityFiles;
use numbind_process::tls::TlsConnector;
use numbind_routing::{ProvinceCode, RoutingTable};
use numbind_system::{SystemDescription, SystemPlan};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::statement::PlatformPublicKey;
use numbind_wire::ShortCode;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const SHORT_CODE: &str = "10658000";
/// Secrets of a component started alone; the whole system makes its own in its data directory, as `up` does.
const OSS_SECRET: &str = "bench-oss-platform-secret-0123456789abcdef";
const SMPP_PASSWORD: &str = "benchpw";
/// High enough that the SMS centre's per-account throttle never limits a bench (the default is 150/s).
pub const UNTHROTTLED_SUBMITS_PER_SECOND: u32 = 1_000_000;

/// The runtime the measured servers run on, separate from the load generator's.
pub struct ServerRuntime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl ServerRuntime {
    pub fn new() -> anyhow::Result<ServerRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-server")
            .enable_all()
            .build()?;
        Ok(ServerRuntime { runtime: Some(runtime) })
    }

    /// Runs `future` on this runtime (so that what it binds and spawns is driven here) and returns its output.
    pub async fn run<Fut>(&self, future: Fut) -> anyhow::Result<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let runtime = self.runtime.as_ref().context("server runtime stopped")?;
        Ok(runtime.spawn(future).await?)
    }

    /// Binds a loopback listener (backlog 4096) on this runtime and runs `serve` with it there.
    pub async fn serve<F, Fut>(&self, serve: F) -> anyhow::Result<SocketAddr>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().context("server runtime stopped")?;
        let (address_sender, address_receiver) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let listener = match listen_loopback() {
                Ok(listener) => listener,
                Err(error) => {
                    let _ = address_sender.send(Err(error));
                    return;
                }
            };
            let _ = address_sender.send(listener.local_addr().map_err(anyhow::Error::from));
            if let Err(error) = serve(listener).await {
                tracing::error!(error = %format!("{error:#}"), "bench server failed");
            }
        });
        address_receiver.await.context("server task ended before binding")?
    }
}

impl Drop for ServerRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The backlog of every listener the bench measures: a boot storm connects faster than `up`'s default drains.
pub const LISTEN_BACKLOG: u32 = 4096;

pub fn listen_loopback() -> anyhow::Result<TcpListener> {
    numbind_system::bind(SocketAddr::from(([127, 0, 0, 1], 0)), LISTEN_BACKLOG, "loopback")
}

pub fn short_code() -> anyhow::Result<ShortCode> {
    ShortCode::parse(SHORT_CODE).context("short code")
}

pub fn platform_config(directory: &Path) -> anyhow::Result<numbind_platform::Config> {
    let mut config = numbind_platform::Config::new(
        directory.join("platform.db"),
        directory.join("platform-signing.key"),
        short_code()?,
        ComponentSecret::parse(OSS_SECRET).context("oss secret")?,
    );
    config.max_concurrent_requests = 50_000;
    config.long_poll_max_wait = Duration::from_secs(120);
    config.poll_interval = Duration::from_secs(1);
    Ok(config)
}

/// The platform's public key (creating the signing key), as boxes pin it.
pub fn platform_public_key(directory: &Path) -> anyhow::Result<PlatformPublicKey> {
    Ok(numbind_platform::load_or_create_signing_key(&directory.join("platform-signing.key"))?.public_key())
}

/// Where the parts of a running system listen.
#[derive(Debug, Clone)]
pub struct SystemAddresses {
    pub platform: SocketAddr,
    /// `http://` or `https://` and the platform's address.
    pub platform_url: String,
    /// The authority a box trusts for `https://`.
    pub authority_pem: Option<Vec<u8>>,
    /// The OSS's admin API, plain or TLS.
    pub oss: Target,
    pub smsc_http: SocketAddr,
    pub smsc_smpp: SocketAddr,
    pub oss_http: SocketAddr,
    /// At a hub, each province's OSS admin API (the first is `oss`).
    pub provincial_oss: Vec<(ProvinceCode, Target)>,
    pub platform_key: PlatformPublicKey,
}

/// A running component set; stops when dropped.
pub struct RunningSystem {
    pub addresses: SystemAddresses,
    pub directory: PathBuf,
    _system: numbind_system::RunningSystem,
}

/// The certificate authority of a bench run (in `<directory>/tls`) and its services' certificates.
pub fn local_authority(directory: &Path) -> anyhow::Result<LocalAuthorityFiles> {
    numbind_system::local_authority(directory, &numbind_system::ListenAddresses::loopback_any_port())
}

/// A client connector trusting the authority; without `resumption`, every connection makes a full handshake, as
/// a box does after a reboot.
pub fn tls_connector(authority: &LocalAuthorityFiles, resumption: bool) -> anyhow::Result<TlsConnector> {
    tls_connector_trusting(&authority.authority_certificate(), resumption)
}

/// A client connector trusting the authority certificate at `authority_certificate`.
pub fn tls_connector_trusting(authority_certificate: &Path, resumption: bool) -> anyhow::Result<TlsConnector> {
    let mut config = numbind_process::tls::client_config(authority_certificate)?;
    if !resumption {
        config.resumption = numbind_process::tls::Resumption::disabled();
    }
    Ok(TlsConnector::from(Arc::new(config)))
}

/// How a bench platform or system serves: plain, or TLS with certificates from the run's local authority (in
/// its directory).
pub use numbind_system::Transport;

pub async fn start_platform(
    runtime: &ServerRuntime,
    directory: &Path,
) -> anyhow::Result<(SocketAddr, CancellationToken)> {
    start_platform_with(runtime, directory, Transport::PlainHttp).await
}

/// The platform alone, plain or TLS.
pub async fn start_platform_with(
    runtime: &ServerRuntime,
    directory: &Path,
    transport: Transport,
) -> anyhow::Result<(SocketAddr, CancellationToken)> {
    let mut config = platform_config(directory)?;
    if transport == Transport::Tls {
        config.tls = Some(local_authority(directory)?.service("platform"));
    }
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let address =
        runtime.serve(move |listener| numbind_platform::run(config, listener, token.cancelled_owned())).await?;
    match transport {
        Transport::PlainHttp => wait_until_healthy(address).await?,
        Transport::Tls => {
            let target = Target { address, tls: Some(tls_connector(&local_authority(directory)?, true)?) };
            wait_until_healthy_at(&target).await?;
        }
    }
    Ok((address, shutdown))
}

/// Where [`start_smsc`] listens.
#[derive(Debug, Clone, Copy)]
pub struct SmscAddresses {
    pub http: SocketAddr,
    pub smpp: SocketAddr,
    /// The ISMG for CMPP service providers.
    pub cmpp: SocketAddr,
}

/// The SMS centre alone with accounts `oss` (routes the short code) and `platform`, plus any `extra` ones
/// (SMPP or CMPP); returns its HTTP, SMPP and CMPP addresses.
pub async fn start_smsc(
    runtime: &ServerRuntime,
    directory: &Path,
    extra: Vec<numbind_sms_sim::EsmeAccount>,
    shutdown: &CancellationToken,
) -> anyhow::Result<SmscAddresses> {
    let mut oss = numbind_sms_sim::EsmeAccount::new("oss", SMPP_PASSWORD, vec![short_code()?]);
    oss.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let mut platform = numbind_sms_sim::EsmeAccount::new("platform", SMPP_PASSWORD, vec![]);
    platform.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let mut accounts = vec![oss, platform];
    accounts.extend(extra);
    let config = numbind_sms_sim::Config::new(directory.join("smsc.db"), accounts);
    let token = shutdown.clone();
    let (address_sender, address_receiver) = tokio::sync::oneshot::channel();
    let http = runtime
        .serve(move |http_listener| async move {
            let (smpp, cmpp) = (listen_loopback()?, listen_loopback()?);
            let _ = address_sender.send((smpp.local_addr()?, cmpp.local_addr()?));
            let listeners = numbind_sms_sim::Listeners { http: http_listener, smpp, smpp_tls: None, cmpp: Some(cmpp) };
            numbind_sms_sim::run(config, listeners, token.cancelled_owned()).await
        })
        .await?;
    let (smpp, cmpp) = address_receiver.await.context("sms centre did not bind smpp and cmpp")?;
    wait_until_healthy(http).await?;
    Ok(SmscAddresses { http, smpp, cmpp })
}

/// SMS centre, platform and OSS, wired as `numbind up` wires them, the throttles opened.
pub async fn start_full_system(runtime: &ServerRuntime, directory: &Path) -> anyhow::Result<RunningSystem> {
    start_full_system_with(runtime, directory, Transport::PlainHttp).await
}

/// The whole system, plain or with every link over TLS (HTTPS, SMPP over TLS), started by `numbind_system` as
/// `numbind up` starts it, on the server runtime; only the throttles and the waits are the bench's.
pub async fn start_full_system_with(
    runtime: &ServerRuntime,
    directory: &Path,
    transport: Transport,
) -> anyhow::Result<RunningSystem> {
    start_system(runtime, directory, transport, None).await
}

/// A national hub as `numbind up --provinces` starts it (one OSS per province), routing by `routing` instead of
/// the demo table, so that the bench's own numbers have a province.
pub struct HubLayout {
    pub provinces: Vec<ProvinceCode>,
    pub routing: RoutingTable,
}

/// A national hub over plain links (see [`HubLayout`]).
pub async fn start_hub_system(
    runtime: &ServerRuntime,
    directory: &Path,
    layout: HubLayout,
) -> anyhow::Result<RunningSystem> {
    start_system(runtime, directory, Transport::PlainHttp, Some(layout)).await
}

async fn start_system(
    runtime: &ServerRuntime,
    directory: &Path,
    transport: Transport,
    hub: Option<HubLayout>,
) -> anyhow::Result<RunningSystem> {
    let mut description = SystemDescription::new(directory.to_owned(), short_code()?, "numbind bench");
    description.listen_backlog = LISTEN_BACKLOG;
    description.transport = transport;
    description.provinces = hub.as_ref().map(|layout| layout.provinces.clone()).unwrap_or_default();
    let routing = hub.map(|layout| layout.routing);
    let system = runtime
        .run(async move {
            let mut plan = SystemPlan::bind(&description).await?;
            open_the_throttles(&mut plan);
            if let Some(routing) = routing {
                plan.platform.routing = Some(routing.clone());
                plan.smsc.routing = Some(routing);
            }
            plan.start().await
        })
        .await??;
    let connector = match &system.addresses.authority_certificate {
        Some(authority_certificate) => Some(tls_connector_trusting(authority_certificate, true)?),
        None => None,
    };
    let target = |address| Target { address, tls: connector.clone() };
    wait_until_healthy(system.addresses.smsc_http).await?;
    wait_until_healthy_at(&target(system.addresses.platform_http)).await?;
    wait_until_healthy_at(&target(system.addresses.oss_http)).await?;
    let provincial_oss: Vec<(ProvinceCode, Target)> =
        system.addresses.provincial_oss_http.iter().map(|(province, address)| (*province, target(*address))).collect();
    for (_, oss) in &provincial_oss {
        wait_until_healthy_at(oss).await?;
    }
    let authority_pem = match &system.addresses.authority_certificate {
        Some(authority_certificate) => Some(std::fs::read(authority_certificate)?),
        None => None,
    };
    let addresses = SystemAddresses {
        platform: system.addresses.platform_http,
        platform_url: system.addresses.platform_url.clone(),
        authority_pem,
        oss: target(system.addresses.oss_http),
        smsc_http: system.addresses.smsc_http,
        smsc_smpp: system.addresses.linked_smpp(),
        oss_http: system.addresses.oss_http,
        provincial_oss,
        platform_key: system.addresses.platform_key.clone(),
    };
    Ok(RunningSystem { addresses, directory: directory.to_owned(), _system: system })
}

/// What the bench changes in the system as deployed: limits a load test would otherwise measure instead of
/// numbind, and waits that would otherwise dominate a short run.
fn open_the_throttles(plan: &mut SystemPlan) {
    plan.platform.max_concurrent_requests = 50_000;
    plan.platform.long_poll_max_wait = Duration::from_secs(120);
    plan.platform.poll_interval = Duration::from_secs(1);
    for account in &mut plan.smsc.accounts {
        account.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    }
    for oss in std::iter::once(&mut plan.oss).chain(plan.other_provinces_oss.iter_mut()) {
        // The benchmark's phones add subscribers on loopback in a scratch directory: no admin token to pass around.
        oss.admin_token = None;
        oss.insecure_no_admin_token = true;
        oss.retry_initial_backoff = Duration::from_millis(50);
        oss.idle_poll_interval = Duration::from_millis(200);
    }
}

/// Polls `GET /healthz` until 200 (bounded: 30 s).
pub async fn wait_until_healthy(address: SocketAddr) -> anyhow::Result<()> {
    wait_until_healthy_at(&Target::from(address)).await
}

/// Polls `GET /healthz` on a plain or TLS target until 200 (bounded: 30 s).
pub async fn wait_until_healthy_at(target: &Target) -> anyhow::Result<()> {
    let address = target.address;
    let deadline = Instant::now() + Duration::from_secs(30);
    let request = crate::http_load::request_bytes("GET", "/healthz", &[], b"");
    loop {
        if let Ok(mut stream) = crate::http_load::connect_to(target).await {
            let mut buffer = Vec::new();
            if let Ok(response) = crate::http_load::exchange(&mut stream, &request, &mut buffer).await {
                if response.status == 200 {
                    return Ok(());
                }
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "{address} did not become healthy in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

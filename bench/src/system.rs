//! numbind started in-process on its own tokio runtime (2 workers, like the machine): the platform alone, the
//! SMS centre alone, or the whole system (SMS centre, platform, OSS) talking over loopback as in `numbind up`.

use anyhow::Context;
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::statement::PlatformPublicKey;
use numbind_wire::ShortCode;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;

pub const SHORT_CODE: &str = "10658000";
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

pub fn listen_loopback() -> anyhow::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(socket.listen(4096)?)
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
    pub smsc_http: SocketAddr,
    pub smsc_smpp: SocketAddr,
    pub oss_http: SocketAddr,
    pub platform_key: PlatformPublicKey,
}

/// A running component set; stops when dropped.
pub struct RunningSystem {
    pub addresses: SystemAddresses,
    pub directory: PathBuf,
    shutdown: CancellationToken,
}

impl Drop for RunningSystem {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn start_platform(
    runtime: &ServerRuntime,
    directory: &Path,
) -> anyhow::Result<(SocketAddr, CancellationToken)> {
    let config = platform_config(directory)?;
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let address =
        runtime.serve(move |listener| numbind_platform::run(config, listener, token.cancelled_owned())).await?;
    wait_until_healthy(address).await?;
    Ok((address, shutdown))
}

/// The SMS centre with accounts `oss` (routes the short code) and `platform`, plus any `extra` ones.
pub async fn start_smsc(
    runtime: &ServerRuntime,
    directory: &Path,
    extra: Vec<numbind_sms_sim::EsmeAccount>,
    shutdown: &CancellationToken,
) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let mut oss = numbind_sms_sim::EsmeAccount::new("oss", SMPP_PASSWORD, vec![short_code()?]);
    oss.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let mut platform = numbind_sms_sim::EsmeAccount::new("platform", SMPP_PASSWORD, vec![]);
    platform.max_submits_per_second = UNTHROTTLED_SUBMITS_PER_SECOND;
    let mut accounts = vec![oss, platform];
    accounts.extend(extra);
    let config = numbind_sms_sim::Config::new(directory.join("smsc.db"), accounts);
    let token = shutdown.clone();
    let (smpp_sender, smpp_receiver) = tokio::sync::oneshot::channel();
    let http = runtime
        .serve(move |http_listener| async move {
            let smpp_listener = listen_loopback()?;
            let _ = smpp_sender.send(smpp_listener.local_addr()?);
            numbind_sms_sim::run(config, http_listener, smpp_listener, token.cancelled_owned()).await
        })
        .await?;
    let smpp = smpp_receiver.await.context("sms centre did not bind smpp")?;
    wait_until_healthy(http).await?;
    Ok((http, smpp))
}

/// SMS centre, platform and OSS, wired as `numbind up` wires them, the throttles opened.
pub async fn start_full_system(runtime: &ServerRuntime, directory: &Path) -> anyhow::Result<RunningSystem> {
    let shutdown = CancellationToken::new();
    let (smsc_http, smsc_smpp) = start_smsc(runtime, directory, Vec::new(), &shutdown).await?;
    let platform_key = platform_public_key(directory)?;
    let mut config = platform_config(directory)?;
    config.smsc = Some(numbind_platform::SmscLink {
        address: smsc_smpp.to_string(),
        system_id: "platform".into(),
        password: SMPP_PASSWORD.into(),
    });
    let token = shutdown.clone();
    let platform =
        runtime.serve(move |listener| numbind_platform::run(config, listener, token.cancelled_owned())).await?;
    wait_until_healthy(platform).await?;
    let mut oss_config = numbind_oss_sim::Config::new(
        directory.join("oss.db"),
        format!("http://{platform}"),
        ComponentSecret::parse(OSS_SECRET).context("oss secret")?,
        short_code()?,
        numbind_oss_sim::SmscLink {
            address: smsc_smpp.to_string(),
            system_id: "oss".into(),
            password: SMPP_PASSWORD.into(),
        },
    );
    // The benchmark's phones add subscribers on loopback in a scratch directory: no admin token to pass around.
    oss_config.insecure_no_admin_token = true;
    oss_config.retry_initial_backoff = Duration::from_millis(50);
    oss_config.idle_poll_interval = Duration::from_millis(200);
    let token = shutdown.clone();
    let oss_http =
        runtime.serve(move |listener| numbind_oss_sim::run(oss_config, listener, token.cancelled_owned())).await?;
    wait_until_healthy(oss_http).await?;
    let addresses = SystemAddresses { platform, smsc_http, smsc_smpp, oss_http, platform_key };
    Ok(RunningSystem { addresses, directory: directory.to_owned(), shutdown })
}

/// Polls `GET /healthz` until 200 (bounded: 30 s).
pub async fn wait_until_healthy(address: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let request = crate::http_load::request_bytes("GET", "/healthz", &[], b"");
    loop {
        if let Ok(mut stream) = crate::http_load::connect(address).await {
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

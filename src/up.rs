//! `numbind up`: the platform, the OSS and the SMS centre in one process on loopback, for local use.
//!
//! Each component keeps its own SQLite file in the data directory and talks to the others over real sockets
//! (HTTP and SMPP), exactly as when they run as separate processes. Secrets are made on first start.

use crate::secrets::{self, SecretLength};
use anyhow::Context;
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Where everything listens and keeps its files.
#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    /// Data directory: one SQLite file per component, the platform's signing key, the shared secrets.
    #[arg(long, env = "NUMBIND_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Platform HTTP (terminals, OSS, operators).
    #[arg(long, env = "NUMBIND_PLATFORM_HTTP", default_value = "127.0.0.1:8080")]
    platform_http: SocketAddr,
    /// SMS centre HTTP (the phones).
    #[arg(long, env = "NUMBIND_SMSC_HTTP", default_value = "127.0.0.1:8081")]
    smsc_http: SocketAddr,
    /// SMS centre SMPP.
    #[arg(long, env = "NUMBIND_SMSC_SMPP", default_value = "127.0.0.1:2775")]
    smsc_smpp: SocketAddr,
    /// OSS admin HTTP.
    #[arg(long, env = "NUMBIND_OSS_HTTP", default_value = "127.0.0.1:8082")]
    oss_http: SocketAddr,
    /// The operator's short code that users text.
    #[arg(long, env = "NUMBIND_SHORT_CODE", default_value = "10658000")]
    short_code: String,
    /// Life of an activation code, in seconds.
    #[arg(long, env = "NUMBIND_ACTIVATION_TTL_SECONDS", default_value_t = 600)]
    activation_ttl_seconds: u64,
}

struct Listeners {
    platform_http: TcpListener,
    smsc_http: TcpListener,
    smsc_smpp: TcpListener,
    oss_http: TcpListener,
}

struct Secrets {
    oss_platform: String,
    oss_admin_token: String,
    smsc_oss_password: String,
    smsc_platform_password: String,
}

pub(crate) async fn up(args: UpArgs) -> anyhow::Result<()> {
    let short_code = ShortCode::parse(&args.short_code).context("--short-code")?;
    numbind_process::data_dir::create_private_dir(&args.data_dir)?;
    let _locks = lock_component_states(&args.data_dir)?;
    let secrets = load_secrets(&args.data_dir.join("secrets"))?;
    let listeners = bind_all(&args).await?;
    let addresses = Addresses {
        smpp: listeners.smsc_smpp.local_addr()?.to_string(),
        platform_url: format!("http://{}", listeners.platform_http.local_addr()?),
        oss_url: format!("http://{}", listeners.oss_http.local_addr()?),
    };
    let oss_secret = ComponentSecret::parse(&secrets.oss_platform)?;
    let platform_config = platform_config(&args, &short_code, &oss_secret, &secrets, &addresses);
    // The platform's key and database are ready before anything is announced.
    let platform = numbind_platform::prepare(platform_config).await?;
    announce(&listeners, &platform.public_key().to_string(), &args.data_dir)?;

    let shutdown = CancellationToken::new();
    let mut components = JoinSet::new();
    let smsc_config = smsc_config(&args.data_dir, &short_code, &secrets);
    let token = shutdown.clone();
    components.spawn(async move {
        let outcome =
            numbind_sms_sim::run(smsc_config, listeners.smsc_http, listeners.smsc_smpp, token.cancelled_owned()).await;
        ("sms-sim", outcome)
    });
    let token = shutdown.clone();
    components
        .spawn(async move { ("platform", platform.serve(listeners.platform_http, token.cancelled_owned()).await) });
    let oss_config = oss_config(&args.data_dir, short_code, oss_secret, &secrets, addresses);
    let token = shutdown.clone();
    components.spawn(async move {
        ("oss-sim", numbind_oss_sim::run(oss_config, listeners.oss_http, token.cancelled_owned()).await)
    });

    supervise(components, shutdown).await
}

/// Waits for a stop signal or for any component to end; either way stops the others and reports.
async fn supervise(
    mut components: JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut first_failure = None;
    tokio::select! {
        _ = numbind_process::stop_signal() => {},
        Some(finished) = components.join_next() => {
            first_failure = Some(describe(finished));
        }
    }
    shutdown.cancel();
    while let Some(finished) = components.join_next().await {
        let outcome = describe(finished);
        if first_failure.is_none() && outcome.is_err() {
            first_failure = Some(outcome);
        }
    }
    first_failure.unwrap_or(Ok(()))
}

fn describe(finished: Result<(&'static str, anyhow::Result<()>), tokio::task::JoinError>) -> anyhow::Result<()> {
    match finished {
        Ok((name, Ok(()))) => {
            tracing::info!(component = name, "stopped");
            Ok(())
        }
        Ok((name, Err(error))) => Err(error.context(format!("{name} failed"))),
        Err(join_error) => Err(anyhow::anyhow!("a component panicked: {join_error}")),
    }
}

async fn bind_all(args: &UpArgs) -> anyhow::Result<Listeners> {
    async fn bind(address: SocketAddr, name: &str) -> anyhow::Result<TcpListener> {
        TcpListener::bind(address).await.with_context(|| format!("binding {name} on {address}"))
    }
    Ok(Listeners {
        platform_http: bind(args.platform_http, "platform http").await?,
        smsc_http: bind(args.smsc_http, "sms centre http").await?,
        smsc_smpp: bind(args.smsc_smpp, "sms centre smpp").await?,
        oss_http: bind(args.oss_http, "oss http").await?,
    })
}

fn announce(listeners: &Listeners, platform_key: &str, data_dir: &Path) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening platform-http={}", listeners.platform_http.local_addr()?)?;
    writeln!(stdout, "listening smsc-http={}", listeners.smsc_http.local_addr()?)?;
    writeln!(stdout, "listening smsc-smpp={}", listeners.smsc_smpp.local_addr()?)?;
    writeln!(stdout, "listening oss-http={}", listeners.oss_http.local_addr()?)?;
    writeln!(stdout, "platform-key={platform_key}")?;
    writeln!(stdout, "platform-key-file={}", data_dir.join("platform-signing.key.pub").display())?;
    stdout.flush()?;
    Ok(())
}

/// Where the components reach each other.
struct Addresses {
    smpp: String,
    platform_url: String,
    oss_url: String,
}

fn platform_config(
    args: &UpArgs,
    short_code: &ShortCode,
    oss_secret: &ComponentSecret,
    secrets: &Secrets,
    addresses: &Addresses,
) -> numbind_platform::Config {
    let mut config = numbind_platform::Config::new(
        args.data_dir.join("platform.db"),
        args.data_dir.join("platform-signing.key"),
        short_code.clone(),
        oss_secret.clone(),
    );
    config.activation_ttl = std::time::Duration::from_secs(args.activation_ttl_seconds);
    config.oss_url = Some(addresses.oss_url.clone());
    config.smsc = Some(numbind_platform::SmscLink {
        address: addresses.smpp.clone(),
        system_id: "platform".into(),
        password: secrets.smsc_platform_password.clone(),
    });
    config
}

fn oss_config(
    data_dir: &Path,
    short_code: ShortCode,
    oss_secret: ComponentSecret,
    secrets: &Secrets,
    addresses: Addresses,
) -> numbind_oss_sim::Config {
    let link = numbind_oss_sim::SmscLink {
        address: addresses.smpp,
        system_id: "oss".into(),
        password: secrets.smsc_oss_password.clone(),
    };
    let mut config =
        numbind_oss_sim::Config::new(data_dir.join("oss.db"), addresses.platform_url, oss_secret, short_code, link);
    config.seed_demo_subscribers = true;
    config.admin_token = Some(secrets.oss_admin_token.clone());
    config
}

fn load_secrets(directory: &Path) -> anyhow::Result<Secrets> {
    Ok(Secrets {
        oss_platform: secrets::load_or_create(&directory.join("oss-platform.secret"), SecretLength::Long)?,
        // Where `numbind oss-sim subscriber` finds it by default (`numbind_oss_sim::cli::UP_ADMIN_TOKEN_FILE`).
        oss_admin_token: secrets::load_or_create(&directory.join("oss-admin.token"), SecretLength::Long)?,
        smsc_oss_password: secrets::load_or_create(&directory.join("smsc-oss.password"), SecretLength::SmppPassword)?,
        smsc_platform_password: secrets::load_or_create(
            &directory.join("smsc-platform.password"),
            SecretLength::SmppPassword,
        )?,
    })
}

fn smsc_config(data_dir: &Path, short_code: &ShortCode, secrets: &Secrets) -> numbind_sms_sim::Config {
    let oss_account = numbind_sms_sim::EsmeAccount::new("oss", &secrets.smsc_oss_password, vec![short_code.clone()]);
    let platform_account = numbind_sms_sim::EsmeAccount::new("platform", &secrets.smsc_platform_password, vec![]);
    numbind_sms_sim::Config::new(data_dir.join("smsc.db"), vec![oss_account, platform_account])
}

/// Holds each component's state lock for as long as `up` runs: a second `up`, or a component started alone on
/// this directory, is refused and told that `numbind up` has it.
fn lock_component_states(data_dir: &Path) -> anyhow::Result<Vec<numbind_process::data_dir::StateLock>> {
    ["platform", "oss", "smsc"]
        .into_iter()
        .map(|component| Ok(numbind_process::data_dir::lock_state(data_dir, component, "numbind up")?))
        .collect()
}

//! `numbind up`: the platform, the OSS and the SMS centre in one process on loopback, for local use.
//!
//! Each component keeps its own SQLite file in the data directory and talks to the others over real sockets
//! (HTTPS and SMPP over TLS), exactly as when they run as separate processes. Secrets, a local certificate
//! authority and the services' certificates are made on first start.

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
    /// SMS centre SMPP (plain, for third-party ESMEs on this machine).
    #[arg(long, env = "NUMBIND_SMSC_SMPP", default_value = "127.0.0.1:2775")]
    smsc_smpp: SocketAddr,
    /// SMS centre SMPP over TLS (the platform and the OSS bind here).
    #[arg(long, env = "NUMBIND_SMSC_SMPP_TLS", default_value = "127.0.0.1:3550")]
    smsc_smpp_tls: SocketAddr,
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
    smsc_smpp_tls: TcpListener,
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
    let authority = local_authority(&args)?;
    let listeners = bind_all(&args).await?;
    let addresses = Addresses {
        smpp_tls: listeners.smsc_smpp_tls.local_addr()?.to_string(),
        platform_url: format!("https://{}", listeners.platform_http.local_addr()?),
        oss_url: format!("https://{}", listeners.oss_http.local_addr()?),
    };
    let oss_secret = ComponentSecret::parse(&secrets.oss_platform)?;
    let smsc_link_tls = |address: &str| -> anyhow::Result<numbind_smpp::esme::EsmeTls> {
        let client_config = numbind_process::tls::client_config(&authority.authority_certificate())?;
        Ok(numbind_smpp::esme::EsmeTls::new(client_config, address)?)
    };
    let mut platform_config = platform_config(&args, &short_code, &oss_secret, &secrets, &addresses);
    platform_config.tls = Some(authority.service("platform"));
    platform_config.trusted_authorities = Some(authority.authority_certificate());
    if let Some(link) = platform_config.smsc.as_mut() {
        link.tls = Some(smsc_link_tls(&addresses.smpp_tls)?);
    }
    // The platform's key, certificate and database are ready before anything is announced.
    let platform = numbind_platform::prepare(platform_config).await?;
    let platform_key = platform.public_key();
    announce(&listeners, &platform_key.to_string(), &args.data_dir)?;

    let shutdown = CancellationToken::new();
    let mut components = JoinSet::new();
    let mut smsc_config = smsc_config(&args.data_dir, &short_code, &secrets);
    smsc_config.tls = Some(authority.service("smsc"));
    let smsc_listeners = numbind_sms_sim::Listeners {
        http: listeners.smsc_http,
        smpp: listeners.smsc_smpp,
        smpp_tls: Some(listeners.smsc_smpp_tls),
    };
    let token = shutdown.clone();
    components.spawn(async move {
        ("sms-sim", numbind_sms_sim::run(smsc_config, smsc_listeners, token.cancelled_owned()).await)
    });
    let token = shutdown.clone();
    components
        .spawn(async move { ("platform", platform.serve(listeners.platform_http, token.cancelled_owned()).await) });
    let mut oss_config = oss_config(&args.data_dir, short_code, oss_secret, &secrets, addresses);
    oss_config.tls = Some(authority.service("oss"));
    oss_config.trusted_authorities = Some(authority.authority_certificate());
    oss_config.smsc.tls = Some(smsc_link_tls(&oss_config.smsc.address)?);
    // The OSS refuses audit checkpoints not signed by this platform's key.
    oss_config.platform_keys = Some(numbind_wire::statement::PinnedPlatformKeys::new(vec![platform_key]));
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
        smsc_smpp_tls: bind(args.smsc_smpp_tls, "sms centre smpp over tls").await?,
        oss_http: bind(args.oss_http, "oss http").await?,
    })
}

fn announce(listeners: &Listeners, platform_key: &str, data_dir: &Path) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening platform-http={}", listeners.platform_http.local_addr()?)?;
    writeln!(stdout, "listening smsc-http={}", listeners.smsc_http.local_addr()?)?;
    writeln!(stdout, "listening smsc-smpp={}", listeners.smsc_smpp.local_addr()?)?;
    writeln!(stdout, "listening smsc-smpp-tls={}", listeners.smsc_smpp_tls.local_addr()?)?;
    writeln!(stdout, "listening oss-http={}", listeners.oss_http.local_addr()?)?;
    writeln!(stdout, "platform-key={platform_key}")?;
    writeln!(stdout, "platform-key-file={}", data_dir.join("platform-signing.key.pub").display())?;
    writeln!(stdout, "ca-file={}", data_dir.join("tls").join("ca.pem").display())?;
    stdout.flush()?;
    Ok(())
}

/// Where the components reach each other: every link over TLS.
struct Addresses {
    smpp_tls: String,
    platform_url: String,
    oss_url: String,
}

/// The services whose certificates the local authority issues.
pub(crate) const TLS_SERVICES: [&str; 3] = ["platform", "oss", "smsc"];

/// The local certificate authority in `<data-dir>/tls` (made on first start) and its service certificates, for
/// the loopback names and any other address the services are told to listen on.
fn local_authority(args: &UpArgs) -> anyhow::Result<numbind_process::local_authority::LocalAuthorityFiles> {
    let mut hosts = numbind_process::local_authority::loopback_hosts();
    for address in [args.platform_http, args.oss_http, args.smsc_smpp_tls] {
        let ip = address.ip();
        if !ip.is_loopback() && !ip.is_unspecified() && !hosts.contains(&ip.to_string()) {
            hosts.push(ip.to_string());
        }
    }
    let directory = args.data_dir.join("tls");
    numbind_process::local_authority::ensure_local_authority(&directory, &TLS_SERVICES, &hosts)
        .with_context(|| format!("the local certificate authority in {}", directory.display()))
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
        address: addresses.smpp_tls.clone(),
        system_id: "platform".into(),
        password: secrets.smsc_platform_password.clone(),
        tls: None,
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
        address: addresses.smpp_tls,
        system_id: "oss".into(),
        password: secrets.smsc_oss_password.clone(),
        tls: None,
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

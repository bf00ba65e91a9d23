//! The command line: `serve` runs the OSS; `subscriber ...`, `bindings` and `charges` are clients of its admin API.

mod admin;
mod billing;

pub use admin::{admin_token, AdminClientArgs, BindingsArgs, SubscriberArgs, SubscriberCommand, UP_ADMIN_TOKEN_FILE};
pub use billing::{ChargesArgs, LimitsCommand};

use crate::config::{Config, LinkConfig};
use anyhow::Context;
use numbind_process::cli::{ClientTlsArgs, ServerTlsArgs};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// The operator OSS: run it, or manage its subscribers and read its bindings.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Run the OSS: admin HTTP API, SMPP session to the SMS centre, SMS command processing.
    Serve(Box<ServeArgs>),
    /// Manage subscribers through the admin API.
    Subscriber(SubscriberArgs),
    /// List binding records through the admin API.
    Bindings(BindingsArgs),
    /// List the OSS's own records of charges and refunds through the admin API.
    Charges(ChargesArgs),
}

/// Run the OSS. Secrets come from files or environment variables, never from flag values.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Listen address of the admin HTTP API (port 0 picks one).
    #[arg(long, env = "NUMBIND_OSS_HTTP", default_value = "127.0.0.1:8082")]
    pub http: SocketAddr,
    /// Data directory; the database is `oss.db` inside it.
    #[arg(long, env = "NUMBIND_OSS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Base URL of the platform (`https://` needs `--ca-file`).
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "http://127.0.0.1:8080")]
    pub platform_url: String,
    /// File holding the HMAC secret shared with the platform (else the NUMBIND_OSS_SECRET variable).
    #[arg(long, env = "NUMBIND_OSS_SECRET_FILE")]
    pub platform_secret_file: Option<PathBuf>,
    /// The protocol of the link to the SMS centre: `smpp` (default) or `cmpp` (CMPP 3.0 over plain TCP, the
    /// system id being the 6-character SP code and the password file the shared secret).
    #[arg(long, env = "NUMBIND_SMSC_PROTOCOL", default_value = "smpp")]
    pub smsc_protocol: numbind_sms_link::LinkProtocol,
    /// `host:port` of the SMS centre's SMPP (or CMPP) listener.
    #[arg(long, env = "NUMBIND_SMSC_ADDRESS", default_value = "127.0.0.1:2775")]
    pub smsc_address: String,
    /// SMPP system_id of the OSS's account at the SMS centre.
    #[arg(long, env = "NUMBIND_SMSC_SYSTEM_ID", default_value = "oss")]
    pub smsc_system_id: String,
    /// File holding the SMPP password (else the NUMBIND_SMSC_PASSWORD variable).
    #[arg(long, env = "NUMBIND_SMSC_PASSWORD_FILE")]
    pub smsc_password_file: Option<PathBuf>,
    /// The short code users text; replies come from it.
    #[arg(long, env = "NUMBIND_SHORT_CODE", default_value = "10658000", value_parser = ShortCode::parse)]
    pub short_code: ShortCode,
    /// Insert the demo subscribers (idempotent).
    #[arg(long, env = "NUMBIND_OSS_SEED_DEMO")]
    pub seed_demo: bool,
    /// The province this OSS serves behind a national hub (ISO 3166-2:CN code: BJ, GD, ...): its demo
    /// subscribers' numbers are in that province's demo segments. Without it, the operator's one OSS.
    #[arg(long, env = "NUMBIND_OSS_PROVINCE", value_parser = numbind_routing::ProvinceCode::parse)]
    pub province: Option<numbind_routing::ProvinceCode>,
    /// File holding the admin API token (else the NUMBIND_OSS_ADMIN_TOKEN variable); without one the OSS refuses
    /// to start, unless --insecure-no-admin-token.
    #[arg(long, env = "NUMBIND_OSS_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    #[command(flatten)]
    pub client_tls: ClientTlsArgs,
    /// The platform's public key file (`platform-signing.key.pub`, one key per line): audit checkpoints whose
    /// signature does not verify with it are refused. Without it they are kept as delivered.
    #[arg(long, env = "NUMBIND_PLATFORM_PUBLIC_KEY_FILE")]
    pub platform_public_key_file: Option<PathBuf>,
    /// Serve the admin API to anyone who can connect, with no token: every subscriber's full number, and the power
    /// to lift a suspension. For a sealed lab only; logs a warning.
    #[arg(long, env = "NUMBIND_OSS_INSECURE_NO_ADMIN_TOKEN")]
    pub insecure_no_admin_token: bool,
    /// SMS commands of different numbers processed at once (1-1024); one number's commands always run in order.
    #[arg(long, env = "NUMBIND_OSS_COMMAND_CONCURRENCY", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub command_concurrency: u16,
}

/// Reads a secret from `file` (refused when others may read it), else from the environment variable `variable`;
/// `None` when neither is set.
pub(crate) fn read_secret(file: Option<&Path>, variable: &str) -> anyhow::Result<Option<String>> {
    let text = match file {
        Some(path) => numbind_process::data_dir::read_secret_file(path)?,
        None => match std::env::var(variable) {
            Ok(value) => value,
            Err(_) => return Ok(None),
        },
    };
    let trimmed = text.trim();
    anyhow::ensure!(!trimmed.is_empty(), "the secret from {variable} or its file is empty");
    Ok(Some(trimmed.to_owned()))
}

impl ServeArgs {
    /// Builds the `Config`, reading the secrets.
    pub fn to_config(&self) -> anyhow::Result<Config> {
        let secret = read_secret(self.platform_secret_file.as_deref(), "NUMBIND_OSS_SECRET")?
            .context("the platform secret is required: --platform-secret-file or NUMBIND_OSS_SECRET")?;
        let platform_secret = ComponentSecret::parse(&secret).context("platform secret")?;
        let password = read_secret(self.smsc_password_file.as_deref(), "NUMBIND_SMSC_PASSWORD")?
            .context("the smsc password is required: --smsc-password-file or NUMBIND_SMSC_PASSWORD")?;
        let url = reqwest::Url::parse(&self.platform_url).context("--platform-url")?;
        anyhow::ensure!(url.scheme() == "http" || url.scheme() == "https", "--platform-url must be http(s)");
        let mut smsc = LinkConfig::from_flags(self.smsc_protocol, &self.smsc_address, &self.smsc_system_id, password)?;
        if let (LinkConfig::Smpp(link), Some(client_config)) = (&mut smsc, self.client_tls.smsc_client_config()?) {
            link.tls = Some(numbind_smpp::esme::EsmeTls::new(client_config, &self.smsc_address)?);
        }
        let mut config = Config::new(
            self.data_dir.join("oss.db"),
            self.platform_url.clone(),
            platform_secret,
            self.short_code.clone(),
            smsc,
        );
        config.seed_demo_subscribers = self.seed_demo;
        config.province = self.province;
        config.command_concurrency = usize::from(self.command_concurrency);
        config.admin_token = read_secret(self.admin_token_file.as_deref(), "NUMBIND_OSS_ADMIN_TOKEN")?;
        config.trusted_authorities = self.client_tls.ca_file.clone();
        config.tls = self.tls.certificate_files();
        if let Some(path) = &self.platform_public_key_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let keys = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(numbind_wire::statement::PlatformPublicKey::parse)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("malformed platform public key in {}", path.display()))?;
            config.platform_keys = Some(numbind_wire::statement::PinnedPlatformKeys::new(keys));
        }
        config.insecure_no_admin_token = self.insecure_no_admin_token;
        Ok(config)
    }
}

/// Runs the command. Does not install a tracing subscriber (the binary does).
pub async fn main(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Serve(serve_args) => serve(*serve_args).await,
        Command::Subscriber(subscriber_args) => admin::subscriber(subscriber_args).await,
        Command::Bindings(bindings_args) => admin::bindings(bindings_args).await,
        Command::Charges(charges_args) => billing::charges(charges_args).await,
    }
}

/// Builds the config, binds, prints `listening http=...`, runs until SIGTERM or ctrl-c.
async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    numbind_process::data_dir::create_private_dir(&args.data_dir)?;
    let _lock = numbind_process::data_dir::lock_state(&args.data_dir, "oss", "numbind oss-sim serve")?;
    let listener = TcpListener::bind(args.http).await.with_context(|| format!("binding http {}", args.http))?;
    let stop = numbind_process::stop_signal();
    numbind_process::reload_signal::log_reload_requests(
        "the log level; TLS certificate files are re-read when they change; other settings apply at the next start",
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening http={}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    crate::run(config, listener, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser, Debug)]
    struct TestCli {
        #[command(flatten)]
        args: Args,
    }

    fn command_concurrency(value: &str) -> Result<u16, clap::Error> {
        let cli = TestCli::try_parse_from(["oss-sim", "serve", "--command-concurrency", value])?;
        match cli.args.command {
            Command::Serve(serve) => Ok(serve.command_concurrency),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn command_concurrency_is_refused_outside_one_to_1024() {
        assert_eq!(command_concurrency("8").unwrap(), 8);
        assert_eq!(command_concurrency("1024").unwrap(), 1024);
        for refused in ["0", "1025", "many"] {
            let error = command_concurrency(refused).unwrap_err();
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation, "{refused}: {error}");
        }
    }
}

//! The platform's command line: flags (each with an environment fallback) become a `Config`.

use crate::domain::statement_schedule::StatementDay;
use crate::{Config, LinkConfig};
use anyhow::Context;
use numbind_database::DatabaseLocation;
use numbind_process::cli::{ClientTlsArgs, ServerTlsArgs};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Run the numbind service platform.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// HTTP listen address (port 0 picks a free port).
    #[arg(long, env = "NUMBIND_PLATFORM_HTTP", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Directory holding `platform.db` and `platform-signing.key` (created if missing).
    #[arg(long, env = "NUMBIND_PLATFORM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database file (default: <data-dir>/platform.db).
    #[arg(long, env = "NUMBIND_PLATFORM_DATABASE")]
    pub database: Option<PathBuf>,
    /// Database as a URL: `postgres://user@host:port/name` (several hosts and `target_session_attrs=read-write`
    /// allowed) for PostgreSQL, or a file path or `sqlite:PATH` for SQLite (default: --database).
    #[arg(long, env = "NUMBIND_PLATFORM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Statement signing key, PKCS#8 (default: <data-dir>/platform-signing.key; created if missing).
    #[arg(long = "signing-key-file", env = "NUMBIND_SIGNING_KEY_FILE")]
    pub signing_key: Option<PathBuf>,
    /// The operator's short code that users text.
    #[arg(long, env = "NUMBIND_SHORT_CODE", default_value = "10658000")]
    pub short_code: String,
    /// File holding the secret the OSS authenticates with (else the NUMBIND_OSS_SECRET variable).
    #[arg(long, env = "NUMBIND_OSS_SECRET_FILE")]
    pub oss_secret_file: Option<PathBuf>,
    /// The protocol of the link to the SMS centre: `smpp` (default) or `cmpp` (CMPP 3.0 over plain TCP, the
    /// system id being the 6-character SP code and the password file the shared secret).
    #[arg(long, env = "NUMBIND_SMSC_PROTOCOL", default_value = "smpp")]
    pub smsc_protocol: numbind_sms_link::LinkProtocol,
    /// SMPP (or CMPP) address of the SMS centre (host:port); without it notification SMS stay queued.
    #[arg(long, env = "NUMBIND_SMSC_ADDRESS")]
    pub smsc_address: Option<String>,
    /// SMPP system_id of the platform's account at the SMS centre.
    #[arg(long, env = "NUMBIND_SMSC_SYSTEM_ID", default_value = "platform")]
    pub smsc_system_id: String,
    /// File holding the SMPP password (else the NUMBIND_SMSC_PASSWORD variable).
    #[arg(long, env = "NUMBIND_SMSC_PASSWORD_FILE")]
    pub smsc_password_file: Option<PathBuf>,
    /// Base URL of the OSS (`https://host:port`, or `http://` on a trusted network), told of operator unbindings
    /// and factory resets, asked for charges and refunds; without it those stay queued. At a national hub, one
    /// per province, repeated (or comma-separated): `BJ=https://host:port` (ISO 3166-2:CN codes), each
    /// province's work going to its own OSS (needs --segments-file); a URL without `PROVINCE=` then serves the
    /// numbers of no listed province.
    #[arg(long, env = "NUMBIND_OSS_URL", value_parser = parse_oss_url, value_delimiter = ',')]
    pub oss_url: Vec<OssUrl>,
    /// Segment table (CSV `segment,province`) of the hub: which province's OSS serves a number; each new binding
    /// records its province and the table's version. A malformed file refuses to start, naming its bad line.
    /// Without it, the version last imported with `numbind routing import`, if any, and each newer one within 2 s
    /// of its import.
    #[arg(long, env = "NUMBIND_SEGMENTS_FILE")]
    pub segments_file: Option<PathBuf>,
    /// Portability table (CSV `number,destination`, a province code or `left`): overrides the segment table.
    #[arg(long, env = "NUMBIND_PORTABILITY_FILE", requires = "segments_file")]
    pub portability_file: Option<PathBuf>,
    /// Base URL of the SMS centre's HTTP API (`http://host:port`), whose list of the messages the platform's
    /// account sent the console's payment reconciliation compares with the ledger; without it that side is not read.
    #[arg(long, env = "NUMBIND_SMSC_API_URL", value_parser = parse_base_url)]
    pub smsc_api_url: Option<String>,
    #[command(flatten)]
    pub tls: ServerTlsArgs,
    #[command(flatten)]
    pub client_tls: ClientTlsArgs,
    /// Life of an activation code, in seconds.
    #[arg(long, env = "NUMBIND_ACTIVATION_TTL_SECONDS", default_value_t = 600)]
    pub activation_ttl_seconds: u64,
    /// Payments of at least this many fen need the bound number's confirmation by SMS.
    #[arg(long, env = "NUMBIND_PAYMENT_CONFIRMATION_THRESHOLD", default_value_t = 3000)]
    payment_confirmation_threshold: i64,
    /// The national hub's limit for one charge, in fen: a payment above it is refused (`amount_over_national_limit`)
    /// before any province's OSS is asked; each province's own limits apply below it.
    #[arg(long, env = "NUMBIND_HUB_MAX_CHARGE_FEN", default_value_t = crate::domain::hub_checks::NationalChargeLimit::DEFAULT_FEN,
          value_parser = clap::value_parser!(i64).range(1..))]
    hub_max_charge_fen: i64,
    /// How long the bound number has to confirm a payment, in seconds.
    #[arg(long, env = "NUMBIND_PAYMENT_CONFIRMATION_TTL_SECONDS", default_value_t = 300)]
    payment_confirmation_ttl_seconds: u64,
    /// How long a merchant's Idempotency-Key is remembered, in days; older keys are forgotten.
    #[arg(long, env = "NUMBIND_IDEMPOTENCY_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    idempotency_retention_days: u64,
    /// Least interval between two polls of one activation, in seconds.
    #[arg(long, env = "NUMBIND_POLL_INTERVAL_SECONDS", default_value_t = 5)]
    pub poll_interval_seconds: u64,
    /// How often the audit chain's head is signed (when it moved) and sent to the OSS as a witness, in seconds.
    #[arg(long, env = "NUMBIND_AUDIT_CHECKPOINT_INTERVAL_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_checkpoint_interval_seconds: u64,
    /// Refuse registration of terminals missing from the imported manufacturer's manifest.
    #[arg(
        long,
        env = "NUMBIND_REQUIRE_MANIFEST",
        default_value_t = false,
        value_parser = clap::builder::BoolishValueParser::new(),
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub require_manifest: bool,
    /// Send the previous month's statement SMS once the day of the month N (1 to 28, UTC+8) begins, once per
    /// number and month (off unless given).
    #[arg(long, env = "NUMBIND_STATEMENT_DAY")]
    pub statement_day: Option<StatementDay>,
}

/// One `--oss-url`: a province's OSS (`BJ=https://...`) or the OSS of every other number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OssUrl {
    pub province: Option<numbind_routing::ProvinceCode>,
    pub url: String,
}

/// `[PROVINCE=]URL`.
fn parse_oss_url(text: &str) -> Result<OssUrl, String> {
    let (province, url) = numbind_routing::ProvinceCode::split_prefixed(text).map_err(|error| error.to_string())?;
    Ok(OssUrl { province, url: parse_base_url(url)? })
}

/// An `https://host[:port][/base]` URL, or `http://` for a component on a network the operator trusts.
fn parse_base_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("the url must start with https:// or http://")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.chars().any(|character| character.is_whitespace() || character.is_control()) {
        return Err("the url names no host".to_owned());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// A secret from `file` (refused when others may read it), else from the environment variable `variable`.
fn read_secret(file: Option<&Path>, variable: &str, what: &str) -> anyhow::Result<String> {
    match file {
        Some(path) => numbind_process::data_dir::read_secret_file(path).with_context(|| format!("the {what}")),
        None => std::env::var(variable)
            .map_err(|_| anyhow::anyhow!("the {what} is missing: give its file or set {variable}")),
    }
}

impl Args {
    /// `--oss-url` (national and per province) and the routing tables a hub needs.
    fn apply_oss_urls(&self, config: &mut Config) -> anyhow::Result<()> {
        for OssUrl { province, url } in &self.oss_url {
            let repeated = match province {
                None => config.oss_url.replace(url.clone()).is_some(),
                Some(province) => config.provincial_oss_urls.insert(*province, url.clone()).is_some(),
            };
            if repeated {
                let whose = province.map_or("the national oss".to_owned(), |province| format!("province {province}"));
                anyhow::bail!("--oss-url gives {whose} twice");
            }
        }
        if let Some(segments) = &self.segments_file {
            config.routing = Some(numbind_routing::RoutingTable::load(segments, self.portability_file.as_deref())?);
        }
        Ok(())
    }

    /// The `Config` these flags describe (secrets read from their files or the environment).
    pub fn to_config(&self) -> anyhow::Result<Config> {
        let short_code = ShortCode::parse(&self.short_code).context("--short-code")?;
        let secret_text = read_secret(self.oss_secret_file.as_deref(), "NUMBIND_OSS_SECRET", "oss secret")?;
        let oss_secret = ComponentSecret::parse(&secret_text).context("oss secret")?;
        let location =
            self.database_url.as_deref().map(DatabaseLocation::parse).transpose().context("--database-url")?;
        let database_path = match &location {
            Some(DatabaseLocation::Sqlite(path)) => path.clone(),
            _ => self.database.clone().unwrap_or_else(|| self.data_dir.join("platform.db")),
        };
        let mut config = Config::new(
            database_path,
            self.signing_key.clone().unwrap_or_else(|| self.data_dir.join("platform-signing.key")),
            short_code,
            oss_secret,
        );
        if let Some(location @ DatabaseLocation::Postgres(_)) = location {
            config.database_location = Some(location);
        }
        if let Some(address) = &self.smsc_address {
            let password = read_secret(self.smsc_password_file.as_deref(), "NUMBIND_SMSC_PASSWORD", "smsc password")?;
            let mut link = LinkConfig::from_flags(self.smsc_protocol, address, &self.smsc_system_id, password)?;
            if let (LinkConfig::Smpp(link), Some(client_config)) = (&mut link, self.client_tls.smsc_client_config()?) {
                link.tls = Some(numbind_smpp::esme::EsmeTls::new(client_config, address)?);
            }
            config.smsc = Some(link);
        }
        if self.activation_ttl_seconds < 2 || self.poll_interval_seconds == 0 {
            anyhow::bail!("--activation-ttl-seconds must be at least 2 and --poll-interval-seconds at least 1");
        }
        config.activation_ttl = Duration::from_secs(self.activation_ttl_seconds);
        config.poll_interval = Duration::from_secs(self.poll_interval_seconds);
        config.payment_confirmation_threshold = self.payment_confirmation_threshold;
        config.payment_confirmation_ttl = Duration::from_secs(self.payment_confirmation_ttl_seconds);
        config.national_charge_limit =
            crate::domain::hub_checks::NationalChargeLimit::from_fen(self.hub_max_charge_fen)
                .map_err(|reason| anyhow::anyhow!("--hub-max-charge-fen: {reason}"))?;
        config.idempotency_key_retention = Duration::from_secs(self.idempotency_retention_days * 24 * 60 * 60);
        config.audit_checkpoint_interval = Duration::from_secs(self.audit_checkpoint_interval_seconds);
        config.require_manifest = self.require_manifest;
        config.statement_day = self.statement_day;
        self.apply_oss_urls(&mut config)?;
        config.smsc_api_url = self.smsc_api_url.clone();
        config.trusted_authorities = self.client_tls.ca_file.clone();
        config.tls = self.tls.certificate_files();
        Ok(config)
    }
}

/// Builds the config, binds, prints `listening http=ADDR`, serves until SIGTERM or ctrl-c.
pub async fn main(args: Args) -> anyhow::Result<()> {
    let config = args.to_config()?;
    numbind_process::data_dir::create_private_dir(&args.data_dir)?;
    let _lock = numbind_process::data_dir::lock_state(&args.data_dir, "platform", "numbind platform")?;
    // The key (and its `.pub` beside it) exists and the database is open, checked and migrated before we
    // announce: "listening" means ready for boxes.
    let platform = crate::prepare(config).await?;
    let listener = bind(args.http).await?;
    let stop = numbind_process::stop_signal();
    numbind_process::reload_signal::log_reload_requests(
        "the log level; TLS certificate files are re-read when they change; other settings apply at the next start",
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening http={}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    platform.serve(listener, stop).await
}

async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address).with_context(|| format!("cannot bind http {address}"))?;
    Ok(socket.listen(4096)?)
}

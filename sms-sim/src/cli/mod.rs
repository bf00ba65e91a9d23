//! The command line: `serve` (run the SMS centre) and `phone` (send an SMS, read an inbox).

mod phone;

pub use phone::{phone, PhoneArgs, PhoneCommand};

use crate::config::{Config, ConfigFile};
use anyhow::Context;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;

/// Run the SMS centre: an SMPP 3.4 server for ESMEs and an HTTP API for phones.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Listen address of the phone HTTP API (port 0 picks one).
    #[arg(long, env = "NUMBIND_SMSC_HTTP", default_value = "127.0.0.1:8081")]
    pub http: SocketAddr,
    /// Listen address of the SMPP server (port 0 picks one).
    #[arg(long, env = "NUMBIND_SMSC_SMPP", default_value = "127.0.0.1:2775")]
    pub smpp: SocketAddr,
    /// Listen address of the CMPP 2.0/3.0 ISMG for `protocol = "cmpp"` accounts (port 0 picks one); none when
    /// not given.
    #[arg(long, env = "NUMBIND_SMSC_CMPP")]
    pub cmpp: Option<SocketAddr>,
    /// Data directory (made owner-only); the database is `smsc.db` inside it, beside the lock `smsc.lock`.
    #[arg(long, env = "NUMBIND_SMSC_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database file; overrides `--data-dir`.
    #[arg(long, env = "NUMBIND_SMSC_DATABASE")]
    pub database: Option<PathBuf>,
    /// Accounts file (TOML: `[[accounts]]` with system_id, password_file or password_env, routes).
    #[arg(long, env = "NUMBIND_SMSC_CONFIG")]
    pub config: PathBuf,
    /// First redelivery delay of a queued MO in milliseconds (doubles per attempt up to 30 s).
    #[arg(long, env = "NUMBIND_SMSC_REDELIVERY_MS")]
    pub redelivery_interval_ms: Option<u64>,
    /// Fault injection for tests: deliver every MO twice with the same SMSC message ID.
    #[arg(long, env = "NUMBIND_SMSC_DUPLICATE_MO")]
    pub duplicate_mo_deliveries: bool,
    /// Listen address of SMPP over TLS (port 0 picks one); needs --tls-certificate-file and --tls-key-file.
    #[arg(long, env = "NUMBIND_SMSC_SMPP_TLS", requires_all = ["tls_certificate_file", "tls_key_file"])]
    pub smpp_tls: Option<SocketAddr>,
    /// Segment table (CSV `segment,province`): routes the MO of a short code whose accounts name a `province`
    /// to the sender's home province; a malformed file refuses to start, naming its bad line. Read again (with
    /// the portability file) on SIGHUP: a good table is used from the next MO on and its version logged; a bad
    /// one is logged and the tables in use are kept.
    #[arg(long, env = "NUMBIND_SMSC_SEGMENTS_FILE")]
    pub segments_file: Option<PathBuf>,
    /// Portability table (CSV `number,destination`, a province code or `left`): overrides the segment table.
    #[arg(long, env = "NUMBIND_SMSC_PORTABILITY_FILE", requires = "segments_file")]
    pub portability_file: Option<PathBuf>,
    /// The certificate of the SMPP-over-TLS listener.
    #[command(flatten)]
    pub tls: numbind_process::cli::ServerTlsArgs,
}

impl ServeArgs {
    /// Reads the accounts file (and the passwords it points to) into a `Config`.
    pub fn to_config(&self) -> anyhow::Result<Config> {
        let file = ConfigFile::load_beside_flags(&self.config, &serve_flag_keys())?;
        let accounts = file.accounts()?;
        let database_path = self.database.clone().unwrap_or_else(|| self.data_dir.join("smsc.db"));
        let mut config = Config::new(database_path, accounts);
        if let Some(milliseconds) = self.redelivery_interval_ms.or(file.redelivery_interval_ms) {
            config.redelivery_interval = Duration::from_millis(milliseconds.max(1));
        }
        if let Some(max_queue) = file.max_queue {
            config.max_queue = max_queue;
        }
        config.duplicate_mo_deliveries = self.duplicate_mo_deliveries;
        config.tls = self.tls.certificate_files();
        if let Some(segments) = &self.segments_file {
            let source = crate::RoutingSource::files(segments.clone(), self.portability_file.clone());
            config.routing = Some(source.load()?);
            config.routing_source = Some(source);
        }
        Ok(config)
    }
}

/// The configuration file keys of `serve`'s flags (`data_dir` for `--data-dir`), and of the logging flags the
/// binary itself takes (`log_json`, `log_level`), which the same file may set.
fn serve_flag_keys() -> Vec<String> {
    use clap::Args;
    let command = ServeArgs::augment_args(clap::Command::new("serve"));
    let serve_keys =
        command.get_arguments().filter_map(|argument| argument.get_long()).map(|long| long.replace('-', "_"));
    serve_keys.chain(["log_json".to_owned(), "log_level".to_owned()]).collect()
}

/// Builds the config, binds, prints `listening http=...`, `listening smpp=...` (and `listening smpp-tls=...`,
/// `listening cmpp=...`),
/// runs until SIGTERM/ctrl-c.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    numbind_process::data_dir::create_private_dir(&args.data_dir)?;
    let _lock = numbind_process::data_dir::lock_state(&args.data_dir, "smsc", "numbind sms-sim")?;
    if let Some(parent) = config.database_path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let http_listener = TcpListener::bind(args.http).await.with_context(|| format!("binding http {}", args.http))?;
    let smpp_listener = TcpListener::bind(args.smpp).await.with_context(|| format!("binding smpp {}", args.smpp))?;
    let smpp_tls_listener = match args.smpp_tls {
        Some(address) => Some(TcpListener::bind(address).await.with_context(|| format!("binding smpp tls {address}"))?),
        None => None,
    };
    let cmpp_listener = match args.cmpp {
        Some(address) => Some(TcpListener::bind(address).await.with_context(|| format!("binding cmpp {address}"))?),
        None => None,
    };
    let stop = numbind_process::stop_signal();
    numbind_process::reload_signal::log_reload_requests(
        "the log level and the routing tables (--segments-file, --portability-file); TLS certificate files are \
         re-read when they change; other settings apply at the next start",
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening http={}", http_listener.local_addr()?)?;
    writeln!(stdout, "listening smpp={}", smpp_listener.local_addr()?)?;
    if let Some(listener) = &smpp_tls_listener {
        writeln!(stdout, "listening smpp-tls={}", listener.local_addr()?)?;
    }
    if let Some(listener) = &cmpp_listener {
        writeln!(stdout, "listening cmpp={}", listener.local_addr()?)?;
    }
    stdout.flush()?;
    drop(stdout);
    let listeners =
        crate::Listeners { http: http_listener, smpp: smpp_listener, smpp_tls: smpp_tls_listener, cmpp: cmpp_listener };
    crate::run(config, listeners, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_setting_the_binarys_logging_keys_is_still_a_valid_accounts_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("smsc.toml");
        std::fs::write(&path, "log_level = \"warn\"\nlog_json = true\nhttp = \"127.0.0.1:0\"\nmax_queue = 10\n")
            .unwrap();
        assert!(ConfigFile::load_beside_flags(&path, &serve_flag_keys()).is_ok());
        std::fs::write(&path, "log_levels = \"warn\"\n").unwrap();
        assert!(ConfigFile::load_beside_flags(&path, &serve_flag_keys()).is_err(), "other unknown keys stay refused");
    }
}

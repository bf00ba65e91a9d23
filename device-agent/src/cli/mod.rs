//! The `numbind-agent` CLI (`numbind agent ...`): flags, subcommands, and the glue to the library (`buy` in
//! `buy`, what is printed in `output`, where logs go in `logging`).

mod buy;
mod logging;
mod output;

pub use buy::{BuyArgs, EXIT_PURCHASE_CANCELLED, EXIT_PURCHASE_DENIED, EXIT_PURCHASE_EXPIRED};
pub use logging::init_logging;

use crate::display::qr::{render_qr_half_blocks, write_qr_png, write_qr_svg, QrTerminalColours};
use crate::{Agent, AgentConfig, AgentEvent, Language, PlatformPublicKey, TerminalIdentity};
use anyhow::Context;
use output::Output;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The device agent: shows a code and a QR code until a phone binds the box, or checks and resets it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the terminal key and the bound flag (created 0700).
    #[arg(long, env = "NUMBIND_AGENT_STATE_DIR", default_value = "./agent-state")]
    pub state_dir: PathBuf,
    /// The platform's base URL: https (trusting `--platform-ca-file`), or http to this machine only.
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "https://127.0.0.1:8080")]
    pub platform_url: String,
    /// PEM certificate authorities trusted for an https platform (no system roots); `numbind up` writes
    /// `data/tls/ca.pem`.
    #[arg(long, env = "NUMBIND_PLATFORM_CA_FILE")]
    pub platform_ca_file: Option<PathBuf>,
    /// Allow plain http to a platform that is not on this machine. Statements stay signed, but the network
    /// sees every request; each one logs a warning.
    #[arg(long, env = "NUMBIND_AGENT_INSECURE_HTTP")]
    pub insecure_http: bool,
    /// A pinned platform public key, `pk-...:<base64url>`; repeat it (or separate with commas) during a key roll.
    #[arg(long = "platform-key", env = "NUMBIND_PLATFORM_KEY", value_delimiter = ',', value_parser = parse_platform_key)]
    pub platform_keys: Vec<PlatformPublicKey>,
    /// A file of pinned platform public keys, one per line (`#` starts a comment).
    #[arg(long, env = "NUMBIND_PLATFORM_KEY_FILE")]
    pub platform_key_file: Option<PathBuf>,
    /// The device model, named in the user's confirmation SMS.
    #[arg(long, env = "NUMBIND_DEVICE_MODEL", default_value = "numbind STB-1")]
    pub device_model: String,
    /// Language of the texts shown: zh or en.
    #[arg(long = "lang", env = "NUMBIND_LANG", default_value = "zh", value_parser = parse_language)]
    pub language: Language,
    /// Print one JSON object per line on stdout instead of human text.
    #[arg(long, env = "NUMBIND_AGENT_JSON_EVENTS")]
    pub json_events: bool,
    /// A PKCS#8 terminal key injected at the factory, imported on first boot.
    #[arg(long, env = "NUMBIND_AGENT_FACTORY_KEY_FILE")]
    pub factory_key_file: Option<PathBuf>,
    /// Log on stderr: `-v` for what the agent does, `-vv` for every request. Without it (and without
    /// `RUST_LOG` or `--log-file`) the terminal shows only the box's screen.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Append logs to this file instead (at `-v`'s level unless `RUST_LOG` says otherwise).
    #[arg(long, env = "NUMBIND_AGENT_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Log level, as `RUST_LOG` directives (`warn`, `debug`); asks for logs on stderr (or in `--log-file`) at that
    /// level instead of `-v`'s. `RUST_LOG`, when set, wins. `watch` re-reads it from the configuration file on
    /// SIGHUP.
    #[arg(long, env = "NUMBIND_LOG_LEVEL", value_parser = numbind_process::log_level::parse_directives)]
    pub log_level: Option<String>,
    /// Seconds allowed for each request to the platform (a long-poll gets its wait on top).
    #[arg(long, env = "NUMBIND_AGENT_REQUEST_TIMEOUT_SECONDS", default_value_t = 10)]
    pub request_timeout_seconds: u64,
    #[command(subcommand)]
    pub command: AgentCommand,
}

/// What the agent does.
#[derive(Debug, clap::Subcommand)]
pub enum AgentCommand {
    /// Show the local flag, then ask the platform (signed) and make the flag match its answer.
    Status,
    /// Boot flow: show a code and a QR code until the box is bound; exits 0 once bound.
    Run(RunArgs),
    /// Factory reset: unbind at the platform and clear the flag (the identity stays).
    Reset,
    /// Print the terminal ID and public key (never the private key).
    ShowIdentity,
    /// Daemon: long-poll the signed status, which the platform answers as soon as the binding changes; clear the
    /// flag when it says unbound (event `unbound`), and keep going until SIGTERM or ctrl-c.
    Watch(WatchArgs),
    /// Buy on this box: sign the purchase, submit it as the merchant of `--merchant-credentials`, and show its
    /// progress and outcome (exit 0 when paid, 3 denied, 4 cancelled, 5 expired).
    Buy(BuyArgs),
}

/// Flags of `watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The long-poll's bound: how long the platform may hold each status check before answering "unchanged"
    /// (it caps this at its own bound; a change is answered at once).
    #[arg(long, env = "NUMBIND_AGENT_WATCH_INTERVAL_SECONDS", default_value_t = 25,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub interval_seconds: u64,
}

/// Flags of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Also write the QR code of the current activation to this PNG file.
    #[arg(long, env = "NUMBIND_AGENT_QR_PNG")]
    pub qr_png: Option<PathBuf>,
    /// Also write the QR code of the current activation to this SVG file.
    #[arg(long, env = "NUMBIND_AGENT_QR_SVG")]
    pub qr_svg: Option<PathBuf>,
    /// Exit with status 3 on the first denial instead of showing a new code.
    #[arg(long, env = "NUMBIND_AGENT_EXIT_ON_DENIED")]
    pub exit_on_denied: bool,
    /// Change the paying number: show a code even when bound; the binding it makes replaces the current one
    /// (the old number is told by SMS).
    #[arg(long, env = "NUMBIND_AGENT_CHANGE_NUMBER")]
    pub change_number: bool,
    /// Draw the terminal QR code without colour escapes (for terminals with a light background).
    #[arg(long, env = "NUMBIND_AGENT_PLAIN_QR")]
    pub plain_qr: bool,
}

/// The exit status of `run --exit-on-denied` when the binding is refused.
pub const EXIT_DENIED: i32 = 3;

fn parse_platform_key(text: &str) -> Result<PlatformPublicKey, String> {
    PlatformPublicKey::parse(text).map_err(|error| error.to_string())
}

fn parse_language(text: &str) -> Result<Language, String> {
    Language::parse(text).ok_or_else(|| format!("unknown language {text:?}; use zh or en"))
}

/// Runs one subcommand. Does not install a tracing subscriber. `run --exit-on-denied` ends the process
/// with status 3 on a denial.
pub async fn main(args: Args) -> anyhow::Result<()> {
    let mut output = Output::new(args.json_events, args.language);
    if let AgentCommand::ShowIdentity = args.command {
        let identity = TerminalIdentity::load_or_create(&args.state_dir, args.factory_key_file.as_deref())?;
        output.identity(identity.terminal_id(), &identity.public_key().to_string());
        return Ok(());
    }
    let agent = Agent::new(agent_config(&args)?).context("cannot start the device agent")?;
    match args.command {
        AgentCommand::Status => {
            let local_state = agent.local_state();
            let status = agent.check_status().await.context("status check failed")?;
            output.status(&local_state, &status);
        }
        AgentCommand::Reset => {
            agent.reset().await.context("factory reset failed")?;
            output.reset_done();
        }
        AgentCommand::Run(run_args) => run(&agent, &run_args, &mut output).await?,
        AgentCommand::Watch(ref watch_args) => watch(&args, agent, watch_args, &mut output).await?,
        AgentCommand::Buy(buy_args) => buy::buy(&agent, buy_args, &mut output).await?,
        AgentCommand::ShowIdentity => {}
    }
    Ok(())
}

fn agent_config(args: &Args) -> anyhow::Result<AgentConfig> {
    let mut platform_keys = args.platform_keys.clone();
    if let Some(path) = &args.platform_key_file {
        platform_keys.extend(read_platform_key_file(path)?);
    }
    let mut config = AgentConfig::new(&args.state_dir, &args.platform_url, platform_keys);
    config.device_model = args.device_model.clone();
    config.language = args.language;
    config.request_timeout = Duration::from_secs(args.request_timeout_seconds.max(1));
    config.factory_key_path = args.factory_key_file.clone();
    if let Some(path) = &args.platform_ca_file {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        config.platform_authorities_pem = Some(pem);
    }
    config.allow_insecure_http = args.insecure_http;
    Ok(config)
}

/// Reads one `pk-...:<base64url>` per line; blank lines and `#` comments are skipped.
fn read_platform_key_file(path: &Path) -> anyhow::Result<Vec<PlatformPublicKey>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = PlatformPublicKey::parse(line)
            .with_context(|| format!("{} line {}: not a platform public key", path.display(), index + 1))?;
        keys.push(key);
    }
    Ok(keys)
}

async fn run(agent: &Agent, run_args: &RunArgs, output: &mut Output) -> anyhow::Result<()> {
    let colours = if run_args.plain_qr { QrTerminalColours::Plain } else { QrTerminalColours::Ansi };
    let (denied_sender, mut denied_receiver) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut on_event = |event: AgentEvent| {
        if let AgentEvent::ActivationShown(display) = &event {
            write_qr_files(&display.qr_payload, run_args);
            output.event(&event);
            if !output.is_json() {
                match render_qr_half_blocks(&display.qr_payload, colours) {
                    Ok(text) => output.raw(&text),
                    Err(error) => tracing::warn!(%error, "cannot draw the qr code"),
                }
            }
            return;
        }
        output.event(&event);
        if run_args.exit_on_denied && matches!(event, AgentEvent::Denied { .. }) {
            let _ = denied_sender.send(());
        }
    };
    let boot = async {
        if run_args.change_number {
            agent.run_until_bound_replacing(&mut on_event).await
        } else {
            agent.run_until_bound(&mut on_event).await
        }
    };
    tokio::select! {
        result = boot => {
            result.context("the boot flow failed")?;
            Ok(())
        }
        Some(()) = denied_receiver.recv() => std::process::exit(EXIT_DENIED),
        () = numbind_process::stop_signal() => {
            tracing::info!("interrupted; stopping");
            Ok(())
        }
    }
}

/// `watch` until SIGTERM or ctrl-c. SIGHUP re-reads the pinned platform keys (`--platform-key-file`, and the
/// keys given as flags) and goes on with them; if they cannot be read, the keys in use stay and a warning says why.
/// It also reloads the log level from the configuration file (`log_level`), when logs are on.
async fn watch(args: &Args, agent: Agent, watch_args: &WatchArgs, output: &mut Output) -> anyhow::Result<()> {
    let interval = Duration::from_secs(watch_args.interval_seconds);
    let stop = numbind_process::stop_signal();
    tokio::pin!(stop);
    let mut reload = numbind_process::reload_signal::ReloadSignal::install();
    let mut agent = agent;
    loop {
        let mut on_event = |event: AgentEvent| output.event(&event);
        tokio::select! {
            result = agent.watch(interval, &mut on_event) => return result.context("the watch failed"),
            () = &mut stop => {
                tracing::info!("interrupted; stopping the watch");
                return Ok(());
            }
            () = reload.recv() => {}
        }
        match agent_config(args).and_then(|config| Agent::new(config).context("cannot restart the device agent")) {
            Ok(reloaded) => {
                tracing::info!(key_file = ?args.platform_key_file, "SIGHUP: pinned platform keys re-read");
                agent = reloaded;
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "SIGHUP: keys kept, the new ones cannot be used")
            }
        }
        numbind_process::log_level::reload_log_level_and_log();
    }
}

fn write_qr_files(payload: &str, run_args: &RunArgs) {
    if let Some(path) = &run_args.qr_png {
        if let Err(error) = write_qr_png(payload, path) {
            tracing::warn!(path = %path.display(), error = %crate::agent::error_chain(&error), "cannot write the qr png");
        }
    }
    if let Some(path) = &run_args.qr_svg {
        if let Err(error) = write_qr_svg(payload, path) {
            tracing::warn!(path = %path.display(), error = %crate::agent::error_chain(&error), "cannot write the qr svg");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn flags_parse_into_a_config_with_keys_from_flags_and_files() {
        let directory = tempfile::tempdir().unwrap();
        let (key, _) = numbind_wire::statement::PlatformSigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
        let (other, _) =
            numbind_wire::statement::PlatformSigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
        let key_file = directory.path().join("keys.pub");
        std::fs::write(&key_file, format!("# pinned\n{}\n\n", other.public_key())).unwrap();
        let key_text = key.public_key().to_string();
        let cli = TestCli::try_parse_from([
            "numbind-agent",
            "--platform-key",
            &key_text,
            "--platform-key-file",
            key_file.to_str().unwrap(),
            "--lang",
            "en",
            "run",
            "--exit-on-denied",
        ])
        .unwrap();
        let config = agent_config(&cli.args).unwrap();
        assert_eq!(config.platform_keys, vec![key.public_key(), other.public_key()]);
        assert_eq!(config.language, Language::En);
        assert!(matches!(cli.args.command, AgentCommand::Run(RunArgs { exit_on_denied: true, .. })));
    }

    #[test]
    fn a_malformed_key_or_language_is_refused_by_the_parser() {
        assert!(TestCli::try_parse_from(["numbind-agent", "--platform-key", "nope", "status"]).is_err());
        assert!(TestCli::try_parse_from(["numbind-agent", "--lang", "fr", "status"]).is_err());
    }

    #[test]
    fn a_key_file_with_a_bad_line_names_the_line() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("keys.pub");
        std::fs::write(&path, "# comment\njunk\n").unwrap();
        let error = read_platform_key_file(&path).unwrap_err();
        assert!(format!("{error:#}").contains("line 2"), "{error:#}");
    }
}

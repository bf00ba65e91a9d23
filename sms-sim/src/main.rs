//! The `numbind-sms-sim` binary: `serve` runs the SMS centre, `phone` acts as a handset.

use clap::{Parser, Subcommand};

/// numbind SMS centre: an SMPP 3.4 server for ESMEs and an HTTP API standing in for phones.
#[derive(Parser)]
#[command(name = "numbind-sms-sim", version, about)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    /// Log level, as `RUST_LOG` directives (`warn`, `debug`, `info,numbind_platform=debug`); `RUST_LOG`, when
    /// set, wins. Re-read from the configuration file on SIGHUP. Default `info`.
    #[arg(long, env = "NUMBIND_LOG_LEVEL", global = true, value_parser = numbind_process::log_level::parse_directives)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SMS centre.
    Serve(Box<numbind_sms_sim::cli::ServeArgs>),
    /// Act as a phone: send an SMS, read an inbox.
    Phone(numbind_sms_sim::cli::PhoneArgs),
}

/// Where the SMS centre's configuration file is named: its accounts file (`serve --config`), whose other keys set
/// the flags of `serve`.
const CONFIG_SOURCE: numbind_process::config_file::ConfigFileSource<'static> =
    numbind_process::config_file::ConfigFileSource {
        environment_variable: "NUMBIND_SMSC_CONFIG",
        subcommand: Some("serve"),
        own_keys: &["accounts", "max_queue"],
    };

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let (cli, config_file) = numbind_process::config_file::parse_with_config_file::<Cli>(&CONFIG_SOURCE);
    numbind_process::init_logging_at(
        cli.log_json,
        cli.log_level.as_deref(),
        numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES,
    );
    numbind_process::config_file::reload_log_level_from::<Cli>(CONFIG_SOURCE, |cli| cli.log_level.clone());
    if matches!(cli.command, Command::Serve(_)) {
        numbind_process::config_file::log_config_source(config_file.as_deref());
    }
    let outcome = match cli.command {
        Command::Serve(args) => numbind_sms_sim::cli::serve(*args).await,
        Command::Phone(args) => numbind_sms_sim::cli::phone(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

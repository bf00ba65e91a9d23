//! `numbind-agent`: the device agent's own binary; parses flags, installs logging (none by default: the terminal is
//! the box's screen), runs `cli::main`.

/// numbind device agent: binds this set-top box to the phone number that pays for it.
#[derive(Debug, clap::Parser)]
#[command(name = "numbind-agent", version, about, long_about = None)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    /// TOML configuration file whose keys are these flags (`state_dir = ...`, `[watch]` for `watch`'s); flags and
    /// environment override it.
    #[arg(long, env = "NUMBIND_AGENT_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    agent: numbind_device_agent::cli::Args,
}

/// Where the agent's configuration file is named; its top-level keys set the agent's own flags.
const CONFIG_SOURCE: numbind_process::config_file::ConfigFileSource<'static> =
    numbind_process::config_file::ConfigFileSource {
        environment_variable: "NUMBIND_AGENT_CONFIG",
        subcommand: None,
        own_keys: &[],
    };

#[tokio::main]
async fn main() {
    let (cli, config_file) = numbind_process::config_file::parse_with_config_file::<Cli>(&CONFIG_SOURCE);
    if let Err(error) = numbind_device_agent::cli::init_logging(&cli.agent, cli.log_json) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
    numbind_process::config_file::reload_log_level_from::<Cli>(CONFIG_SOURCE, |cli| cli.agent.log_level.clone());
    numbind_process::config_file::log_config_source(config_file.as_deref());
    if let Err(error) = numbind_device_agent::cli::main(cli.agent).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

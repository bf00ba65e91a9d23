//! `numbind-platform`: the service platform as its own process.

/// Run the numbind service platform.
#[derive(clap::Parser)]
#[command(name = "numbind-platform", version)]
struct MainArgs {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    log_json: bool,
    /// Log level, as `RUST_LOG` directives (`warn`, `debug`, `info,numbind_platform=debug`); `RUST_LOG`, when
    /// set, wins. Re-read from the configuration file on SIGHUP. Default `info`.
    #[arg(long, env = "NUMBIND_LOG_LEVEL", value_parser = numbind_process::log_level::parse_directives)]
    log_level: Option<String>,
    /// TOML configuration file whose keys are these flags (`data_dir = ...`); flags and environment override it.
    #[arg(long, env = "NUMBIND_PLATFORM_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    platform: numbind_platform::cli::Args,
}

/// Where the platform's configuration file is named (shared with the reference in `docs/CONFIGURATION.md`).
const CONFIG_SOURCE: numbind_process::config_file::ConfigFileSource<'static> =
    numbind_process::config_file::ConfigFileSource {
        environment_variable: "NUMBIND_PLATFORM_CONFIG",
        subcommand: None,
        own_keys: &[],
    };

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let (args, config_file) = numbind_process::config_file::parse_with_config_file::<MainArgs>(&CONFIG_SOURCE);
    numbind_process::init_logging_at(
        args.log_json,
        args.log_level.as_deref(),
        numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES,
    );
    numbind_process::config_file::reload_log_level_from::<MainArgs>(CONFIG_SOURCE, |args| args.log_level.clone());
    numbind_process::config_file::log_config_source(config_file.as_deref());
    debug_assert_eq!(args.config, config_file);
    if let Err(error) = numbind_platform::cli::main(args.platform).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

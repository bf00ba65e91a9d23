//! The `numbind-oss-sim` binary: sets up tracing, then hands over to `numbind_oss_sim::cli::main`.

/// numbind operator OSS: subscribers, the binding record of truth, and the users' SMS commands.
#[derive(clap::Parser)]
#[command(name = "numbind-oss-sim", version, about)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    /// Log level, as `RUST_LOG` directives (`warn`, `debug`, `info,numbind_platform=debug`); `RUST_LOG`, when
    /// set, wins. Re-read from the configuration file on SIGHUP. Default `info`.
    #[arg(long, env = "NUMBIND_LOG_LEVEL", global = true, value_parser = numbind_process::log_level::parse_directives)]
    log_level: Option<String>,
    /// TOML configuration file whose keys are `serve`'s flags (`data_dir = ...`); flags and environment override it.
    #[arg(long, env = "NUMBIND_OSS_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    args: numbind_oss_sim::cli::Args,
}

/// Where the OSS's configuration file is named; its keys set the flags of `serve`.
const CONFIG_SOURCE: numbind_process::config_file::ConfigFileSource<'static> =
    numbind_process::config_file::ConfigFileSource {
        environment_variable: "NUMBIND_OSS_CONFIG",
        subcommand: Some("serve"),
        own_keys: &[],
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
    numbind_process::config_file::log_config_source(config_file.as_deref());
    debug_assert_eq!(cli.config, config_file);
    if let Err(error) = numbind_oss_sim::cli::main(cli.args).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

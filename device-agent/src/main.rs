//! `numbind-agent`: the device agent's own binary; parses flags, installs logging, runs `cli::main`.

use clap::Parser;

/// numbind device agent: binds this set-top box to the phone number that pays for it.
#[derive(Debug, Parser)]
#[command(name = "numbind-agent", version, about, long_about = None)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    #[command(flatten)]
    agent: numbind_device_agent::cli::Args,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    numbind_process::init_logging(cli.log_json, numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES);
    if let Err(error) = numbind_device_agent::cli::main(cli.agent).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

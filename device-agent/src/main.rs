//! `numbind-agent`: the device agent's own binary; parses flags, installs logging, runs `cli::main`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

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

fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    if let Err(error) = numbind_device_agent::cli::main(cli.agent).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

//! The `numbind-oss-sim` binary: sets up tracing, then hands over to `numbind_oss_sim::cli::main`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// numbind operator OSS: subscribers, the binding record of truth, and the users' SMS commands.
#[derive(Parser)]
#[command(name = "numbind-oss-sim", version, about)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    #[command(flatten)]
    args: numbind_oss_sim::cli::Args,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cli.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    if let Err(error) = numbind_oss_sim::cli::main(cli.args).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

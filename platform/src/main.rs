//! `numbind-platform`: the service platform as its own process.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Run the numbind service platform.
#[derive(Parser)]
#[command(name = "numbind-platform", version)]
struct MainArgs {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    log_json: bool,
    #[command(flatten)]
    platform: numbind_platform::cli::Args,
}

#[tokio::main]
async fn main() {
    let args = MainArgs::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_json {
        subscriber.json().flatten_event(true).with_current_span(true).init();
    } else {
        subscriber.init();
    }
    if let Err(error) = numbind_platform::cli::main(args.platform).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

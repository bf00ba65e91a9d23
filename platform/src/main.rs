//! `numbind-platform`: the service platform as its own process.

use clap::Parser;

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

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let args = MainArgs::parse();
    numbind_process::init_logging(args.log_json, numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES);
    if let Err(error) = numbind_platform::cli::main(args.platform).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

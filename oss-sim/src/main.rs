//! The `numbind-oss-sim` binary: sets up tracing, then hands over to `numbind_oss_sim::cli::main`.

use clap::Parser;

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

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    numbind_process::init_logging(cli.log_json, numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES);
    if let Err(error) = numbind_oss_sim::cli::main(cli.args).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

//! `numbind-bench`: parses flags, runs `cli::main` (which installs the logging, as under `numbind bench`).

use clap::Parser;

/// numbind bench: numbind against its ceilings on this machine.
#[derive(Debug, Parser)]
#[command(name = "numbind-bench", version, about, long_about = None)]
struct Cli {
    /// Write the services' logs as JSON lines (into bench-services.log).
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    #[command(flatten)]
    bench: numbind_bench::cli::Args,
}

// The measured servers run in this process: they get the allocator their own binaries install.
#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(error) = numbind_bench::cli::main(cli.bench, cli.log_json).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

//! `numbind-bench`: parses flags, installs logging on stderr, runs `cli::main`.

use clap::Parser;

/// numbind bench: numbind against its ceilings on this machine.
#[derive(Debug, Parser)]
#[command(name = "numbind-bench", version, about, long_about = None)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    #[command(flatten)]
    bench: numbind_bench::cli::Args,
}

/// The measured components log every message at info; at that level logging would be part of the measurement.
const QUIET_COMPONENTS: &str =
    "info,numbind_platform=warn,numbind_sms_sim=warn,numbind_oss_sim=warn,numbind_smpp=warn,numbind_device_agent=warn";

fn init_tracing(json: bool) {
    numbind_process::init_logging(json, QUIET_COMPONENTS);
}

// The measured servers run in this process: they get the allocator their own binaries install.
#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    if let Err(error) = numbind_bench::cli::main(cli.bench).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

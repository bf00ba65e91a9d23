//! The `numbind-sms-sim` binary: `serve` runs the SMS centre, `phone` acts as a handset.

use clap::{Parser, Subcommand};

/// numbind SMS centre: an SMPP 3.4 server for ESMEs and an HTTP API standing in for phones.
#[derive(Parser)]
#[command(name = "numbind-sms-sim", version, about)]
struct Cli {
    /// Write logs as JSON lines on stderr.
    #[arg(long, env = "NUMBIND_LOG_JSON", global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SMS centre.
    Serve(numbind_sms_sim::cli::ServeArgs),
    /// Act as a phone: send an SMS, read an inbox.
    Phone(numbind_sms_sim::cli::PhoneArgs),
}

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    numbind_process::init_logging(cli.log_json, numbind_process::log_file::SERVICE_DEFAULT_DIRECTIVES);
    let outcome = match cli.command {
        Command::Serve(args) => numbind_sms_sim::cli::serve(args).await,
        Command::Phone(args) => numbind_sms_sim::cli::phone(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

//! `numbind-agent`: the device agent's own binary; parses flags, installs logging (none by default: the terminal is
//! the box's screen), runs `cli::main`.

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
    if let Err(error) = numbind_device_agent::cli::init_logging(&cli.agent, cli.log_json) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
    if let Err(error) = numbind_device_agent::cli::main(cli.agent).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

//! `numbind statements send --month 2026-12`: one statement SMS per number charged in the month, queued on the
//! platform's database (the running platform sends them); a rerun, or a run after a `kill -9`, queues only the
//! numbers not queued before.

use crate::operator_commands::PlatformData;
use numbind_process::progress::Audience;
use numbind_wire::BillingMonth;
use std::io::Write;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum StatementCommand {
    /// Queue the month's statement SMS to every number charged in it, once per number and month.
    Send(SendArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    data: PlatformData,
    /// The month, the operator's local one (UTC+8): `2026-12` or `202612`.
    #[arg(long, value_parser = parse_month)]
    month: BillingMonth,
    /// Print the counts as one JSON object (and draw no progress bar).
    #[arg(long)]
    json: bool,
}

fn parse_month(text: &str) -> Result<BillingMonth, String> {
    BillingMonth::parse(text).map_err(|error| error.to_string())
}

pub(crate) fn statements(command: StatementCommand) -> anyhow::Result<()> {
    match command {
        StatementCommand::Send(args) => {
            let audience = Audience::from_json_flag(args.json);
            let run =
                numbind_platform::statements::send_month_statements(&args.data.database_path(), args.month, audience)?;
            let mut stdout = std::io::stdout().lock();
            if args.json {
                writeln!(stdout, "{}", serde_json::to_string(&run)?)?;
            } else {
                writeln!(
                    stdout,
                    "statements of {}: {} numbers charged, {} queued now, {} queued before",
                    args.month, run.numbers, run.queued, run.already_queued
                )?;
            }
            Ok(())
        }
    }
}

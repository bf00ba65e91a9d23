//! `numbind routing import|show`: the national hub's segment and portability tables in the platform's database,
//! one version per import (`numbind_platform::routing_admin`).

use crate::operator_commands::PlatformData;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum RoutingCommand {
    /// Import the segment table (CSV `segment,province`) and, optionally, the portability table (CSV
    /// `number,destination`) as the next version, all or nothing: a malformed line imports nothing and is named.
    /// A platform started without --segments-file routes by the version last imported.
    Import {
        #[command(flatten)]
        data: PlatformData,
        /// The segment table.
        segments_file: PathBuf,
        /// The portability table.
        #[arg(long)]
        portability_file: Option<PathBuf>,
    },
    /// Show the active version: its number, content fingerprint, size and when it was imported.
    Show {
        #[command(flatten)]
        data: PlatformData,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn routing(command: RoutingCommand) -> anyhow::Result<()> {
    match command {
        RoutingCommand::Import { data, segments_file, portability_file } => {
            let now = numbind_process::clock::now_unix_seconds();
            let (outcome, fingerprint) = numbind_platform::routing_admin::import_routing_tables(
                &data.database_path(),
                &segments_file,
                portability_file.as_deref(),
                now,
            )?;
            let what = if outcome.new_version { "imported as" } else { "unchanged: already" };
            println!("routing tables {what} version {} (fingerprint {fingerprint})", outcome.version);
        }
        RoutingCommand::Show { data, json } => {
            let Some(active) = numbind_platform::routing_admin::active_routing_tables(&data.database_path())? else {
                anyhow::bail!("no routing tables were imported (numbind routing import SEGMENTS.csv)");
            };
            let document = serde_json::json!({
                "version": active.version,
                "fingerprint": active.table.fingerprint,
                "segments": active.table.segment_count,
                "ported_numbers": active.table.ported_count,
                "imported_at": active.imported_at,
            });
            if json {
                println!("{document}");
            } else {
                println!(
                    "version {} (fingerprint {}): {} segments, {} ported numbers, imported at {} (unix seconds)",
                    active.version,
                    active.table.fingerprint,
                    active.table.segment_count,
                    active.table.ported_count,
                    active.imported_at
                );
            }
        }
    }
    Ok(())
}

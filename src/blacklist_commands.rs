//! `numbind blacklist add|remove|list`: the national hub's blacklist in the platform's database
//! (`numbind_platform::blacklist_admin`); numbers are masked in everything printed.

use crate::operator_commands::PlatformData;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum BlacklistCommand {
    /// List a number on the national blacklist: the hub refuses its bindings and charges before any province is
    /// asked (audited, with who and why). The running platform applies it to its next check.
    Add {
        #[command(flatten)]
        data: PlatformData,
        /// The mobile number (`13800138000`, `+86 138 0013 8000`).
        number: String,
        /// Who makes the change (shown in the audit trail).
        #[arg(long)]
        operator: String,
        /// Why (shown in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Take a number off the national blacklist (audited, with who and why).
    Remove {
        #[command(flatten)]
        data: PlatformData,
        /// The mobile number.
        number: String,
        /// Who makes the change (shown in the audit trail).
        #[arg(long)]
        operator: String,
        /// Why (shown in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// The listed numbers, masked, oldest first.
    List {
        #[command(flatten)]
        data: PlatformData,
        /// As JSON lines.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn blacklist(command: BlacklistCommand) -> anyhow::Result<()> {
    use numbind_platform::blacklist_admin::{
        add_to_national_blacklist, national_blacklist, remove_from_national_blacklist,
    };
    match command {
        BlacklistCommand::Add { data, number, operator, reason } => {
            let (msisdn, added) = add_to_national_blacklist(&data.database_path(), &number, &operator, &reason)?;
            let what = if added { "added to" } else { "unchanged: already on" };
            println!("{} {what} the national blacklist", msisdn.masked());
        }
        BlacklistCommand::Remove { data, number, operator, reason } => {
            let (msisdn, removed) = remove_from_national_blacklist(&data.database_path(), &number, &operator, &reason)?;
            if !removed {
                anyhow::bail!("{} is not on the national blacklist", msisdn.masked());
            }
            println!("{} removed from the national blacklist", msisdn.masked());
        }
        BlacklistCommand::List { data, json } => {
            for entry in national_blacklist(&data.database_path())? {
                let masked = entry.msisdn.masked();
                if json {
                    let line = serde_json::json!({
                        "msisdn_masked": masked,
                        "reason": entry.reason,
                        "added_by": entry.added_by,
                        "added_at": entry.added_at,
                    });
                    println!("{line}");
                } else {
                    println!(
                        "{masked}  added at {} (unix seconds) by {}: {}",
                        entry.added_at, entry.added_by, entry.reason
                    );
                }
            }
        }
    }
    Ok(())
}

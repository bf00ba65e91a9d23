//! Operator commands that work on the platform's database file: audit verification, operator tokens, manifests.

use anyhow::Context;
use numbind_platform::operators::database_path_in;
use numbind_platform::OperatorRole;
use std::path::PathBuf;

/// Where the platform keeps its database.
#[derive(clap::Args, Debug)]
pub(crate) struct PlatformData {
    /// The platform's data directory (its database is `platform.db` inside).
    #[arg(long, env = "NUMBIND_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// The platform's database file, when it is not in the data directory (as the platform's `--database`).
    #[arg(long, env = "NUMBIND_PLATFORM_DATABASE")]
    database: Option<PathBuf>,
}

impl PlatformData {
    fn database_path(&self) -> PathBuf {
        self.database.clone().unwrap_or_else(|| database_path_in(&self.data_dir))
    }
}

/// The audit trail.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Walk the hash chain; name every edited, deleted, inserted or reordered event. Exits 1 if any.
    Verify(PlatformData),
}

/// Operator access and queries.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum OperatorCommand {
    /// Manage bearer tokens for the operator API and console.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Search bindings by number, terminal, state and time (numbers masked unless an admin reveals with a reason).
    Bindings(crate::operator_api::BindingSearch),
    /// A terminal's activations, bindings and audit events.
    History {
        #[command(flatten)]
        session: crate::operator_api::OperatorSession,
        /// The terminal ID.
        terminal_id: String,
    },
    /// Stream bindings or audit events as CSV or JSON Lines to stdout.
    Export {
        #[command(flatten)]
        session: crate::operator_api::OperatorSession,
        /// Which table.
        #[arg(value_enum)]
        table: crate::operator_api::ExportTable,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::operator_api::ExportFormat,
    },
}

#[derive(clap::Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create a token (printed once; only its hash is stored).
    Create {
        #[command(flatten)]
        data: PlatformData,
        /// Who holds it (shown in the audit trail).
        #[arg(long)]
        name: String,
        /// `auditor` (reads, numbers masked) or `admin` (also acts, may reveal a number with a reason).
        #[arg(long, value_parser = |text: &str| OperatorRole::parse(text).map_err(|error| error.to_string()))]
        role: OperatorRole,
    },
    /// Revoke a token by its ID or its holder's name.
    Revoke {
        #[command(flatten)]
        data: PlatformData,
        /// Token ID or holder name.
        token_id_or_name: String,
    },
}

/// A manufacturer's manifest of terminals.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ManifestCommand {
    /// Import terminal IDs and public keys (JSON or CSV), all or nothing.
    Import {
        #[command(flatten)]
        data: PlatformData,
        /// The manifest file.
        file: PathBuf,
    },
}

pub(crate) fn audit(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify(data) = command;
    let report = numbind_platform::verify_audit_chain(&data.database_path())?;
    println!("{report}");
    if !report.is_intact() {
        anyhow::bail!("the audit trail has been tampered with");
    }
    Ok(())
}

pub(crate) async fn operator(command: OperatorCommand) -> anyhow::Result<()> {
    let command = match command {
        OperatorCommand::Token(command) => command,
        OperatorCommand::Bindings(search) => return crate::operator_api::bindings(search).await,
        OperatorCommand::History { session, terminal_id } => {
            return crate::operator_api::history(session, terminal_id).await;
        }
        OperatorCommand::Export { session, table, format } => {
            return crate::operator_api::export(session, table, format).await;
        }
    };
    match command {
        TokenCommand::Create { data, name, role } => {
            let token = numbind_platform::create_operator_token(&data.database_path(), &name, role)?;
            println!("{token}");
        }
        TokenCommand::Revoke { data, token_id_or_name } => {
            let revoked = numbind_platform::revoke_operator_token(&data.database_path(), &token_id_or_name)?;
            if revoked == 0 {
                anyhow::bail!("no live token matches {token_id_or_name:?}");
            }
            println!("revoked {revoked} token(s)");
        }
    }
    Ok(())
}

pub(crate) fn manifest(command: ManifestCommand) -> anyhow::Result<()> {
    let ManifestCommand::Import { data, file } = command;
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let report = numbind_platform::manifest::import_manifest(&data.database_path(), &text)?;
    println!("manifest imported: {} added, {} already listed", report.added, report.unchanged);
    Ok(())
}

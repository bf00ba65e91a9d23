//! Operator commands that work on the platform's database file: audit verification, operator tokens, manifests.

use anyhow::Context;
use numbind_platform::domain::audit_mac::{AuditChainKey, MacCheck};
use numbind_platform::operators::database_path_in;
use numbind_platform::OperatorRole;
use numbind_wire::audit_checkpoint::{AuditCheckpointList, SignedAuditCheckpoint, OSS_AUDIT_CHECKPOINTS_PATH};
use std::path::PathBuf;

/// Where the platform keeps its database.
#[derive(clap::Args, Debug)]
pub(crate) struct PlatformData {
    /// The platform's data directory (its database is `platform.db` inside) [default: ./data]. Without the flag
    /// and NUMBIND_PLATFORM_DATA_DIR, the deprecated NUMBIND_DATA_DIR is read, with a warning.
    #[arg(long, env = "NUMBIND_PLATFORM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The platform's database file, when it is not in the data directory (as the platform's `--database`).
    #[arg(long, env = "NUMBIND_PLATFORM_DATABASE")]
    database: Option<PathBuf>,
    /// The audit key that MACs the audit events (default: `platform-audit.key` beside the database).
    #[arg(long, env = "NUMBIND_AUDIT_KEY_FILE")]
    audit_key_file: Option<PathBuf>,
}

/// The platform's data directory when neither `--data-dir` nor NUMBIND_PLATFORM_DATA_DIR names one.
const DEFAULT_PLATFORM_DATA_DIR: &str = "./data";

/// The variable these commands read for the platform's data directory before NUMBIND_PLATFORM_DATA_DIR, which the
/// platform itself reads; kept so that operators' scripts go on working.
const DEPRECATED_DATA_DIR_VARIABLE: &str = "NUMBIND_DATA_DIR";

impl PlatformData {
    /// `--data-dir`, else NUMBIND_PLATFORM_DATA_DIR, else the deprecated NUMBIND_DATA_DIR (said once on stderr),
    /// else `./data`.
    pub(crate) fn data_dir(&self) -> PathBuf {
        if let Some(data_dir) = &self.data_dir {
            return data_dir.clone();
        }
        match std::env::var_os(DEPRECATED_DATA_DIR_VARIABLE) {
            Some(data_dir) => {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    eprintln!(
                        "warning: {DEPRECATED_DATA_DIR_VARIABLE} is deprecated for the platform's data directory; \
                         set NUMBIND_PLATFORM_DATA_DIR (as the platform reads) or pass --data-dir"
                    );
                });
                PathBuf::from(data_dir)
            }
            None => PathBuf::from(DEFAULT_PLATFORM_DATA_DIR),
        }
    }

    pub(crate) fn database_path(&self) -> PathBuf {
        self.database.clone().unwrap_or_else(|| database_path_in(&self.data_dir()))
    }

    /// The audit key to check the events' MACs with: an `--audit-key-file` that cannot be read is an error; the
    /// default file is read when it can be (on the platform host), else `Err` says why the MACs go unchecked.
    fn audit_key_to_verify(&self) -> anyhow::Result<Result<AuditChainKey, String>> {
        match &self.audit_key_file {
            Some(path) => Ok(Ok(numbind_platform::read_audit_key(path)?)),
            None => {
                let default = numbind_platform::audit_key_path(&self.database_path());
                Ok(numbind_platform::read_audit_key(&default).map_err(|error| format!("{error:#}")))
            }
        }
    }
}

/// The audit trail.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Walk the hash chain and check it against the platform's signed checkpoints and, with --oss-url, the copies
    /// the OSS holds as a witness, and (when the audit key can be read) every event's MAC; name the
    /// first break and its kind, and the events not yet witnessed. Exits 1 on any break.
    Verify(AuditVerifyArgs),
}

/// Where the chain, the platform's public key and the witness are.
#[derive(clap::Args, Debug)]
pub(crate) struct AuditVerifyArgs {
    #[command(flatten)]
    data: PlatformData,
    /// The platform's public key file, one key per line (default: <data-dir>/platform-signing.key.pub).
    #[arg(long, env = "NUMBIND_PLATFORM_KEY_FILE")]
    platform_key_file: Option<PathBuf>,
    /// The OSS's admin API (`https://host:port`), to compare its copies of the checkpoints; without it only the
    /// platform's own copies are checked, which a writer of the database could have removed.
    #[arg(long, env = "NUMBIND_OSS_URL")]
    oss_url: Option<String>,
    /// PEM certificate authorities trusted for the OSS's https (default: <data-dir>/tls/ca.pem when it exists).
    #[arg(long, env = "NUMBIND_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// File holding the OSS admin token (else the NUMBIND_OSS_ADMIN_TOKEN variable, else the token `numbind up`
    /// keeps in <data-dir>/secrets/oss-admin.token).
    #[arg(long, env = "NUMBIND_OSS_ADMIN_TOKEN_FILE")]
    oss_admin_token_file: Option<PathBuf>,
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
    /// Revoke a terminal's active binding with a reason (admins): the number is told by SMS, the OSS at once.
    Unbind(crate::operator_actions::UnbindArgs),
    /// Search payments by payment, merchant, terminal, state or reference (numbers masked).
    Payments(crate::operator_actions::PaymentSearch),
    /// Refund a succeeded payment, in full or in part, with a reason (admins).
    Refund(crate::operator_actions::RefundArgs),
    /// The hash-chained audit trail, in order.
    AuditEvents(crate::operator_actions::AuditEventsArgs),
    /// Activations issued and refused per hour (last 24 hours) or per day (last 14 days).
    Activity(crate::operator_actions::ActivityArgs),
    /// Users' disputes of their charges: list them, resolve one (refund, or reject with a reason).
    #[command(subcommand)]
    Disputes(crate::operator_disputes::DisputeCommand),
    /// Stream bindings, audit events, payments, refunds or disputes as CSV or JSON Lines to stdout (`--json`: JSON
    /// Lines).
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
        /// Print `{"token": ...}` instead of the bare token.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its ID or its holder's name.
    Revoke {
        #[command(flatten)]
        data: PlatformData,
        /// Token ID or holder name.
        token_id_or_name: String,
        /// Print `{"revoked": N}` instead of a sentence.
        #[arg(long)]
        json: bool,
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

pub(crate) async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify(args) = command;
    let key_path =
        args.platform_key_file.clone().unwrap_or_else(|| args.data.data_dir().join("platform-signing.key.pub"));
    let oss_checkpoints = match &args.oss_url {
        Some(url) => {
            let token = numbind_oss_sim::cli::admin_token(args.oss_admin_token_file.as_deref(), &args.data.data_dir())?;
            let local_authority = args.data.data_dir().join("tls").join("ca.pem");
            let ca_file = args.ca_file.clone().or_else(|| local_authority.exists().then_some(local_authority));
            let http = numbind_process::tls::http_client_builder(ca_file.as_deref())?
                .timeout(std::time::Duration::from_secs(30))
                .build()?;
            Some(oss_audit_checkpoints(&http, url, token.as_deref()).await?)
        }
        None => None,
    };
    let audit_key = args.data.audit_key_to_verify()?;
    let mut report = numbind_platform::verify_audit_trail(
        &args.data.database_path(),
        &key_path,
        oss_checkpoints.as_deref(),
        audit_key.as_ref().ok(),
    )?;
    if let Err(reason) = audit_key {
        let reason = format!("{reason} (run on the platform host, or pass --audit-key-file)");
        report.mac_check = MacCheck::NotChecked { reason };
    }
    println!("{report}");
    if !report.is_intact() {
        anyhow::bail!("the audit trail has been tampered with");
    }
    Ok(())
}

/// Every checkpoint the OSS holds, a page at a time.
async fn oss_audit_checkpoints(
    http: &reqwest::Client,
    oss_url: &str,
    token: Option<&str>,
) -> anyhow::Result<Vec<SignedAuditCheckpoint>> {
    let (mut checkpoints, mut after_sequence) = (Vec::new(), 0i64);
    loop {
        let url =
            format!("{}{OSS_AUDIT_CHECKPOINTS_PATH}?after_sequence={after_sequence}", oss_url.trim_end_matches('/'));
        let mut request = http.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "{url} answered {status}");
        let page: AuditCheckpointList =
            response.json().await.with_context(|| format!("{url} answered no checkpoints"))?;
        let Some(last) = page.checkpoints.last() else { return Ok(checkpoints) };
        let last_sequence = last.claimed().context("the oss holds a malformed checkpoint")?.sequence;
        anyhow::ensure!(last_sequence > after_sequence, "{url} answered checkpoints out of order");
        after_sequence = last_sequence;
        checkpoints.extend(page.checkpoints);
    }
}

pub(crate) async fn operator(command: OperatorCommand) -> anyhow::Result<()> {
    let command = match command {
        OperatorCommand::Token(command) => command,
        OperatorCommand::Bindings(search) => return crate::operator_api::bindings(search).await,
        OperatorCommand::Disputes(command) => return crate::operator_disputes::disputes(command).await,
        OperatorCommand::History { session, terminal_id } => {
            return crate::operator_api::history(session, terminal_id).await;
        }
        OperatorCommand::Unbind(args) => return crate::operator_actions::unbind(args).await,
        OperatorCommand::Payments(search) => return crate::operator_actions::payments(search).await,
        OperatorCommand::Refund(args) => return crate::operator_actions::refund(args).await,
        OperatorCommand::AuditEvents(args) => return crate::operator_actions::audit_events(args).await,
        OperatorCommand::Activity(args) => return crate::operator_actions::activity(args).await,
        OperatorCommand::Export { session, table, format } => {
            let format = if session.json { crate::operator_api::ExportFormat::Jsonl } else { format };
            return crate::operator_api::export(session, table, format).await;
        }
    };
    match command {
        TokenCommand::Create { data, name, role, json } => {
            let token = numbind_platform::create_operator_token(&data.database_path(), &name, role)?;
            match json {
                true => println!("{}", serde_json::json!({ "token": token.to_string() })),
                false => println!("{token}"),
            }
        }
        TokenCommand::Revoke { data, token_id_or_name, json } => {
            let revoked = numbind_platform::revoke_operator_token(&data.database_path(), &token_id_or_name)?;
            if revoked == 0 {
                anyhow::bail!("no live token matches {token_id_or_name:?}");
            }
            match json {
                true => println!("{}", serde_json::json!({ "revoked": revoked })),
                false => println!("revoked {revoked} token(s)"),
            }
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

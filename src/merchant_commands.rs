//! `numbind merchant create|list|revoke`: merchants and their payments API tokens, on the platform's database.

use crate::operator_commands::PlatformData;
use anyhow::Context;
use numbind_platform::merchant_admin::{
    create_merchant, list_merchants, revoke_merchant, write_merchant_credentials, MerchantCredentials, NewMerchant,
};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum MerchantCommand {
    /// Create a merchant; its bearer token is printed once (only its SHA-256 is stored).
    Create(CreateArgs),
    /// List merchants (never their tokens).
    List {
        #[command(flatten)]
        data: PlatformData,
    },
    /// Revoke a merchant's token: its calls are refused from now on.
    Revoke {
        #[command(flatten)]
        data: PlatformData,
        /// The merchant ID.
        #[arg(long)]
        name: String,
    },
}

#[derive(clap::Args, Debug)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    data: PlatformData,
    /// The merchant ID: 3 to 32 of a-z, 0-9 and -, starting with a letter (`demo-films`).
    #[arg(long)]
    name: String,
    /// The name the user reads in SMS: 1 to 20 characters (`演示影院`).
    #[arg(long)]
    display_name: String,
    /// Where the merchant's signed events are POSTed (https only).
    #[arg(long)]
    webhook_url: Option<String>,
    /// Accept an http:// webhook URL (tests on loopback only).
    #[arg(long)]
    insecure_http_webhook: bool,
    /// Write `{merchant_id, token, platform_url, ca_file}` to this new owner-only file instead of printing the token.
    #[arg(long)]
    credentials_file: Option<PathBuf>,
    /// The platform's URL written in the credentials file.
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "https://127.0.0.1:8080")]
    platform_url: String,
    /// The CA file written in the credentials file (default: <data-dir>/tls/ca.pem when it exists).
    #[arg(long, env = "NUMBIND_CA_FILE")]
    ca_file: Option<PathBuf>,
}

pub(crate) fn merchant(command: MerchantCommand) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match command {
        MerchantCommand::Create(args) => create(args, &mut stdout),
        MerchantCommand::List { data } => {
            for merchant in list_merchants(&data.database_path())? {
                let state = if merchant.revoked_at.is_some() { "revoked" } else { "live" };
                let webhook = merchant.webhook_url.as_deref().unwrap_or("-");
                writeln!(stdout, "{}\t{}\t{state}\t{webhook}", merchant.merchant_id, merchant.display_name)?;
            }
            Ok(())
        }
        MerchantCommand::Revoke { data, name } => {
            if !revoke_merchant(&data.database_path(), &name)? {
                anyhow::bail!("merchant {name} has no live token");
            }
            writeln!(stdout, "revoked {name}")?;
            Ok(())
        }
    }
}

fn create(args: CreateArgs, stdout: &mut impl Write) -> anyhow::Result<()> {
    let request = NewMerchant {
        merchant_id: &args.name,
        display_name: &args.display_name,
        webhook_url: args.webhook_url.as_deref(),
        allow_insecure_http_webhook: args.insecure_http_webhook,
    };
    let token = create_merchant(&args.data.database_path(), &request).context("cannot create the merchant")?;
    let Some(path) = &args.credentials_file else {
        writeln!(stdout, "{token}")?;
        return Ok(());
    };
    let local_authority = args.data.data_dir().join("tls").join("ca.pem");
    let ca_file = args.ca_file.clone().or_else(|| local_authority.exists().then_some(local_authority));
    let credentials =
        MerchantCredentials { merchant_id: args.name.clone(), token, platform_url: args.platform_url.clone(), ca_file };
    write_merchant_credentials(path, &credentials)?;
    writeln!(stdout, "merchant-credentials={}", path.display())?;
    Ok(())
}

//! `buy`: signs a purchase on this box and plays its merchant with a credentials file, then follows the payment
//! and prints each stage and the outcome in words. Exit status 0 when paid, 3 denied, 4 cancelled, 5 expired.

use super::output::Output;
use crate::clients::merchant::{HttpMerchantChannel, MerchantClient, MerchantCredentials};
use crate::{Agent, PurchaseOutcome, PurchaseRequest};
use anyhow::Context;
use numbind_wire::{Amount, Currency, ItemDescription, ItemId};
use std::path::PathBuf;

/// Exit statuses of `buy` when the purchase ends unpaid.
pub const EXIT_PURCHASE_DENIED: i32 = 3;
pub const EXIT_PURCHASE_CANCELLED: i32 = 4;
pub const EXIT_PURCHASE_EXPIRED: i32 = 5;

/// Flags of `buy`.
#[derive(Debug, clap::Args)]
pub struct BuyArgs {
    /// The merchant's credentials file (JSON: merchant_id, token, platform_url, ca_file).
    #[arg(long, env = "NUMBIND_MERCHANT_CREDENTIALS")]
    pub merchant_credentials: PathBuf,
    /// The merchant's item ID: `film-4412`.
    #[arg(long, env = "NUMBIND_BUY_ITEM", value_parser = ItemId::parse)]
    pub item: ItemId,
    /// What the user reads in the SMS and on the receipt: `《流浪地球》高清`.
    #[arg(long, env = "NUMBIND_BUY_DESCRIPTION", value_parser = ItemDescription::parse)]
    pub description: ItemDescription,
    /// The amount in major units, exactly: `5.00`.
    #[arg(long, env = "NUMBIND_BUY_AMOUNT")]
    pub amount: String,
    /// The ISO 4217 currency.
    #[arg(long, env = "NUMBIND_BUY_CURRENCY", default_value = "CNY", value_parser = Currency::parse)]
    pub currency: Currency,
    /// The merchant's own reference for the sale (its order number); a fresh one when not given.
    #[arg(long, env = "NUMBIND_BUY_REFERENCE_CODE")]
    pub reference_code: Option<String>,
}

pub(super) async fn buy(agent: &Agent, args: BuyArgs, output: &mut Output) -> anyhow::Result<()> {
    let amount = Amount::parse_decimal(&args.amount, args.currency).context("--amount")?;
    let credentials = MerchantCredentials::load(&args.merchant_credentials)?;
    let client = MerchantClient::new(credentials).context("the merchant client")?;
    let reference_code = match args.reference_code {
        Some(reference_code) => reference_code,
        None => format!("order-{}", numbind_wire::request_signing::new_nonce(&ring::rand::SystemRandom::new())?),
    };
    let request = PurchaseRequest {
        merchant_id: client.merchant_id().clone(),
        item_id: args.item,
        item_description: args.description,
        amount,
        currency: args.currency,
    };
    output.purchase_started(&request);
    let channel = HttpMerchantChannel { client: &client, reference_code };
    let purchase = agent.purchase(request, &channel, |progress| output.purchase_progress(&progress));
    let outcome = tokio::select! {
        outcome = purchase => outcome.context("the purchase failed")?,
        () = numbind_process::stop_signal() => anyhow::bail!("interrupted: the payment goes on without this screen"),
    };
    output.purchase_outcome(&outcome);
    match outcome {
        PurchaseOutcome::Succeeded { .. } => Ok(()),
        PurchaseOutcome::Denied { .. } => std::process::exit(EXIT_PURCHASE_DENIED),
        PurchaseOutcome::Cancelled { .. } => std::process::exit(EXIT_PURCHASE_CANCELLED),
        _ => std::process::exit(EXIT_PURCHASE_EXPIRED),
    }
}

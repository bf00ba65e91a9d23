//! `numbind reconcile payments --date 2026-12-07`: three-way reconciliation of a billing day (China Standard
//! Time). The platform's ledger (`GET /v1/operator/payment-ledger`), the OSS's bill lines (`GET /v1/charges?day=`)
//! and the SMS centre's record of the receipts the platform sent (`GET /v1/accounts/platform/sent-messages`,
//! found by their client reference `rcpt-<payment or refund ID>`) are compared by the platform's own
//! `compare_payment_records` (the console's reconciliation page shows the same), and every difference is named by
//! kind with the payment, the masked number, the time and the merchant. An operator's adjustment of a difference
//! (made with `numbind reconcile payments repair`, in `reconcile_repair`) settles it.

use crate::reconcile::{get_json, Ledgers, EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::reconcile_repair::{repair_difference, RepairArgs};
use crate::settlement::Ledger;
use anyhow::Context;
use numbind_platform::domain::payment_reconciliation::{
    compare_payment_records, AdjustedDifference, BillLine, PaymentDifference, PlatformRecord, PlatformSide, SentMessage,
};
use numbind_process::civil_date::CivilDate;
use numbind_process::progress::{Audience, Progress};

/// `numbind reconcile payments`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct PaymentsArgs {
    #[command(subcommand)]
    repair: Option<PaymentsCommand>,
    #[command(flatten)]
    ledgers: Ledgers,
    /// The SMS centre's HTTP API.
    #[arg(long, env = "NUMBIND_SMSC_URL", default_value = "http://127.0.0.1:8081")]
    smsc_url: String,
    /// The billing day (China Standard Time), `2026-12-07`.
    #[arg(long)]
    date: Option<CivilDate>,
    /// Print the result as one JSON object (and no progress bar).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum PaymentsCommand {
    /// Repair one difference: `redrive-billing` (a charge or refund the OSS lacks), `resend-receipt`, or
    /// `adjust` with the difference's kind and a reason (audited).
    Repair(RepairArgs),
}

/// The platform's side of the comparison, borrowed from its ledger.
fn platform_side(ledger: &Ledger) -> PlatformSide<'_> {
    let records = ledger
        .entries
        .iter()
        .map(|entry| PlatformRecord {
            record_id: &entry.record_id,
            payment_id: &entry.payment_id,
            merchant_id: &entry.merchant_id,
            msisdn_masked: entry.msisdn_masked.as_deref(),
            amount_fen: entry.amount_fen,
            settled_at_unix_seconds: entry.settled_at_unix_seconds,
            receipt_references: entry.receipts.iter().map(|receipt| receipt.outbox_id.as_str()).collect(),
        })
        .collect();
    let adjustments = ledger
        .adjustments
        .iter()
        .map(|adjustment| AdjustedDifference { record_id: &adjustment.record_id, difference: &adjustment.difference })
        .collect();
    PlatformSide { records, adjustments }
}

/// Runs `numbind reconcile payments [repair]`; the exit code when it could compare.
pub(crate) async fn payments(args: PaymentsArgs) -> anyhow::Result<i32> {
    if let Some(PaymentsCommand::Repair(repair)) = args.repair {
        return repair_difference(repair).await;
    }
    let date = args.date.context("--date is needed: the billing day to reconcile, 2026-12-07")?;
    let connection = args.ledgers.connect()?;
    let progress = Progress::start("reading the platform's ledger", Some(3), Audience::from_json_flag(args.json));
    let platform_url =
        format!("{}/v1/operator/payment-ledger?day={date}", args.ledgers.platform_url.trim_end_matches('/'));
    let ledger: Ledger =
        serde_json::from_value(get_json(&connection.http, &platform_url, Some(&connection.operator_token)).await?)
            .context("the platform's ledger is not the documented JSON")?;
    progress.advance(1);
    progress.say("reading the OSS's bill lines");
    // At a hub every province's OSS keeps its own bill lines: the day's are all of theirs together.
    let mut bills: Vec<BillLine> = Vec::new();
    for oss_url in &args.ledgers.oss_url {
        let url = oss_url.url(&format!("/v1/charges?day={date}&limit=5000"));
        let lines: Vec<BillLine> = serde_json::from_value(
            get_json(&connection.http, &url, connection.oss_token.as_deref()).await?["records"].take(),
        )
        .context("the OSS's bill lines are not the documented JSON")?;
        bills.extend(lines);
    }
    progress.advance(1);
    progress.say("reading the SMS centre's record of the receipts");
    let smsc_url = format!("{}/v1/accounts/platform/sent-messages?day={date}", args.smsc_url.trim_end_matches('/'));
    let sent: Vec<SentMessage> =
        serde_json::from_value(get_json(&connection.http, &smsc_url, None).await?["messages"].take())
            .context("the SMS centre's list is not the documented JSON")?;
    progress.advance(1);
    progress.finish();
    let differences = compare_payment_records(&platform_side(&ledger), &bills, &sent);
    print_result(date, &ledger, &bills, &sent, &differences, args.json);
    Ok(if differences.is_empty() { EXIT_CLEAN } else { EXIT_DIFFERENCES })
}

fn print_result(
    date: CivilDate,
    ledger: &Ledger,
    bills: &[BillLine],
    sent: &[SentMessage],
    differences: &[PaymentDifference],
    json: bool,
) {
    let receipts = sent.iter().filter(|message| message.is_receipt()).count();
    if json {
        let summary = serde_json::json!({
            "day": date.to_string(), "platform_entries": ledger.entries.len(), "bill_lines": bills.len(),
            "receipts_sent": receipts, "adjustments": ledger.adjustments.len(), "differences": differences
        });
        println!("{summary}");
        return;
    }
    println!(
        "{date}: platform {} charges and refunds; billing {} bill lines; SMS centre {receipts} receipts; {} adjusted",
        ledger.entries.len(),
        bills.len(),
        ledger.adjustments.len()
    );
    for difference in differences {
        println!(
            "difference: {} {} (payment {}) number {} at {} merchant {}: {}; repair: {}",
            difference.kind.as_str(),
            difference.record_id,
            difference.payment_id,
            difference.msisdn_masked.as_deref().unwrap_or("-"),
            difference.at,
            difference.merchant_id.as_deref().unwrap_or("-"),
            difference.detail,
            difference.repair.command_line_action()
        );
    }
}

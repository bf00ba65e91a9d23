//! `numbind reconcile payments --date 2026-12-07`: three-way reconciliation of a billing day (China Standard
//! Time). The platform's ledger (`GET /v1/operator/payment-ledger`), the OSS's bill lines (`GET /v1/charges?day=`)
//! and the SMS centre's record of the receipts the platform sent (`GET /v1/accounts/platform/sent-messages`,
//! found by their client reference `rcpt-<payment or refund ID>`) are compared, and every difference is named by
//! kind with the payment, the masked number, the time and the merchant. An operator's adjustment of a difference
//! (made with `numbind reconcile payments repair`, in `reconcile_repair`) settles it.

use crate::reconcile::{get_json, local_time, masked, Ledgers, EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::reconcile_repair::{repair_difference, RepairArgs};
use crate::settlement::{Ledger, LedgerEntry};
use anyhow::Context;
use numbind_process::civil_date::CivilDate;
use numbind_process::progress::{Audience, Progress};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// One line of the OSS's ledger (`GET /v1/charges`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct BillLine {
    kind: String,
    payment_id: String,
    refund_id: Option<String>,
    msisdn: String,
    merchant_id: Option<String>,
    amount_fen: i64,
    outcome: String,
    created_at_unix_ms: i64,
}

impl BillLine {
    fn record_id(&self) -> &str {
        self.refund_id.as_deref().unwrap_or(&self.payment_id)
    }

    fn applied(&self) -> bool {
        matches!(self.outcome.as_str(), "charged" | "refunded")
    }
}

/// One message the SMS centre holds as sent by the platform.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct SentMessage {
    message_id: String,
    client_reference: Option<String>,
    msisdn_masked: String,
    state: String,
    created_at_unix_ms: i64,
}

/// One difference, naming the record, its payment, the masked number, the time and the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PaymentDifference {
    kind: &'static str,
    record_id: String,
    payment_id: String,
    msisdn_masked: Option<String>,
    at: String,
    merchant_id: Option<String>,
    detail: String,
    /// The repair that fits (`numbind reconcile payments repair --action ...`).
    repair: &'static str,
}

/// The payment or refund ID a receipt's client reference (`rcpt-<id>` or `rcpt-<id>-<n>`) names.
fn receipt_record(client_reference: &str) -> Option<&str> {
    let record = client_reference.strip_prefix("rcpt-")?;
    match record.rsplit_once('-') {
        Some((head, tail)) if head.contains('-') && tail.bytes().all(|byte| byte.is_ascii_digit()) => Some(head),
        _ => Some(record),
    }
}

fn from_entry(kind: &'static str, entry: &LedgerEntry, detail: String, repair: &'static str) -> PaymentDifference {
    PaymentDifference {
        kind,
        record_id: entry.record_id.clone(),
        payment_id: entry.payment_id.clone(),
        msisdn_masked: entry.msisdn_masked.clone(),
        at: local_time(entry.settled_at_unix_seconds),
        merchant_id: Some(entry.merchant_id.clone()),
        detail,
        repair,
    }
}

/// Every difference between the three records of one day, adjusted ones left out.
pub(crate) fn compare(ledger: &Ledger, bills: &[BillLine], sent: &[SentMessage]) -> Vec<PaymentDifference> {
    let bills: BTreeMap<&str, &BillLine> =
        bills.iter().filter(|line| line.applied()).map(|line| (line.record_id(), line)).collect();
    let platform: BTreeMap<&str, &LedgerEntry> =
        ledger.entries.iter().map(|entry| (entry.record_id.as_str(), entry)).collect();
    let delivered: BTreeSet<&str> = sent
        .iter()
        .filter(|message| message.state == "delivered")
        .filter_map(|message| message.client_reference.as_deref())
        .collect();
    let mut differences = Vec::new();
    for entry in &ledger.entries {
        match bills.get(entry.record_id.as_str()) {
            None => differences.push(from_entry(
                "platform_only",
                entry,
                format!("{} fen not in billing", entry.amount_fen),
                "redrive-billing",
            )),
            Some(line) if line.amount_fen != entry.amount_fen => differences.push(from_entry(
                "amount_differs",
                entry,
                format!("platform {} fen, billing {} fen", entry.amount_fen, line.amount_fen),
                "adjust",
            )),
            Some(_) => {}
        }
        let receipt_delivered = entry.receipts.iter().any(|receipt| delivered.contains(receipt.outbox_id.as_str()));
        if entry.msisdn_masked.is_some() && !receipt_delivered {
            let detail = format!("{} receipt(s) queued, none delivered by the SMS centre", entry.receipts.len());
            differences.push(from_entry("receipt_missing", entry, detail, "resend-receipt"));
        }
    }
    for (record_id, line) in bills.iter().filter(|(record_id, _)| !platform.contains_key(*record_id)) {
        differences.push(PaymentDifference {
            kind: "billing_only",
            record_id: (*record_id).to_owned(),
            payment_id: line.payment_id.clone(),
            msisdn_masked: Some(masked(&line.msisdn)),
            at: local_time(line.created_at_unix_ms.div_euclid(1000)),
            merchant_id: line.merchant_id.clone(),
            detail: format!("{} {} fen not on the platform", line.kind, line.amount_fen),
            repair: "adjust",
        });
    }
    for message in sent {
        let Some(record_id) = message.client_reference.as_deref().and_then(receipt_record) else { continue };
        if !platform.contains_key(record_id) {
            differences.push(PaymentDifference {
                kind: "receipt_without_charge",
                record_id: record_id.to_owned(),
                payment_id: record_id.to_owned(),
                msisdn_masked: Some(message.msisdn_masked.clone()),
                at: local_time(message.created_at_unix_ms.div_euclid(1000)),
                merchant_id: None,
                detail: format!("SMS {} sent as a receipt of a charge the platform does not hold", message.message_id),
                repair: "adjust",
            });
        }
    }
    let adjusted: BTreeSet<(&str, &str)> = ledger
        .adjustments
        .iter()
        .map(|adjustment| (adjustment.record_id.as_str(), adjustment.difference.as_str()))
        .collect();
    differences.retain(|difference| !adjusted.contains(&(difference.record_id.as_str(), difference.kind)));
    differences
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
    let oss_url = format!("{}/v1/charges?day={date}&limit=5000", args.ledgers.oss_url.trim_end_matches('/'));
    let bills: Vec<BillLine> = serde_json::from_value(
        get_json(&connection.http, &oss_url, connection.oss_token.as_deref()).await?["records"].take(),
    )
    .context("the OSS's bill lines are not the documented JSON")?;
    progress.advance(1);
    progress.say("reading the SMS centre's record of the receipts");
    let smsc_url = format!("{}/v1/accounts/platform/sent-messages?day={date}", args.smsc_url.trim_end_matches('/'));
    let sent: Vec<SentMessage> =
        serde_json::from_value(get_json(&connection.http, &smsc_url, None).await?["messages"].take())
            .context("the SMS centre's list is not the documented JSON")?;
    progress.advance(1);
    progress.finish();
    let differences = compare(&ledger, &bills, &sent);
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
    let receipts = sent
        .iter()
        .filter(|message| message.client_reference.as_deref().is_some_and(|reference| reference.starts_with("rcpt-")))
        .count();
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
            difference.kind,
            difference.record_id,
            difference.payment_id,
            difference.msisdn_masked.as_deref().unwrap_or("-"),
            difference.at,
            difference.merchant_id.as_deref().unwrap_or("-"),
            difference.detail,
            difference.repair
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::{LedgerAdjustment, LedgerReceipt};

    fn entry(record_id: &str, amount_fen: i64, receipt: &str) -> LedgerEntry {
        LedgerEntry {
            kind: "charge".into(),
            record_id: record_id.into(),
            payment_id: record_id.into(),
            merchant_id: "films".into(),
            reference_code: "order-1".into(),
            bill_line_id: Some("bill-1".into()),
            terminal_id: "STB-1".into(),
            msisdn_masked: Some("138****8000".into()),
            amount_fen,
            currency: "CNY".into(),
            settled_at_unix_seconds: 1_796_601_600,
            receipts: vec![LedgerReceipt { outbox_id: receipt.into(), smsc_message_id: Some("m".into()) }],
        }
    }

    fn bill(record_id: &str, amount_fen: i64) -> BillLine {
        BillLine {
            kind: "charge".into(),
            payment_id: record_id.into(),
            refund_id: None,
            msisdn: "13800138000".into(),
            merchant_id: Some("films".into()),
            amount_fen,
            outcome: "charged".into(),
            created_at_unix_ms: 1_796_601_600_000,
        }
    }

    fn sent(reference: &str) -> SentMessage {
        SentMessage {
            message_id: format!("m-{reference}"),
            client_reference: Some(reference.into()),
            msisdn_masked: "138****8000".into(),
            state: "delivered".into(),
            created_at_unix_ms: 1_796_601_600_000,
        }
    }

    #[test]
    fn a_receipt_reference_names_its_record_with_or_without_a_resend_suffix() {
        assert_eq!(receipt_record("rcpt-pay-0a1b"), Some("pay-0a1b"));
        assert_eq!(receipt_record("rcpt-pay-0a1b-2"), Some("pay-0a1b"));
        assert_eq!(receipt_record("rcpt-ref-77"), Some("ref-77"), "an all-digit ID part is the ID, not a suffix");
        assert_eq!(receipt_record("sms-0a1b"), None);
    }

    #[test]
    fn every_kind_of_difference_is_named_and_agreement_names_none() {
        let ledger = Ledger {
            entries: vec![
                entry("pay-a", 500, "rcpt-pay-a"),
                entry("pay-b", 700, "rcpt-pay-b"),
                entry("pay-c", 100, "rcpt-pay-c"),
            ],
            adjustments: Vec::new(),
        };
        let bills = [bill("pay-a", 500), bill("pay-b", 900), bill("pay-d", 300)];
        let messages = [sent("rcpt-pay-a"), sent("rcpt-pay-b"), sent("rcpt-pay-x"), sent("sms-binding-confirmation")];
        let differences = compare(&ledger, &bills, &messages);
        let kinds: Vec<(&str, &str)> =
            differences.iter().map(|difference| (difference.kind, difference.record_id.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("amount_differs", "pay-b"),
                ("platform_only", "pay-c"),
                ("receipt_missing", "pay-c"),
                ("billing_only", "pay-d"),
                ("receipt_without_charge", "pay-x"),
            ]
        );
        let billing_only = &compare(&ledger, &bills, &messages)[3];
        assert_eq!(
            (billing_only.msisdn_masked.as_deref(), billing_only.at.as_str()),
            (Some("138****8000"), "2026-12-07 08:00:00")
        );
        let agreeing = Ledger { entries: vec![entry("pay-a", 500, "rcpt-pay-a")], adjustments: Vec::new() };
        assert!(compare(&agreeing, &[bill("pay-a", 500)], &[sent("rcpt-pay-a")]).is_empty());
    }

    #[test]
    fn an_adjusted_difference_is_settled() {
        let ledger = Ledger {
            entries: vec![entry("pay-b", 700, "rcpt-pay-b")],
            adjustments: vec![LedgerAdjustment { record_id: "pay-b".into(), difference: "amount_differs".into() }],
        };
        assert!(compare(&ledger, &[bill("pay-b", 900)], &[sent("rcpt-pay-b")]).is_empty());
    }
}

//! Three-way payment reconciliation of one billing day, as a pure function: the platform's settled charges and
//! refunds, the OSS's bill lines and the SMS centre's record of the messages the platform sent go in, every
//! difference comes out named by kind, with its record, payment, masked number, time, merchant and the repair that
//! fits. Differences an operator adjusted are left out. The console, the operator API and
//! `numbind reconcile payments` all compare through `compare_payment_records`; reading the three sides is theirs.

use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_wire::Msisdn;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The kinds of difference, in the order the wire names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DifferenceKind {
    /// A charge or refund the platform holds and billing does not.
    PlatformOnly,
    /// A bill line the platform holds no charge or refund of.
    BillingOnly,
    /// Both hold it, with different amounts.
    AmountDiffers,
    /// The platform charged (or refunded) and the SMS centre delivered no receipt of it.
    ReceiptMissing,
    /// The SMS centre sent a receipt of a charge the platform does not hold.
    ReceiptWithoutCharge,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 5] = [
        DifferenceKind::PlatformOnly,
        DifferenceKind::BillingOnly,
        DifferenceKind::AmountDiffers,
        DifferenceKind::ReceiptMissing,
        DifferenceKind::ReceiptWithoutCharge,
    ];

    /// The kind's wire name (`platform_only`), as adjustments store it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::PlatformOnly => "platform_only",
            DifferenceKind::BillingOnly => "billing_only",
            DifferenceKind::AmountDiffers => "amount_differs",
            DifferenceKind::ReceiptMissing => "receipt_missing",
            DifferenceKind::ReceiptWithoutCharge => "receipt_without_charge",
        }
    }

    /// The repair that fits this kind.
    pub fn repair(self) -> DifferenceRepair {
        match self {
            DifferenceKind::PlatformOnly => DifferenceRepair::RedriveBilling,
            DifferenceKind::ReceiptMissing => DifferenceRepair::ResendReceipt,
            DifferenceKind::BillingOnly | DifferenceKind::AmountDiffers | DifferenceKind::ReceiptWithoutCharge => {
                DifferenceRepair::Adjust
            }
        }
    }
}

/// A repair, serialized as the command line names it (`redrive-billing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DifferenceRepair {
    /// Queue the charge or refund for billing again.
    RedriveBilling,
    /// Queue the receipt SMS again.
    ResendReceipt,
    /// An operator's adjustment with a reason (audited).
    Adjust,
}

impl DifferenceRepair {
    /// The action as `numbind reconcile payments repair --action` names it (`redrive-billing`).
    pub fn command_line_action(self) -> &'static str {
        match self {
            DifferenceRepair::RedriveBilling => "redrive-billing",
            DifferenceRepair::ResendReceipt => "resend-receipt",
            DifferenceRepair::Adjust => "adjust",
        }
    }

    /// The action as the operator API and the console's forms name it (`redrive_billing`).
    pub fn api_action(self) -> &'static str {
        match self {
            DifferenceRepair::RedriveBilling => "redrive_billing",
            DifferenceRepair::ResendReceipt => "resend_receipt",
            DifferenceRepair::Adjust => "adjust",
        }
    }
}

/// One settled charge or refund as the platform's ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRecord<'a> {
    /// The payment ID of a charge, the refund ID of a refund.
    pub record_id: &'a str,
    pub payment_id: &'a str,
    pub merchant_id: &'a str,
    pub msisdn_masked: Option<&'a str>,
    pub amount_fen: i64,
    pub settled_at_unix_seconds: i64,
    /// The client references (outbox IDs, `rcpt-...`) of the receipts queued for it.
    pub receipt_references: Vec<&'a str>,
}

/// An operator's adjustment: this record's difference of this kind is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdjustedDifference<'a> {
    pub record_id: &'a str,
    /// The kind's wire name.
    pub difference: &'a str,
}

/// The platform's side of one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformSide<'a> {
    pub records: Vec<PlatformRecord<'a>>,
    pub adjustments: Vec<AdjustedDifference<'a>>,
}

/// One line of the OSS's ledger (`GET /v1/charges`, `GET /v1/platform/bill-lines`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct BillLine {
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

/// One message the SMS centre holds as sent by the platform (`GET /v1/accounts/{account}/sent-messages`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SentMessage {
    message_id: String,
    client_reference: Option<String>,
    msisdn_masked: String,
    state: String,
    created_at_unix_ms: i64,
}

impl SentMessage {
    /// Whether the platform sent it as a receipt (client reference `rcpt-...`).
    pub fn is_receipt(&self) -> bool {
        self.client_reference.as_deref().is_some_and(|reference| reference.starts_with("rcpt-"))
    }
}

/// One difference, naming the record, its payment, the masked number, the time and the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentDifference {
    pub kind: DifferenceKind,
    pub record_id: String,
    pub payment_id: String,
    pub msisdn_masked: Option<String>,
    /// China Standard Time, `2026-12-07 08:00:00`.
    pub at: String,
    pub merchant_id: Option<String>,
    pub detail: String,
    /// The repair that fits.
    pub repair: DifferenceRepair,
    /// The amount the platform holds, if it holds the record.
    #[serde(skip)]
    pub platform_amount_fen: Option<i64>,
    /// The amount billing holds, if it holds the record.
    #[serde(skip)]
    pub billing_amount_fen: Option<i64>,
}

/// `2026-12-07 08:00:00` China Standard Time.
pub fn china_standard_time_text(unix_seconds: i64) -> String {
    CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS).date_time_text()
}

fn masked(digits: &str) -> String {
    Msisdn::parse(digits).map_or_else(|_| "(not a mobile number)".to_owned(), |msisdn| msisdn.masked())
}

/// The payment or refund ID a receipt's client reference (`rcpt-<id>` or `rcpt-<id>-<n>`) names.
fn receipt_record(client_reference: &str) -> Option<&str> {
    let record = client_reference.strip_prefix("rcpt-")?;
    match record.rsplit_once('-') {
        Some((head, tail)) if head.contains('-') && tail.bytes().all(|byte| byte.is_ascii_digit()) => Some(head),
        _ => Some(record),
    }
}

fn from_record(kind: DifferenceKind, record: &PlatformRecord<'_>, detail: String) -> PaymentDifference {
    PaymentDifference {
        kind,
        record_id: record.record_id.to_owned(),
        payment_id: record.payment_id.to_owned(),
        msisdn_masked: record.msisdn_masked.map(str::to_owned),
        at: china_standard_time_text(record.settled_at_unix_seconds),
        merchant_id: Some(record.merchant_id.to_owned()),
        detail,
        repair: kind.repair(),
        platform_amount_fen: Some(record.amount_fen),
        billing_amount_fen: None,
    }
}

/// The platform's records billing lacks or disagrees with, and those with no receipt delivered.
fn platform_differences(
    platform: &PlatformSide<'_>,
    bills: &BTreeMap<&str, &BillLine>,
    delivered: &BTreeSet<&str>,
) -> Vec<PaymentDifference> {
    let mut differences = Vec::new();
    for record in &platform.records {
        match bills.get(record.record_id) {
            None => differences.push(from_record(
                DifferenceKind::PlatformOnly,
                record,
                format!("{} fen not in billing", record.amount_fen),
            )),
            Some(line) if line.amount_fen != record.amount_fen => {
                let detail = format!("platform {} fen, billing {} fen", record.amount_fen, line.amount_fen);
                let mut difference = from_record(DifferenceKind::AmountDiffers, record, detail);
                difference.billing_amount_fen = Some(line.amount_fen);
                differences.push(difference);
            }
            Some(_) => {}
        }
        let receipt_delivered = record.receipt_references.iter().any(|reference| delivered.contains(reference));
        if record.msisdn_masked.is_some() && !receipt_delivered {
            let detail =
                format!("{} receipt(s) queued, none delivered by the SMS centre", record.receipt_references.len());
            differences.push(from_record(DifferenceKind::ReceiptMissing, record, detail));
        }
    }
    differences
}

fn billing_only(record_id: &str, line: &BillLine) -> PaymentDifference {
    PaymentDifference {
        kind: DifferenceKind::BillingOnly,
        record_id: record_id.to_owned(),
        payment_id: line.payment_id.clone(),
        msisdn_masked: Some(masked(&line.msisdn)),
        at: china_standard_time_text(line.created_at_unix_ms.div_euclid(1000)),
        merchant_id: line.merchant_id.clone(),
        detail: format!("{} {} fen not on the platform", line.kind, line.amount_fen),
        repair: DifferenceRepair::Adjust,
        platform_amount_fen: None,
        billing_amount_fen: Some(line.amount_fen),
    }
}

fn receipt_without_charge(record_id: &str, message: &SentMessage) -> PaymentDifference {
    PaymentDifference {
        kind: DifferenceKind::ReceiptWithoutCharge,
        record_id: record_id.to_owned(),
        payment_id: record_id.to_owned(),
        msisdn_masked: Some(message.msisdn_masked.clone()),
        at: china_standard_time_text(message.created_at_unix_ms.div_euclid(1000)),
        merchant_id: None,
        detail: format!("SMS {} sent as a receipt of a charge the platform does not hold", message.message_id),
        repair: DifferenceRepair::Adjust,
        platform_amount_fen: None,
        billing_amount_fen: None,
    }
}

/// Every difference between the three records of one day, adjusted ones left out.
pub fn compare_payment_records(
    platform: &PlatformSide<'_>,
    bills: &[BillLine],
    sent: &[SentMessage],
) -> Vec<PaymentDifference> {
    let bills: BTreeMap<&str, &BillLine> =
        bills.iter().filter(|line| line.applied()).map(|line| (line.record_id(), line)).collect();
    let held: BTreeSet<&str> = platform.records.iter().map(|record| record.record_id).collect();
    let delivered: BTreeSet<&str> = sent
        .iter()
        .filter(|message| message.state == "delivered")
        .filter_map(|message| message.client_reference.as_deref())
        .collect();
    let mut differences = platform_differences(platform, &bills, &delivered);
    for (record_id, line) in bills.iter().filter(|(record_id, _)| !held.contains(*record_id)) {
        differences.push(billing_only(record_id, line));
    }
    for message in sent {
        let Some(record_id) = message.client_reference.as_deref().and_then(receipt_record) else { continue };
        if !held.contains(record_id) {
            differences.push(receipt_without_charge(record_id, message));
        }
    }
    let adjusted: BTreeSet<(&str, &str)> =
        platform.adjustments.iter().map(|adjustment| (adjustment.record_id, adjustment.difference)).collect();
    differences.retain(|difference| !adjusted.contains(&(difference.record_id.as_str(), difference.kind.as_str())));
    differences
}

#[cfg(test)]
#[path = "payment_reconciliation_tests.rs"]
mod tests;

//! The three-way payment differences of one billing day (China Standard Time) as the console and the operator API
//! show them: the platform's ledger read from the store, the OSS's bill lines (`GET /v1/platform/bill-lines`,
//! component HMAC) and the SMS centre's list of what the platform's account sent, read at once and compared by
//! `compare_payment_records`, the same comparison as `numbind reconcile payments`. A side that cannot be read is
//! named with the reason, and then no verdict is given: never a "clean" that compared less than three sides.

use crate::clients::oss_client::{OssClient, OssDeliveryError};
use crate::clients::smsc_api_client::{SmscApiClient, SmscApiError};
use crate::config::Config;
use crate::domain::payment_reconciliation::{
    compare_payment_records, AdjustedDifference, BillLine, PaymentDifference, PlatformRecord, PlatformSide, SentMessage,
};
use crate::error::ApiError;
use crate::operator_views::reconciliation::read_ledger;
use crate::state::AppState;
use crate::store::PaymentLedger;
use numbind_process::civil_date::CivilDate;
use serde::Deserialize;

/// Where the other two sides are read; either may be missing from the configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReconciliationSources {
    oss: Option<OssClient>,
    smsc: Option<SmscApiClient>,
}

impl ReconciliationSources {
    pub(crate) fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(ReconciliationSources {
            oss: OssClient::from_config(config, config.oss_request_timeout)?,
            smsc: SmscApiClient::from_config(config, config.oss_request_timeout)?,
        })
    }
}

/// A side of the comparison that could not be read, and why (no numbers in these messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SideUnreadable {
    #[error("the oss is not configured (--oss-url)")]
    OssNotConfigured,
    #[error("the oss's bill lines cannot be read: {0}")]
    Oss(OssDeliveryError),
    #[error("the oss lists more bill lines of the day than one answer carries")]
    OssIncomplete,
    #[error("the sms centre's api is not configured (--smsc-api-url, --smsc-address)")]
    SmscNotConfigured,
    #[error("the sms centre's sent messages cannot be read: {0}")]
    Smsc(SmscApiError),
}

impl SideUnreadable {
    /// `oss` or `sms_centre`.
    pub(crate) fn side(&self) -> &'static str {
        match self {
            SideUnreadable::OssNotConfigured | SideUnreadable::Oss(_) | SideUnreadable::OssIncomplete => "oss",
            SideUnreadable::SmscNotConfigured | SideUnreadable::Smsc(_) => "sms_centre",
        }
    }
}

/// The platform's ledger of a day, and the differences, or the sides that could not be read.
#[derive(Debug)]
pub(crate) struct DayReconciliation {
    pub(crate) ledger: PaymentLedger,
    pub(crate) differences: Result<Vec<PaymentDifference>, Vec<SideUnreadable>>,
}

#[derive(Debug, Deserialize)]
struct BillLineList {
    records: Vec<BillLine>,
    complete: bool,
}

async fn read_bill_lines(sources: &ReconciliationSources, day: CivilDate) -> Result<Vec<BillLine>, SideUnreadable> {
    let oss = sources.oss.as_ref().ok_or(SideUnreadable::OssNotConfigured)?;
    let path = format!("{}?day={day}", numbind_wire::api::PLATFORM_BILL_LINES_PATH);
    // At a national hub every province's OSS keeps its own bill lines: the day's are all of theirs together.
    let lists: Vec<BillLineList> = oss.get_from_every_oss(&path).await.map_err(SideUnreadable::Oss)?;
    if lists.iter().any(|list| !list.complete) {
        return Err(SideUnreadable::OssIncomplete);
    }
    Ok(lists.into_iter().flat_map(|list| list.records).collect())
}

async fn read_sent_messages(
    sources: &ReconciliationSources,
    day: CivilDate,
) -> Result<Vec<SentMessage>, SideUnreadable> {
    let smsc = sources.smsc.as_ref().ok_or(SideUnreadable::SmscNotConfigured)?;
    smsc.sent_messages(day).await.map_err(SideUnreadable::Smsc)
}

/// The platform's side of the comparison, borrowed from its ledger.
fn platform_side(ledger: &PaymentLedger) -> PlatformSide<'_> {
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

/// Reads the three sides of `day` and compares them; fails only when the platform's own store does.
pub(crate) async fn reconcile_day(state: &AppState, day: CivilDate) -> Result<DayReconciliation, ApiError> {
    let sources = &state.reconciliation_sources;
    let (ledger, bills, sent) =
        tokio::join!(read_ledger(state, day), read_bill_lines(sources, day), read_sent_messages(sources, day));
    let ledger = ledger?;
    let differences = match (bills, sent) {
        (Ok(bills), Ok(sent)) => Ok(compare_payment_records(&platform_side(&ledger), &bills, &sent)),
        (bills, sent) => Err([bills.err(), sent.err()].into_iter().flatten().collect()),
    };
    Ok(DayReconciliation { ledger, differences })
}

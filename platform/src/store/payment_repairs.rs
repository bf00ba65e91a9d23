//! Use case, repairing a payment reconciliation difference: re-drive the billing outbox (a charge or refund the
//! OSS lacks is sent again; the OSS is idempotent by its ID), re-send a receipt SMS (a new outbox row
//! `rcpt-<record>-<n>`, a new client reference for the SMS centre), or an operator's adjustment with a reason.
//! Each is one transaction with its audit event. The API route, the console button and the CLI call this one
//! function.

use super::payment_effects::{audit_payment, merchant_display_name, sms_facts, Actor};
use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::billing_outbox::{requeue_billing, BillingKind};
use super::tables::outbox::{enqueue_receipt_notification, receipts_of_record};
use super::tables::payment_adjustments::{insert_adjustment, PaymentAdjustment};
use super::tables::payments::{find_payment_in, PaymentRecord};
use super::tables::refunds::find_refund_in;
use super::{Store, StoreError};
use crate::domain::payment_text::{charge_receipt, refund_receipt};
use numbind_database::Connection;
use numbind_wire::api::{PaymentState, Refund, RefundState};
use numbind_wire::{PaymentId, RefundId};

/// What an operator does about one difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRepair {
    /// Queue the record's billing call again.
    RedriveBilling,
    /// Queue a new receipt SMS.
    ResendReceipt,
    /// Record that the difference is accounted for, with the reason.
    Adjust { difference: String, reason: String },
}

/// One repair: which day's reconciliation, which record (payment or refund ID), what, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRepairRequest {
    pub day: String,
    pub record_id: String,
    pub repair: PaymentRepair,
    pub operator: String,
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRepairOutcome {
    /// The billing call or the receipt is queued (its outbox ID).
    Queued {
        outbox_id: String,
    },
    Adjusted {
        adjustment_id: String,
    },
    AlreadyAdjusted,
    /// The platform holds no succeeded charge or refund with that ID (only an adjustment applies).
    NoSettledRecord,
}

/// A succeeded payment or refund of the platform, with its payment.
enum SettledRecord {
    Charge(PaymentRecord),
    Refund(PaymentRecord, Refund),
}

fn settled_record(connection: &Connection<'_>, record_id: &str) -> Result<Option<SettledRecord>, StoreError> {
    if let Ok(payment_id) = PaymentId::parse(record_id) {
        let record = find_payment_in(connection, &payment_id)?;
        return Ok(record.filter(|record| record.payment.state == PaymentState::Succeeded).map(SettledRecord::Charge));
    }
    let Ok(refund_id) = RefundId::parse(record_id) else { return Ok(None) };
    let Some(refund) = find_refund_in(connection, &refund_id)?.filter(|refund| refund.state == RefundState::Succeeded)
    else {
        return Ok(None);
    };
    Ok(find_payment_in(connection, &refund.payment_id)?.map(|record| SettledRecord::Refund(record, refund)))
}

impl Store {
    /// Performs `request` in one transaction with its audit event.
    pub fn repair_payment_difference(
        &self,
        request: &PaymentRepairRequest,
        now: i64,
    ) -> Result<PaymentRepairOutcome, StoreError> {
        self.in_transaction(|connection| {
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: &request.operator };
            if let PaymentRepair::Adjust { difference, reason } = &request.repair {
                return adjust(connection, actor, request, difference, reason, now);
            }
            let Some(settled) = settled_record(connection, &request.record_id)? else {
                return Ok(PaymentRepairOutcome::NoSettledRecord);
            };
            let (record, outbox_id) = match (&request.repair, &settled) {
                (PaymentRepair::RedriveBilling, SettledRecord::Charge(record)) => {
                    requeue_billing(connection, &request.record_id, BillingKind::Charge, now)?;
                    (record, request.record_id.clone())
                }
                (PaymentRepair::RedriveBilling, SettledRecord::Refund(record, _)) => {
                    requeue_billing(connection, &request.record_id, BillingKind::Refund, now)?;
                    (record, request.record_id.clone())
                }
                _ => (settled_payment(&settled), resend_receipt(connection, &settled, now)?),
            };
            let kind = match request.repair {
                PaymentRepair::RedriveBilling => "payment_billing_redriven",
                _ => "payment_receipt_resent",
            };
            audit_payment(connection, actor, record, kind, Some(&format!("{} {}", request.day, outbox_id)), now)?;
            Ok(PaymentRepairOutcome::Queued { outbox_id })
        })
    }
}

fn settled_payment(settled: &SettledRecord) -> &PaymentRecord {
    match settled {
        SettledRecord::Charge(record) | SettledRecord::Refund(record, _) => record,
    }
}

/// Queues the receipt again under a new outbox ID; the text is the one first sent (same time, same numbers).
fn resend_receipt(connection: &Connection<'_>, settled: &SettledRecord, now: i64) -> Result<String, StoreError> {
    let record = settled_payment(settled);
    let Some(msisdn) = &record.msisdn else { return Err(StoreError::MalformedRow("payments.msisdn")) };
    let display_name = merchant_display_name(connection, record)?;
    let facts = sms_facts(record, &display_name);
    let settled_at = |at: Option<i64>| at.unwrap_or(now);
    let (record_id, text) = match settled {
        SettledRecord::Charge(record) => (
            record.payment.payment_id.to_string(),
            charge_receipt(&facts, settled_at(record.payment.finalized_at_unix_seconds)),
        ),
        SettledRecord::Refund(_, refund) => {
            let facts = numbind_wire_facts(facts, refund);
            (
                refund.refund_id.to_string(),
                refund_receipt(&facts, refund.refund_id.as_str(), refund.created_at_unix_seconds),
            )
        }
    };
    let sent_before = receipts_of_record(connection, &record_id)?.len();
    let outbox_id = format!("rcpt-{record_id}-{}", sent_before + 1);
    enqueue_receipt_notification(connection, &outbox_id, msisdn, &text, now)?;
    Ok(outbox_id)
}

fn numbind_wire_facts<'a>(
    facts: crate::domain::payment_text::PaymentSmsFacts<'a>,
    refund: &Refund,
) -> crate::domain::payment_text::PaymentSmsFacts<'a> {
    crate::domain::payment_text::PaymentSmsFacts { amount: refund.amount, ..facts }
}

fn adjust(
    connection: &Connection<'_>,
    actor: Actor<'_>,
    request: &PaymentRepairRequest,
    difference: &str,
    reason: &str,
    now: i64,
) -> Result<PaymentRepairOutcome, StoreError> {
    let adjustment_id = format!("adj-{}-{}-{difference}", request.day, request.record_id);
    let adjustment = PaymentAdjustment {
        adjustment_id: adjustment_id.clone(),
        day: request.day.clone(),
        record_id: request.record_id.clone(),
        difference: difference.to_owned(),
        reason: reason.to_owned(),
        operator: request.operator.clone(),
        created_at_unix_seconds: now,
    };
    if !insert_adjustment(connection, &adjustment)? {
        return Ok(PaymentRepairOutcome::AlreadyAdjusted);
    }
    let detail = format!("{} {} {difference}: {reason}", request.day, request.record_id);
    append_audit_event(
        connection,
        actor.audit_key,
        now,
        &AuditEvent::new(actor.name, "payment_adjusted").detail(&detail),
    )?;
    Ok(PaymentRepairOutcome::Adjusted { adjustment_id })
}

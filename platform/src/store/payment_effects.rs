//! What every settled payment or refund does, in the transaction that settles it: the state change (never out of
//! a final state), an audit event, the merchant's event (webhook outbox) and, for a completed charge or refund,
//! the user's Chinese SMS receipt. Sits above the table modules and below the use cases, like `revoke`.

use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::merchant_events::enqueue_merchant_event;
use super::tables::merchants::find_merchant_in;
use super::tables::outbox::enqueue_receipt_notification;
use super::tables::payments::{find_payment_in, transition_payment, PaymentRecord, Transition};
use super::StoreError;
use crate::domain::audit_mac::AuditChainKey;
use crate::domain::payment_text::{charge_receipt, refund_receipt, PaymentSmsFacts};
use numbind_database::Connection;
use numbind_wire::api::{CancellationReason, PaymentDenialReason, PaymentState, Refund};
use numbind_wire::{PaymentId, TerminalId};
use ring::rand::SecureRandom;

/// Where a payment goes when it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Settlement<'a> {
    Succeeded { bill_line_id: &'a str },
    Denied(PaymentDenialReason),
    Cancelled(CancellationReason),
    Expired,
}

/// The audit key and who acts: what every effect needs besides the connection.
#[derive(Clone, Copy)]
pub(in crate::store) struct Actor<'a> {
    pub audit_key: Option<&'a AuditChainKey>,
    pub name: &'a str,
}

/// Settles a payment that is in one of `from`: returns the settled record, or `None` when it was not in `from`
/// (already final: nothing changes, nothing is sent twice).
pub(in crate::store) fn settle_payment(
    connection: &Connection<'_>,
    actor: Actor<'_>,
    payment_id: &PaymentId,
    from: &[PaymentState],
    settlement: Settlement<'_>,
    now: i64,
) -> Result<Option<PaymentRecord>, StoreError> {
    let mut transition = Transition {
        from,
        to: PaymentState::Expired,
        denial_reason: None,
        cancellation_reason: None,
        server_reference_code: None,
    };
    match settlement {
        Settlement::Succeeded { bill_line_id } => {
            transition.to = PaymentState::Succeeded;
            transition.server_reference_code = Some(bill_line_id);
        }
        Settlement::Denied(reason) => (transition.to, transition.denial_reason) = (PaymentState::Denied, Some(reason)),
        Settlement::Cancelled(reason) => {
            (transition.to, transition.cancellation_reason) = (PaymentState::Cancelled, Some(reason))
        }
        Settlement::Expired => {}
    }
    if !transition_payment(connection, payment_id, &transition, now)? {
        return Ok(None);
    }
    let record = find_payment_in(connection, payment_id)?.ok_or(StoreError::MalformedRow("payments"))?;
    record_settled_payment(connection, actor, &record, now)?;
    Ok(Some(record))
}

/// The effects of a payment that is final now (settled, or created final): audit, merchant event, receipt.
pub(in crate::store) fn record_settled_payment(
    connection: &Connection<'_>,
    actor: Actor<'_>,
    record: &PaymentRecord,
    now: i64,
) -> Result<(), StoreError> {
    let payment = &record.payment;
    let kind = format!("payment_{}", payment.state.as_str());
    let reason = payment
        .denial_reason
        .map(|reason| crate::store::enum_text(&reason))
        .or_else(|| payment.cancellation_reason.map(|reason| crate::store::enum_text(&reason)));
    audit_payment(connection, actor, record, &kind, reason.as_deref(), now)?;
    let body = serde_json::json!({ "payment": payment });
    enqueue_event(connection, payment.merchant_id.as_str(), &format!("payment.{}", payment.state.as_str()), body, now)?;
    if payment.state == PaymentState::Succeeded {
        if let Some(msisdn) = &record.msisdn {
            let display_name = merchant_display_name(connection, record)?;
            let facts = sms_facts(record, &display_name);
            let outbox_id = format!("rcpt-{}", payment.payment_id);
            enqueue_receipt_notification(connection, &outbox_id, msisdn, &charge_receipt(&facts, now), now)?;
        }
    }
    Ok(())
}

/// The effects of a settled refund: audit, merchant event, and for a completed one the receipt.
pub(in crate::store) fn record_settled_refund(
    connection: &Connection<'_>,
    actor: Actor<'_>,
    record: &PaymentRecord,
    refund: &Refund,
    now: i64,
) -> Result<(), StoreError> {
    let state = crate::store::enum_text(&refund.state);
    let detail = format!("{} {} of {}", refund.refund_id, refund.amount.minor_units(), refund.payment_id);
    audit_payment(connection, actor, record, &format!("refund_{state}"), Some(&detail), now)?;
    let body = serde_json::json!({ "refund": refund });
    enqueue_event(connection, record.payment.merchant_id.as_str(), &format!("refund.{state}"), body, now)?;
    if refund.state == numbind_wire::api::RefundState::Succeeded {
        if let Some(msisdn) = &record.msisdn {
            let display_name = merchant_display_name(connection, record)?;
            let facts = PaymentSmsFacts { amount: refund.amount, ..sms_facts(record, &display_name) };
            let text = refund_receipt(&facts, refund.refund_id.as_str(), now);
            enqueue_receipt_notification(connection, &format!("rcpt-{}", refund.refund_id), msisdn, &text, now)?;
        }
    }
    Ok(())
}

/// An audit event about a payment: the terminal, the masked number, the binding and the payment in the detail.
pub(in crate::store) fn audit_payment(
    connection: &Connection<'_>,
    actor: Actor<'_>,
    record: &PaymentRecord,
    kind: &str,
    extra: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    let payment = &record.payment;
    let detail = format!(
        "{} {} {} {}{}",
        payment.payment_id,
        payment.merchant_id,
        payment.amount.minor_units(),
        payment.currency,
        extra.map(|extra| format!(" {extra}")).unwrap_or_default()
    );
    let terminal_id: &TerminalId = &payment.terminal_id;
    let mut event = AuditEvent::new(actor.name, kind).terminal(terminal_id).detail(&detail);
    if let Some(msisdn) = &record.msisdn {
        event = event.msisdn(msisdn);
    }
    if let Some(binding_id) = &record.binding_id {
        event = event.binding(binding_id);
    }
    append_audit_event(connection, actor.audit_key, now, &event)
}

pub(in crate::store) fn merchant_display_name(
    connection: &Connection<'_>,
    record: &PaymentRecord,
) -> Result<String, StoreError> {
    Ok(find_merchant_in(connection, &record.payment.merchant_id)?
        .map_or_else(|| record.payment.merchant_id.to_string(), |merchant| merchant.display_name))
}

pub(in crate::store) fn sms_facts<'a>(record: &'a PaymentRecord, display_name: &'a str) -> PaymentSmsFacts<'a> {
    PaymentSmsFacts {
        merchant_display_name: display_name,
        item_description: record.payment.item_description.as_str(),
        amount: record.payment.amount,
        currency: record.payment.currency,
        payment_id: record.payment.payment_id.as_str(),
    }
}

fn enqueue_event(
    connection: &Connection<'_>,
    merchant_id: &str,
    event_type: &str,
    mut body: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    let mut bytes = [0u8; 12];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| StoreError::RandomSourceFailed)?;
    let event_id = format!("evt-{}", bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>());
    body["event_id"] = serde_json::Value::String(event_id.clone());
    body["type"] = serde_json::Value::String(event_type.to_owned());
    body["created_at_unix_seconds"] = serde_json::Value::from(now);
    enqueue_merchant_event(connection, merchant_id, &event_id, &body.to_string(), now)
}

//! Use case, payments: creating one from a verified intent (idempotency key, intent used once, the box's active
//! binding, the first state) in one transaction, and the charge a processing payment asks of the OSS.

use super::payment_effects::{audit_payment, record_settled_payment, settle_payment, Actor, Settlement};
use super::tables::billing_outbox::{enqueue_billing, mark_billing_delivered, BillingKind};
use super::tables::bindings::active_binding_in;
use super::tables::idempotency_keys::{forget_keys_before, remember_key, remembered_key};
use super::tables::outbox::enqueue_secret_notification;
use super::tables::payments::{find_payment_in, insert_payment, payment_of_intent_in, PaymentRecord};
use super::{Store, StoreError};
use numbind_database::Connection;
use numbind_wire::api::{ChargeRequest, Payment, PaymentDenialReason, PaymentState};
use numbind_wire::{MerchantId, PaymentId, PurchaseIntent};

/// The idempotency scope of payment creation.
const PAYMENT_SCOPE: &str = "payment";

/// How long after a payment's creation its queued charge falls due for the billing worker. The create handler
/// sends the charge inline at once (within its 2 s timeout by default) and, when that attempt fails, makes the
/// charge due at once; the worker takes it over after this delay only when the handler never finished (a crash),
/// so it does not send every charge a second time while the inline attempt is still waiting for the OSS.
const INLINE_CHARGE_GRACE_SECONDS: i64 = 5;

/// A payment to create, its intent verified and fresh.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub merchant_id: MerchantId,
    pub idempotency_key: String,
    pub body_hash: [u8; 32],
    pub intent: PurchaseIntent,
    pub reference_code: String,
    pub payment_id: PaymentId,
    /// At or above the threshold: the confirmation the bound number must send.
    pub confirmation: Option<NewConfirmation>,
    /// The OSS's pre-check declined the charge: the payment is created denied.
    pub declined_by_check: Option<PaymentDenialReason>,
}

/// A confirmation number (sent by SMS, stored as `tag` only) and its window.
#[derive(Debug, Clone)]
pub struct NewConfirmation {
    pub tag: Vec<u8>,
    pub expires_at: i64,
    /// The SMS that asks for it, sent to the bound number.
    pub sms_text: String,
}

/// What creating a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatePaymentOutcome {
    /// Created now; a processing payment's charge is queued (and may be tried inline).
    Created(PaymentRecord),
    /// The same key and body came before: the payment they created, as it is now.
    Repeated(PaymentRecord),
    /// The key came before with another body.
    KeyReused,
    /// Another payment was made from this intent.
    IntentUsed,
}

fn new_record(request: &NewPayment, now: i64) -> PaymentRecord {
    let intent = &request.intent;
    PaymentRecord {
        payment: Payment {
            payment_id: request.payment_id.clone(),
            merchant_id: request.merchant_id.clone(),
            reference_code: request.reference_code.clone(),
            server_reference_code: None,
            terminal_id: intent.terminal_id.clone(),
            item_id: intent.item_id.clone(),
            item_description: intent.item_description.clone(),
            amount: intent.amount,
            currency: intent.currency,
            state: PaymentState::Processing,
            denial_reason: None,
            cancellation_reason: None,
            confirmation_expires_at_unix_seconds: None,
            created_at_unix_seconds: now,
            finalized_at_unix_seconds: None,
            refunded_minor_units: 0,
        },
        intent_nonce: intent.nonce.clone(),
        binding_id: None,
        msisdn: None,
        confirmation_tag: None,
        confirmation_attempts: 0,
        updated_at: now,
    }
}

/// The charge of a processing payment, for the OSS.
pub(crate) fn charge_request(record: &PaymentRecord) -> Option<ChargeRequest> {
    Some(ChargeRequest {
        payment_id: record.payment.payment_id.clone(),
        binding_id: record.binding_id.clone()?,
        msisdn: record.msisdn.clone()?,
        merchant_id: record.payment.merchant_id.clone(),
        item_description: record.payment.item_description.clone(),
        amount: record.payment.amount,
        currency: record.payment.currency,
    })
}

/// The payment's first state: denied (no binding, or the OSS's pre-check declined), waiting for confirmation
/// (at or above the threshold), or processing.
fn first_state(
    mut record: PaymentRecord,
    binding: Option<&super::tables::bindings::Binding>,
    request: &NewPayment,
    now: i64,
) -> PaymentRecord {
    if let Some(binding) = binding {
        (record.binding_id, record.msisdn) = (Some(binding.binding_id.clone()), Some(binding.msisdn.clone()));
    }
    let denial = match binding {
        None => Some(PaymentDenialReason::NotBound),
        Some(_) => request.declined_by_check,
    };
    let payment = &mut record.payment;
    match (denial, &request.confirmation) {
        (Some(reason), _) => {
            (payment.state, payment.denial_reason) = (PaymentState::Denied, Some(reason));
            payment.finalized_at_unix_seconds = Some(now);
        }
        (None, Some(confirmation)) => {
            payment.state = PaymentState::PendingConfirmation;
            payment.confirmation_expires_at_unix_seconds = Some(confirmation.expires_at);
            record.confirmation_tag = Some(confirmation.tag.clone());
        }
        (None, None) => {}
    }
    record
}

/// What a merchant's `Idempotency-Key` was used for before: nothing, the same body (its payment), or another body.
fn repeated_key(
    transaction: &Connection<'_>,
    key: (&str, &str, &str),
    body_hash: &[u8],
) -> Result<Option<CreatePaymentOutcome>, StoreError> {
    let Some(remembered) = remembered_key(transaction, key)? else {
        return Ok(None);
    };
    if remembered.body_hash != body_hash {
        return Ok(Some(CreatePaymentOutcome::KeyReused));
    }
    let payment_id =
        PaymentId::parse(&remembered.record_id).map_err(|_| StoreError::MalformedRow("idempotency_keys.record_id"))?;
    let record = find_payment_in(transaction, &payment_id)?.ok_or(StoreError::MalformedRow("payments"))?;
    Ok(Some(CreatePaymentOutcome::Repeated(record)))
}

impl Store {
    /// The answer to a merchant's repeated `Idempotency-Key`, before anything else is checked: a retry long after
    /// the box signed (past the intent's freshness window) still gets its original payment. `None` for a new key.
    pub fn repeated_payment_key(
        &self,
        merchant_id: &MerchantId,
        idempotency_key: &str,
        body_hash: &[u8],
    ) -> Result<Option<CreatePaymentOutcome>, StoreError> {
        self.read(|connection| {
            repeated_key(connection, (merchant_id.as_str(), PAYMENT_SCOPE, idempotency_key), body_hash)
        })
    }

    /// Forgets merchants' idempotency keys (payments' and refunds') first used before `cutoff`: their retention
    /// is over. Answers how many.
    pub fn forget_idempotency_keys_before(&self, cutoff: i64) -> Result<usize, StoreError> {
        self.in_transaction(|connection| forget_keys_before(connection, cutoff))
    }

    /// Creates a payment in one transaction: idempotency key, intent used once, binding, first state, charge or
    /// confirmation SMS queued, audited.
    pub fn create_payment(&self, request: &NewPayment, now: i64) -> Result<CreatePaymentOutcome, StoreError> {
        self.in_transaction(|transaction| {
            let key = (request.merchant_id.as_str(), PAYMENT_SCOPE, request.idempotency_key.as_str());
            if let Some(repeated) = repeated_key(transaction, key, &request.body_hash)? {
                return Ok(repeated);
            }
            let intent = &request.intent;
            if payment_of_intent_in(transaction, &intent.terminal_id, &intent.nonce)?.is_some() {
                return Ok(CreatePaymentOutcome::IntentUsed);
            }
            let binding = active_binding_in(transaction, &intent.terminal_id)?;
            let record = first_state(new_record(request, now), binding.as_ref(), request, now);
            insert_payment(transaction, &record)?;
            remember_key(transaction, key, &request.body_hash, record.payment.payment_id.as_str(), now)?;
            let actor = Actor { audit_key: self.audit_key.as_ref(), name: "merchant" };
            audit_payment(transaction, actor, &record, "payment_created", None, now)?;
            match (record.payment.state, &record.msisdn, &request.confirmation) {
                (PaymentState::Processing, _, _) => {
                    let due_at = now + INLINE_CHARGE_GRACE_SECONDS;
                    enqueue_billing(
                        transaction,
                        record.payment.payment_id.as_str(),
                        BillingKind::Charge,
                        (now, due_at),
                    )?
                }
                (PaymentState::PendingConfirmation, Some(msisdn), Some(confirmation)) => {
                    enqueue_secret_notification(transaction, msisdn, &confirmation.sms_text, now)?;
                }
                _ => record_settled_payment(transaction, actor, &record, now)?,
            }
            Ok(CreatePaymentOutcome::Created(record))
        })
    }

    /// The charge to send for a queued payment: `None` when it needs none any more (settled, or its box was unbound
    /// meanwhile: then it is denied `not_bound` here, and no charge is ever sent for it).
    /// The charge to send for a payment that is processing and whose box is still bound as when it was created,
    /// read from the committed data; `None` when [`Store::charge_to_send`] has something to write (a payment no
    /// longer processing, or a box unbound since). Sending what this reads is what `charge_to_send` would send: it
    /// writes nothing in that case, and the OSS call happens after either transaction anyway. Read so that the
    /// common case takes no place in the writer's batch and waits for no commit.
    pub fn ready_charge(&self, payment_id: &PaymentId) -> Result<Option<ChargeRequest>, StoreError> {
        self.read(|connection| {
            let Some(record) = find_payment_in(connection, payment_id)? else { return Ok(None) };
            if record.payment.state != PaymentState::Processing {
                return Ok(None);
            }
            let active = active_binding_in(connection, &record.payment.terminal_id)?;
            let still_bound = active.is_some_and(|binding| Some(&binding.binding_id) == record.binding_id.as_ref());
            Ok(charge_request(&record).filter(|_| still_bound))
        })
    }

    pub fn charge_to_send(&self, payment_id: &PaymentId, now: i64) -> Result<ChargeToSend, StoreError> {
        self.in_transaction(|transaction| {
            let Some(record) = find_payment_in(transaction, payment_id)? else { return Ok(ChargeToSend::Nothing) };
            // A succeeded charge with a queued billing row was re-driven by an operator's reconciliation repair:
            // the OSS lacks its bill line, and is idempotent by payment ID.
            if record.payment.state == PaymentState::Succeeded {
                if let Some(charge) = charge_request(&record) {
                    return Ok(ChargeToSend::Charge(charge));
                }
            }
            if record.payment.state != PaymentState::Processing {
                mark_billing_delivered(transaction, payment_id.as_str(), now)?;
                return Ok(ChargeToSend::Nothing);
            }
            let active = active_binding_in(transaction, &record.payment.terminal_id)?;
            let still_bound = active.is_some_and(|binding| Some(&binding.binding_id) == record.binding_id.as_ref());
            match charge_request(&record).filter(|_| still_bound) {
                Some(charge) => Ok(ChargeToSend::Charge(charge)),
                None => {
                    mark_billing_delivered(transaction, payment_id.as_str(), now)?;
                    let actor = Actor { audit_key: self.audit_key.as_ref(), name: "platform" };
                    let denied = Settlement::Denied(PaymentDenialReason::NotBound);
                    let settled =
                        settle_payment(transaction, actor, payment_id, &[PaymentState::Processing], denied, now)?;
                    Ok(settled.map_or(ChargeToSend::Nothing, |record| ChargeToSend::DeniedNotBound(Box::new(record))))
                }
            }
        })
    }
}

/// What a queued charge needs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeToSend {
    Charge(ChargeRequest),
    /// The box was unbound before the charge went out: denied `not_bound`.
    DeniedNotBound(Box<PaymentRecord>),
    Nothing,
}

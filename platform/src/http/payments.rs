//! `/v1/payments`: merchants charge what a box signed, read and list their payments, cancel one waiting for
//! confirmation. A handler parses, checks the intent (merchant, signature, freshness), stores in one transaction,
//! then makes one inline charge attempt so that most payments answer final at once.

use super::merchant_auth::MerchantRequest;
use super::terminal_auth::registered_key;
use crate::domain::hub_checks::{check_amount, HubRefusal};
use crate::domain::payment::{
    body_hash, check_idempotency_key, check_reference_code, intent_is_fresh, new_confirmation_number, new_payment_id,
};
use crate::domain::payment_text::{confirmation_request, PaymentSmsFacts};
use crate::error::ApiError;
use crate::hub_gate::{check_number_at_hub, record_refusal, refuse, HubPath, RefusalSubject};
use crate::state::AppState;
use crate::store::{
    charge_request, CreatePaymentOutcome, MerchantCancellation, NewConfirmation, NewPayment, PaymentRecord,
};
use crate::workers::billing::{announce_payment_change, hand_to_billing_worker, send_charge};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use numbind_process::http_api::{parse_json_body, ApiPath};
use numbind_wire::api::{
    ChargeOutcome, ChargeRequest, CreatePaymentRequest, Payment, PaymentDenialReason, CHARGE_CHECKS_PATH,
};
use numbind_wire::purchase_intent::PurchaseIntentError;
use numbind_wire::{PaymentId, PurchaseIntent};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct PaymentPath {
    pub(super) payment_id: String,
}

/// The path's payment ID; a malformed one names no payment.
pub(super) fn path_payment_id(path: &PaymentPath) -> Result<PaymentId, ApiError> {
    PaymentId::parse(&path.payment_id).map_err(|_| ApiError::PaymentNotFound)
}

/// The request's `Idempotency-Key`, required and well-formed.
pub(super) fn required_idempotency_key(request: &MerchantRequest) -> Result<String, ApiError> {
    let key = request.idempotency_key.clone().unwrap_or_default();
    check_idempotency_key(&key).map_err(ApiError::invalid_request)?;
    Ok(key)
}

/// Reads the intent, checks it is this merchant's, signed by the box's registered key, and fresh.
async fn verified_intent(
    state: &AppState,
    request: &MerchantRequest,
    body: &CreatePaymentRequest,
) -> Result<PurchaseIntent, ApiError> {
    let malformed = |error: PurchaseIntentError| ApiError::invalid_request(format!("signed_intent: {error}"));
    let claimed = body.signed_intent.claimed_intent().map_err(malformed)?;
    if claimed.merchant_id != request.merchant.merchant_id {
        return Err(ApiError::PurchaseIntentInvalid("the purchase intent names another merchant"));
    }
    let terminal_key = match registered_key(state, &claimed.terminal_id).await {
        Ok(key) => key,
        Err(ApiError::TerminalNotRegistered) => {
            return Err(ApiError::PurchaseIntentInvalid("the purchase intent names a box that is not registered"))
        }
        Err(other) => return Err(other),
    };
    let intent = body.signed_intent.verify(&terminal_key).map_err(|error| match error {
        PurchaseIntentError::BadSignature => {
            ApiError::PurchaseIntentInvalid("the purchase intent's signature does not verify with the box's key")
        }
        other => malformed(other),
    })?;
    if !intent_is_fresh(intent.signed_at_unix_seconds, state.now()) {
        return Err(ApiError::PurchaseIntentStale);
    }
    Ok(intent)
}

/// At or above the threshold: the OSS's pre-check (a decline denies at once; no answer goes on) and the
/// confirmation number, its tag and its SMS.
async fn two_step(
    state: &AppState,
    request: &MerchantRequest,
    intent: &PurchaseIntent,
    payment_id: &PaymentId,
) -> Result<(Option<NewConfirmation>, Option<PaymentDenialReason>), ApiError> {
    let terminal_id = intent.terminal_id.clone();
    let binding = state.store.call(move |store| store.active_binding(&terminal_id)).await?;
    let mut declined = None;
    if let (Some(client), Some(binding)) = (&state.inline_billing, binding) {
        let check = ChargeRequest {
            payment_id: payment_id.clone(),
            binding_id: binding.binding_id,
            msisdn: binding.msisdn.clone(),
            merchant_id: intent.merchant_id.clone(),
            item_description: intent.item_description.clone(),
            amount: intent.amount,
            currency: intent.currency,
        };
        let number = (binding.province, &check.msisdn);
        match client.post_for_number::<_, ChargeOutcome>(number, CHARGE_CHECKS_PATH, &check).await {
            Ok(ChargeOutcome::Declined { reason }) => declined = Some(reason),
            Ok(ChargeOutcome::Charged { .. }) => {}
            Err(error) => tracing::warn!(%payment_id, error = %error, "charge check unanswered: the charge decides"),
        }
    }
    // The confirmation is made whatever the binding now: the transaction resolves the binding again, and a
    // payment at or above the threshold is never created without one.
    let number = new_confirmation_number(&state.random)
        .map_err(|_| ApiError::Internal(crate::store::StoreError::RandomSourceFailed))?;
    let ttl = state.settings.payment_confirmation_ttl.as_secs() as i64;
    let facts = PaymentSmsFacts {
        merchant_display_name: &request.merchant.display_name,
        item_description: intent.item_description.as_str(),
        amount: intent.amount,
        currency: intent.currency,
        payment_id: payment_id.as_str(),
    };
    let confirmation = NewConfirmation {
        tag: state.confirmation_key.tag(payment_id.as_str(), &number),
        expires_at: state.now() + ttl,
        sms_text: confirmation_request(&facts, &number, (ttl / 60).max(1)),
    };
    Ok((Some(confirmation), declined))
}

/// The national hub's checks of a payment, before any province is asked: an amount above the national limit is
/// refused (`amount_over_national_limit`, nothing stored); a bound number the hub refuses (its prefix, the national
/// blacklist) makes the payment denied at once with its own reason, so the box shows why.
async fn hub_checks(
    state: &AppState,
    request: &MerchantRequest,
    intent: &PurchaseIntent,
) -> Result<Option<PaymentDenialReason>, ApiError> {
    let merchant = format!("merchant {}", request.merchant.merchant_id);
    if let Err(refusal) = check_amount(intent.amount, state.settings.national_charge_limit) {
        let detail = Some(format!("{merchant}: {refusal}"));
        let subject = RefusalSubject { msisdn: None, terminal_id: Some(intent.terminal_id.clone()), detail };
        return Err(refuse(state, refusal, HubPath::Payment, subject).await);
    }
    let Some(binding) = state.store.active_binding(&intent.terminal_id)? else { return Ok(None) };
    let Err(refusal) = check_number_at_hub(state, &binding.msisdn)? else { return Ok(None) };
    let reason = match refusal {
        HubRefusal::BlacklistedNationally => PaymentDenialReason::BlacklistedNationally,
        HubRefusal::NumberNotMobile(_) | HubRefusal::AmountOverNationalLimit { .. } => {
            PaymentDenialReason::NumberNotMobile
        }
    };
    let subject = RefusalSubject {
        msisdn: Some(binding.msisdn),
        terminal_id: Some(intent.terminal_id.clone()),
        detail: Some(format!("{merchant}: the payment is created denied")),
    };
    record_refusal(state, &refusal, HubPath::Payment, subject).await?;
    Ok(Some(reason))
}

/// `POST /v1/payments`: 201 with the payment; the same key and body again answers the same payment as it is now.
#[tracing::instrument(skip_all, fields(merchant_id = %request.merchant.merchant_id))]
pub(super) async fn create_payment(
    State(state): State<AppState>,
    request: MerchantRequest,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    let idempotency_key = required_idempotency_key(&request)?;
    let body: CreatePaymentRequest = parse_json_body(&request.body)?;
    check_reference_code(&body.reference_code).map_err(ApiError::invalid_request)?;
    // A repeated key answers its original payment first: a retry after the intent's freshness window (a long outage)
    // must not turn into `purchase_intent_stale`.
    let hash = body_hash(&request.body);
    // A point read on this worker, as the merchant's authentication: no hop to the blocking pool per purchase.
    match state.store.repeated_payment_key(&request.merchant.merchant_id, &idempotency_key, &hash)? {
        Some(CreatePaymentOutcome::Repeated(record)) => return Ok((StatusCode::CREATED, Json(record.payment))),
        Some(CreatePaymentOutcome::KeyReused) => return Err(ApiError::IdempotencyKeyReused),
        _ => {}
    }
    let intent = verified_intent(&state, &request, &body).await?;
    let declined_by_hub = hub_checks(&state, &request, &intent).await?;
    let payment_id =
        new_payment_id(&state.random).map_err(|_| ApiError::Internal(crate::store::StoreError::RandomSourceFailed))?;
    let (confirmation, declined_by_check) = match declined_by_hub {
        Some(reason) => (None, Some(reason)),
        None if intent.amount.minor_units() >= state.settings.payment_confirmation_threshold => {
            two_step(&state, &request, &intent, &payment_id).await?
        }
        None => (None, None),
    };
    let new_payment = NewPayment {
        merchant_id: request.merchant.merchant_id.clone(),
        idempotency_key,
        body_hash: hash,
        intent,
        reference_code: body.reference_code,
        payment_id,
        confirmation,
        declined_by_check,
    };
    let now = state.now();
    let record = match state.store.call_write(move |store| store.create_payment(&new_payment, now)).await? {
        CreatePaymentOutcome::Created(record) => after_creation(&state, record).await?,
        CreatePaymentOutcome::Repeated(record) => record,
        CreatePaymentOutcome::KeyReused => return Err(ApiError::IdempotencyKeyReused),
        CreatePaymentOutcome::IntentUsed => return Err(ApiError::PurchaseIntentUsed),
    };
    Ok((StatusCode::CREATED, Json(record.payment)))
}

/// Wakes the box, then tries a processing payment's charge once inline; the payment as it is afterwards. The log
/// line of a payment charged inline is the charge's answer ("charge answered"), one line per purchase.
async fn after_creation(state: &AppState, record: PaymentRecord) -> Result<PaymentRecord, ApiError> {
    announce_payment_change(state, &record);
    let payment_id = record.payment.payment_id.clone();
    let processing = record.payment.state == numbind_wire::api::PaymentState::Processing;
    let inline = state.inline_billing.as_ref().zip(charge_request(&record).filter(|_| processing));
    let Some((client, charge)) = inline else {
        tracing::info!(%payment_id, state = record.payment.state.as_str(), "payment created");
        return Ok(record);
    };
    match send_charge(state, client, charge).await {
        // The payment as the attempt committed it: no second read.
        Ok(Some(recorded)) => return Ok(recorded),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%payment_id, error = %error, "inline charge unanswered: the billing worker retries");
            hand_to_billing_worker(state, payment_id.as_str(), &error).await;
        }
    }
    Ok(state.store.call(move |store| store.find_payment(&payment_id)).await?.unwrap_or(record))
}

/// `GET /v1/payments/{payment_id}`: the merchant's own payment; another merchant's is not found.
pub(super) async fn get_payment(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    request: MerchantRequest,
) -> Result<Json<Payment>, ApiError> {
    let payment_id = path_payment_id(&path)?;
    let merchant_id = request.merchant.merchant_id;
    let record = state.store.call(move |store| store.payment_of_merchant(&merchant_id, &payment_id)).await?;
    Ok(Json(record.ok_or(ApiError::PaymentNotFound)?.payment))
}

/// `POST /v1/payments/{payment_id}/cancel`: only a payment waiting for confirmation.
pub(super) async fn cancel_payment(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<PaymentPath>,
    request: MerchantRequest,
) -> Result<Json<Payment>, ApiError> {
    let payment_id = path_payment_id(&path)?;
    let (merchant_id, now) = (request.merchant.merchant_id, state.now());
    match state.store.call_write(move |store| store.cancel_payment_by_merchant(&merchant_id, &payment_id, now)).await? {
        MerchantCancellation::Cancelled(record) => {
            announce_payment_change(&state, &record);
            Ok(Json(record.payment))
        }
        MerchantCancellation::NotFound => Err(ApiError::PaymentNotFound),
        MerchantCancellation::NotCancellable => Err(ApiError::PaymentNotCancellable),
    }
}

//! Buying from C: `numbind_agent_purchase`, the request read from C values, the box's merchant channel as a C
//! callback, and the purchase events' texts in the words and shapes of the CLI's `buy --json-events`.

use crate::event::{EventSink, Reported, UserData};
use crate::handle::Failure;
use crate::types::{
    NumbindAgentEvent, NumbindAgentEventCallback, NumbindAgentEventKind, NumbindAgentMerchantChannel,
    NumbindAgentPurchaseRequest, NumbindAgentSignedPurchase, NumbindAgentStatus, NumbindAgentStr,
};
use crate::{panic_failure, string_of, with_agent, NumbindAgent};
use numbind_device_agent::{
    MerchantChannel, MerchantChannelError, PurchaseOutcome, PurchaseProgress, PurchaseRequest, SignedPurchase,
};
use numbind_wire::{Amount, Currency, ItemDescription, ItemId, MerchantId};
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Buys an item on the bound number: reports `PURCHASE_STARTED`, signs the intent with the terminal's key, hands
/// it to `channel` (the billed service's own link to its merchant), then follows the payment at the platform,
/// reporting `PURCHASE_PROGRESS` for each new stage (and `RETRYING` while the platform is out of reach) and last
/// `PURCHASE_OUTCOME`. Answers `NUMBIND_AGENT_STATUS_OK` once the purchase is final, whatever its outcome (read it
/// in the last event); `NUMBIND_AGENT_STATUS_MERCHANT` when the channel refused and the platform never got the
/// intent (nothing was charged). Added in ABI 1.1.
///
/// # Safety
/// `agent` is a live handle; `request` is NULL or a valid request whose strings are valid for their lengths
/// during this call; `channel` and `callback` are NULL or functions safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_purchase(
    agent: *const NumbindAgent,
    request: *const NumbindAgentPurchaseRequest,
    channel: NumbindAgentMerchantChannel,
    callback: NumbindAgentEventCallback,
    user_data: *mut c_void,
) -> NumbindAgentStatus {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller passes NULL or a valid request (this function's contract).
        let request = unsafe { request.as_ref() }
            .ok_or_else(|| Failure::new(NumbindAgentStatus::InvalidArgument, "request is NULL"))?;
        // SAFETY: the request's strings are valid for their lengths during this call (the contract).
        purchase_request(request, |text, name| unsafe { string_of(text, name) })
    }))
    .unwrap_or_else(|payload| Err(panic_failure(payload.as_ref())));
    let sink = EventSink::new(callback, user_data);
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe {
        with_agent(agent, |agent| {
            let request = parsed?;
            let submit = channel
                .ok_or_else(|| Failure::new(NumbindAgentStatus::InvalidArgument, "the merchant channel is NULL"))?;
            let channel = CallbackChannel { submit, user_data: UserData(user_data) };
            sink.send(Reported::PurchaseStarted(request.clone()));
            let progress = move |stage: PurchaseProgress| sink.send(Reported::PurchaseProgress(stage));
            let outcome = agent.block_on(agent.agent.purchase(request, &channel, progress))?;
            sink.send(Reported::PurchaseOutcome(outcome));
            Ok(())
        })
    }
}

/// Reads the C request; `text` turns each C string into `&str` (failing on bad UTF-8).
fn purchase_request(
    request: &NumbindAgentPurchaseRequest,
    text: impl Fn(NumbindAgentStr, &str) -> Result<String, Failure>,
) -> Result<PurchaseRequest, Failure> {
    let invalid = |name: &str, error: &dyn std::fmt::Display| {
        Failure::new(NumbindAgentStatus::InvalidArgument, format!("{name}: {error}"))
    };
    let merchant_id = MerchantId::parse(&text(request.merchant_id, "merchant_id")?)
        .map_err(|error| invalid("merchant_id", &error))?;
    let item_id = ItemId::parse(&text(request.item_id, "item_id")?).map_err(|error| invalid("item_id", &error))?;
    let item_description = ItemDescription::parse(&text(request.item_description, "item_description")?)
        .map_err(|error| invalid("item_description", &error))?;
    let amount =
        Amount::from_minor_units(request.amount_minor_units).map_err(|error| invalid("amount_minor_units", &error))?;
    let currency = match text(request.currency, "currency")?.as_str() {
        "" => Currency::Cny,
        code => Currency::parse(code).map_err(|error| invalid("currency", &error))?,
    };
    Ok(PurchaseRequest { merchant_id, item_id, item_description, amount, currency })
}

/// The box's merchant channel: the C function the caller passed, called on the caller's thread.
struct CallbackChannel {
    submit: unsafe extern "C" fn(purchase: *const NumbindAgentSignedPurchase, user_data: *mut c_void) -> bool,
    user_data: UserData,
}

impl CallbackChannel {
    fn hand_over(&self, purchase: &SignedPurchase) -> Result<(), MerchantChannelError> {
        let signed_intent = serde_json::to_string(&purchase.signed_intent)?;
        let record = NumbindAgentSignedPurchase {
            signed_intent: NumbindAgentStr::of(&signed_intent),
            intent_nonce: NumbindAgentStr::of(&purchase.intent_nonce),
        };
        // SAFETY: `record` and the strings it points into live until the call returns; the caller promised that
        // the channel may be called with `user_data`.
        let taken = unsafe { (self.submit)(&record, self.user_data.pointer()) };
        if taken {
            Ok(())
        } else {
            Err("the merchant channel did not take the signed intent".into())
        }
    }
}

impl MerchantChannel for CallbackChannel {
    // The C function blocks the caller's thread, which is the agent's runtime thread: it runs here, before the
    // future is made, so that the future holds no pointer.
    fn submit(
        &self,
        purchase: &SignedPurchase,
    ) -> impl std::future::Future<Output = Result<(), MerchantChannelError>> + Send {
        std::future::ready(self.hand_over(purchase))
    }
}

/// A purchase step as the texts its C record points into.
#[derive(Debug)]
pub(crate) struct PurchaseTexts {
    kind: NumbindAgentEventKind,
    merchant_id: String,
    item_id: String,
    amount_minor_units: i64,
    currency: &'static str,
    stage: &'static str,
    expires_at_unix_seconds: i64,
    outcome: &'static str,
    payment_id: String,
    reason: String,
    words: &'static str,
}

impl PurchaseTexts {
    /// `None` for what is not a purchase step of this ABI version.
    pub(crate) fn new(reported: Reported) -> Option<PurchaseTexts> {
        let mut texts = PurchaseTexts {
            kind: NumbindAgentEventKind::PurchaseProgress,
            merchant_id: String::new(),
            item_id: String::new(),
            amount_minor_units: 0,
            currency: "",
            stage: "",
            expires_at_unix_seconds: 0,
            outcome: "",
            payment_id: String::new(),
            reason: String::new(),
            words: "",
        };
        match reported {
            Reported::PurchaseStarted(request) => {
                texts.kind = NumbindAgentEventKind::PurchaseStarted;
                texts.merchant_id = request.merchant_id.as_str().to_owned();
                texts.item_id = request.item_id.as_str().to_owned();
                texts.amount_minor_units = request.amount.minor_units();
                texts.currency = request.currency.code();
            }
            Reported::PurchaseProgress(progress) => {
                texts.stage = stage_of(&progress)?;
                if let PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds: Some(at) } = progress {
                    texts.expires_at_unix_seconds = at;
                }
            }
            Reported::PurchaseOutcome(outcome) => texts.set_outcome(outcome),
            Reported::Agent(_) => return None,
        }
        Some(texts)
    }

    fn set_outcome(&mut self, outcome: PurchaseOutcome) {
        self.kind = NumbindAgentEventKind::PurchaseOutcome;
        match outcome {
            PurchaseOutcome::Succeeded { payment_id } => {
                self.outcome = "succeeded";
                self.payment_id = payment_id.as_str().to_owned();
            }
            PurchaseOutcome::Denied { reason, words } => {
                self.outcome = "denied";
                self.reason = word_of(reason);
                self.words = words;
            }
            PurchaseOutcome::Cancelled { reason } => {
                self.outcome = "cancelled";
                self.reason = word_of(reason);
            }
            _ => self.outcome = "expired",
        }
    }
}

fn stage_of(progress: &PurchaseProgress) -> Option<&'static str> {
    Some(match progress {
        PurchaseProgress::WaitingForMerchant => "waiting_for_merchant",
        PurchaseProgress::WaitingForConfirmation { .. } => "waiting_for_confirmation",
        PurchaseProgress::Processing => "processing",
        _ => return None,
    })
}

/// A reason's stable lowercase word, as the platform's JSON and the CLI's events spell it.
fn word_of(reason: impl serde::Serialize) -> String {
    match serde_json::to_value(reason) {
        Ok(serde_json::Value::String(word)) => word,
        _ => "other".to_owned(),
    }
}

pub(crate) fn purchase_kind(texts: &PurchaseTexts) -> NumbindAgentEventKind {
    texts.kind
}

/// Points the record's purchase fields into `texts`.
pub(crate) fn set_purchase_fields(record: &mut NumbindAgentEvent, texts: &PurchaseTexts) {
    record.merchant_id = NumbindAgentStr::of(&texts.merchant_id);
    record.item_id = NumbindAgentStr::of(&texts.item_id);
    record.amount_minor_units = texts.amount_minor_units;
    record.currency = NumbindAgentStr::of(texts.currency);
    record.stage = NumbindAgentStr::of(texts.stage);
    record.expires_at_unix_seconds = texts.expires_at_unix_seconds;
    record.outcome = NumbindAgentStr::of(texts.outcome);
    record.payment_id = NumbindAgentStr::of(&texts.payment_id);
    record.reason = NumbindAgentStr::of(&texts.reason);
    record.words = NumbindAgentStr::of(texts.words);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::OwnedEvent;
    use numbind_wire::api::{CancellationReason, PaymentDenialReason};

    fn text_of(value: NumbindAgentStr) -> String {
        if value.ptr.is_null() {
            return String::new();
        }
        // SAFETY: the record's strings point into the `OwnedEvent` alive in each test, `len` bytes long.
        String::from_utf8(unsafe { std::slice::from_raw_parts(value.ptr, value.len) }.to_vec()).unwrap()
    }

    fn record_of(reported: Reported) -> (OwnedEvent, NumbindAgentEvent) {
        let owned = OwnedEvent::new(reported).unwrap();
        let record = owned.record();
        (owned, record)
    }

    #[test]
    fn a_denied_purchase_carries_its_reason_word_and_the_words_for_the_screen() {
        let reason = PaymentDenialReason::SingleChargeLimit;
        let (_owned, record) =
            record_of(Reported::PurchaseOutcome(PurchaseOutcome::Denied { reason, words: reason.words() }));
        assert_eq!(record.kind, NumbindAgentEventKind::PurchaseOutcome);
        assert_eq!(text_of(record.outcome), "denied");
        assert_eq!(text_of(record.reason), "single_charge_limit");
        assert_eq!(text_of(record.words), "the amount is over the limit for one purchase");
        assert_eq!(text_of(record.payment_id), "");
    }

    #[test]
    fn each_purchase_step_has_its_kind_and_the_clis_words() {
        let cancelled = PurchaseOutcome::Cancelled { reason: CancellationReason::DeclinedByUser };
        let (_owned, record) = record_of(Reported::PurchaseOutcome(cancelled));
        assert_eq!((text_of(record.outcome), text_of(record.reason)), ("cancelled".into(), "declined_by_user".into()));
        let waiting = PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds: Some(1_800_000_000) };
        let (_owned, record) = record_of(Reported::PurchaseProgress(waiting));
        assert_eq!(record.kind, NumbindAgentEventKind::PurchaseProgress);
        assert_eq!(
            (text_of(record.stage), record.expires_at_unix_seconds),
            ("waiting_for_confirmation".into(), 1_800_000_000)
        );
        let retrying =
            PurchaseProgress::Retrying { after: std::time::Duration::from_millis(1500), cause: "busy".into() };
        let (_owned, record) = record_of(Reported::PurchaseProgress(retrying));
        assert_eq!((record.kind, record.after_ms), (NumbindAgentEventKind::Retrying, 1500));
    }

    #[test]
    fn a_request_names_the_field_it_refuses() {
        let text = |value: &'static str| NumbindAgentStr::of(value);
        let mut request = NumbindAgentPurchaseRequest {
            merchant_id: text("demo-films"),
            item_id: text("film-4412"),
            item_description: text("《流浪地球》高清"),
            amount_minor_units: 500,
            currency: NumbindAgentStr::EMPTY,
        };
        let read = |value: NumbindAgentStr, _: &str| Ok(text_of(value));
        let parsed = purchase_request(&request, read).unwrap();
        assert_eq!((parsed.amount.minor_units(), parsed.currency), (500, Currency::Cny));
        request.amount_minor_units = 0;
        let refused = purchase_request(&request, read).unwrap_err();
        assert_eq!(refused.status, NumbindAgentStatus::InvalidArgument);
        assert!(refused.message.starts_with("amount_minor_units"), "{}", refused.message);
        request.amount_minor_units = 500;
        request.merchant_id = text("Demo Films");
        assert!(purchase_request(&request, read).unwrap_err().message.starts_with("merchant_id"));
    }
}

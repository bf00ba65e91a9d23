//! What the CLI prints on stdout: localised human text, or one JSON object per line (flushed).

use crate::display::text::{localise, Message};
use crate::domain::connection::ConnectionFailure;
use crate::{
    AgentEvent, BindingStatus, Language, LocalBindingState, PurchaseOutcome, PurchaseProgress, PurchaseRequest,
};
use numbind_wire::TerminalId;
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// How many failures in a row the screen reports as tries before it says plainly that the platform is out of
/// reach.
const FAILURES_BEFORE_SAYING_IT_PLAINLY: u32 = 3;

/// Prints events and results in the chosen form. Write failures (a closed pipe) are logged, not fatal.
pub(super) struct Output {
    json: bool,
    language: Language,
    /// Codes shown so far: every code after the first says that the old one is void.
    codes_shown: u32,
    /// The failure reported just before its `Retrying` event, which then prints one line for both.
    unreachable: Option<(String, ConnectionFailure, u32)>,
}

impl Output {
    pub(super) fn new(json: bool, language: Language) -> Self {
        Output { json, language, codes_shown: 0, unreachable: None }
    }

    pub(super) fn is_json(&self) -> bool {
        self.json
    }

    pub(super) fn event(&mut self, event: &AgentEvent) {
        if self.json {
            if let Some(value) = json_of_event(event) {
                self.line(&value.to_string());
            }
        } else {
            for message in self.screen_lines(event) {
                self.line(&message);
            }
        }
    }

    /// The human lines of an event, keeping what the screen must remember between events.
    fn screen_lines(&mut self, event: &AgentEvent) -> Vec<String> {
        match event {
            AgentEvent::PlatformUnreachable { url, failure, failed_attempts } => {
                self.unreachable = Some((url.clone(), *failure, *failed_attempts));
                Vec::new()
            }
            AgentEvent::Retrying { after, .. } => match self.unreachable.take() {
                Some((url, failure, failed_attempts)) => {
                    let plainly = failed_attempts >= FAILURES_BEFORE_SAYING_IT_PLAINLY;
                    let seconds = rounded_up_seconds(*after);
                    let message = Message::PlatformUnreachable { url: &url, failure, plainly, seconds };
                    vec![localise(self.language, &message)]
                }
                None => human_lines(event, self.language),
            },
            AgentEvent::ActivationShown(_) => {
                self.codes_shown += 1;
                let mut lines = human_lines(event, self.language);
                if self.codes_shown > 1 {
                    lines.insert(0, localise(self.language, &Message::NewCode));
                }
                lines
            }
            _ => human_lines(event, self.language),
        }
    }

    /// The answer of `status`: the platform's answer, and, when the flag said bound and the platform says
    /// unbound, one sentence about what changed instead.
    pub(super) fn status(&mut self, local_state: &LocalBindingState, status: &BindingStatus) {
        let was_bound = matches!(local_state, LocalBindingState::Bound(_));
        if !self.json && was_bound && *status == BindingStatus::Unbound {
            self.line(&localise(self.language, &Message::UnboundSinceLastCheck));
            return;
        }
        match status {
            BindingStatus::Bound(binding) if self.json => self.line(
                &json!({"event": "status", "state": "bound", "binding_id": binding.binding_id,
                        "msisdn_masked": binding.msisdn_masked})
                .to_string(),
            ),
            BindingStatus::Bound(binding) => {
                self.line(&localise(self.language, &Message::Bound { msisdn_masked: &binding.msisdn_masked }))
            }
            BindingStatus::Unbound if self.json => self.line(
                &json!({"event": "status", "state": "unbound", "binding_id": null, "msisdn_masked": null}).to_string(),
            ),
            BindingStatus::Unbound => self.line(&localise(self.language, &Message::Unbound)),
        }
    }

    pub(super) fn reset_done(&mut self) {
        let text = if self.json {
            json!({"event": "reset"}).to_string()
        } else {
            localise(self.language, &Message::ResetDone)
        };
        self.line(&text);
    }

    pub(super) fn identity(&mut self, terminal_id: &TerminalId, public_key: &str) {
        if self.json {
            let value = json!({"event": "identity", "terminal_id": terminal_id.as_str(), "public_key": public_key});
            self.line(&value.to_string());
        } else {
            self.line(&localise(self.language, &Message::TerminalId { terminal_id: terminal_id.as_str() }));
            self.line(&localise(self.language, &Message::PublicKey { public_key }));
        }
    }

    pub(super) fn purchase_started(&mut self, request: &PurchaseRequest) {
        let text = if self.json {
            json!({"event": "purchase_started", "merchant_id": request.merchant_id.as_str(),
                   "item_id": request.item_id.as_str(), "amount_minor_units": request.amount.minor_units(),
                   "currency": request.currency.code()})
            .to_string()
        } else {
            localise(
                self.language,
                &Message::PurchaseStarted {
                    item_description: request.item_description.as_str(),
                    amount: request.amount,
                    currency: request.currency,
                },
            )
        };
        self.line(&text);
    }

    pub(super) fn purchase_progress(&mut self, progress: &PurchaseProgress) {
        if self.json {
            self.line(&json_of_progress(progress).to_string());
            return;
        }
        let message = match progress {
            PurchaseProgress::WaitingForMerchant => Message::PurchaseWaitingForMerchant,
            PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds } => {
                let now = numbind_process::clock::now_unix_seconds();
                let minutes = expires_at_unix_seconds.map(|expires| ((expires - now).max(0) + 59) / 60);
                Message::PurchaseConfirmBySms { minutes }
            }
            PurchaseProgress::Processing => Message::PurchaseProcessing,
            PurchaseProgress::Retrying { after, .. } => Message::Retrying { seconds: rounded_up_seconds(*after) },
        };
        self.line(&localise(self.language, &message));
    }

    pub(super) fn purchase_outcome(&mut self, outcome: &PurchaseOutcome) {
        if self.json {
            self.line(&json_of_outcome(outcome).to_string());
            return;
        }
        let message = match outcome {
            PurchaseOutcome::Succeeded { payment_id } => Message::PurchaseSucceeded { payment_id: payment_id.as_str() },
            PurchaseOutcome::Denied { words, .. } => Message::PurchaseDenied { words },
            PurchaseOutcome::Cancelled { reason } => Message::PurchaseCancelled { reason: *reason },
            _ => Message::PurchaseExpired,
        };
        self.line(&localise(self.language, &message));
    }

    /// Prints text as is (the QR code), then flushes.
    pub(super) fn raw(&mut self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
            tracing::warn!(%error, "cannot write to stdout");
        }
    }

    fn line(&mut self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
            tracing::warn!(%error, "cannot write to stdout");
        }
    }
}

/// The JSON line of an event; `None` for events the JSON stream does not carry.
fn json_of_event(event: &AgentEvent) -> Option<Value> {
    Some(match event {
        AgentEvent::ActivationShown(display) => json!({
            "event": "activation",
            "terminal_id": display.terminal_id.as_str(),
            "activation_id": display.activation_id,
            "code": display.code,
            "sms_text": display.sms_text,
            "short_code": display.short_code.as_str(),
            "qr_payload": display.qr_payload,
            "expires_at_unix_seconds": display.expires_at_unix_seconds,
        }),
        AgentEvent::Bound(binding) => {
            json!({"event": "bound", "binding_id": binding.binding_id, "msisdn_masked": binding.msisdn_masked})
        }
        AgentEvent::AlreadyBound(binding) => {
            json!({"event": "already_bound", "binding_id": binding.binding_id, "msisdn_masked": binding.msisdn_masked})
        }
        AgentEvent::Denied { reason } => json!({"event": "denied", "reason": reason.as_str()}),
        AgentEvent::Expired => json!({"event": "expired"}),
        AgentEvent::Unbound => json!({"event": "unbound"}),
        AgentEvent::Retrying { after, cause } => {
            json!({"event": "retrying", "after_ms": u64::try_from(after.as_millis()).unwrap_or(u64::MAX), "cause": cause})
        }
        _ => return None,
    })
}

fn json_of_progress(progress: &PurchaseProgress) -> Value {
    match progress {
        PurchaseProgress::WaitingForMerchant => json!({"event": "purchase_progress", "stage": "waiting_for_merchant"}),
        PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds } => json!({
            "event": "purchase_progress", "stage": "waiting_for_confirmation",
            "expires_at_unix_seconds": expires_at_unix_seconds,
        }),
        PurchaseProgress::Processing => json!({"event": "purchase_progress", "stage": "processing"}),
        PurchaseProgress::Retrying { after, cause } => json!({
            "event": "retrying", "after_ms": u64::try_from(after.as_millis()).unwrap_or(u64::MAX), "cause": cause,
        }),
    }
}

fn json_of_outcome(outcome: &PurchaseOutcome) -> Value {
    match outcome {
        PurchaseOutcome::Succeeded { payment_id } => {
            json!({"event": "purchase_outcome", "outcome": "succeeded", "payment_id": payment_id.as_str()})
        }
        PurchaseOutcome::Denied { reason, words } => {
            json!({"event": "purchase_outcome", "outcome": "denied", "reason": reason, "words": words})
        }
        PurchaseOutcome::Cancelled { reason } => {
            json!({"event": "purchase_outcome", "outcome": "cancelled", "reason": reason})
        }
        _ => json!({"event": "purchase_outcome", "outcome": "expired"}),
    }
}

/// The human lines of an event, localised.
fn human_lines(event: &AgentEvent, language: Language) -> Vec<String> {
    let text = |message: Message<'_>| localise(language, &message);
    match event {
        AgentEvent::ActivationShown(display) => {
            let seconds_left = display.expires_at_unix_seconds - numbind_process::clock::now_unix_seconds();
            vec![
                text(Message::TerminalId { terminal_id: display.terminal_id.as_str() }),
                text(Message::Code { code: &display.code }),
                text(Message::SendSms { sms_text: &display.sms_text, short_code: display.short_code.as_str() }),
                text(Message::CodeExpiresInMinutes { minutes: (seconds_left.max(0) + 59) / 60 }),
                text(Message::ScanQrCode),
            ]
        }
        AgentEvent::Bound(binding) => vec![text(Message::Bound { msisdn_masked: &binding.msisdn_masked })],
        AgentEvent::AlreadyBound(binding) => {
            vec![text(Message::AlreadyBound { msisdn_masked: &binding.msisdn_masked })]
        }
        AgentEvent::Denied { reason } => {
            vec![text(Message::Denied { reason: *reason }), text(Message::DeniedWhatNext { reason: *reason })]
        }
        AgentEvent::Expired => vec![text(Message::Expired)],
        AgentEvent::Unbound => vec![text(Message::UnboundSinceLastCheck)],
        AgentEvent::Retrying { after, .. } => vec![text(Message::Retrying { seconds: rounded_up_seconds(*after) })],
        AgentEvent::StillWaiting { seconds_left } => vec![text(Message::WaitingForSms { seconds_left: *seconds_left })],
        AgentEvent::Watching { bound } => {
            let msisdn_masked = bound.as_ref().map(|binding| binding.msisdn_masked.as_str());
            vec![text(Message::Watching { msisdn_masked })]
        }
        AgentEvent::BindingChanged(binding) => {
            vec![text(Message::BindingChanged { msisdn_masked: &binding.msisdn_masked })]
        }
        _ => Vec::new(),
    }
}

/// Whole seconds, rounded up: a screen never says "retrying in 0 s" for a wait of 300 ms.
fn rounded_up_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActivationDisplay, BoundBinding, DenialReason};
    use numbind_wire::ShortCode;

    #[test]
    fn json_events_have_exactly_the_documented_shapes() {
        let display = ActivationDisplay {
            terminal_id: TerminalId::parse("NB-TEST0001").unwrap(),
            activation_id: "act-1".into(),
            code: "WDJB-MJHT".into(),
            short_code: ShortCode::parse("10658000").unwrap(),
            sms_text: "BIND WDJBMJHT".into(),
            qr_payload: "SMSTO:10658000:BIND WDJBMJHT".into(),
            expires_at_unix_seconds: 1_700_000_600,
        };
        let activation = json_of_event(&AgentEvent::ActivationShown(display)).unwrap();
        assert_eq!(activation["event"], "activation");
        assert_eq!(activation["short_code"], "10658000");
        assert_eq!(activation.as_object().unwrap().len(), 8);
        let binding = BoundBinding {
            binding_id: "bnd-1".into(),
            msisdn_masked: "138****8000".into(),
            activation_id: None,
            bound_at_unix_seconds: 0,
        };
        assert_eq!(
            json_of_event(&AgentEvent::Bound(binding)).unwrap(),
            json!({"event": "bound", "binding_id": "bnd-1", "msisdn_masked": "138****8000"})
        );
        assert_eq!(
            json_of_event(&AgentEvent::Denied { reason: DenialReason::DeviceLimitReached }).unwrap(),
            json!({"event": "denied", "reason": "device_limit_reached"})
        );
        let retrying = AgentEvent::Retrying { after: Duration::from_millis(1500), cause: "x".into() };
        assert_eq!(json_of_event(&retrying).unwrap(), json!({"event": "retrying", "after_ms": 1500, "cause": "x"}));
        assert_eq!(json_of_event(&AgentEvent::StillWaiting { seconds_left: 3 }), None);
    }

    #[test]
    fn purchase_outcomes_have_their_json_shapes_with_the_words_of_a_denial() {
        use numbind_wire::api::{CancellationReason, PaymentDenialReason};
        let paid = PurchaseOutcome::Succeeded { payment_id: numbind_wire::PaymentId::parse("pay-1").unwrap() };
        assert_eq!(
            json_of_outcome(&paid),
            json!({"event": "purchase_outcome", "outcome": "succeeded", "payment_id": "pay-1"})
        );
        let reason = PaymentDenialReason::TooSoon;
        let denied = json_of_outcome(&PurchaseOutcome::Denied { reason, words: reason.words() });
        assert_eq!(denied["reason"], "too_soon");
        assert_eq!(denied["words"], reason.words());
        let cancelled = json_of_outcome(&PurchaseOutcome::Cancelled { reason: CancellationReason::DeclinedByUser });
        assert_eq!(cancelled["reason"], "declined_by_user");
        let waiting = json_of_progress(&PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds: Some(9) });
        assert_eq!(
            waiting,
            json!({"event": "purchase_progress", "stage": "waiting_for_confirmation", "expires_at_unix_seconds": 9})
        );
    }

    #[test]
    fn human_text_for_a_retry_rounds_seconds_up() {
        let lines = human_lines(
            &AgentEvent::Retrying { after: Duration::from_millis(1500), cause: String::new() },
            Language::En,
        );
        assert_eq!(lines, vec!["The network is busy; retrying in 2 s".to_owned()]);
    }
}

//! `OwnedEvent`: an agent or purchase event with its QR modules computed, from which the borrowed C record is
//! made.

use crate::purchase::{purchase_kind, set_purchase_fields, PurchaseTexts};
use crate::types::{NumbindAgentEvent, NumbindAgentEventCallback, NumbindAgentEventKind, NumbindAgentStr};
use numbind_device_agent::{AgentEvent, BoundBinding, PurchaseOutcome, PurchaseProgress, PurchaseRequest};
use qrcode::{Color, QrCode};
use std::os::raw::c_void;

/// The QR code of a payload as modules: its width and `width * width` bytes, 1 dark, 0 light, no quiet zone.
/// The same encoding as the CLI's drawings (`qrcode`, byte mode, the smallest version that fits).
pub fn qr_modules(payload: &str) -> Option<(usize, Vec<u8>)> {
    let code = QrCode::new(payload.as_bytes()).ok()?;
    let modules = code.to_colors().iter().map(|color| u8::from(*color == Color::Dark)).collect();
    Some((code.width(), modules))
}

/// The caller's `user_data`, carried into the event closure (which the agent requires to be `Send`).
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the agent runs on a current-thread runtime inside the caller's blocking call, so the closure holding
// this pointer runs on the caller's thread only; the pointer never reaches another thread.
unsafe impl Send for UserData {}

impl UserData {
    pub(crate) fn pointer(self) -> *mut c_void {
        self.0
    }
}

/// Hands each event to the C callback as a borrowed record (nothing when the callback is NULL).
#[derive(Clone, Copy)]
pub(crate) struct EventSink {
    callback: NumbindAgentEventCallback,
    user_data: UserData,
}

impl EventSink {
    pub(crate) fn new(callback: NumbindAgentEventCallback, user_data: *mut c_void) -> EventSink {
        EventSink { callback, user_data: UserData(user_data) }
    }

    pub(crate) fn send(self, reported: Reported) {
        let (Some(callback), Some(owned)) = (self.callback, OwnedEvent::new(reported)) else { return };
        let record = owned.record();
        // SAFETY: `record` and the data it points into (`owned`) live until the callback returns; the caller
        // promised that `callback` may be called with `user_data`.
        unsafe { callback(&record, self.user_data.pointer()) };
    }
}

/// What the library reports to the C callback: the agent's own events, and a purchase's steps.
#[derive(Debug)]
pub(crate) enum Reported {
    Agent(AgentEvent),
    PurchaseStarted(PurchaseRequest),
    PurchaseProgress(PurchaseProgress),
    PurchaseOutcome(PurchaseOutcome),
}

/// An event and the data its C record points into; the record is valid while this value lives.
pub(crate) enum OwnedEvent {
    Agent(OwnedAgentEvent),
    Purchase(PurchaseTexts),
}

/// An agent event with its QR modules and retry wait computed.
pub(crate) struct OwnedAgentEvent {
    event: AgentEvent,
    qr: Option<(usize, Vec<u8>)>,
    retry_after_ms: u64,
}

impl OwnedEvent {
    /// `None` for an event kind this ABI version does not report.
    pub(crate) fn new(reported: Reported) -> Option<OwnedEvent> {
        let event = match reported {
            Reported::Agent(event) => event,
            // A purchase's retries are the agent's `RETRYING`, as in the CLI's events.
            Reported::PurchaseProgress(PurchaseProgress::Retrying { after, cause }) => {
                AgentEvent::Retrying { after, cause }
            }
            purchase_step => return PurchaseTexts::new(purchase_step).map(OwnedEvent::Purchase),
        };
        kind_of(&event)?;
        let qr = match &event {
            AgentEvent::ActivationShown(display) => qr_modules(&display.qr_payload),
            _ => None,
        };
        let retry_after_ms = match &event {
            AgentEvent::Retrying { after, .. } => u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            _ => 0,
        };
        Some(OwnedEvent::Agent(OwnedAgentEvent { event, qr, retry_after_ms }))
    }

    /// The C record, borrowing from `self`.
    pub(crate) fn record(&self) -> NumbindAgentEvent {
        match self {
            OwnedEvent::Agent(owned) => owned.record(),
            OwnedEvent::Purchase(purchase) => {
                let mut record = empty_record(purchase_kind(purchase));
                set_purchase_fields(&mut record, purchase);
                record
            }
        }
    }
}

impl OwnedAgentEvent {
    fn record(&self) -> NumbindAgentEvent {
        let kind = kind_of(&self.event).unwrap_or(NumbindAgentEventKind::Retrying);
        let mut record = empty_record(kind);
        match &self.event {
            AgentEvent::Registered { terminal_id, newly_registered } => {
                record.terminal_id = NumbindAgentStr::of(terminal_id.as_str());
                record.newly_registered = *newly_registered;
            }
            AgentEvent::ActivationShown(display) => {
                record.terminal_id = NumbindAgentStr::of(display.terminal_id.as_str());
                record.activation_id = NumbindAgentStr::of(&display.activation_id);
                record.code = NumbindAgentStr::of(&display.code);
                record.short_code = NumbindAgentStr::of(display.short_code.as_str());
                record.sms_text = NumbindAgentStr::of(&display.sms_text);
                record.qr_payload = NumbindAgentStr::of(&display.qr_payload);
                record.expires_at_unix_seconds = display.expires_at_unix_seconds;
                if let Some((width, modules)) = &self.qr {
                    record.qr_width = *width;
                    record.qr_modules = modules.as_ptr();
                }
            }
            AgentEvent::StillWaiting { seconds_left } => record.seconds_left = *seconds_left,
            AgentEvent::Denied { reason } => record.reason = NumbindAgentStr::of(reason.as_str()),
            AgentEvent::Bound(binding) | AgentEvent::AlreadyBound(binding) | AgentEvent::BindingChanged(binding) => {
                set_binding(&mut record, binding);
            }
            AgentEvent::Watching { bound: Some(binding) } => set_binding(&mut record, binding),
            AgentEvent::Retrying { cause, .. } => {
                record.cause = NumbindAgentStr::of(cause);
                record.after_ms = self.retry_after_ms;
            }
            AgentEvent::PlatformUnreachable { url, failure, failed_attempts } => {
                record.url = NumbindAgentStr::of(url);
                record.reason = NumbindAgentStr::of(failure.as_str());
                record.failed_attempts = *failed_attempts;
            }
            _ => {}
        }
        record
    }
}

fn kind_of(event: &AgentEvent) -> Option<NumbindAgentEventKind> {
    Some(match event {
        AgentEvent::Registered { .. } => NumbindAgentEventKind::Registered,
        AgentEvent::ActivationShown(_) => NumbindAgentEventKind::Activation,
        AgentEvent::StillWaiting { .. } => NumbindAgentEventKind::Waiting,
        AgentEvent::Expired => NumbindAgentEventKind::Expired,
        AgentEvent::Denied { .. } => NumbindAgentEventKind::Denied,
        AgentEvent::Bound(_) => NumbindAgentEventKind::Bound,
        AgentEvent::AlreadyBound(_) => NumbindAgentEventKind::AlreadyBound,
        AgentEvent::Unbound => NumbindAgentEventKind::Unbound,
        AgentEvent::BindingChanged(_) => NumbindAgentEventKind::BindingChanged,
        AgentEvent::Watching { .. } => NumbindAgentEventKind::Watching,
        AgentEvent::Retrying { .. } => NumbindAgentEventKind::Retrying,
        AgentEvent::PlatformUnreachable { .. } => NumbindAgentEventKind::PlatformUnreachable,
        _ => return None,
    })
}

fn set_binding(record: &mut NumbindAgentEvent, binding: &BoundBinding) {
    record.binding_id = NumbindAgentStr::of(&binding.binding_id);
    record.msisdn_masked = NumbindAgentStr::of(&binding.msisdn_masked);
}

pub(crate) fn empty_record(kind: NumbindAgentEventKind) -> NumbindAgentEvent {
    let empty = NumbindAgentStr::EMPTY;
    NumbindAgentEvent {
        kind,
        terminal_id: empty,
        activation_id: empty,
        code: empty,
        short_code: empty,
        sms_text: empty,
        qr_payload: empty,
        qr_width: 0,
        qr_modules: std::ptr::null(),
        expires_at_unix_seconds: 0,
        seconds_left: 0,
        binding_id: empty,
        msisdn_masked: empty,
        reason: empty,
        cause: empty,
        url: empty,
        after_ms: 0,
        failed_attempts: 0,
        newly_registered: false,
        merchant_id: empty,
        item_id: empty,
        amount_minor_units: 0,
        currency: empty,
        stage: empty,
        outcome: empty,
        payment_id: empty,
        words: empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_modules_are_a_square_of_zeros_and_ones_with_dark_finder_corners() {
        let (width, modules) = qr_modules("SMSTO:10658000:BIND WDJBMJHT").unwrap();
        assert_eq!(modules.len(), width * width);
        assert!(modules.iter().all(|module| *module <= 1));
        assert_eq!((modules[0], modules[width - 1], modules[width * (width - 1)]), (1, 1, 1));
    }

    #[test]
    fn a_denied_event_carries_its_reason_word() {
        let denied = AgentEvent::Denied { reason: numbind_device_agent::DenialReason::SubscriberSuspended };
        let owned = OwnedEvent::new(Reported::Agent(denied)).unwrap();
        let record = owned.record();
        assert_eq!(record.kind, NumbindAgentEventKind::Denied);
        // SAFETY: `record.reason` points into `owned`, alive for this whole test, `len` bytes long.
        let reason = unsafe { std::slice::from_raw_parts(record.reason.ptr, record.reason.len) };
        assert_eq!(reason, b"subscriber_suspended");
        assert!(record.qr_modules.is_null());
    }
}

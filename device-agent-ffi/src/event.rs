//! `OwnedEvent`: an `AgentEvent` with its QR modules computed, from which the borrowed C record is made.

use crate::types::{NumbindAgentEvent, NumbindAgentEventKind, NumbindAgentStr};
use numbind_device_agent::{AgentEvent, BoundBinding};
use qrcode::{Color, QrCode};

/// The QR code of a payload as modules: its width and `width * width` bytes, 1 dark, 0 light, no quiet zone.
/// The same encoding as the CLI's drawings (`qrcode`, byte mode, the smallest version that fits).
pub fn qr_modules(payload: &str) -> Option<(usize, Vec<u8>)> {
    let code = QrCode::new(payload.as_bytes()).ok()?;
    let modules = code.to_colors().iter().map(|color| u8::from(*color == Color::Dark)).collect();
    Some((code.width(), modules))
}

/// An agent event and the data its C record points into; the record is valid while this value lives.
pub(crate) struct OwnedEvent {
    event: AgentEvent,
    qr: Option<(usize, Vec<u8>)>,
    retry_after_ms: u64,
}

impl OwnedEvent {
    /// `None` for an event kind this ABI version does not report.
    pub(crate) fn new(event: AgentEvent) -> Option<OwnedEvent> {
        let qr = match &event {
            AgentEvent::ActivationShown(display) => qr_modules(&display.qr_payload),
            _ => None,
        };
        let retry_after_ms = match &event {
            AgentEvent::Retrying { after, .. } => u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            _ => 0,
        };
        kind_of(&event)?;
        Some(OwnedEvent { event, qr, retry_after_ms })
    }

    /// The C record, borrowing from `self`.
    pub(crate) fn record(&self) -> NumbindAgentEvent {
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

fn empty_record(kind: NumbindAgentEventKind) -> NumbindAgentEvent {
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
        let owned =
            OwnedEvent::new(AgentEvent::Denied { reason: numbind_device_agent::DenialReason::SubscriberSuspended })
                .unwrap();
        let record = owned.record();
        assert_eq!(record.kind, NumbindAgentEventKind::Denied);
        // SAFETY: `record.reason` points into `owned`, alive for this whole test, `len` bytes long.
        let reason = unsafe { std::slice::from_raw_parts(record.reason.ptr, record.reason.len) };
        assert_eq!(reason, b"subscriber_suspended");
        assert!(record.qr_modules.is_null());
    }
}

//! What the OSS does with one received SMS: its dedupe key, the command kind and the recorded outcome.

use numbind_wire::statement::DenialReason;

/// The key a delivery is deduplicated by: the SMS centre's message ID, or (when the centre sends none) a
/// SHA-256 of sender, destination, text and the minute of arrival, so a quick redelivery is still caught.
pub fn dedupe_key(
    smsc_message_id: Option<&str>,
    source: &str,
    destination: &str,
    text: &str,
    arrival_unix_ms: i64,
) -> String {
    match smsc_message_id.filter(|id| !id.trim().is_empty()) {
        Some(id) => format!("smsc:{id}"),
        None => {
            let minute = arrival_unix_ms.div_euclid(60_000);
            let material = format!("{source}\n{destination}\n{text}\n{minute}");
            let digest = ring::digest::digest(&ring::digest::SHA256, material.as_bytes());
            let hex: String = digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
            format!("hash:{hex}")
        }
    }
}

/// The command an SMS carried, for metrics and the inbox view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Bind,
    Unbind,
    Query,
    /// `Y 123456` / `N 123456`: the answer to a payment confirmation SMS.
    PaymentAnswer,
    /// `账单 202612`: a month's statement.
    Bill,
    /// `限额`: the owner's monthly cap, reported, set or removed.
    Limit,
    /// `暂停` / `恢复`: charges on the number's boxes stopped or restarted.
    Pause,
    Resume,
    Help,
    /// `投诉 <receipt number>`: a dispute of one charge.
    Dispute,
    Invalid,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Bind => "bind",
            CommandKind::Unbind => "unbind",
            CommandKind::Query => "query",
            CommandKind::PaymentAnswer => "payment_answer",
            CommandKind::Bill => "bill",
            CommandKind::Limit => "limit",
            CommandKind::Pause => "pause",
            CommandKind::Resume => "resume",
            CommandKind::Help => "help",
            CommandKind::Dispute => "dispute",
            CommandKind::Invalid => "invalid",
        }
    }
}

/// How processing one SMS ended; stored on the inbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    Bound,
    Denied(DenialReason),
    CodeUnknown,
    CodeExpired,
    CodeUsed,
    NumberLocked,
    /// The national hub refused the number: not a mobile number of a known operator's prefix.
    NumberNotMobile,
    /// The national hub refused the number: it is on the national blacklist.
    BlacklistedNationally,
    /// The platform refused the confirmation (the activation expired meanwhile); the local binding is revoked.
    ConfirmationRefused,
    /// The platform answered with an error that retrying cannot fix.
    PlatformRejected,
    Unbound,
    NothingToUnbind,
    Answered,
    UnknownCommand,
    InvalidCode,
    /// The payment goes ahead (the platform sends the receipt).
    PaymentConfirmed,
    /// The user refused the payment: it is cancelled.
    PaymentDeclined,
    /// The confirmation number matched no payment waiting for this number.
    PaymentWrongNumber,
    /// No payment waits for this number's confirmation.
    NothingPending,
    /// The answer is not Y or N with six digits.
    InvalidConfirmationNumber,
    /// The owner's monthly cap was set or removed.
    LimitChanged,
    /// The requested cap is above the operator's monthly limit: nothing changed.
    LimitAboveOperator,
    /// `限额` with a malformed amount: nothing changed.
    InvalidLimit,
    /// `账单` with a malformed month.
    InvalidMonth,
    Paused,
    Resumed,
    /// A self-service command from a number that is not the operator's: nothing changed.
    NotASubscriber,
    /// The platform opened the dispute (or had opened it for an earlier copy of this SMS).
    DisputeOpened,
    /// The receipt is unknown or not a charge of this number.
    DisputeRefused,
    /// `投诉` without a well-formed receipt number.
    InvalidReceiptNumber,
}

impl CommandOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Bound => "bound",
            CommandOutcome::Denied(reason) => denied_name(reason),
            CommandOutcome::CodeUnknown => "code_unknown",
            CommandOutcome::CodeExpired => "code_expired",
            CommandOutcome::CodeUsed => "code_used",
            CommandOutcome::NumberLocked => "number_locked",
            CommandOutcome::NumberNotMobile => "number_not_mobile",
            CommandOutcome::BlacklistedNationally => "blacklisted_nationally",
            CommandOutcome::ConfirmationRefused => "confirmation_refused",
            CommandOutcome::PlatformRejected => "platform_rejected",
            CommandOutcome::Unbound => "unbound",
            CommandOutcome::NothingToUnbind => "nothing_to_unbind",
            CommandOutcome::Answered => "answered",
            CommandOutcome::UnknownCommand => "unknown_command",
            CommandOutcome::InvalidCode => "invalid_code",
            CommandOutcome::PaymentConfirmed => "payment_confirmed",
            CommandOutcome::PaymentDeclined => "payment_declined",
            CommandOutcome::PaymentWrongNumber => "payment_wrong_number",
            CommandOutcome::NothingPending => "nothing_pending",
            CommandOutcome::InvalidConfirmationNumber => "invalid_confirmation_number",
            CommandOutcome::LimitChanged => "limit_changed",
            CommandOutcome::LimitAboveOperator => "limit_above_operator",
            CommandOutcome::InvalidLimit => "invalid_limit",
            CommandOutcome::InvalidMonth => "invalid_month",
            CommandOutcome::Paused => "paused",
            CommandOutcome::Resumed => "resumed",
            CommandOutcome::NotASubscriber => "not_a_subscriber",
            CommandOutcome::DisputeOpened => "dispute_opened",
            CommandOutcome::DisputeRefused => "dispute_refused",
            CommandOutcome::InvalidReceiptNumber => "invalid_receipt_number",
        }
    }
}

fn denied_name(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::UnknownSubscriber => "denied_unknown_subscriber",
        DenialReason::SubscriberSuspended => "denied_subscriber_suspended",
        DenialReason::SubscriberBlacklisted => "denied_subscriber_blacklisted",
        DenialReason::SubscriberCancelled => "denied_subscriber_cancelled",
        DenialReason::DeviceLimitReached => "denied_device_limit_reached",
        DenialReason::BillingNotAllowed => "denied_billing_not_allowed",
        _ => "denied",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smsc_message_id_is_the_key_when_there_is_one() {
        assert_eq!(dedupe_key(Some("m-1"), "13800138000", "10658000", "BIND X", 0), "smsc:m-1");
    }

    #[test]
    fn without_an_id_the_same_message_in_the_same_minute_has_the_same_key() {
        let first = dedupe_key(None, "13800138000", "10658000", "BIND X", 60_000);
        assert_eq!(first, dedupe_key(Some(" "), "13800138000", "10658000", "BIND X", 119_999));
        assert_ne!(first, dedupe_key(None, "13800138000", "10658000", "BIND X", 120_000));
        assert_ne!(first, dedupe_key(None, "13800138000", "10658000", "BIND Y", 60_000));
        assert!(first.starts_with("hash:") && !first.contains("13800138000"));
    }

    #[test]
    fn denials_are_named_by_their_reason() {
        assert_eq!(CommandOutcome::Denied(DenialReason::SubscriberSuspended).as_str(), "denied_subscriber_suspended");
        assert_eq!(CommandKind::Bind.as_str(), "bind");
    }
}

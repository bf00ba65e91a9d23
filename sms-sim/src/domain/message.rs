//! Message identity, direction and delivery state.

use std::fmt;

/// The SMS centre's message ID: 32 lowercase hex characters (a UUIDv7: a millisecond timestamp, then 74 random
/// bits), also used as SMPP message_id. Time-ordered, so that a window of new messages lands on the same last
/// page of the primary-key index instead of one random page each: fewer pages to journal and commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MessageId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message id must be 1 to 64 letters, digits or dashes")]
pub(crate) struct MessageIdError;

impl MessageId {
    pub(crate) fn generate() -> MessageId {
        MessageId(uuid::Uuid::now_v7().simple().to_string())
    }

    pub(crate) fn parse(text: &str) -> Result<MessageId, MessageIdError> {
        let valid =
            (1..=64).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if valid {
            Ok(MessageId(text.to_owned()))
        } else {
            Err(MessageIdError)
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Which way a stored message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Phone to ESME (deliver_sm).
    MobileOriginated,
    /// ESME to phone (submit_sm).
    MobileTerminated,
    /// A delivery receipt for an MT, queued for the submitting ESME.
    Receipt,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::MobileOriginated => "mo",
            Direction::MobileTerminated => "mt",
            Direction::Receipt => "receipt",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Direction> {
        match text {
            "mo" => Some(Direction::MobileOriginated),
            "mt" => Some(Direction::MobileTerminated),
            "receipt" => Some(Direction::Receipt),
            _ => None,
        }
    }
}

/// Where a message is: MO and receipts wait `Queued` until an ESME answers ESME_ROK; MT are delivered on commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageState {
    Queued,
    Delivered,
    /// The ESME refused it permanently (ESME_RX_P_APPNACK).
    Failed,
}

impl MessageState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<MessageState> {
        match text {
            "queued" => Some(MessageState::Queued),
            "delivered" => Some(MessageState::Delivered),
            "failed" => Some(MessageState::Failed),
            _ => None,
        }
    }
}

/// Delay before the next delivery attempt: `first * 2^(attempts-1)`, capped.
pub(crate) fn redelivery_delay(
    attempts: u32,
    first: std::time::Duration,
    cap: std::time::Duration,
) -> std::time::Duration {
    let exponent = attempts.saturating_sub(1).min(16);
    first.saturating_mul(1u32 << exponent).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn generated_ids_parse_and_junk_does_not() {
        let id = MessageId::generate();
        assert_eq!(MessageId::parse(id.as_str()), Ok(id));
        assert_eq!(MessageId::parse("a b"), Err(MessageIdError));
        assert_eq!(MessageId::parse(""), Err(MessageIdError));
    }

    #[test]
    fn redelivery_backs_off_to_the_cap() {
        let (first, cap) = (Duration::from_secs(2), Duration::from_secs(30));
        assert_eq!(redelivery_delay(1, first, cap), Duration::from_secs(2));
        assert_eq!(redelivery_delay(3, first, cap), Duration::from_secs(8));
        assert_eq!(redelivery_delay(10, first, cap), cap);
    }
}

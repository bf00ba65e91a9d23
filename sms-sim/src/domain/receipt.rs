//! The SMPP 3.4 appendix B delivery receipt text, the final states it reports, and SMPP absolute times.

use numbind_process::clock::CivilDateTime;
use numbind_smpp::pdu::message_state;

/// How a receipted message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FinalState {
    /// In the phone's inbox.
    Delivered,
    /// Never reached the phone: a part whose siblings never arrived, or parts that do not form a text.
    Undeliverable,
}

impl FinalState {
    /// The receipt's `stat:` word.
    fn stat(self) -> &'static str {
        match self {
            FinalState::Delivered => "DELIVRD",
            FinalState::Undeliverable => "UNDELIV",
        }
    }

    /// The SMPP `message_state` value (receipt TLV and `query_sm_resp`).
    pub(crate) fn message_state(self) -> u8 {
        match self {
            FinalState::Delivered => message_state::DELIVERED,
            FinalState::Undeliverable => message_state::UNDELIVERABLE,
        }
    }

    /// The state stored for a receipt row: its `message_state`.
    pub(crate) fn from_message_state(value: u8) -> FinalState {
        if value == message_state::UNDELIVERABLE {
            FinalState::Undeliverable
        } else {
            FinalState::Delivered
        }
    }
}

/// `id:<id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000`
pub(crate) fn receipt_text(message_id: &str, submitted_unix_ms: i64, done_unix_ms: i64, outcome: FinalState) -> String {
    let (delivered, error) = match outcome {
        FinalState::Delivered => ("001", "000"),
        FinalState::Undeliverable => ("000", "001"),
    };
    format!(
        "id:{message_id} sub:001 dlvrd:{delivered} submit date:{} done date:{} stat:{} err:{error}",
        receipt_date(submitted_unix_ms),
        receipt_date(done_unix_ms),
        outcome.stat()
    )
}

/// YYMMDDhhmm in UTC.
fn receipt_date(unix_ms: i64) -> String {
    let at = CivilDateTime::at(unix_ms.div_euclid(1000), 0);
    format!("{:02}{:02}{:02}{:02}{:02}", at.year.rem_euclid(100), at.month, at.day, at.hour, at.minute)
}

/// An SMPP absolute time (section 7.1.1), `YYMMDDhhmmsstnnp`, in UTC.
pub(crate) fn smpp_absolute_time(unix_ms: i64) -> String {
    let at = CivilDateTime::at(unix_ms.div_euclid(1000), 0);
    let tenths = unix_ms.rem_euclid(1000) / 100;
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}{tenths}00+",
        at.year.rem_euclid(100),
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second
    )
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, for people.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn format_utc(unix_ms: i64) -> String {
    CivilDateTime::at(unix_ms.div_euclid(1000), 0).date_time_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_has_the_standard_layout() {
        // 2024-02-29 13:45:10 UTC
        let at = 1_709_214_310_000;
        assert_eq!(
            receipt_text("abc", at, at + 60_000, FinalState::Delivered),
            "id:abc sub:001 dlvrd:001 submit date:2402291345 done date:2402291346 stat:DELIVRD err:000"
        );
        assert_eq!(
            receipt_text("abc", at, at, FinalState::Undeliverable),
            "id:abc sub:001 dlvrd:000 submit date:2402291345 done date:2402291345 stat:UNDELIV err:001"
        );
        assert_eq!(format_utc(at), "2024-02-29 13:45:10");
        assert_eq!(smpp_absolute_time(at + 700), "240229134510700+");
    }
}

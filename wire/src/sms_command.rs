//! The grammar of the SMS a user sends to the short code: `BIND <code>`, `绑定 <code>`, `UNBIND`, `解绑`, and the
//! answer to a payment confirmation: `Y 123456` / `是 123456` to pay, `N 123456` / `否 123456` to refuse.
//!
//! Forgiving on purpose: case, full-width characters, missing or extra spaces, dashes inside the code and a
//! bare code without a keyword are accepted. Anything else is a specific error that the OSS answers by SMS.

use crate::activation_code::{fold_full_width_text, ActivationCode, ActivationCodeError};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmsCommand {
    /// Bind the sending number to the terminal showing this code.
    Bind(ActivationCode),
    /// Undo the sending number's binding(s).
    Unbind,
    /// Ask which terminals the sending number pays for.
    Query,
    /// Answer the payment confirmation SMS that carried this number: pay (`approve`) or refuse.
    ConfirmPayment { approve: bool, confirmation_number: PaymentConfirmationNumber },
}

/// The six digits of a payment confirmation SMS (`回复 Y 123456 确认支付`): short, because the user types them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentConfirmationNumber(String);

impl PaymentConfirmationNumber {
    /// Exactly six ASCII digits (after spaces and dashes are dropped).
    pub fn parse(text: &str) -> Result<Self, SmsCommandError> {
        let digits: String = text.chars().filter(|character| !matches!(character, ' ' | '-')).collect();
        if digits.len() == 6 && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            Ok(PaymentConfirmationNumber(digits))
        } else {
            Err(SmsCommandError::InvalidConfirmationNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an SMS is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmsCommandError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is not a known command")]
    UnknownCommand,
    #[error("the bind command has no code")]
    MissingCode,
    #[error("the code is not valid: {0}")]
    InvalidCode(#[from] ActivationCodeError),
    #[error("a payment answer is Y or N followed by the six digits of the confirmation sms")]
    InvalidConfirmationNumber,
}

const BIND_KEYWORDS: [&str; 3] = ["BIND", "绑定", "BD"];
const UNBIND_KEYWORDS: [&str; 4] = ["UNBIND", "解绑", "解除绑定", "JB"];
const QUERY_KEYWORDS: [&str; 3] = ["QUERY", "查询", "CX"];
const APPROVE_KEYWORDS: [&str; 5] = ["YES", "Y", "是", "确认", "同意"];
const REFUSE_KEYWORDS: [&str; 5] = ["NO", "N", "否", "取消", "拒绝"];

impl SmsCommand {
    pub fn parse(text: &str) -> Result<Self, SmsCommandError> {
        let folded = fold_full_width_text(text);
        let normalised = folded.trim().trim_matches(|character: char| ".。!！:：".contains(character));
        if normalised.is_empty() {
            return Err(SmsCommandError::Empty);
        }
        let upper = normalised.to_uppercase();
        // Longest keywords first, so `UNBIND` is never read as `BIND`-something.
        if let Some(rest) = strip_keyword(&upper, &UNBIND_KEYWORDS) {
            return if rest.is_empty() { Ok(SmsCommand::Unbind) } else { Err(SmsCommandError::UnknownCommand) };
        }
        if let Some(rest) = strip_keyword(&upper, &QUERY_KEYWORDS) {
            return if rest.is_empty() { Ok(SmsCommand::Query) } else { Err(SmsCommandError::UnknownCommand) };
        }
        for (keywords, approve) in [(&APPROVE_KEYWORDS, true), (&REFUSE_KEYWORDS, false)] {
            if let Some(rest) = strip_payment_keyword(&upper, keywords) {
                let confirmation_number = PaymentConfirmationNumber::parse(rest)?;
                return Ok(SmsCommand::ConfirmPayment { approve, confirmation_number });
            }
        }
        if let Some(rest) = strip_keyword(&upper, &BIND_KEYWORDS) {
            if rest.is_empty() {
                return Err(SmsCommandError::MissingCode);
            }
            return Ok(SmsCommand::Bind(ActivationCode::parse(rest)?));
        }
        // A bare code (the user forgot the keyword): accepted only when it is exactly a code.
        ActivationCode::parse(&upper).map(SmsCommand::Bind).map_err(|_| SmsCommandError::UnknownCommand)
    }
}

/// The digits after a payment keyword (`Y 123456`, `Y123456`, `是123456`); `None` when the text does not start
/// with one or anything but digits follows it.
fn strip_payment_keyword<'text>(text: &'text str, keywords: &[&str]) -> Option<&'text str> {
    let mut sorted: Vec<&str> = keywords.to_vec();
    sorted.sort_by_key(|keyword| std::cmp::Reverse(keyword.len()));
    sorted.into_iter().find_map(|keyword| {
        let rest = text.strip_prefix(keyword)?.trim_start_matches([' ', ':', '：', ',', '，']).trim();
        // Only digits (spaces and dashes between them): `N3K4MJHT` stays a bare activation code.
        let only_digits = rest.chars().all(|character| character.is_ascii_digit() || matches!(character, ' ' | '-'));
        (!rest.is_empty() && only_digits).then_some(rest)
    })
}

fn strip_keyword<'text>(text: &'text str, keywords: &[&str]) -> Option<&'text str> {
    let mut sorted: Vec<&str> = keywords.to_vec();
    sorted.sort_by_key(|keyword| std::cmp::Reverse(keyword.len()));
    for keyword in sorted {
        if let Some(rest) = text.strip_prefix(keyword) {
            let separated = rest.is_empty() || rest.starts_with([' ', ':', '-', '：']) || !keyword.is_ascii();
            if separated {
                return Some(rest.trim_start_matches([' ', ':', '：']).trim());
            }
            // `BD` followed by a code without a space (`BDWDJBMJHT`) is still a bind.
            if keyword.len() <= 2 || keyword == "BIND" {
                return Some(rest.trim());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bind(code: &str) -> SmsCommand {
        SmsCommand::Bind(ActivationCode::parse(code).unwrap())
    }

    #[test]
    fn bind_is_accepted_in_english_and_chinese_with_any_spacing() {
        for text in [
            "BIND WDJBMJHT",
            "bind wdjb-mjht",
            "  Bind   WDJB MJHT ",
            "BINDWDJBMJHT",
            "BIND:WDJBMJHT",
            "绑定 WDJBMJHT",
            "绑定WDJB-MJHT",
            "绑定：wdjbmjht",
            "ＢＩＮＤ　ＷＤＪＢＭＪＨＴ",
            "WDJBMJHT",
            "wdjb-mjht.",
        ] {
            assert_eq!(SmsCommand::parse(text), Ok(bind("WDJBMJHT")), "{text}");
        }
    }

    #[test]
    fn payment_answers_are_recognised_in_english_and_chinese() {
        let answer = |approve: bool| SmsCommand::ConfirmPayment {
            approve,
            confirmation_number: PaymentConfirmationNumber::parse("123456").unwrap(),
        };
        for text in ["Y 123456", "y123456", "YES 123 456", "是 123456", "确认：123456", "ｙ　１２３４５６"]
        {
            assert_eq!(SmsCommand::parse(text), Ok(answer(true)), "{text}");
        }
        for text in ["N 123456", "no 123456", "否123456", "取消 123456"] {
            assert_eq!(SmsCommand::parse(text), Ok(answer(false)), "{text}");
        }
        for text in ["Y 12345", "Y 1234567", "N 12 34"] {
            assert_eq!(SmsCommand::parse(text), Err(SmsCommandError::InvalidConfirmationNumber), "{text}");
        }
        // A word or a bare activation code that starts with Y or N is not an answer.
        assert_eq!(SmsCommand::parse("NONSENSE"), Err(SmsCommandError::UnknownCommand));
        assert_eq!(SmsCommand::parse("NWDJ-BMJH"), Ok(bind("NWDJBMJH")));
    }

    #[test]
    fn unbind_and_query_are_recognised() {
        for text in ["UNBIND", "unbind", "解绑", "解除绑定", " Unbind. "] {
            assert_eq!(SmsCommand::parse(text), Ok(SmsCommand::Unbind), "{text}");
        }
        for text in ["QUERY", "查询"] {
            assert_eq!(SmsCommand::parse(text), Ok(SmsCommand::Query), "{text}");
        }
    }

    #[test]
    fn malformed_messages_get_specific_errors() {
        assert_eq!(SmsCommand::parse("   "), Err(SmsCommandError::Empty));
        assert_eq!(SmsCommand::parse("hello there"), Err(SmsCommandError::UnknownCommand));
        assert_eq!(SmsCommand::parse("BIND"), Err(SmsCommandError::MissingCode));
        assert_eq!(
            SmsCommand::parse("BIND WDJBMJ"),
            Err(SmsCommandError::InvalidCode(ActivationCodeError::WrongLength { found: 6 }))
        );
        assert!(matches!(SmsCommand::parse("绑定 WDJBMJH1"), Err(SmsCommandError::InvalidCode(_))));
        assert_eq!(SmsCommand::parse("UNBIND NOW"), Err(SmsCommandError::UnknownCommand));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,60}") {
            let _ = SmsCommand::parse(&text);
        }

        #[test]
        fn any_generated_code_round_trips_through_the_sms_text(code in "[BCDFGHJKLMNPQRSTVWXZ]{8}") {
            prop_assert_eq!(SmsCommand::parse(&format!("BIND {code}")), Ok(bind(&code)));
            prop_assert_eq!(SmsCommand::parse(&format!("绑定 {}", code.to_lowercase())), Ok(bind(&code)));
        }
    }
}

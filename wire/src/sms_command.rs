//! The grammar of the SMS a user sends to the short code: `BIND <code>`, `绑定 <code>`, `UNBIND`, `解绑`, the
//! answer to a payment confirmation (`Y 123456` / `是 123456` to pay, `N 123456` / `否 123456` to refuse) and the
//! self-service commands: `查询`/`QUERY`, `账单 202612`/`BILL 202612`, `限额 100`/`LIMIT 100` (`限额` alone
//! reports, `限额 取消`/`LIMIT OFF` removes), `暂停`/`PAUSE`, `恢复`/`RESUME`, `帮助`/`HELP` and
//! `投诉 <receipt number>`/`DISPUTE <receipt number>`. The arguments' own types are in `sms_arguments`.
//!
//! Forgiving on purpose: case, full-width characters, missing or extra spaces, dashes inside the code and a
//! bare code without a keyword are accepted. Anything else is a specific error that the OSS answers by SMS.

use crate::activation_code::{fold_full_width_text, ActivationCode, ActivationCodeError};
use crate::record_ids::PaymentId;
use crate::sms_arguments::{
    parse_receipt_number, BillingMonth, BillingMonthError, MonthlyCap, MonthlyCapError, ReceiptNumberError,
};

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
    /// The statement of a month (`None`: the current one).
    Bill(Option<BillingMonth>),
    /// Report, set or remove the user's own monthly cap.
    Limit(LimitRequest),
    /// Stop charges on all the number's boxes, keeping the bindings.
    Pause,
    /// Charge the number's boxes again after a pause.
    Resume,
    /// The list of commands.
    Help,
    /// Open a dispute on the charge with this receipt number.
    Dispute(PaymentId),
}

/// What `限额`/`LIMIT` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitRequest {
    /// `限额` alone: say what the cap is.
    Report,
    /// `限额 100`: cap the month's charges at this.
    Set(MonthlyCap),
    /// `限额 取消` / `LIMIT OFF`: only the operator's limits apply.
    Remove,
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
    #[error("the statement's month is not valid: {0}")]
    InvalidMonth(#[from] BillingMonthError),
    #[error("the limit is not valid: {0}")]
    InvalidLimit(#[from] MonthlyCapError),
    #[error("the receipt number is not valid: {0}")]
    InvalidReceiptNumber(#[from] ReceiptNumberError),
}

const BIND_KEYWORDS: [&str; 3] = ["BIND", "绑定", "BD"];
const UNBIND_KEYWORDS: [&str; 4] = ["UNBIND", "解绑", "解除绑定", "JB"];
const QUERY_KEYWORDS: [&str; 3] = ["QUERY", "查询", "CX"];
const BILL_KEYWORDS: [&str; 2] = ["BILL", "账单"];
const LIMIT_KEYWORDS: [&str; 2] = ["LIMIT", "限额"];
const REMOVE_LIMIT_WORDS: [&str; 4] = ["OFF", "NONE", "取消", "无"];
const PAUSE_KEYWORDS: [&str; 2] = ["PAUSE", "暂停"];
const RESUME_KEYWORDS: [&str; 2] = ["RESUME", "恢复"];
const HELP_KEYWORDS: [&str; 4] = ["HELP", "帮助", "?", "？"];
const DISPUTE_KEYWORDS: [&str; 2] = ["DISPUTE", "投诉"];
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
        if let Some(command) = parse_self_service(&upper) {
            return command;
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

/// The self-service commands (`None` when the text starts with none of their keywords).
fn parse_self_service(upper: &str) -> Option<Result<SmsCommand, SmsCommandError>> {
    let bare = |keywords: &[&str], command: SmsCommand| {
        strip_keyword(upper, keywords).map(|rest| {
            if rest.is_empty() {
                Ok(command)
            } else {
                Err(SmsCommandError::UnknownCommand)
            }
        })
    };
    if let Some(rest) = strip_keyword(upper, &BILL_KEYWORDS) {
        let month = if rest.is_empty() { Ok(None) } else { BillingMonth::parse(rest).map(Some) };
        return Some(month.map(SmsCommand::Bill).map_err(SmsCommandError::from));
    }
    if let Some(rest) = strip_keyword(upper, &LIMIT_KEYWORDS) {
        let request = match rest {
            "" => Ok(LimitRequest::Report),
            rest if REMOVE_LIMIT_WORDS.contains(&rest) => Ok(LimitRequest::Remove),
            rest => MonthlyCap::parse(rest).map(LimitRequest::Set).map_err(SmsCommandError::from),
        };
        return Some(request.map(SmsCommand::Limit));
    }
    if let Some(rest) = strip_keyword(upper, &DISPUTE_KEYWORDS) {
        return Some(parse_receipt_number(rest).map(SmsCommand::Dispute).map_err(SmsCommandError::from));
    }
    bare(&PAUSE_KEYWORDS, SmsCommand::Pause)
        .or_else(|| bare(&RESUME_KEYWORDS, SmsCommand::Resume))
        .or_else(|| bare(&HELP_KEYWORDS, SmsCommand::Help))
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
            let separated = rest.is_empty()
                || rest.starts_with([' ', ':', '-', '：'])
                || rest.starts_with(|character: char| character.is_ascii_digit())
                || !keyword.is_ascii();
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

    #[test]
    fn self_service_commands_are_recognised_in_english_and_chinese() {
        let december = Some(BillingMonth::parse("202612").unwrap());
        for text in ["账单 202612", "BILL 202612", "bill2026-12", "账单：2026年12月", "ＢＩＬＬ　２０２６１２"]
        {
            assert_eq!(SmsCommand::parse(text), Ok(SmsCommand::Bill(december)), "{text}");
        }
        assert_eq!(SmsCommand::parse("账单"), Ok(SmsCommand::Bill(None)));
        let hundred = SmsCommand::Limit(LimitRequest::Set(MonthlyCap::parse("100").unwrap()));
        for text in ["限额 100", "LIMIT 100", "limit100", "限额100元", "ＬＩＭＩＴ　１００"] {
            assert_eq!(SmsCommand::parse(text), Ok(hundred.clone()), "{text}");
        }
        assert_eq!(SmsCommand::parse("限额"), Ok(SmsCommand::Limit(LimitRequest::Report)));
        assert_eq!(SmsCommand::parse("limit off"), Ok(SmsCommand::Limit(LimitRequest::Remove)));
        assert_eq!(SmsCommand::parse("限额 取消"), Ok(SmsCommand::Limit(LimitRequest::Remove)));
        for (texts, command) in [
            (["暂停", "pause", " PAUSE. "], SmsCommand::Pause),
            (["恢复", "resume", "Resume！"], SmsCommand::Resume),
            (["帮助", "HELP", "?"], SmsCommand::Help),
        ] {
            for text in texts {
                assert_eq!(SmsCommand::parse(text), Ok(command.clone()), "{text}");
            }
        }
        let receipt = PaymentId::parse("pay-0123456789abcdef01234567").unwrap();
        for text in [
            "投诉 pay-0123456789abcdef01234567",
            "DISPUTE PAY-0123456789ABCDEF01234567",
            "投诉pay-0123456789abcdef01234567",
        ] {
            assert_eq!(SmsCommand::parse(text), Ok(SmsCommand::Dispute(receipt.clone())), "{text}");
        }
    }

    #[test]
    fn malformed_self_service_commands_get_their_own_errors() {
        use crate::sms_arguments::{BillingMonthError, MonthlyCapError, ReceiptNumberError, MAX_MONTHLY_CAP_YUAN};
        assert_eq!(
            SmsCommand::parse("账单 2026-13"),
            Err(SmsCommandError::InvalidMonth(BillingMonthError::NoSuchMonth { found: 13 }))
        );
        assert_eq!(
            SmsCommand::parse("BILL DECEMBER"),
            Err(SmsCommandError::InvalidMonth(BillingMonthError::NotSixDigits))
        );
        assert_eq!(SmsCommand::parse("限额 -5"), Err(SmsCommandError::InvalidLimit(MonthlyCapError::Negative)));
        assert_eq!(
            SmsCommand::parse("限额 99999999999"),
            Err(SmsCommandError::InvalidLimit(MonthlyCapError::TooLarge { max: MAX_MONTHLY_CAP_YUAN }))
        );
        assert_eq!(
            SmsCommand::parse("LIMIT 12.50"),
            Err(SmsCommandError::InvalidLimit(MonthlyCapError::NotAWholeNumber))
        );
        assert_eq!(SmsCommand::parse("投诉"), Err(SmsCommandError::InvalidReceiptNumber(ReceiptNumberError::Missing)));
        assert_eq!(
            SmsCommand::parse("DISPUTE 收据"),
            Err(SmsCommandError::InvalidReceiptNumber(ReceiptNumberError::Malformed))
        );
        assert_eq!(SmsCommand::parse("PAUSE NOW"), Err(SmsCommandError::UnknownCommand));
        assert_eq!(SmsCommand::parse("help me"), Err(SmsCommandError::UnknownCommand));
    }

    proptest! {
        #[test]
        fn any_month_and_cap_round_trip_through_the_sms_text(month in 1u8..=12, yuan in 1u32..=100_000) {
            let bill = SmsCommand::parse(&format!("账单 2026{month:02}"));
            prop_assert_eq!(bill, Ok(SmsCommand::Bill(Some(BillingMonth::parse(&format!("2026-{month:02}")).unwrap()))));
            let limit = SmsCommand::parse(&format!("LIMIT {yuan}"));
            prop_assert_eq!(limit, Ok(SmsCommand::Limit(LimitRequest::Set(MonthlyCap::from_yuan(yuan).unwrap()))));
        }

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

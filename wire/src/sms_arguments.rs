//! The arguments of the self-service SMS commands: a statement's month (`账单 202612`), the user's own monthly
//! cap in whole yuan (`限额 100`) and a receipt number to dispute (`投诉 pay-…`). Each parses forgivingly
//! (separators, a trailing `元`) and refuses anything else with its own error, which the OSS answers by SMS.

use crate::record_ids::PaymentId;
use std::fmt;

/// The highest monthly cap a user may set by SMS, in yuan: far above any operator's limit, so that a typo with
/// too many digits is refused as malformed rather than compared with the operator's limit.
pub const MAX_MONTHLY_CAP_YUAN: u32 = 100_000;

/// One calendar month (the operator's local months), as a user names it: `202612`, `2026-12`, `2026年12月`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BillingMonth {
    year: u16,
    month: u8,
}

/// Why a text is not a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillingMonthError {
    #[error("a month is six digits, year then month, such as 202612")]
    NotSixDigits,
    #[error("the month {found} does not exist: months are 01 to 12")]
    NoSuchMonth { found: u8 },
    #[error("the year {found} is outside 2000 to 2099")]
    YearOutOfRange { found: u16 },
}

impl BillingMonth {
    /// Six digits `YYYYMM` once `-`, `/`, `.`, spaces, `年` and `月` are dropped; years 2000 to 2099.
    pub fn parse(text: &str) -> Result<Self, BillingMonthError> {
        let digits: String =
            text.chars().filter(|character| !matches!(character, '-' | '/' | '.' | ' ' | '年' | '月')).collect();
        if digits.len() != 6 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(BillingMonthError::NotSixDigits);
        }
        let year: u16 = digits[..4].parse().map_err(|_| BillingMonthError::NotSixDigits)?;
        let month: u8 = digits[4..].parse().map_err(|_| BillingMonthError::NotSixDigits)?;
        if !(2000..=2099).contains(&year) {
            return Err(BillingMonthError::YearOutOfRange { found: year });
        }
        if !(1..=12).contains(&month) {
            return Err(BillingMonthError::NoSuchMonth { found: month });
        }
        Ok(BillingMonth { year, month })
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }
}

/// `2026-12`: the form the ledgers store local months in.
impl fmt::Display for BillingMonth {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-{:02}", self.year, self.month)
    }
}

/// The user's own cap on what their boxes may be charged in one month, in whole yuan (1 to
/// [`MAX_MONTHLY_CAP_YUAN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonthlyCap(u32);

/// Why a text is not a monthly cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonthlyCapError {
    #[error("a limit is a whole number of yuan")]
    NotAWholeNumber,
    #[error("a limit cannot be negative")]
    Negative,
    #[error("a limit of zero is not a limit: send PAUSE to stop charges")]
    Zero,
    #[error("a limit is at most {max} yuan")]
    TooLarge { max: u32 },
}

impl MonthlyCap {
    /// Digits, optionally followed by `元` or `yuan`; spaces and thousands commas are dropped.
    pub fn parse(text: &str) -> Result<Self, MonthlyCapError> {
        let trimmed = text.trim();
        let without_unit = trimmed
            .strip_suffix('元')
            .or_else(|| trimmed.strip_suffix("YUAN"))
            .or_else(|| trimmed.strip_suffix("yuan"))
            .unwrap_or(trimmed);
        let digits: String = without_unit.chars().filter(|character| !matches!(character, ' ' | ',' | '，')).collect();
        if let Some(rest) = digits.strip_prefix('-') {
            return if !rest.is_empty() && rest.bytes().all(|byte| byte.is_ascii_digit()) {
                Err(MonthlyCapError::Negative)
            } else {
                Err(MonthlyCapError::NotAWholeNumber)
            };
        }
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(MonthlyCapError::NotAWholeNumber);
        }
        let significant = digits.trim_start_matches('0');
        if significant.is_empty() {
            return Err(MonthlyCapError::Zero);
        }
        let yuan: u32 = match significant.parse() {
            Ok(yuan) if yuan <= MAX_MONTHLY_CAP_YUAN => yuan,
            _ => return Err(MonthlyCapError::TooLarge { max: MAX_MONTHLY_CAP_YUAN }),
        };
        Ok(MonthlyCap(yuan))
    }

    /// A cap of exactly this many yuan, if it is within range.
    pub fn from_yuan(yuan: u32) -> Result<Self, MonthlyCapError> {
        match yuan {
            0 => Err(MonthlyCapError::Zero),
            yuan if yuan > MAX_MONTHLY_CAP_YUAN => Err(MonthlyCapError::TooLarge { max: MAX_MONTHLY_CAP_YUAN }),
            yuan => Ok(MonthlyCap(yuan)),
        }
    }

    pub fn yuan(self) -> u32 {
        self.0
    }

    /// The cap in fen, the unit every ledger counts in.
    pub fn fen(self) -> i64 {
        i64::from(self.0) * 100
    }
}

/// Why a dispute's receipt number is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptNumberError {
    #[error("the dispute names no receipt number")]
    Missing,
    #[error("a receipt number is the payment id printed on the receipt sms, such as pay-0123…")]
    Malformed,
}

/// The receipt number of a dispute: the payment ID as the receipt SMS printed it (`pay-` and lowercase hex),
/// forgiving the case and spaces a phone keyboard adds.
pub fn parse_receipt_number(text: &str) -> Result<PaymentId, ReceiptNumberError> {
    let compact: String = text.chars().filter(|character| !character.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(ReceiptNumberError::Missing);
    }
    PaymentId::parse(&compact.to_ascii_lowercase()).map_err(|_| ReceiptNumberError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn months_are_accepted_with_any_separator() {
        for text in ["202612", "2026-12", "2026/12", "2026年12月", " 2026 12 "] {
            assert_eq!(BillingMonth::parse(text).unwrap().to_string(), "2026-12", "{text}");
        }
    }

    #[test]
    fn impossible_months_are_refused_with_their_reason() {
        assert_eq!(BillingMonth::parse("2026-13"), Err(BillingMonthError::NoSuchMonth { found: 13 }));
        assert_eq!(BillingMonth::parse("202600"), Err(BillingMonthError::NoSuchMonth { found: 0 }));
        assert_eq!(BillingMonth::parse("1999-12"), Err(BillingMonthError::YearOutOfRange { found: 1999 }));
        for text in ["2026-1", "20261201", "december", ""] {
            assert_eq!(BillingMonth::parse(text), Err(BillingMonthError::NotSixDigits), "{text}");
        }
    }

    #[test]
    fn caps_are_whole_yuan_within_range() {
        assert_eq!(MonthlyCap::parse("100").unwrap().fen(), 10_000);
        assert_eq!(MonthlyCap::parse("1,000元").unwrap().yuan(), 1_000);
        assert_eq!(MonthlyCap::parse("50 yuan").unwrap().yuan(), 50);
        assert_eq!(MonthlyCap::parse("-5"), Err(MonthlyCapError::Negative));
        assert_eq!(MonthlyCap::parse("0"), Err(MonthlyCapError::Zero));
        assert_eq!(MonthlyCap::parse("99999999999"), Err(MonthlyCapError::TooLarge { max: MAX_MONTHLY_CAP_YUAN }));
        assert_eq!(MonthlyCap::parse("100001"), Err(MonthlyCapError::TooLarge { max: MAX_MONTHLY_CAP_YUAN }));
        for text in ["12.5", "ten", "-", "1e3", ""] {
            assert_eq!(MonthlyCap::parse(text), Err(MonthlyCapError::NotAWholeNumber), "{text}");
        }
    }

    #[test]
    fn receipt_numbers_forgive_case_and_spaces() {
        let id = parse_receipt_number("PAY-0123 4567 89AB").unwrap();
        assert_eq!(id.as_str(), "pay-0123456789ab");
        assert_eq!(parse_receipt_number("  "), Err(ReceiptNumberError::Missing));
        assert_eq!(parse_receipt_number("收据"), Err(ReceiptNumberError::Malformed));
    }

    proptest! {
        #[test]
        fn every_cap_in_range_round_trips(yuan in 1u32..=MAX_MONTHLY_CAP_YUAN) {
            prop_assert_eq!(MonthlyCap::parse(&yuan.to_string()).map(MonthlyCap::yuan), Ok(yuan));
        }

        #[test]
        fn every_month_round_trips(year in 2000u16..=2099, month in 1u8..=12) {
            let parsed = BillingMonth::parse(&format!("{year}{month:02}")).unwrap();
            prop_assert_eq!(parsed.to_string(), format!("{year:04}-{month:02}"));
        }
    }
}

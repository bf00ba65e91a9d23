//! Money on the wire: an [`Amount`] in integer minor units (fen for CNY) and an ISO 4217 [`Currency`].
//!
//! Never a float: an amount is a whole number of the currency's smallest unit, at least 1 and at most 2^53 - 1
//! (the largest integer every JSON reader keeps exactly). Decimal text (`5.00`) parses exactly or not at all.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount in minor units: 2^53 - 1, so that no JSON reader rounds it.
pub const MAX_MINOR_UNITS: i64 = (1 << 53) - 1;

/// A positive amount in the currency's minor units (fen for CNY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

/// Why a number or a text is not an amount, or a code not a currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    #[error("an amount must be at least 1 minor unit, found {0}")]
    NotPositive(i64),
    #[error("an amount must be at most {MAX_MINOR_UNITS} minor units")]
    TooLarge,
    #[error("an amount is written as digits with at most {digits} decimals, like 5.00")]
    MalformedDecimal { digits: u8 },
    #[error("{0:?} is not an ISO 4217 currency numbind knows")]
    UnknownCurrency(String),
}

impl Amount {
    pub fn from_minor_units(minor_units: i64) -> Result<Self, MoneyError> {
        if minor_units < 1 {
            return Err(MoneyError::NotPositive(minor_units));
        }
        if minor_units > MAX_MINOR_UNITS {
            return Err(MoneyError::TooLarge);
        }
        Ok(Amount(minor_units))
    }

    pub fn minor_units(self) -> i64 {
        self.0
    }

    /// Parses `5`, `5.0` or `5.00` (for a currency with two decimals) exactly; `5.001`, `-5`, `5e2`, `` are
    /// refused.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let digits = currency.minor_unit_digits();
        let malformed = || MoneyError::MalformedDecimal { digits };
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > usize::from(digits) {
            return Err(malformed());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(malformed());
        }
        let scale = 10i64.pow(u32::from(digits));
        let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        let padded = format!("{fraction:0<width$}", width = usize::from(digits));
        let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| malformed())? };
        let minor_units = whole.checked_mul(scale).and_then(|units| units.checked_add(fraction));
        Amount::from_minor_units(minor_units.ok_or(MoneyError::TooLarge)?)
    }

    /// `5.00` for 500 fen: the amount in major units with the currency's decimals.
    pub fn to_decimal(self, currency: Currency) -> String {
        let digits = currency.minor_unit_digits();
        if digits == 0 {
            return self.0.to_string();
        }
        let scale = 10i64.pow(u32::from(digits));
        format!("{}.{:0width$}", self.0 / scale, self.0 % scale, width = usize::from(digits))
    }

    /// The sum, if it is still an amount.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).and_then(|sum| Amount::from_minor_units(sum).ok())
    }
}

impl TryFrom<i64> for Amount {
    type Error = MoneyError;

    fn try_from(minor_units: i64) -> Result<Self, Self::Error> {
        Amount::from_minor_units(minor_units)
    }
}

impl From<Amount> for i64 {
    fn from(amount: Amount) -> i64 {
        amount.0
    }
}

/// The ISO 4217 currencies numbind reads. An operator bills in one of them (CNY in China Mobile's provinces);
/// the others parse so that a wrong one is refused with its own error rather than as garbage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[non_exhaustive]
pub enum Currency {
    Cny,
    Hkd,
    Mop,
    Twd,
    Usd,
    Eur,
    Gbp,
    Jpy,
    Krw,
    Sgd,
}

const CURRENCIES: [(Currency, &str, u8, &str); 10] = [
    (Currency::Cny, "CNY", 2, "¥"),
    (Currency::Hkd, "HKD", 2, "HK$"),
    (Currency::Mop, "MOP", 2, "MOP$"),
    (Currency::Twd, "TWD", 2, "NT$"),
    (Currency::Usd, "USD", 2, "US$"),
    (Currency::Eur, "EUR", 2, "€"),
    (Currency::Gbp, "GBP", 2, "£"),
    (Currency::Jpy, "JPY", 0, "JP¥"),
    (Currency::Krw, "KRW", 0, "₩"),
    (Currency::Sgd, "SGD", 2, "S$"),
];

impl Currency {
    /// Parses an upper-case ISO 4217 code (`CNY`).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(_, known, _, _)| *known == code)
            .map(|(currency, _, _, _)| *currency)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(8).collect()))
    }

    fn entry(self) -> &'static (Currency, &'static str, u8, &'static str) {
        // Every variant has its row in CURRENCIES (a unit test walks them all).
        CURRENCIES.iter().find(|(currency, _, _, _)| *currency == self).unwrap_or(&CURRENCIES[0])
    }

    pub fn code(self) -> &'static str {
        self.entry().1
    }

    /// How many decimals the minor unit has (2 for CNY: 1 yuan = 100 fen).
    pub fn minor_unit_digits(self) -> u8 {
        self.entry().2
    }

    /// `¥50.00`: how an amount is written in an SMS or on a screen.
    pub fn format(self, amount: Amount) -> String {
        format!("{}{}", self.entry().3, amount.to_decimal(self))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimals_parse_exactly_or_not_at_all() {
        let cny = Currency::Cny;
        assert_eq!(Amount::parse_decimal("5.00", cny).unwrap().minor_units(), 500);
        assert_eq!(Amount::parse_decimal("5", cny).unwrap().minor_units(), 500);
        assert_eq!(Amount::parse_decimal("0.5", cny).unwrap().minor_units(), 50);
        assert_eq!(Amount::parse_decimal("0.01", cny).unwrap().minor_units(), 1);
        for refused in ["", "5.001", "-5", "5e2", "5.", ".5", "0", "0.00", "1,00", " ", "NaN", "99999999999999999999"] {
            assert!(Amount::parse_decimal(refused, cny).is_err(), "{refused:?}");
        }
        assert_eq!(Amount::parse_decimal("500", Currency::Jpy).unwrap().minor_units(), 500);
        assert!(Amount::parse_decimal("5.5", Currency::Jpy).is_err());
    }

    #[test]
    fn amounts_are_positive_and_within_two_to_the_fifty_three() {
        assert_eq!(Amount::from_minor_units(0), Err(MoneyError::NotPositive(0)));
        assert_eq!(Amount::from_minor_units(-100), Err(MoneyError::NotPositive(-100)));
        assert_eq!(Amount::from_minor_units(MAX_MINOR_UNITS + 1), Err(MoneyError::TooLarge));
        assert!(Amount::from_minor_units(MAX_MINOR_UNITS).is_ok());
        assert!(serde_json::from_str::<Amount>("-1").is_err());
        assert!(serde_json::from_str::<Amount>("9007199254740992").is_err());
        assert!(serde_json::from_str::<Amount>("5.5").is_err());
        assert_eq!(serde_json::to_string(&Amount::from_minor_units(500).unwrap()).unwrap(), "500");
    }

    #[test]
    fn every_currency_has_its_row_and_round_trips() {
        for (currency, code, _, _) in CURRENCIES {
            assert_eq!(currency.code(), code);
            assert_eq!(Currency::parse(code), Ok(currency));
            assert_eq!(serde_json::from_str::<Currency>(&format!("\"{code}\"")).unwrap(), currency);
        }
        assert!(matches!(Currency::parse("cny"), Err(MoneyError::UnknownCurrency(_))));
        assert!(matches!(Currency::parse("XXX"), Err(MoneyError::UnknownCurrency(_))));
        assert_eq!(Currency::Cny.format(Amount::from_minor_units(5000).unwrap()), "¥50.00");
        assert_eq!(Currency::Cny.format(Amount::from_minor_units(7).unwrap()), "¥0.07");
    }

    proptest! {
        #[test]
        fn writing_then_parsing_a_decimal_gives_the_amount_back(minor_units in 1i64..=MAX_MINOR_UNITS) {
            let amount = Amount::from_minor_units(minor_units).unwrap();
            for currency in [Currency::Cny, Currency::Jpy] {
                prop_assert_eq!(Amount::parse_decimal(&amount.to_decimal(currency), currency).unwrap(), amount);
            }
        }
    }
}

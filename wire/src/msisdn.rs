//! `Msisdn`: a Chinese mobile subscriber number, normalised to its 11 national digits.
//!
//! `Display` and `Debug` print the masked form (`138****8000`) so that a number dropped into a log line
//! never leaks; code that truly needs the digits (the SMS centre, the OSS) calls `as_digits`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A mobile number: 11 digits, starting with `1` and a second digit from 3 to 9.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

/// Why a text is not a mobile number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MsisdnError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number may hold only digits, spaces, dashes and a leading +86")]
    InvalidCharacter,
    #[error("phone number must have 11 digits, found {found}")]
    WrongLength { found: usize },
    #[error("phone number must start with 13 to 19")]
    NotMobile,
}

impl Msisdn {
    /// Parses `13800138000`, `+86 138-0013-8000`, `0086 13800138000` or `8613800138000`.
    pub fn parse(text: &str) -> Result<Self, MsisdnError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let without_plus = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let mut digits = String::with_capacity(16);
        for character in without_plus.chars() {
            match character {
                '0'..='9' => digits.push(character),
                ' ' | '-' => {}
                _ => return Err(MsisdnError::InvalidCharacter),
            }
        }
        let national = strip_country_code(&digits);
        if national.len() != 11 {
            return Err(MsisdnError::WrongLength { found: national.len() });
        }
        let bytes = national.as_bytes();
        if bytes[0] != b'1' || !(b'3'..=b'9').contains(&bytes[1]) {
            return Err(MsisdnError::NotMobile);
        }
        Ok(Msisdn(national.to_owned()))
    }

    /// The full 11 digits. Never log this.
    pub fn as_digits(&self) -> &str {
        &self.0
    }

    /// The masked form for logs, audit views and SMS to third parties: `138****8000`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

fn strip_country_code(digits: &str) -> &str {
    if digits.len() == 15 {
        if let Some(rest) = digits.strip_prefix("0086") {
            return rest;
        }
    }
    if digits.len() == 13 {
        if let Some(rest) = digits.strip_prefix("86") {
            return rest;
        }
    }
    digits
}

/// Sets and maps keyed by number can be searched with the stored digits (`HashSet<Msisdn>::contains("138…")`):
/// equal numbers have equal digits, and both hash as the same string.
impl std::borrow::Borrow<str> for Msisdn {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.masked())
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Msisdn({})", self.masked())
    }
}

impl Serialize for Msisdn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Msisdn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Msisdn::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn national_and_international_forms_normalise_to_eleven_digits() {
        for text in ["13800138000", "+86 138-0013-8000", "0086 13800138000", "8613800138000", " 138 0013 8000 "] {
            assert_eq!(Msisdn::parse(text).unwrap().as_digits(), "13800138000", "{text}");
        }
    }

    #[test]
    fn a_set_of_numbers_is_searched_by_digits() {
        let numbers: std::collections::HashSet<Msisdn> = [Msisdn::parse("+86 138-0013-8000").unwrap()].into();
        assert!(numbers.contains("13800138000"));
        assert!(!numbers.contains("13800138001"));
    }

    #[test]
    fn malformed_numbers_get_specific_errors() {
        assert_eq!(Msisdn::parse(""), Err(MsisdnError::Empty));
        assert_eq!(Msisdn::parse("1380013800a"), Err(MsisdnError::InvalidCharacter));
        assert_eq!(Msisdn::parse("1380013800"), Err(MsisdnError::WrongLength { found: 10 }));
        assert_eq!(Msisdn::parse("12800138000"), Err(MsisdnError::NotMobile));
        assert_eq!(Msisdn::parse("10658000"), Err(MsisdnError::WrongLength { found: 8 }));
    }

    #[test]
    fn display_and_debug_never_show_the_full_number() {
        let msisdn = Msisdn::parse("13800138000").unwrap();
        assert_eq!(msisdn.to_string(), "138****8000");
        assert!(!format!("{msisdn:?}").contains("13800138000"));
    }

    #[test]
    fn serde_round_trips_the_full_number_and_rejects_bad_ones() {
        let msisdn: Msisdn = serde_json::from_str("\"+8613900139000\"").unwrap();
        assert_eq!(serde_json::to_string(&msisdn).unwrap(), "\"13900139000\"");
        assert!(serde_json::from_str::<Msisdn>("\"12345\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_eleven_digit_mobiles(text in "\\PC{0,30}") {
            if let Ok(msisdn) = Msisdn::parse(&text) {
                prop_assert_eq!(msisdn.as_digits().len(), 11);
                prop_assert!(msisdn.as_digits().starts_with('1'));
            }
        }

        #[test]
        fn every_valid_number_round_trips(second in 3u8..=9, rest in "[0-9]{9}") {
            let text = format!("1{second}{rest}");
            let msisdn = Msisdn::parse(&text).unwrap();
            prop_assert_eq!(msisdn.as_digits(), text.as_str());
            prop_assert_eq!(Msisdn::parse(&format!("+86{text}")).unwrap(), msisdn);
        }
    }
}

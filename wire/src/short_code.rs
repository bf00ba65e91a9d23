//! `ShortCode`: the operator's service number that users text (`10658000`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// 3 to 20 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ShortCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShortCodeError {
    #[error("short code must be 3 to 20 digits")]
    Malformed,
}

impl ShortCode {
    pub fn parse(text: &str) -> Result<Self, ShortCodeError> {
        let trimmed = text.trim();
        let valid = (3..=20).contains(&trimmed.len()) && trimmed.bytes().all(|byte| byte.is_ascii_digit());
        if valid {
            Ok(ShortCode(trimmed.to_owned()))
        } else {
            Err(ShortCodeError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl fmt::Debug for ShortCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ShortCode({})", self.0)
    }
}

impl Serialize for ShortCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ShortCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ShortCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_digits_only() {
        assert_eq!(ShortCode::parse(" 10658000 ").unwrap().as_str(), "10658000");
        assert_eq!(ShortCode::parse("10"), Err(ShortCodeError::Malformed));
        assert_eq!(ShortCode::parse("1065A"), Err(ShortCodeError::Malformed));
    }
}

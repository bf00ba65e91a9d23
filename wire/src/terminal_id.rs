//! `TerminalId`: the set-top box's identity as shown on its screen and named in every binding.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// 6 to 40 characters of `A-Z`, `0-9` and `-`, upper-cased on input, starting with a letter or digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TerminalId(String);

/// Why a text is not a terminal ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TerminalIdError {
    #[error("terminal id must have 6 to 40 characters, found {found}")]
    WrongLength { found: usize },
    #[error("terminal id may hold only letters, digits and dashes")]
    InvalidCharacter,
    #[error("terminal id must start with a letter or digit")]
    LeadingDash,
}

const BASE32_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl TerminalId {
    pub fn parse(text: &str) -> Result<Self, TerminalIdError> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if !(6..=40).contains(&length) {
            return Err(TerminalIdError::WrongLength { found: length });
        }
        if !trimmed.chars().all(|character| character.is_ascii_alphanumeric() || character == '-') {
            return Err(TerminalIdError::InvalidCharacter);
        }
        if trimmed.starts_with('-') {
            return Err(TerminalIdError::LeadingDash);
        }
        Ok(TerminalId(trimmed.to_ascii_uppercase()))
    }

    /// The ID a terminal gives itself on first boot: `NB-` and 16 Crockford base32 characters of the
    /// SHA-256 of its public key, so that the ID and the key cannot be mixed up later.
    pub fn from_public_key(public_key: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
        let mut bits: u128 = 0;
        for byte in &digest.as_ref()[..10] {
            bits = (bits << 8) | u128::from(*byte);
        }
        let mut text = String::from("NB-");
        for index in (0..16).rev() {
            let five_bits = ((bits >> (index * 5)) & 0x1f) as usize;
            text.push(char::from(BASE32_ALPHABET[five_bits]));
        }
        TerminalId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters, as named in the confirmation SMS ("终端尾号 7Q2K").
    pub fn tail(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for TerminalId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl fmt::Debug for TerminalId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "TerminalId({})", self.0)
    }
}

impl Serialize for TerminalId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TerminalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TerminalId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_upper_cased_and_checked() {
        assert_eq!(TerminalId::parse(" stb-0042ab ").unwrap().as_str(), "STB-0042AB");
        assert_eq!(TerminalId::parse("abc"), Err(TerminalIdError::WrongLength { found: 3 }));
        assert_eq!(TerminalId::parse("STB_0042"), Err(TerminalIdError::InvalidCharacter));
        assert_eq!(TerminalId::parse("-STB0042"), Err(TerminalIdError::LeadingDash));
    }

    #[test]
    fn an_id_derived_from_a_key_is_stable_and_parses() {
        let first = TerminalId::from_public_key(&[7u8; 32]);
        assert_eq!(first, TerminalId::from_public_key(&[7u8; 32]));
        assert_ne!(first, TerminalId::from_public_key(&[8u8; 32]));
        assert_eq!(TerminalId::parse(first.as_str()).unwrap(), first);
        assert_eq!(first.as_str().len(), 19);
        assert_eq!(first.tail().len(), 4);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,50}") {
            if let Ok(id) = TerminalId::parse(&text) {
                prop_assert!(id.as_str().len() >= 6);
            }
        }
    }
}

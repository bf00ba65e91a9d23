//! `ActivationCode`: the one-time code a box shows and the user texts back.
//!
//! Eight characters from the 20 consonants of RFC 8628 section 6.1 (`BCDFGHJKLMNPQRSTVWXZ`): no vowels, so
//! no words; no digits, so no `0`/`O` or `1`/`I` confusion. 20^8 ≈ 2.56e10 codes (34.6 bits). Input is
//! forgiving: case, spaces, dashes and full-width letters typed on a Chinese keyboard are normalised.

use ring::rand::SecureRandom;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The alphabet of codes: the consonants of RFC 8628 section 6.1.
pub const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters in a code.
pub const CODE_LENGTH: usize = 8;

/// A well-formed code, stored without separators (`WDJBMJHT`) and displayed grouped (`WDJB-MJHT`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActivationCode(String);

/// Why a text is not a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationCodeError {
    #[error("activation code is empty")]
    Empty,
    #[error("activation code must have {CODE_LENGTH} letters, found {found}")]
    WrongLength { found: usize },
    #[error("activation code has a character that codes never contain: {character:?}")]
    CharacterNotInAlphabet { character: char },
}

/// The random source failed; nothing was issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomSourceFailed;

impl ActivationCode {
    pub fn parse(text: &str) -> Result<Self, ActivationCodeError> {
        let mut code = String::with_capacity(CODE_LENGTH);
        let mut letters_seen = 0usize;
        for character in text.chars().map(fold_full_width) {
            if character.is_whitespace() || character == '-' {
                continue;
            }
            letters_seen += 1;
            let upper = character.to_ascii_uppercase();
            if !upper.is_ascii() || !ALPHABET.contains(&(upper as u8)) {
                return Err(ActivationCodeError::CharacterNotInAlphabet { character });
            }
            code.push(upper);
        }
        match letters_seen {
            0 => Err(ActivationCodeError::Empty),
            CODE_LENGTH => Ok(ActivationCode(code)),
            found => Err(ActivationCodeError::WrongLength { found }),
        }
    }

    /// Draws a fresh code uniformly from the alphabet (rejection sampling, no modulo bias).
    pub fn generate(random: &dyn SecureRandom) -> Result<Self, RandomSourceFailed> {
        let mut code = String::with_capacity(CODE_LENGTH);
        let mut buffer = [0u8; 16];
        while code.len() < CODE_LENGTH {
            random.fill(&mut buffer).map_err(|_| RandomSourceFailed)?;
            for byte in buffer {
                // 240 is the largest multiple of 20 below 256.
                if byte < 240 && code.len() < CODE_LENGTH {
                    code.push(char::from(ALPHABET[usize::from(byte % 20)]));
                }
            }
        }
        Ok(ActivationCode(code))
    }

    /// The code without separators, as it appears in the SMS text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code grouped for reading off a screen: `WDJB-MJHT`.
    pub fn grouped(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

/// Full-width ASCII (U+FF01..U+FF5E, typed by Chinese input methods) to its ASCII twin; U+3000 to a space.
fn fold_full_width(character: char) -> char {
    match character {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(character as u32 - 0xFEE0).unwrap_or(character),
        other => other,
    }
}

/// Codes are secrets: `Debug` does not print them.
impl fmt::Debug for ActivationCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ActivationCode(<redacted>)")
    }
}

impl Serialize for ActivationCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ActivationCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ActivationCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

pub(crate) fn fold_full_width_text(text: &str) -> String {
    text.chars().map(fold_full_width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ring::rand::SystemRandom;

    #[test]
    fn case_spaces_dashes_and_full_width_letters_are_forgiven() {
        for text in ["WDJBMJHT", "wdjb-mjht", " Wdjb mjht ", "ＷＤＪＢ－ＭＪＨＴ", "W-D-J-B M J H T"] {
            assert_eq!(ActivationCode::parse(text).unwrap().as_str(), "WDJBMJHT", "{text}");
        }
    }

    #[test]
    fn mistyped_codes_get_specific_errors() {
        assert_eq!(ActivationCode::parse(" - "), Err(ActivationCodeError::Empty));
        assert_eq!(ActivationCode::parse("WDJBMJH"), Err(ActivationCodeError::WrongLength { found: 7 }));
        assert_eq!(
            ActivationCode::parse("WDJBMJH0"),
            Err(ActivationCodeError::CharacterNotInAlphabet { character: '0' })
        );
        assert_eq!(
            ActivationCode::parse("WDJBMJHA"),
            Err(ActivationCodeError::CharacterNotInAlphabet { character: 'A' })
        );
    }

    #[test]
    fn generated_codes_use_only_the_alphabet_and_differ() {
        let random = SystemRandom::new();
        let first = ActivationCode::generate(&random).unwrap();
        let second = ActivationCode::generate(&random).unwrap();
        assert_ne!(first, second);
        assert_eq!(ActivationCode::parse(&first.grouped()).unwrap(), first);
        assert!(first.as_str().bytes().all(|byte| ALPHABET.contains(&byte)));
    }

    #[test]
    fn generated_codes_spread_over_the_whole_alphabet() {
        let random = SystemRandom::new();
        let mut counts = [0usize; 20];
        for _ in 0..500 {
            for byte in ActivationCode::generate(&random).unwrap().as_str().bytes() {
                counts[ALPHABET.iter().position(|letter| *letter == byte).unwrap()] += 1;
            }
        }
        // 4000 draws, 200 expected per letter; a letter below 100 would mean a broken sampler.
        assert!(counts.iter().all(|count| *count > 100), "{counts:?}");
    }

    #[test]
    fn debug_does_not_print_the_code() {
        let code = ActivationCode::parse("WDJBMJHT").unwrap();
        assert!(!format!("{code:?}").contains("WDJB"));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_results_are_canonical(text in "\\PC{0,24}") {
            if let Ok(code) = ActivationCode::parse(&text) {
                prop_assert_eq!(code.as_str().len(), CODE_LENGTH);
                prop_assert_eq!(ActivationCode::parse(code.as_str()).unwrap(), code);
            }
        }
    }
}

//! Free text that people type (an operator's reason for unbinding or revealing) with every mobile number in it
//! masked the way [`Msisdn::masked`] masks one: `caller 13800138001 asked` becomes `caller 138****8001 asked`.
//!
//! A number is 11 digits starting `13` to `19`, written whole or with single spaces or dashes between digits,
//! optionally after `+86`, `86` or `0086`: whatever [`Msisdn::parse`] accepts, found inside a longer text. A run of
//! digits longer than a number (an order number, say) is left alone, as is anything that is not a mobile number.

use crate::msisdn::Msisdn;

/// The longest digit run that can still be one number: `0086` and 11 digits.
const MOST_DIGITS: usize = 15;

/// `text` with every mobile number in it replaced by its masked form (`138****8001`).
pub fn mask_numbers_in_text(text: &str) -> String {
    let characters: Vec<(usize, char)> = text.char_indices().collect();
    let byte_offset = |index: usize| characters.get(index).map_or(text.len(), |(offset, _)| *offset);
    let mut masked = String::with_capacity(text.len());
    let (mut copied_up_to, mut index) = (0, 0);
    while index < characters.len() {
        let character = characters[index].1;
        let after_a_digit = index > 0 && characters[index - 1].1.is_ascii_digit();
        if (character == '+' || character.is_ascii_digit()) && !after_a_digit {
            if let Some((end, number)) = number_starting_at(&characters, index) {
                masked.push_str(&text[copied_up_to..byte_offset(index)]);
                masked.push_str(&number.masked());
                copied_up_to = byte_offset(end);
                index = end;
                continue;
            }
        }
        index += 1;
    }
    masked.push_str(&text[copied_up_to..]);
    masked
}

/// The number written from `start`, with the index just past it: the longest reading that parses and is not
/// followed by another digit.
fn number_starting_at(characters: &[(usize, char)], start: usize) -> Option<(usize, Msisdn)> {
    let mut index = start + usize::from(characters[start].1 == '+');
    let mut digits = String::with_capacity(MOST_DIGITS);
    let mut readings = Vec::new();
    while index < characters.len() && digits.len() < MOST_DIGITS {
        let character = characters[index].1;
        let next_is_digit = characters.get(index + 1).is_some_and(|(_, next)| next.is_ascii_digit());
        if character.is_ascii_digit() {
            digits.push(character);
            index += 1;
            if matches!(digits.len(), 11 | 13 | 15) {
                readings.push((index, digits.clone()));
            }
        } else if (character == ' ' || character == '-') && !digits.is_empty() && next_is_digit {
            index += 1;
        } else {
            break;
        }
    }
    readings.into_iter().rev().find_map(|(end, digits)| {
        let followed_by_digit = characters.get(end).is_some_and(|(_, next)| next.is_ascii_digit());
        if followed_by_digit {
            return None;
        }
        Msisdn::parse(&digits).ok().map(|number| (end, number))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_number_in_a_reason_is_masked_and_the_rest_kept() {
        assert_eq!(mask_numbers_in_text("caller 13800138001 asked"), "caller 138****8001 asked");
        assert_eq!(mask_numbers_in_text("13800138001"), "138****8001");
        assert_eq!(mask_numbers_in_text("用户13800138001来电"), "用户138****8001来电");
    }

    #[test]
    fn prefixed_and_separated_numbers_are_masked_whole() {
        for written in ["+86 138-0013-8001", "+8613800138001", "8613800138001", "0086 13800138001", "138 0013 8001"] {
            assert_eq!(mask_numbers_in_text(&format!("from {written}, twice")), "from 138****8001, twice", "{written}");
        }
    }

    #[test]
    fn several_numbers_are_each_masked() {
        assert_eq!(mask_numbers_in_text("13800138001 13900139000;13700137000"), "138****8001 139****9000;137****7000");
    }

    #[test]
    fn other_digits_are_left_alone() {
        for kept in ["ticket 42", "order 123456789012345678", "12800138000", "10658000", "2026-12-07", "1380013800"] {
            assert_eq!(mask_numbers_in_text(kept), kept);
        }
    }

    proptest! {
        #[test]
        fn no_number_survives_masking(before in "[a-z ]{0,8}", second in 3u8..=9, rest in "[0-9]{9}", after in "[a-z ]{0,8}") {
            let number = format!("1{second}{rest}");
            let masked = mask_numbers_in_text(&format!("{before}{number}{after}"));
            prop_assert!(!masked.contains(&number), "{}", masked);
        }

        #[test]
        fn masking_never_panics(text in "\\PC{0,40}") {
            let _ = mask_numbers_in_text(&text);
        }
    }
}

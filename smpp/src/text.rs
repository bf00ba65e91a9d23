//! Text in SMS: GSM 03.38 (unpacked, one septet per octet), IA5, Latin-1 and UCS-2, and their data_coding;
//! which alphabet a data_coding names (8-bit binary included).

/// data_coding for the GSM 03.38 default alphabet (the SMSC default).
pub const DATA_CODING_GSM: u8 = 0x00;
/// data_coding for IA5 / ASCII.
pub const DATA_CODING_IA5: u8 = 0x01;
/// data_coding for ISO-8859-1.
pub const DATA_CODING_LATIN1: u8 = 0x03;
/// data_coding for UCS-2 big-endian (UTF-16 with surrogate pairs in practice).
pub const DATA_CODING_UCS2: u8 = 0x08;

const GSM_ESCAPE: u8 = 0x1B;

/// What the octets of a message are, as its data_coding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    Gsm,
    Ia5,
    Latin1,
    Ucs2,
    /// 8-bit data (binary): octets, not text.
    EightBit,
}

/// The alphabet of a data_coding (SMPP 3.4 section 5.2.19, and the GSM 03.38 data coding scheme groups it
/// borrows), or `None` for one numbind does not support (JIS, Cyrillic, Hebrew, pictograms, Kanji, KS C 5601,
/// compressed text, the reserved values).
pub fn alphabet(data_coding: u8) -> Option<Alphabet> {
    match data_coding {
        DATA_CODING_GSM => Some(Alphabet::Gsm),
        DATA_CODING_IA5 => Some(Alphabet::Ia5),
        0x02 | 0x04 => Some(Alphabet::EightBit),
        DATA_CODING_LATIN1 => Some(Alphabet::Latin1),
        DATA_CODING_UCS2 => Some(Alphabet::Ucs2),
        // General data coding with a message class, uncompressed (0001xxxx): bits 3-2 name the alphabet.
        0x10..=0x1F => match (data_coding >> 2) & 0x03 {
            0 => Some(Alphabet::Gsm),
            1 => Some(Alphabet::EightBit),
            2 => Some(Alphabet::Ucs2),
            _ => None,
        },
        // Data coding and message class group (1111xxxx): bit 2 chooses GSM or 8-bit data.
        0xF0..=0xFF if data_coding & 0x04 == 0 => Some(Alphabet::Gsm),
        0xF0..=0xFF => Some(Alphabet::EightBit),
        _ => None,
    }
}

/// The GSM 03.38 default alphabet; index = septet. 0x1B is the escape to the extension table.
const GSM_BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table reached through 0x1B: (septet, character).
const GSM_EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Why octets are not text in the announced data_coding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    #[error("data_coding {0:#04x} is not supported")]
    UnsupportedDataCoding(u8),
    #[error("data_coding {0:#04x} is 8-bit data, not text")]
    EightBitData(u8),
    #[error("octet {octet:#04x} is not a gsm 03.38 septet")]
    InvalidGsmOctet { octet: u8 },
    #[error("gsm 03.38 text ends with a lone escape")]
    DanglingGsmEscape,
    #[error("octet {octet:#04x} is not ia5 (ascii)")]
    InvalidIa5Octet { octet: u8 },
    #[error("ucs-2 text has an odd number of octets")]
    OddUcs2Length,
    #[error("ucs-2 text holds an unpaired surrogate")]
    UnpairedSurrogate,
}

/// Encodes text as GSM 03.38 when every character has a septet (escape table included), else as UCS-2.
pub fn encode_text(text: &str) -> (u8, Vec<u8>) {
    match encode_gsm(text) {
        Some(septets) => (DATA_CODING_GSM, septets),
        None => (DATA_CODING_UCS2, text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
    }
}

fn encode_gsm(text: &str) -> Option<Vec<u8>> {
    let mut septets = Vec::with_capacity(text.len());
    for character in text.chars() {
        if let Some(index) = GSM_BASIC.iter().position(|basic| *basic == character && character != '\u{1B}') {
            septets.push(index as u8);
        } else if let Some((code, _)) = GSM_EXTENSION.iter().find(|(_, extended)| *extended == character) {
            septets.extend_from_slice(&[GSM_ESCAPE, *code]);
        } else {
            return None;
        }
    }
    Some(septets)
}

/// Decodes octets in a text data_coding: GSM 03.38 unpacked (0x00, and class-0 GSM 0x10 / 0xF0), IA5 (0x01),
/// Latin-1 (0x03) or UCS-2 BE (0x08, 0x18). 8-bit data is `EightBitData`; see [`alphabet`].
pub fn decode_text(data_coding: u8, octets: &[u8]) -> Result<String, TextError> {
    match alphabet(data_coding).ok_or(TextError::UnsupportedDataCoding(data_coding))? {
        Alphabet::Gsm => decode_gsm(octets),
        Alphabet::Ia5 => octets
            .iter()
            .map(|octet| {
                if octet.is_ascii() {
                    Ok(char::from(*octet))
                } else {
                    Err(TextError::InvalidIa5Octet { octet: *octet })
                }
            })
            .collect(),
        Alphabet::Latin1 => Ok(octets.iter().map(|octet| char::from(*octet)).collect()),
        Alphabet::Ucs2 => decode_ucs2(octets),
        Alphabet::EightBit => Err(TextError::EightBitData(data_coding)),
    }
}

fn decode_gsm(octets: &[u8]) -> Result<String, TextError> {
    let mut text = String::with_capacity(octets.len());
    let mut iterator = octets.iter();
    while let Some(&octet) = iterator.next() {
        let basic = |septet: u8| {
            GSM_BASIC.get(usize::from(septet)).copied().ok_or(TextError::InvalidGsmOctet { octet: septet })
        };
        if octet == GSM_ESCAPE {
            let &code = iterator.next().ok_or(TextError::DanglingGsmEscape)?;
            // 3GPP TS 23.038: an unknown extension code shows as the basic character.
            match GSM_EXTENSION.iter().find(|(extension_code, _)| *extension_code == code) {
                Some((_, character)) => text.push(*character),
                None => text.push(basic(code)?),
            }
        } else {
            text.push(basic(octet)?);
        }
    }
    Ok(text)
}

fn decode_ucs2(octets: &[u8]) -> Result<String, TextError> {
    if !octets.len().is_multiple_of(2) {
        return Err(TextError::OddUcs2Length);
    }
    let units = octets.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units).map(|unit| unit.map_err(|_| TextError::UnpairedSurrogate)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ascii_commands_use_the_gsm_alphabet() {
        assert_eq!(encode_text("BIND WDJBMJHT"), (DATA_CODING_GSM, b"BIND WDJBMJHT".to_vec()));
    }

    #[test]
    fn the_at_sign_is_septet_zero() {
        assert_eq!(encode_text("a@b"), (DATA_CODING_GSM, vec![b'a', 0x00, b'b']));
        assert_eq!(decode_text(DATA_CODING_GSM, &[0x00]).unwrap(), "@");
    }

    #[test]
    fn the_euro_and_brackets_use_the_escape_table() {
        let (coding, octets) = encode_text("€[x]");
        assert_eq!(coding, DATA_CODING_GSM);
        assert_eq!(octets, vec![0x1B, 0x65, 0x1B, 0x3C, b'x', 0x1B, 0x3E]);
        assert_eq!(decode_text(coding, &octets).unwrap(), "€[x]");
    }

    #[test]
    fn chinese_with_a_surrogate_pair_round_trips_as_ucs2() {
        let text = "绑定成功 𠮷 机顶盒";
        let (coding, octets) = encode_text(text);
        assert_eq!(coding, DATA_CODING_UCS2);
        assert_eq!(&octets[..2], &[0x7E, 0xD1]);
        assert_eq!(decode_text(coding, &octets).unwrap(), text);
    }

    #[test]
    fn malformed_octets_get_specific_errors() {
        assert_eq!(decode_text(DATA_CODING_UCS2, &[0x4E]), Err(TextError::OddUcs2Length));
        assert_eq!(decode_text(DATA_CODING_UCS2, &[0xD8, 0x42]), Err(TextError::UnpairedSurrogate));
        assert_eq!(decode_text(DATA_CODING_GSM, &[0x41, 0x1B]), Err(TextError::DanglingGsmEscape));
        assert_eq!(decode_text(DATA_CODING_GSM, &[0x80]), Err(TextError::InvalidGsmOctet { octet: 0x80 }));
        assert_eq!(decode_text(DATA_CODING_IA5, &[0xE9]), Err(TextError::InvalidIa5Octet { octet: 0xE9 }));
        assert_eq!(decode_text(0x05, &[]), Err(TextError::UnsupportedDataCoding(0x05)));
        assert_eq!(decode_text(0x04, &[]), Err(TextError::EightBitData(0x04)));
    }

    #[test]
    fn class_zero_gsm_and_eight_bit_codings_name_their_alphabet() {
        assert_eq!(decode_text(0x10, b"FLASH").unwrap(), "FLASH");
        assert_eq!(decode_text(0xF0, b"FLASH").unwrap(), "FLASH");
        assert_eq!(decode_text(0x18, &[0x7E, 0xD1]).unwrap(), "绑");
        for eight_bit in [0x02, 0x04, 0x14, 0xF4, 0xF5] {
            assert_eq!(alphabet(eight_bit), Some(Alphabet::EightBit), "{eight_bit:#04x}");
        }
        for unsupported in [0x05, 0x06, 0x09, 0x0E, 0x1C, 0x20, 0xC0] {
            assert_eq!(alphabet(unsupported), None, "{unsupported:#04x}");
        }
    }

    #[test]
    fn ia5_and_latin1_decode() {
        assert_eq!(decode_text(DATA_CODING_IA5, b"BIND X").unwrap(), "BIND X");
        assert_eq!(decode_text(DATA_CODING_LATIN1, &[0x63, 0x61, 0x66, 0xE9]).unwrap(), "café");
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{0,80}") {
            let (coding, octets) = encode_text(&text);
            prop_assert_eq!(decode_text(coding, &octets).unwrap(), text);
        }

        #[test]
        fn decoding_never_panics(coding in any::<u8>(), octets in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = decode_text(coding, &octets);
        }
    }
}

//! Message text and `Msg_Fmt`: ASCII (0), UCS-2 big-endian (8) and GBK (15) both ways, and the choice of
//! encoding for outgoing text (ASCII when every character is ASCII, else UCS-2, which every handset reads).

use crate::spec_enum::spec_enum;

spec_enum! {
    /// `Msg_Fmt`: how `Msg_Content` is encoded.
    pub enum MsgFmt: u8 {
        /// ASCII.
        Ascii = 0 => "ascii",
        /// Written to the SIM card.
        SimWrite = 3 => "sim card write",
        /// Binary data.
        Binary = 4 => "binary",
        /// UCS-2, big-endian.
        Ucs2 = 8 => "ucs2",
        /// GBK, the Chinese national encoding.
        Gbk = 15 => "gbk",
    }
}

// The macro owns the derive list, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for MsgFmt {
    fn default() -> Self {
        MsgFmt::Ascii
    }
}

/// Why content does not decode to text, or text does not encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    #[error("msg_fmt {0} is not text")]
    UnsupportedFormat(MsgFmt),
    #[error("the content is not valid ascii")]
    InvalidAscii,
    #[error("the content is not valid ucs-2 (odd length or an unpaired surrogate)")]
    InvalidUcs2,
    #[error("the content is not valid gbk")]
    InvalidGbk,
    #[error("the text has characters that gbk cannot encode")]
    NotRepresentableInGbk,
}

/// Encodes `text` the way numbind sends it: ASCII when possible, else UCS-2.
pub fn encode_text(text: &str) -> (MsgFmt, Vec<u8>) {
    if text.is_ascii() {
        (MsgFmt::Ascii, text.as_bytes().to_vec())
    } else {
        (MsgFmt::Ucs2, encode_ucs2(text))
    }
}

/// Encodes `text` in the format asked for (ASCII, UCS-2 or GBK).
pub fn encode_text_as(format: MsgFmt, text: &str) -> Result<Vec<u8>, TextError> {
    match format {
        MsgFmt::Ascii if text.is_ascii() => Ok(text.as_bytes().to_vec()),
        MsgFmt::Ascii => Err(TextError::InvalidAscii),
        MsgFmt::Ucs2 => Ok(encode_ucs2(text)),
        MsgFmt::Gbk => {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
            if unmappable {
                return Err(TextError::NotRepresentableInGbk);
            }
            Ok(bytes.into_owned())
        }
        other => Err(TextError::UnsupportedFormat(other)),
    }
}

/// Decodes `Msg_Content` as text.
pub fn decode_text(format: MsgFmt, content: &[u8]) -> Result<String, TextError> {
    match format {
        MsgFmt::Ascii if content.is_ascii() => Ok(content.iter().map(|byte| char::from(*byte)).collect()),
        MsgFmt::Ascii => Err(TextError::InvalidAscii),
        MsgFmt::Ucs2 => decode_ucs2(content),
        MsgFmt::Gbk => {
            let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(content);
            if had_errors {
                return Err(TextError::InvalidGbk);
            }
            Ok(text.into_owned())
        }
        other => Err(TextError::UnsupportedFormat(other)),
    }
}

/// UTF-16 big-endian: characters outside the basic plane become surrogate pairs, as handsets expect.
fn encode_ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn decode_ucs2(content: &[u8]) -> Result<String, TextError> {
    if !content.len().is_multiple_of(2) {
        return Err(TextError::InvalidUcs2);
    }
    let units = content.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| TextError::InvalidUcs2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ascii_text_goes_as_ascii_and_chinese_as_ucs2() {
        assert_eq!(encode_text("BIND 123"), (MsgFmt::Ascii, b"BIND 123".to_vec()));
        assert_eq!(encode_text("你好"), (MsgFmt::Ucs2, vec![0x4F, 0x60, 0x59, 0x7D]));
    }

    #[test]
    fn gbk_encodes_and_decodes_chinese() {
        let bytes = encode_text_as(MsgFmt::Gbk, "你好").unwrap();
        assert_eq!(bytes, vec![0xC4, 0xE3, 0xBA, 0xC3]);
        assert_eq!(decode_text(MsgFmt::Gbk, &bytes).unwrap(), "你好");
        assert_eq!(encode_text_as(MsgFmt::Gbk, "😀"), Err(TextError::NotRepresentableInGbk));
    }

    #[test]
    fn malformed_content_is_a_typed_error() {
        assert_eq!(decode_text(MsgFmt::Ucs2, &[0x4F]), Err(TextError::InvalidUcs2));
        assert_eq!(decode_text(MsgFmt::Ucs2, &[0xD8, 0x00]), Err(TextError::InvalidUcs2));
        assert_eq!(decode_text(MsgFmt::Ascii, &[0xC4]), Err(TextError::InvalidAscii));
        assert_eq!(decode_text(MsgFmt::Binary, b"x"), Err(TextError::UnsupportedFormat(MsgFmt::Binary)));
    }

    proptest! {
        #[test]
        fn any_text_round_trips_through_the_chosen_encoding(text in any::<String>()) {
            let (format, bytes) = encode_text(&text);
            prop_assert_eq!(decode_text(format, &bytes).unwrap(), text.clone());
            prop_assert_eq!(decode_text(MsgFmt::Ucs2, &encode_text_as(MsgFmt::Ucs2, &text).unwrap()).unwrap(), text);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), format in any::<u8>()) {
            let _ = decode_text(MsgFmt::from(format), &bytes);
        }
    }
}

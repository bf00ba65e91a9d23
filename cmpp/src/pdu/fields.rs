//! Reading and writing the primitive CMPP field types: big-endian integers and fixed-width octet strings,
//! NUL-padded on the wire. Reading fails with the field's name instead of panicking; writing refuses a value
//! that does not fit its width instead of truncating it.

use super::{DecodeError, EncodeError};
use bytes::BufMut;

/// A cursor over a PDU body.
pub(crate) struct FieldReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        FieldReader { bytes, position: 0 }
    }

    /// How many bytes are not read yet.
    pub(crate) fn remaining_length(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// Everything not read yet.
    pub(crate) fn remaining(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        self.position = self.bytes.len();
        rest
    }

    pub(crate) fn take(&mut self, length: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.position.checked_add(length).ok_or(DecodeError::Truncated { field })?;
        let slice = self.bytes.get(self.position..end).ok_or(DecodeError::Truncated { field })?;
        self.position = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let slice = self.take(4, field)?;
        Ok(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8, field)?);
        Ok(u64::from_be_bytes(word))
    }

    /// A 1-byte field in CMPP 2.0, a 4-byte one in 3.0.
    pub(crate) fn result_code(&mut self, wide: bool, field: &'static str) -> Result<u32, DecodeError> {
        if wide {
            self.u32(field)
        } else {
            self.u8(field).map(u32::from)
        }
    }

    /// A fixed-width octet string: the ASCII text up to the first NUL; what follows the NUL is padding.
    pub(crate) fn octet_string(&mut self, width: usize, field: &'static str) -> Result<String, DecodeError> {
        let slice = self.take(width, field)?;
        let end = slice.iter().position(|byte| *byte == 0).unwrap_or(slice.len());
        let text = &slice[..end];
        if !text.is_ascii() {
            return Err(DecodeError::NotAscii { field });
        }
        Ok(text.iter().map(|byte| char::from(*byte)).collect())
    }

    /// A reserved octet string: like [`FieldReader::octet_string`], but content that is not ASCII reads as
    /// empty instead of failing (gateways leave garbage in `Reserve`).
    pub(crate) fn lenient_octet_string(&mut self, width: usize, field: &'static str) -> Result<String, DecodeError> {
        let start = self.position;
        match self.octet_string(width, field) {
            Err(DecodeError::NotAscii { .. }) => {
                self.position = start + width;
                Ok(String::new())
            }
            other => other,
        }
    }

    /// Fails when bytes are left after the body.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining_length() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }
}

/// Writes `text` NUL-padded to `width`; refuses text that is longer, not ASCII, or holds a NUL.
pub(crate) fn put_octet_string(
    out: &mut Vec<u8>,
    text: &str,
    width: usize,
    field: &'static str,
) -> Result<(), EncodeError> {
    if !text.is_ascii() || text.contains('\0') {
        return Err(EncodeError::NotAscii { field });
    }
    if text.len() > width {
        return Err(EncodeError::FieldTooLong { field, width });
    }
    out.put_slice(text.as_bytes());
    out.put_bytes(0, width - text.len());
    Ok(())
}

/// Writes a result code: one byte in CMPP 2.0 (refusing a value above 255), four in 3.0.
pub(crate) fn put_result_code(
    out: &mut Vec<u8>,
    value: u32,
    wide: bool,
    field: &'static str,
) -> Result<(), EncodeError> {
    if wide {
        out.put_u32(value);
        return Ok(());
    }
    let byte = u8::try_from(value).map_err(|_| EncodeError::ValueTooLarge { field })?;
    out.put_u8(byte);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_octet_string_ends_at_its_first_nul_and_keeps_its_width() {
        let mut reader = FieldReader::new(b"abc\0zz123");
        assert_eq!(reader.octet_string(6, "first").unwrap(), "abc");
        assert_eq!(reader.octet_string(3, "second").unwrap(), "123");
        assert!(reader.finish().is_ok());
        assert_eq!(FieldReader::new(b"ab").octet_string(3, "short"), Err(DecodeError::Truncated { field: "short" }));
        assert_eq!(FieldReader::new(&[0xC4, 0]).octet_string(2, "gbk"), Err(DecodeError::NotAscii { field: "gbk" }));
    }

    #[test]
    fn writing_pads_and_refuses_what_does_not_fit() {
        let mut out = Vec::new();
        put_octet_string(&mut out, "ab", 4, "f").unwrap();
        assert_eq!(out, b"ab\0\0");
        assert_eq!(
            put_octet_string(&mut out, "abcde", 4, "f"),
            Err(EncodeError::FieldTooLong { field: "f", width: 4 })
        );
        assert_eq!(
            put_result_code(&mut out, 256, false, "Status"),
            Err(EncodeError::ValueTooLarge { field: "Status" })
        );
    }
}

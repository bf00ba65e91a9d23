//! Reading and writing the primitive SMPP field types: integers, C-octet strings, TLVs.

use super::{DecodeError, Tlv};
use bytes::{BufMut, Bytes};

/// A cursor over a PDU body that fails with a field name instead of panicking.
pub(crate) struct FieldReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        FieldReader { bytes, position: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.position >= self.bytes.len()
    }

    /// Everything not read yet.
    pub(crate) fn remaining(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        self.position = self.bytes.len();
        rest
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let byte = *self.bytes.get(self.position).ok_or(DecodeError::Truncated { field })?;
        self.position += 1;
        Ok(byte)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let slice = self.take(2, field)?;
        Ok(u16::from_be_bytes([slice[0], slice[1]]))
    }

    pub(crate) fn take(&mut self, length: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.position.checked_add(length).ok_or(DecodeError::Truncated { field })?;
        let slice = self.bytes.get(self.position..end).ok_or(DecodeError::Truncated { field })?;
        self.position = end;
        Ok(slice)
    }

    /// A NUL-terminated ASCII string of at most `max_length` octets including the NUL.
    pub(crate) fn c_string(&mut self, field: &'static str, max_length: usize) -> Result<String, DecodeError> {
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        let nul = rest.iter().position(|byte| *byte == 0).ok_or(DecodeError::MissingNul { field })?;
        if nul + 1 > max_length {
            return Err(DecodeError::FieldTooLong { field, max_length });
        }
        let text = std::str::from_utf8(&rest[..nul]).map_err(|_| DecodeError::NotAscii { field })?;
        if !text.is_ascii() {
            return Err(DecodeError::NotAscii { field });
        }
        self.position += nul + 1;
        Ok(text.to_owned())
    }

    /// Everything left, parsed as TLVs.
    pub(crate) fn tlvs(&mut self) -> Result<Vec<Tlv>, DecodeError> {
        let mut tlvs = Vec::new();
        while !self.is_empty() {
            let tag = self.u16("tlv tag")?;
            let length = self.u16("tlv length")?;
            let value = self.take(usize::from(length), "tlv value")?;
            tlvs.push(Tlv { tag, value: Bytes::copy_from_slice(value) });
        }
        Ok(tlvs)
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { count: self.bytes.len() - self.position })
        }
    }
}

pub(crate) fn put_c_string(out: &mut Vec<u8>, text: &str) {
    out.put_slice(text.as_bytes());
    out.put_u8(0);
}

pub(crate) fn put_tlvs(out: &mut Vec<u8>, tlvs: &[Tlv]) {
    for tlv in tlvs {
        out.put_u16(tlv.tag);
        // A TLV value is at most 65535 octets; longer values are cut rather than corrupting the frame.
        let length = tlv.value.len().min(usize::from(u16::MAX));
        out.put_u16(length as u16);
        out.put_slice(&tlv.value[..length]);
    }
}

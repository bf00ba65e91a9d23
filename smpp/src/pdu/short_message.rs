//! The body shared by `submit_sm` and `deliver_sm` (SMPP 3.4 sections 4.4.1 and 4.6.1), and TLVs.

use super::fields::{put_c_string, put_tlvs, FieldReader};
use super::DecodeError;
use bytes::{BufMut, Bytes};

/// `message_payload`: the text when it does not fit the 254-octet `short_message`.
pub const TAG_MESSAGE_PAYLOAD: u16 = 0x0424;
/// `receipted_message_id` on a delivery receipt.
pub const TAG_RECEIPTED_MESSAGE_ID: u16 = 0x001E;
/// `message_state` on a delivery receipt (2 = DELIVERED).
pub const TAG_MESSAGE_STATE: u16 = 0x0427;
/// numbind vendor TLV: the SMS centre's message ID (ASCII) on `deliver_sm`, for deduping redeliveries.
pub const TAG_SMSC_MESSAGE_ID: u16 = 0x1401;
/// numbind vendor TLV: the client's reference (ASCII) on `submit_sm`; a resubmission gets the original ID.
pub const TAG_CLIENT_REFERENCE: u16 = 0x1402;

/// esm_class message type for a delivery receipt (bits 2-5).
pub const ESM_CLASS_DELIVERY_RECEIPT: u8 = 0x04;
/// esm_class flag: the short message starts with a user data header.
pub const ESM_CLASS_UDH_INDICATOR: u8 = 0x40;
/// Above this many octets a client sends the text in `message_payload` instead of `short_message`.
pub const MAX_SHORT_MESSAGE_OCTETS: usize = 140;

/// One optional parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Bytes,
}

/// Every mandatory field of `submit_sm` / `deliver_sm`, plus the optional TLVs in order.
/// `Default` is all zeroes and empty strings: a plain message with esm_class 0x00.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortMessage {
    pub service_type: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: String,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Bytes,
    pub tlvs: Vec<Tlv>,
}

impl ShortMessage {
    /// The first TLV with this tag.
    pub fn tlv(&self, tag: u16) -> Option<&Bytes> {
        self.tlvs.iter().find(|tlv| tlv.tag == tag).map(|tlv| &tlv.value)
    }

    /// A TLV holding ASCII text (vendor IDs); `None` when absent or not ASCII.
    pub fn ascii_tlv(&self, tag: u16) -> Option<String> {
        let value = self.tlv(tag)?;
        let text = std::str::from_utf8(value).ok()?.trim_end_matches('\0');
        (text.is_ascii() && !text.is_empty()).then(|| text.to_owned())
    }

    /// Replaces (or adds) the TLV with this tag.
    pub fn set_tlv(&mut self, tag: u16, value: impl Into<Bytes>) {
        self.tlvs.retain(|tlv| tlv.tag != tag);
        self.tlvs.push(Tlv { tag, value: value.into() });
    }

    /// The text octets: `message_payload` when present, else `short_message`.
    pub fn text_octets(&self) -> &[u8] {
        self.tlv(TAG_MESSAGE_PAYLOAD).map(|value| &value[..]).unwrap_or(&self.short_message[..])
    }

    /// Puts encoded text in `short_message`, or in `message_payload` (with an empty `short_message`) when it
    /// is longer than 140 octets.
    pub fn set_text_octets(&mut self, data_coding: u8, octets: Vec<u8>) {
        self.data_coding = data_coding;
        self.tlvs.retain(|tlv| tlv.tag != TAG_MESSAGE_PAYLOAD);
        if octets.len() > MAX_SHORT_MESSAGE_OCTETS {
            self.short_message = Bytes::new();
            self.tlvs.push(Tlv { tag: TAG_MESSAGE_PAYLOAD, value: Bytes::from(octets) });
        } else {
            self.short_message = Bytes::from(octets);
        }
    }

    /// True when the esm_class says this is an SMSC delivery receipt.
    pub fn is_delivery_receipt(&self) -> bool {
        self.esm_class & 0x3C == ESM_CLASS_DELIVERY_RECEIPT
    }

    pub(crate) fn decode(reader: &mut FieldReader<'_>) -> Result<Self, DecodeError> {
        let mut message = ShortMessage {
            service_type: reader.c_string("service_type", 6)?,
            source_addr_ton: reader.u8("source_addr_ton")?,
            source_addr_npi: reader.u8("source_addr_npi")?,
            source_addr: reader.c_string("source_addr", 21)?,
            dest_addr_ton: reader.u8("dest_addr_ton")?,
            dest_addr_npi: reader.u8("dest_addr_npi")?,
            destination_addr: reader.c_string("destination_addr", 21)?,
            esm_class: reader.u8("esm_class")?,
            protocol_id: reader.u8("protocol_id")?,
            priority_flag: reader.u8("priority_flag")?,
            schedule_delivery_time: reader.c_string("schedule_delivery_time", 17)?,
            validity_period: reader.c_string("validity_period", 17)?,
            registered_delivery: reader.u8("registered_delivery")?,
            replace_if_present_flag: reader.u8("replace_if_present_flag")?,
            data_coding: reader.u8("data_coding")?,
            sm_default_msg_id: reader.u8("sm_default_msg_id")?,
            ..ShortMessage::default()
        };
        let length = reader.u8("sm_length")?;
        if length > 254 {
            return Err(DecodeError::InvalidMessageLength { length });
        }
        let octets = reader
            .take(usize::from(length), "short_message")
            .map_err(|_| DecodeError::InvalidMessageLength { length })?;
        message.short_message = Bytes::copy_from_slice(octets);
        // What follows short_message are TLVs; when they do not parse, the likely cause is an sm_length shorter
        // than the text, which leaves the rest of the text to be read as TLVs.
        message.tlvs = reader.tlvs().map_err(|_| DecodeError::InvalidMessageLength { length })?;
        Ok(message)
    }

    /// The body of `data_sm` (SMPP 3.4 section 4.7.1): addresses up to 64 characters, esm_class,
    /// registered_delivery and data_coding, the text in `message_payload`; the other fields stay at their defaults.
    pub(crate) fn decode_data_sm(reader: &mut FieldReader<'_>) -> Result<Self, DecodeError> {
        Ok(ShortMessage {
            service_type: reader.c_string("service_type", 6)?,
            source_addr_ton: reader.u8("source_addr_ton")?,
            source_addr_npi: reader.u8("source_addr_npi")?,
            source_addr: reader.c_string("source_addr", 65)?,
            dest_addr_ton: reader.u8("dest_addr_ton")?,
            dest_addr_npi: reader.u8("dest_addr_npi")?,
            destination_addr: reader.c_string("destination_addr", 65)?,
            esm_class: reader.u8("esm_class")?,
            registered_delivery: reader.u8("registered_delivery")?,
            data_coding: reader.u8("data_coding")?,
            tlvs: reader.tlvs()?,
            ..ShortMessage::default()
        })
    }

    pub(crate) fn encode_data_sm(&self, out: &mut Vec<u8>) {
        put_c_string(out, &self.service_type);
        out.put_u8(self.source_addr_ton);
        out.put_u8(self.source_addr_npi);
        put_c_string(out, &self.source_addr);
        out.put_u8(self.dest_addr_ton);
        out.put_u8(self.dest_addr_npi);
        put_c_string(out, &self.destination_addr);
        out.put_u8(self.esm_class);
        out.put_u8(self.registered_delivery);
        out.put_u8(self.data_coding);
        put_tlvs(out, &self.tlvs);
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_c_string(out, &self.service_type);
        out.put_u8(self.source_addr_ton);
        out.put_u8(self.source_addr_npi);
        put_c_string(out, &self.source_addr);
        out.put_u8(self.dest_addr_ton);
        out.put_u8(self.dest_addr_npi);
        put_c_string(out, &self.destination_addr);
        out.put_u8(self.esm_class);
        out.put_u8(self.protocol_id);
        out.put_u8(self.priority_flag);
        put_c_string(out, &self.schedule_delivery_time);
        put_c_string(out, &self.validity_period);
        out.put_u8(self.registered_delivery);
        out.put_u8(self.replace_if_present_flag);
        out.put_u8(self.data_coding);
        out.put_u8(self.sm_default_msg_id);
        let length = self.short_message.len().min(254);
        out.put_u8(length as u8);
        out.put_slice(&self.short_message[..length]);
        put_tlvs(out, &self.tlvs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_goes_to_message_payload_and_reads_back() {
        let mut message = ShortMessage::default();
        message.set_text_octets(0x08, vec![0x4E; 200]);
        assert!(message.short_message.is_empty());
        assert_eq!(message.text_octets().len(), 200);
        message.set_text_octets(0x00, b"short".to_vec());
        assert_eq!(message.text_octets(), b"short");
        assert!(message.tlv(TAG_MESSAGE_PAYLOAD).is_none());
    }

    #[test]
    fn an_sm_length_that_disagrees_with_the_text_is_an_invalid_message_length() {
        let message = ShortMessage { short_message: Bytes::from_static(b"hello"), ..ShortMessage::default() };
        let mut body = Vec::new();
        message.encode(&mut body);
        let length_at = body.len() - 6;
        for declared in [3u8, 9] {
            body[length_at] = declared;
            let decoded = ShortMessage::decode(&mut FieldReader::new(&body));
            assert_eq!(decoded, Err(DecodeError::InvalidMessageLength { length: declared }));
        }
    }

    #[test]
    fn vendor_ids_read_as_ascii() {
        let mut message = ShortMessage::default();
        message.set_tlv(TAG_SMSC_MESSAGE_ID, &b"m-42"[..]);
        assert_eq!(message.ascii_tlv(TAG_SMSC_MESSAGE_ID).as_deref(), Some("m-42"));
        assert_eq!(message.ascii_tlv(TAG_CLIENT_REFERENCE), None);
    }
}

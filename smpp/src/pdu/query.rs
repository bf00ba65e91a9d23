//! The bodies of `query_sm` and `query_sm_resp` (SMPP 3.4 sections 4.8.1 and 4.8.2).

use super::fields::{put_c_string, FieldReader};
use super::DecodeError;
use bytes::BufMut;

/// `message_state` values (SMPP 3.4 section 5.2.28), as sent in `query_sm_resp` and the receipt TLV.
pub mod message_state {
    pub const ENROUTE: u8 = 1;
    pub const DELIVERED: u8 = 2;
    pub const EXPIRED: u8 = 3;
    pub const DELETED: u8 = 4;
    pub const UNDELIVERABLE: u8 = 5;
    pub const ACCEPTED: u8 = 6;
    pub const UNKNOWN: u8 = 7;
    pub const REJECTED: u8 = 8;
}

/// `query_sm`: the state of a message this ESME submitted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySm {
    pub message_id: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
}

/// `query_sm_resp`: the message's state and, once final, when it became so (`YYMMDDhhmmss000+` or empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    pub message_id: String,
    pub final_date: String,
    pub message_state: u8,
    pub error_code: u8,
}

impl QuerySm {
    pub(crate) fn decode(reader: &mut FieldReader<'_>) -> Result<QuerySm, DecodeError> {
        Ok(QuerySm {
            message_id: reader.c_string("message_id", 65)?,
            source_addr_ton: reader.u8("source_addr_ton")?,
            source_addr_npi: reader.u8("source_addr_npi")?,
            source_addr: reader.c_string("source_addr", 21)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_c_string(out, &self.message_id);
        out.put_u8(self.source_addr_ton);
        out.put_u8(self.source_addr_npi);
        put_c_string(out, &self.source_addr);
    }
}

impl QuerySmResp {
    /// An empty body (an error answer) reads as the default.
    pub(crate) fn decode(reader: &mut FieldReader<'_>) -> Result<QuerySmResp, DecodeError> {
        if reader.is_empty() {
            return Ok(QuerySmResp::default());
        }
        Ok(QuerySmResp {
            message_id: reader.c_string("message_id", 65)?,
            final_date: reader.c_string("final_date", 17)?,
            message_state: reader.u8("message_state")?,
            error_code: reader.u8("error_code")?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_c_string(out, &self.message_id);
        put_c_string(out, &self.final_date);
        out.put_u8(self.message_state);
        out.put_u8(self.error_code);
    }
}

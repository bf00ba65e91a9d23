//! The body of the three bind requests (SMPP 3.4 section 4.1).

use super::fields::{put_c_string, FieldReader};
use super::DecodeError;
use bytes::BufMut;
use std::fmt;

/// The body of `bind_transmitter`, `bind_receiver` and `bind_transceiver`. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bind {
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
}

impl fmt::Debug for Bind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Bind")
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("interface_version", &self.interface_version)
            .finish_non_exhaustive()
    }
}

impl Bind {
    pub(crate) fn decode(reader: &mut FieldReader<'_>) -> Result<Bind, DecodeError> {
        Ok(Bind {
            system_id: reader.c_string("system_id", 16)?,
            password: reader.c_string("password", 9)?,
            system_type: reader.c_string("system_type", 13)?,
            interface_version: reader.u8("interface_version")?,
            addr_ton: reader.u8("addr_ton")?,
            addr_npi: reader.u8("addr_npi")?,
            address_range: reader.c_string("address_range", 41)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_c_string(out, &self.system_id);
        put_c_string(out, &self.password);
        put_c_string(out, &self.system_type);
        out.put_u8(self.interface_version);
        out.put_u8(self.addr_ton);
        out.put_u8(self.addr_npi);
        put_c_string(out, &self.address_range);
    }
}

//! CMPP_CONNECT and CMPP_CONNECT_RESP, and the two authenticators: the provider proves it knows the shared
//! secret with `AuthenticatorSource`, the gateway answers with `AuthenticatorISMG`.

use super::fields::{put_octet_string, put_result_code, FieldReader};
use super::{ConnectStatus, DecodeError, EncodeError, Version};
use bytes::BufMut;
use md5::{Digest, Md5};

/// Size of both authenticators (an MD5 digest).
pub const AUTHENTICATOR_LENGTH: usize = 16;

/// `AuthenticatorSource = MD5(Source_Addr ‖ 9 × 0x00 ‖ shared secret ‖ timestamp)`, the timestamp as its ten
/// MMDDHHMMSS digits (zero-padded, so January reads "01...").
pub fn authenticator_source(source_addr: &str, shared_secret: &str, timestamp: u32) -> [u8; AUTHENTICATOR_LENGTH] {
    authenticator_source_with_digits(source_addr, shared_secret, &format!("{timestamp:010}"))
}

fn authenticator_source_with_digits(source_addr: &str, shared_secret: &str, digits: &str) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(source_addr.as_bytes());
    hasher.update([0u8; 9]);
    hasher.update(shared_secret.as_bytes());
    hasher.update(digits.as_bytes());
    hasher.finalize().into()
}

/// `AuthenticatorISMG = MD5(Status ‖ AuthenticatorSource ‖ shared secret)`, Status as one byte in both
/// versions, as gocmpp and the gateways it was tested against compute it.
pub fn authenticator_ismg(
    status: ConnectStatus,
    authenticator_source: &[u8; AUTHENTICATOR_LENGTH],
    shared_secret: &str,
) -> [u8; AUTHENTICATOR_LENGTH] {
    let mut hasher = Md5::new();
    hasher.update([status.value() as u8]);
    hasher.update(authenticator_source);
    hasher.update(shared_secret.as_bytes());
    hasher.finalize().into()
}

/// CMPP_CONNECT: the provider's login.
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    /// The provider's code (SP_Id), 6 bytes.
    pub source_addr: String,
    pub authenticator_source: [u8; AUTHENTICATOR_LENGTH],
    /// The version byte asked for: 0x20 (2.0), 0x30 (3.0); see [`Version::from_byte`].
    pub version: u8,
    /// MMDDHHMMSS as an integer.
    pub timestamp: u32,
}

impl std::fmt::Debug for Connect {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Connect")
            .field("source_addr", &self.source_addr)
            .field("version", &format_args!("{:#04x}", self.version))
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl Connect {
    /// A CONNECT for `source_addr` authenticated with `shared_secret` at `timestamp` (MMDDHHMMSS).
    pub fn new(source_addr: &str, shared_secret: &str, version: Version, timestamp: u32) -> Connect {
        Connect {
            source_addr: source_addr.to_owned(),
            authenticator_source: authenticator_source(source_addr, shared_secret, timestamp),
            version: version.byte(),
            timestamp,
        }
    }

    /// True when `authenticator_source` was made with `shared_secret`. The timestamp digits are tried
    /// zero-padded to ten and as printed without padding, since both kinds of client exist.
    pub fn is_authentic(&self, shared_secret: &str) -> bool {
        let padded = authenticator_source(&self.source_addr, shared_secret, self.timestamp);
        let unpadded = authenticator_source_with_digits(&self.source_addr, shared_secret, &self.timestamp.to_string());
        constant_time_equal(&padded, &self.authenticator_source)
            | constant_time_equal(&unpadded, &self.authenticator_source)
    }

    pub(super) fn decode(reader: &mut FieldReader<'_>) -> Result<Connect, DecodeError> {
        let source_addr = reader.octet_string(6, "Source_Addr")?;
        let mut authenticator_source = [0u8; AUTHENTICATOR_LENGTH];
        authenticator_source.copy_from_slice(reader.take(AUTHENTICATOR_LENGTH, "AuthenticatorSource")?);
        let version = reader.u8("Version")?;
        let timestamp = reader.u32("Timestamp")?;
        Ok(Connect { source_addr, authenticator_source, version, timestamp })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octet_string(out, &self.source_addr, 6, "Source_Addr")?;
        out.put_slice(&self.authenticator_source);
        out.put_u8(self.version);
        out.put_u32(self.timestamp);
        Ok(())
    }
}

fn constant_time_equal(left: &[u8; 16], right: &[u8; 16]) -> bool {
    left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

/// CMPP_CONNECT_RESP: the gateway's answer to a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResp {
    pub status: ConnectStatus,
    /// All zero when authentication failed.
    pub authenticator_ismg: [u8; AUTHENTICATOR_LENGTH],
    /// The highest version the gateway speaks.
    pub version: u8,
}

impl ConnectResp {
    /// The answer to `connect`: authenticated with `shared_secret` when `status` is ok, zeros otherwise.
    pub fn answer(connect: &Connect, status: ConnectStatus, shared_secret: &str, version: Version) -> ConnectResp {
        let authenticator_ismg = if status.is_ok() {
            authenticator_ismg(status, &connect.authenticator_source, shared_secret)
        } else {
            [0; AUTHENTICATOR_LENGTH]
        };
        ConnectResp { status, authenticator_ismg, version: version.byte() }
    }

    /// Reads the 2.0 layout (18 bytes: one-byte Status) or the 3.0 one (21 bytes: four-byte Status).
    pub(super) fn decode(reader: &mut FieldReader<'_>) -> Result<ConnectResp, DecodeError> {
        let wide = match reader.remaining_length() {
            18 => false,
            21 => true,
            length => return Err(DecodeError::InvalidConnectRespLength { length }),
        };
        let status = ConnectStatus::from(reader.result_code(wide, "Status")?);
        let mut authenticator_ismg = [0u8; AUTHENTICATOR_LENGTH];
        authenticator_ismg.copy_from_slice(reader.take(AUTHENTICATOR_LENGTH, "AuthenticatorISMG")?);
        let version = reader.u8("Version")?;
        Ok(ConnectResp { status, authenticator_ismg, version })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        put_result_code(out, self.status.value(), version.is_v3(), "Status")?;
        out.put_slice(&self.authenticator_ismg);
        out.put_u8(self.version);
        Ok(())
    }
}

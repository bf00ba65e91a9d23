//! The pure CMPP codec: framing (`check`), the 12-byte `Header`, and `Pdu` decode/encode for CMPP 2.0 and 3.0.
//! No I/O here. The layouts differ between versions (result widths, terminal ID widths, `LinkID`), so decoding
//! and encoding take the [`Version`] the link negotiated in CONNECT.

mod command_id;
mod connect;
mod deliver;
mod fields;
mod query;
mod status;
mod submit;

pub use command_id::CommandId;
pub use connect::{authenticator_ismg, authenticator_source, Connect, ConnectResp, AUTHENTICATOR_LENGTH};
pub use deliver::{Deliver, DeliverResp, StatusReport, STAT_DELIVERED};
pub use query::{Cancel, CancelResp, Query, QueryCounts, QueryResp, QUERY_TYPE_SERVICE, QUERY_TYPE_TOTAL};
pub use status::{ConnectStatus, SubmitResult};
pub use submit::{Submit, SubmitResp, MAX_DESTINATIONS};

use bytes::{BufMut, Bytes};
use fields::FieldReader;

/// Size of the fixed header: Total_Length, Command_Id, Sequence_Id.
pub const HEADER_LENGTH: usize = 12;
/// Largest PDU accepted or produced, header included: above the largest 3.0 SUBMIT (100 destinations).
pub const MAX_PDU_LENGTH: usize = 4096;

/// The layout a link speaks, from the Version byte of CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// CMPP 2.0 (and 2.1): one-byte results, 21-byte terminal IDs, `Reserve`.
    V2,
    /// CMPP 3.0: four-byte results, 32-byte terminal IDs with a type byte, `LinkID`.
    V3,
}

impl Version {
    /// The Version byte numbind sends: 0x20 or 0x30.
    pub const fn byte(self) -> u8 {
        match self {
            Version::V2 => 0x20,
            Version::V3 => 0x30,
        }
    }

    /// The layout for a Version byte: major 2 is 2.0, major 3 is 3.0, anything else is not spoken.
    pub const fn from_byte(byte: u8) -> Option<Version> {
        match byte >> 4 {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => None,
        }
    }

    pub(crate) const fn terminal_id_width(self) -> usize {
        match self {
            Version::V2 => 21,
            Version::V3 => 32,
        }
    }

    pub(crate) const fn is_v3(self) -> bool {
        matches!(self, Version::V3)
    }

    /// `Reserve` (8 bytes) in 2.0, `LinkID` (20) in 3.0.
    pub(crate) const fn link_id_width(self) -> usize {
        match self {
            Version::V2 => 8,
            Version::V3 => 20,
        }
    }
}

/// Why a buffer does not (yet) hold one whole frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("more bytes are needed for a whole pdu")]
    Incomplete,
    #[error("total_length {length} exceeds the limit of {limit} bytes")]
    TooLong { length: usize, limit: usize },
    #[error("total_length {length} is shorter than the 12-byte header")]
    TooShort { length: usize },
}

/// Why a whole frame is not a valid PDU. The header is still readable with [`Header::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("frame error: {0}")]
    Frame(#[from] FrameError),
    #[error("total_length says {declared} but the frame holds {actual} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("pdu ends inside field {field}")]
    Truncated { field: &'static str },
    #[error("field {field} is not ascii")]
    NotAscii { field: &'static str },
    #[error("msg_length {declared} does not match the {available} bytes the body leaves for the content")]
    InvalidMsgLength { declared: usize, available: usize },
    #[error("fee_code is not up to six decimal digits")]
    InvalidFeeCode,
    #[error("fee_type is not two decimal digits")]
    InvalidFeeType,
    #[error("destusr_tl {count} is outside 1 to {MAX_DESTINATIONS}")]
    InvalidDestinationCount { count: u8 },
    #[error("connect_resp body of {length} bytes is neither the 2.0 nor the 3.0 layout")]
    InvalidConnectRespLength { length: usize },
    #[error("{count} unexpected bytes after the body")]
    TrailingBytes { count: usize },
}

impl DecodeError {
    /// The Result to answer a malformed SUBMIT or DELIVER with.
    pub fn submit_result(&self) -> SubmitResult {
        match self {
            DecodeError::InvalidMsgLength { .. } => SubmitResult::InvalidLength,
            DecodeError::InvalidFeeCode | DecodeError::InvalidFeeType => SubmitResult::InvalidFeeCode,
            DecodeError::InvalidDestinationCount { .. } => SubmitResult::InvalidDestTerminalId,
            _ => SubmitResult::InvalidStructure,
        }
    }
}

/// Why a PDU cannot be written in the asked layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("field {field} is longer than its {width} bytes")]
    FieldTooLong { field: &'static str, width: usize },
    #[error("field {field} must be ascii without nul")]
    NotAscii { field: &'static str },
    #[error("field {field} does not fit one byte in cmpp 2.0")]
    ValueTooLarge { field: &'static str },
    #[error("a submit has 1 to {MAX_DESTINATIONS} destinations")]
    InvalidDestinationCount,
    #[error("msg_content is at most 255 bytes")]
    ContentTooLong,
}

/// The fixed 12-byte header every PDU starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub total_length: u32,
    pub command_id: CommandId,
    pub sequence_id: u32,
}

impl Header {
    /// Reads the header from the first 12 bytes, whatever follows.
    pub fn parse(bytes: &[u8]) -> Result<Header, FrameError> {
        let word = |index: usize| -> Result<u32, FrameError> {
            let slice = bytes.get(index * 4..index * 4 + 4).ok_or(FrameError::Incomplete)?;
            Ok(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
        };
        Ok(Header { total_length: word(0)?, command_id: CommandId::from(word(1)?), sequence_id: word(2)? })
    }
}

/// Checks whether `buffer` starts with one whole frame of at most [`MAX_PDU_LENGTH`] and returns its length.
pub fn check(buffer: &[u8]) -> Result<usize, FrameError> {
    check_with_limit(buffer, MAX_PDU_LENGTH)
}

/// [`check`] with another size limit (a listener may accept less than the codec's largest frame).
pub fn check_with_limit(buffer: &[u8], limit: usize) -> Result<usize, FrameError> {
    let prefix = buffer.get(..4).ok_or(FrameError::Incomplete)?;
    let length = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if length < HEADER_LENGTH {
        return Err(FrameError::TooShort { length });
    }
    if length > limit {
        return Err(FrameError::TooLong { length, limit });
    }
    if buffer.len() < length {
        return Err(FrameError::Incomplete);
    }
    Ok(length)
}

/// Every PDU numbind speaks; anything else is `Other` with its raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduBody {
    Connect(Connect),
    ConnectResp(ConnectResp),
    Terminate,
    TerminateResp,
    Submit(Box<Submit>),
    SubmitResp(SubmitResp),
    Deliver(Box<Deliver>),
    DeliverResp(DeliverResp),
    Query(Query),
    QueryResp(QueryResp),
    Cancel(Cancel),
    CancelResp(CancelResp),
    ActiveTest,
    /// Carries one reserved byte.
    ActiveTestResp {
        reserved: u8,
    },
    Other {
        command_id: CommandId,
        body: Bytes,
    },
}

impl PduBody {
    pub fn command_id(&self) -> CommandId {
        match self {
            PduBody::Connect(_) => CommandId::Connect,
            PduBody::ConnectResp(_) => CommandId::ConnectResp,
            PduBody::Terminate => CommandId::Terminate,
            PduBody::TerminateResp => CommandId::TerminateResp,
            PduBody::Submit(_) => CommandId::Submit,
            PduBody::SubmitResp(_) => CommandId::SubmitResp,
            PduBody::Deliver(_) => CommandId::Deliver,
            PduBody::DeliverResp(_) => CommandId::DeliverResp,
            PduBody::Query(_) => CommandId::Query,
            PduBody::QueryResp(_) => CommandId::QueryResp,
            PduBody::Cancel(_) => CommandId::Cancel,
            PduBody::CancelResp(_) => CommandId::CancelResp,
            PduBody::ActiveTest => CommandId::ActiveTest,
            PduBody::ActiveTestResp { .. } => CommandId::ActiveTestResp,
            PduBody::Other { command_id, .. } => *command_id,
        }
    }
}

/// One CMPP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub sequence_id: u32,
    pub body: PduBody,
}

impl Pdu {
    pub fn new(sequence_id: u32, body: PduBody) -> Pdu {
        Pdu { sequence_id, body }
    }

    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Decodes one whole frame (as delimited by [`check`]) in the layout of `version`. CONNECT_RESP is read
    /// by its length whatever `version` says, since a client learns the gateway's version from it.
    pub fn decode(frame: &[u8], version: Version) -> Result<Pdu, DecodeError> {
        let header = Header::parse(frame)?;
        let declared = header.total_length as usize;
        if declared != frame.len() {
            return Err(DecodeError::LengthMismatch { declared, actual: frame.len() });
        }
        if declared > MAX_PDU_LENGTH {
            return Err(FrameError::TooLong { length: declared, limit: MAX_PDU_LENGTH }.into());
        }
        let mut reader = FieldReader::new(&frame[HEADER_LENGTH..]);
        let body = decode_body(header.command_id, &mut reader, version)?;
        Ok(Pdu { sequence_id: header.sequence_id, body })
    }

    /// The layout `frame` is in when read on a link of `version`: a CONNECT_RESP tells its own by its length
    /// (30 bytes 2.0, 33 bytes 3.0); everything else is in the link's. Re-encoding a decoded PDU in this
    /// layout gives the same PDU back.
    pub fn layout_of(frame: &[u8], version: Version) -> Version {
        match Header::parse(frame) {
            Ok(header) if header.command_id == CommandId::ConnectResp && frame.len() == HEADER_LENGTH + 18 => {
                Version::V2
            }
            Ok(header) if header.command_id == CommandId::ConnectResp && frame.len() == HEADER_LENGTH + 21 => {
                Version::V3
            }
            _ => version,
        }
    }

    /// Encodes the PDU with its header in the layout of `version`.
    pub fn encode(&self, version: Version) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.put_u32(0);
        out.put_u32(self.command_id().value());
        out.put_u32(self.sequence_id);
        encode_body(&self.body, &mut out, version)?;
        let length = out.len() as u32;
        out[..4].copy_from_slice(&length.to_be_bytes());
        Ok(out)
    }
}

fn decode_body(command_id: CommandId, reader: &mut FieldReader<'_>, version: Version) -> Result<PduBody, DecodeError> {
    let body = match command_id {
        CommandId::Connect => PduBody::Connect(Connect::decode(reader)?),
        CommandId::ConnectResp => PduBody::ConnectResp(ConnectResp::decode(reader)?),
        CommandId::Terminate => PduBody::Terminate,
        CommandId::TerminateResp => PduBody::TerminateResp,
        CommandId::Submit => PduBody::Submit(Box::new(Submit::decode(reader, version)?)),
        CommandId::SubmitResp => PduBody::SubmitResp(SubmitResp::decode(reader, version)?),
        CommandId::Deliver => PduBody::Deliver(Box::new(Deliver::decode(reader, version)?)),
        CommandId::DeliverResp => PduBody::DeliverResp(DeliverResp::decode(reader, version)?),
        CommandId::Query => PduBody::Query(Query::decode(reader)?),
        CommandId::QueryResp => PduBody::QueryResp(QueryResp::decode(reader)?),
        CommandId::Cancel => PduBody::Cancel(Cancel::decode(reader)?),
        CommandId::CancelResp => PduBody::CancelResp(CancelResp::decode(reader, version)?),
        CommandId::ActiveTest => PduBody::ActiveTest,
        // Some gateways send the response without its reserved byte.
        CommandId::ActiveTestResp if reader.remaining_length() == 0 => PduBody::ActiveTestResp { reserved: 0 },
        CommandId::ActiveTestResp => PduBody::ActiveTestResp { reserved: reader.u8("Reserved")? },
        other => {
            let rest = reader.remaining();
            return Ok(PduBody::Other { command_id: other, body: Bytes::copy_from_slice(rest) });
        }
    };
    reader.finish()?;
    Ok(body)
}

fn encode_body(body: &PduBody, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
    match body {
        PduBody::Connect(connect) => connect.encode(out)?,
        PduBody::ConnectResp(response) => response.encode(out, version)?,
        PduBody::Submit(submit) => submit.encode(out, version)?,
        PduBody::SubmitResp(response) => response.encode(out, version)?,
        PduBody::Deliver(deliver) => deliver.encode(out, version)?,
        PduBody::DeliverResp(response) => response.encode(out, version)?,
        PduBody::Query(query) => query.encode(out)?,
        PduBody::QueryResp(response) => response.encode(out)?,
        PduBody::Cancel(cancel) => cancel.encode(out),
        PduBody::CancelResp(response) => response.encode(out, version)?,
        PduBody::ActiveTestResp { reserved } => out.put_u8(*reserved),
        PduBody::Terminate | PduBody::TerminateResp | PduBody::ActiveTest => {}
        PduBody::Other { body, .. } => out.put_slice(body),
    }
    Ok(())
}

#[cfg(test)]
mod tests;

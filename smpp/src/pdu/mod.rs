//! The pure SMPP 3.4 codec: framing (`check`), the 16-byte `Header`, and `Pdu` decode/encode. No I/O here.

mod bind;
mod command_id;
mod command_status;
mod fields;
mod query;
mod short_message;
mod spec_enum;

pub use bind::Bind;
use bytes::{BufMut, Bytes};
pub use command_id::CommandId;
pub use command_status::CommandStatus;
use fields::{put_c_string, FieldReader};
pub use query::{message_state, QuerySm, QuerySmResp};
pub use short_message::{
    ShortMessage, Tlv, ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDH_INDICATOR, MAX_SHORT_MESSAGE_OCTETS,
    TAG_CLIENT_REFERENCE, TAG_MESSAGE_PAYLOAD, TAG_MESSAGE_STATE, TAG_RECEIPTED_MESSAGE_ID, TAG_SMSC_MESSAGE_ID,
};

/// Largest PDU accepted or produced, header included.
pub const MAX_PDU_LENGTH: usize = 64 * 1024;
/// Size of the fixed header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LENGTH: usize = 16;

/// Why a buffer does not (yet) hold one whole frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("more bytes are needed for a whole pdu")]
    Incomplete,
    #[error("command_length {length} exceeds the 64 KiB limit")]
    TooLong { length: usize },
    #[error("command_length {length} is shorter than the 16-byte header")]
    TooShort { length: usize },
}

/// Why a whole frame is not a valid PDU. The header is still readable with [`Header::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("frame error: {0}")]
    Frame(#[from] FrameError),
    #[error("command_length says {declared} but the frame holds {actual} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("pdu ends inside field {field}")]
    Truncated { field: &'static str },
    #[error("field {field} has no terminating nul")]
    MissingNul { field: &'static str },
    #[error("field {field} is longer than {max_length} octets")]
    FieldTooLong { field: &'static str, max_length: usize },
    #[error("field {field} is not ascii")]
    NotAscii { field: &'static str },
    #[error("sm_length {length} does not match the short_message")]
    InvalidMessageLength { length: u8 },
    #[error("{count} unexpected bytes after the body")]
    TrailingBytes { count: usize },
}

impl DecodeError {
    /// The command_status to answer a malformed request with.
    pub fn command_status(&self) -> CommandStatus {
        match self {
            DecodeError::InvalidMessageLength { .. } => CommandStatus::EsmeRinvmsglen,
            _ => CommandStatus::EsmeRinvcmdlen,
        }
    }
}

/// The fixed 16-byte header every PDU starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command_length: u32,
    pub command_id: CommandId,
    pub command_status: CommandStatus,
    pub sequence_number: u32,
}

impl Header {
    /// Reads the header from the first 16 bytes, whatever follows.
    pub fn parse(bytes: &[u8]) -> Result<Header, FrameError> {
        let word = |index: usize| -> Result<u32, FrameError> {
            let slice = bytes.get(index * 4..index * 4 + 4).ok_or(FrameError::Incomplete)?;
            Ok(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
        };
        Ok(Header {
            command_length: word(0)?,
            command_id: CommandId::from(word(1)?),
            command_status: CommandStatus::from(word(2)?),
            sequence_number: word(3)?,
        })
    }
}

/// Checks whether `buffer` starts with one whole frame and returns its length.
pub fn check(buffer: &[u8]) -> Result<usize, FrameError> {
    let prefix = buffer.get(..4).ok_or(FrameError::Incomplete)?;
    let length = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if length < HEADER_LENGTH {
        return Err(FrameError::TooShort { length });
    }
    if length > MAX_PDU_LENGTH {
        return Err(FrameError::TooLong { length });
    }
    if buffer.len() < length {
        return Err(FrameError::Incomplete);
    }
    Ok(length)
}

/// Every PDU numbind speaks; anything else is `Other` with its raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduBody {
    BindTransmitter(Bind),
    BindReceiver(Bind),
    BindTransceiver(Bind),
    BindTransmitterResp {
        system_id: String,
    },
    BindReceiverResp {
        system_id: String,
    },
    BindTransceiverResp {
        system_id: String,
    },
    Unbind,
    UnbindResp,
    SubmitSm(ShortMessage),
    SubmitSmResp {
        message_id: String,
    },
    DeliverSm(ShortMessage),
    DeliverSmResp {
        message_id: String,
    },
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    CancelSmResp,
    ReplaceSmResp,
    /// Encoded with no unsuccessful destinations; decoding keeps the message_id only.
    SubmitMultiResp {
        message_id: String,
    },
    /// The fields `data_sm` has (see `ShortMessage`'s data_sm decoding); the text travels in `message_payload`.
    DataSm(ShortMessage),
    /// Decoding keeps the message_id only (TLVs after it are skipped).
    DataSmResp {
        message_id: String,
    },
    Other {
        command_id: CommandId,
        body: Bytes,
    },
}

impl PduBody {
    pub fn command_id(&self) -> CommandId {
        match self {
            PduBody::BindTransmitter(_) => CommandId::BindTransmitter,
            PduBody::BindReceiver(_) => CommandId::BindReceiver,
            PduBody::BindTransceiver(_) => CommandId::BindTransceiver,
            PduBody::BindTransmitterResp { .. } => CommandId::BindTransmitterResp,
            PduBody::BindReceiverResp { .. } => CommandId::BindReceiverResp,
            PduBody::BindTransceiverResp { .. } => CommandId::BindTransceiverResp,
            PduBody::Unbind => CommandId::Unbind,
            PduBody::UnbindResp => CommandId::UnbindResp,
            PduBody::SubmitSm(_) => CommandId::SubmitSm,
            PduBody::SubmitSmResp { .. } => CommandId::SubmitSmResp,
            PduBody::DeliverSm(_) => CommandId::DeliverSm,
            PduBody::DeliverSmResp { .. } => CommandId::DeliverSmResp,
            PduBody::EnquireLink => CommandId::EnquireLink,
            PduBody::EnquireLinkResp => CommandId::EnquireLinkResp,
            PduBody::GenericNack => CommandId::GenericNack,
            PduBody::QuerySm(_) => CommandId::QuerySm,
            PduBody::QuerySmResp(_) => CommandId::QuerySmResp,
            PduBody::CancelSmResp => CommandId::CancelSmResp,
            PduBody::ReplaceSmResp => CommandId::ReplaceSmResp,
            PduBody::SubmitMultiResp { .. } => CommandId::SubmitMultiResp,
            PduBody::DataSm(_) => CommandId::DataSm,
            PduBody::DataSmResp { .. } => CommandId::DataSmResp,
            PduBody::Other { command_id, .. } => *command_id,
        }
    }
}

/// One SMPP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub command_status: CommandStatus,
    pub sequence_number: u32,
    pub body: PduBody,
}

impl Pdu {
    /// A request or an OK response.
    pub fn new(sequence_number: u32, body: PduBody) -> Pdu {
        Pdu { command_status: CommandStatus::EsmeRok, sequence_number, body }
    }

    /// `generic_nack` with an error status for the PDU with this sequence number.
    pub fn generic_nack(sequence_number: u32, command_status: CommandStatus) -> Pdu {
        Pdu { command_status, sequence_number, body: PduBody::GenericNack }
    }

    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Decodes one whole frame (as delimited by [`check`]).
    pub fn decode(frame: &[u8]) -> Result<Pdu, DecodeError> {
        let header = Header::parse(frame)?;
        let declared = header.command_length as usize;
        if declared != frame.len() {
            return Err(DecodeError::LengthMismatch { declared, actual: frame.len() });
        }
        if declared > MAX_PDU_LENGTH {
            return Err(FrameError::TooLong { length: declared }.into());
        }
        let mut reader = FieldReader::new(&frame[HEADER_LENGTH..]);
        let body = decode_body(header.command_id, &mut reader)?;
        let pdu = Pdu { command_status: header.command_status, sequence_number: header.sequence_number, body };
        Ok(pdu.without_omitted_body())
    }

    /// True for a response whose body SMPP leaves out when its command_status is not `ESME_ROK` (section 4.4.2 for
    /// `submit_sm_resp`, likewise the bind, `submit_multi`, `data_sm` and `query_sm` responses).
    pub fn omits_body(&self) -> bool {
        let has_error_form = matches!(
            self.body,
            PduBody::BindTransmitterResp { .. }
                | PduBody::BindReceiverResp { .. }
                | PduBody::BindTransceiverResp { .. }
                | PduBody::SubmitSmResp { .. }
                | PduBody::SubmitMultiResp { .. }
                | PduBody::DataSmResp { .. }
                | PduBody::QuerySmResp(_)
        );
        has_error_form && !self.command_status.is_ok()
    }

    /// An error response whose body SMPP leaves out reads as if it had none, whatever the peer sent: its fields
    /// mean nothing, and the PDU then encodes back to the same value.
    fn without_omitted_body(self) -> Pdu {
        if !self.omits_body() {
            return self;
        }
        let body = match self.body {
            PduBody::BindTransmitterResp { .. } => PduBody::BindTransmitterResp { system_id: String::new() },
            PduBody::BindReceiverResp { .. } => PduBody::BindReceiverResp { system_id: String::new() },
            PduBody::BindTransceiverResp { .. } => PduBody::BindTransceiverResp { system_id: String::new() },
            PduBody::SubmitSmResp { .. } => PduBody::SubmitSmResp { message_id: String::new() },
            PduBody::SubmitMultiResp { .. } => PduBody::SubmitMultiResp { message_id: String::new() },
            PduBody::DataSmResp { .. } => PduBody::DataSmResp { message_id: String::new() },
            PduBody::QuerySmResp(_) => PduBody::QuerySmResp(QuerySmResp::default()),
            other => other,
        };
        Pdu { body, ..self }
    }

    /// Encodes the PDU with its header; an error response without its body (see [`Pdu::omits_body`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.put_u32(0);
        out.put_u32(self.command_id().value());
        out.put_u32(self.command_status.value());
        out.put_u32(self.sequence_number);
        if !self.omits_body() {
            encode_body(&self.body, &mut out);
        }
        let length = out.len() as u32;
        out[..4].copy_from_slice(&length.to_be_bytes());
        out
    }
}

fn decode_body(command_id: CommandId, reader: &mut FieldReader<'_>) -> Result<PduBody, DecodeError> {
    let body = match command_id {
        CommandId::BindTransmitter => PduBody::BindTransmitter(Bind::decode(reader)?),
        CommandId::BindReceiver => PduBody::BindReceiver(Bind::decode(reader)?),
        CommandId::BindTransceiver => PduBody::BindTransceiver(Bind::decode(reader)?),
        CommandId::BindTransmitterResp => PduBody::BindTransmitterResp { system_id: decode_response_id(reader, 16)? },
        CommandId::BindReceiverResp => PduBody::BindReceiverResp { system_id: decode_response_id(reader, 16)? },
        CommandId::BindTransceiverResp => PduBody::BindTransceiverResp { system_id: decode_response_id(reader, 16)? },
        CommandId::SubmitSm => PduBody::SubmitSm(ShortMessage::decode(reader)?),
        CommandId::DeliverSm => PduBody::DeliverSm(ShortMessage::decode(reader)?),
        CommandId::SubmitSmResp => PduBody::SubmitSmResp { message_id: decode_response_id(reader, 65)? },
        CommandId::DeliverSmResp => PduBody::DeliverSmResp { message_id: decode_response_id(reader, 65)? },
        CommandId::Unbind => PduBody::Unbind,
        CommandId::UnbindResp => PduBody::UnbindResp,
        CommandId::EnquireLink => PduBody::EnquireLink,
        CommandId::EnquireLinkResp => PduBody::EnquireLinkResp,
        CommandId::GenericNack => PduBody::GenericNack,
        CommandId::QuerySm => PduBody::QuerySm(QuerySm::decode(reader)?),
        CommandId::QuerySmResp => PduBody::QuerySmResp(QuerySmResp::decode(reader)?),
        CommandId::CancelSmResp => PduBody::CancelSmResp,
        CommandId::ReplaceSmResp => PduBody::ReplaceSmResp,
        CommandId::SubmitMultiResp => {
            let message_id = if reader.is_empty() { String::new() } else { reader.c_string("message_id", 65)? };
            reader.remaining();
            PduBody::SubmitMultiResp { message_id }
        }
        CommandId::DataSm => PduBody::DataSm(ShortMessage::decode_data_sm(reader)?),
        CommandId::DataSmResp => PduBody::DataSmResp { message_id: decode_response_id(reader, 65)? },
        other => {
            let rest = reader.remaining();
            return Ok(PduBody::Other { command_id: other, body: Bytes::copy_from_slice(rest) });
        }
    };
    reader.finish()?;
    Ok(body)
}

/// A `_resp` ID field; absent when the response carries an error status. Optional TLVs after it are skipped.
fn decode_response_id(reader: &mut FieldReader<'_>, max_length: usize) -> Result<String, DecodeError> {
    if reader.is_empty() {
        return Ok(String::new());
    }
    let identifier = reader.c_string("id", max_length)?;
    reader.tlvs()?;
    Ok(identifier)
}

fn encode_body(body: &PduBody, out: &mut Vec<u8>) {
    match body {
        PduBody::BindTransmitter(bind) | PduBody::BindReceiver(bind) | PduBody::BindTransceiver(bind) => {
            bind.encode(out)
        }
        PduBody::BindTransmitterResp { system_id }
        | PduBody::BindReceiverResp { system_id }
        | PduBody::BindTransceiverResp { system_id } => put_c_string(out, system_id),
        PduBody::SubmitSm(message) | PduBody::DeliverSm(message) => message.encode(out),
        PduBody::SubmitSmResp { message_id }
        | PduBody::DeliverSmResp { message_id }
        | PduBody::DataSmResp { message_id } => put_c_string(out, message_id),
        PduBody::SubmitMultiResp { message_id } => {
            put_c_string(out, message_id);
            out.put_u8(0); // no_unsuccess
        }
        PduBody::QuerySm(query) => query.encode(out),
        PduBody::DataSm(message) => message.encode_data_sm(out),
        PduBody::QuerySmResp(answer) => answer.encode(out),
        PduBody::Unbind
        | PduBody::UnbindResp
        | PduBody::EnquireLink
        | PduBody::EnquireLinkResp
        | PduBody::GenericNack
        | PduBody::CancelSmResp
        | PduBody::ReplaceSmResp => {}
        PduBody::Other { body, .. } => out.put_slice(body),
    }
}

#[cfg(test)]
mod tests;

//! SMPP 3.4 for numbind: a pure PDU codec (`pdu`), text encodings (`text`), a buffered connection
//! (`connection`) and the ESME client the platform and the OSS use to talk to the SMS centre (`esme`).
//!
//! Features: without any, the codec alone, no tokio. `connection` adds the buffered connection over
//! tokio streams (what an SMPP server needs); `esme` adds the ESME client on top of it.
//!
//! Vendor TLVs (numbind's own, in the 0x1400-0x3FFF vendor range):
//! - `0x1401` ([`pdu::TAG_SMSC_MESSAGE_ID`]): the SMS centre's message ID (ASCII) on every `deliver_sm`, so
//!   a receiver can recognise a redelivery of a message it already stored.
//! - `0x1402` ([`pdu::TAG_CLIENT_REFERENCE`]): the client's own reference (ASCII) on `submit_sm`; the SMS
//!   centre dedupes a resubmission with the same reference from the same account and answers with the
//!   ORIGINAL message_id, which gives exactly-once MT after a client crash between send and ack.
//!
//! Long text: when the encoded text exceeds 140 octets it travels in the `message_payload` TLV (0x0424) with an
//! empty `short_message`; receivers read either ([`pdu::ShortMessage::text_octets`]).

#[cfg(feature = "connection")]
pub mod connection;
#[cfg(feature = "esme")]
pub mod esme;
pub mod pdu;
pub mod text;

#[cfg(feature = "connection")]
pub use connection::{Connection, ConnectionError, PduReader, PduWriter, ReadHalf, ReadOutcome, WriteHalf};
#[cfg(feature = "esme")]
pub use esme::{
    BindMode, DeliverVerdict, EsmeClient, EsmeConfig, EsmeError, EsmeTls, InboundDelivery, IncomingSms, OutgoingSms,
};
pub use pdu::{
    check, Bind, CommandId, CommandStatus, DecodeError, FrameError, Header, Pdu, PduBody, ShortMessage, Tlv,
};
pub use text::{alphabet, decode_text, encode_text, Alphabet, TextError};

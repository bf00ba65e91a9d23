//! CMPP 2.0/3.0 (China Mobile Peer to Peer) for numbind: a pure PDU codec (`pdu`), the 64-bit `Msg_Id`
//! (`msg_id`), the fee fields (`fee`), message text in ASCII, UCS-2 and GBK (`text`), long messages split with
//! a UDH and reassembled (`concatenation`), a framed connection (`connection`) and the service-provider client
//! (`sp`) the platform and the OSS use when their SMS link speaks CMPP.
//!
//! Features: without any, the codec alone, no tokio. `connection` adds the framed connection over tokio
//! streams (what an ISMG listener needs); `sp` adds the service-provider client on top of it.

pub mod civil_time;
pub mod concatenation;
#[cfg(feature = "connection")]
pub mod connection;

pub mod fee;
pub mod msg_id;
pub mod pdu;
#[cfg(feature = "sp")]
pub mod sp;
mod spec_enum;
pub mod text;

pub use civil_time::CivilTime;
#[cfg(feature = "connection")]
pub use connection::{Connection, ConnectionError, PduReader, PduWriter, ReadHalf, ReadOutcome, WriteHalf};
pub use fee::{Fee, FeeCode, FeeType, FeeUserType};
pub use msg_id::{MsgId, MsgIdFields, MsgIdSequence};
pub use pdu::{
    check, Cancel, CancelResp, CommandId, Connect, ConnectResp, ConnectStatus, DecodeError, Deliver, DeliverResp,
    EncodeError, FrameError, Header, Pdu, PduBody, Query, QueryCounts, QueryResp, StatusReport, Submit, SubmitResp,
    SubmitResult, Version,
};
#[cfg(feature = "sp")]
pub use sp::{DeliverVerdict, InboundDelivery, IncomingSms, OutgoingSms, SpClient, SpConfig, SpError};
pub use text::{decode_text, encode_text, MsgFmt, TextError};

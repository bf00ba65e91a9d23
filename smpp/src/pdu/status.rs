//! SMPP 3.4 command_status values (section 5.1.3) and command_id values (section 5.1.2).

pub const ESME_ROK: u32 = 0x0000_0000;
pub const ESME_RINVMSGLEN: u32 = 0x0000_0001;
pub const ESME_RINVCMDLEN: u32 = 0x0000_0002;
pub const ESME_RINVCMDID: u32 = 0x0000_0003;
pub const ESME_RINVBNDSTS: u32 = 0x0000_0004;
pub const ESME_RALYBND: u32 = 0x0000_0005;
pub const ESME_RSYSERR: u32 = 0x0000_0008;
pub const ESME_RINVSRCADR: u32 = 0x0000_000A;
pub const ESME_RINVDSTADR: u32 = 0x0000_000B;
pub const ESME_RBINDFAIL: u32 = 0x0000_000D;
pub const ESME_RINVPASWD: u32 = 0x0000_000E;
pub const ESME_RINVSYSID: u32 = 0x0000_000F;
pub const ESME_RMSGQFUL: u32 = 0x0000_0014;
pub const ESME_RTHROTTLED: u32 = 0x0000_0058;
/// Temporary application error: the SMSC keeps the message and redelivers it later.
pub const ESME_RX_T_APPNACK: u32 = 0x0000_0064;
/// Permanent application error: the SMSC gives up on the message.
pub const ESME_RX_P_APPNACK: u32 = 0x0000_0065;

pub const GENERIC_NACK: u32 = 0x8000_0000;
pub const BIND_RECEIVER: u32 = 0x0000_0001;
pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
pub const SUBMIT_SM: u32 = 0x0000_0004;
pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
pub const DELIVER_SM: u32 = 0x0000_0005;
pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
pub const UNBIND: u32 = 0x0000_0006;
pub const UNBIND_RESP: u32 = 0x8000_0006;
pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
pub const ENQUIRE_LINK: u32 = 0x0000_0015;
pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;

/// True for the `_resp` half of a command pair (bit 31 set).
pub fn is_response(command_id: u32) -> bool {
    command_id & 0x8000_0000 != 0
}

//! CMPP_SUBMIT (a provider's mobile-terminated message) and CMPP_SUBMIT_RESP, in the 2.0 and 3.0 layouts.

use super::fields::{put_octet_string, put_result_code, FieldReader};
use super::{DecodeError, EncodeError, SubmitResult, Version};
use crate::fee::{parse_decimal, Fee, FeeCode, FeeType, FeeUserType};
use crate::msg_id::MsgId;
use crate::text::MsgFmt;
use bytes::{BufMut, Bytes};

/// Most destinations one SUBMIT carries (`DestUsr_tl`).
pub const MAX_DESTINATIONS: usize = 100;

/// CMPP_SUBMIT. `msg_id` is zero from a provider; the gateway assigns the real one in SUBMIT_RESP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submit {
    pub msg_id: MsgId,
    /// Parts of the whole message (1 when not split).
    pub pk_total: u8,
    /// This part's number, from 1.
    pub pk_number: u8,
    /// 0 no status report, 1 a report, 2 a billing record only.
    pub registered_delivery: u8,
    pub msg_level: u8,
    /// The provider's service code, 10 bytes.
    pub service_id: String,
    pub fee: Fee,
    pub tp_pid: u8,
    /// 1 when `msg_content` starts with a user data header (a part of a long message).
    pub tp_udhi: u8,
    pub msg_fmt: MsgFmt,
    /// The provider's code (SP_Id), 6 bytes.
    pub msg_src: String,
    /// `ValId_Time`, 17 bytes (empty: the gateway's default).
    pub valid_time: String,
    /// `At_Time`, 17 bytes (empty: send now).
    pub at_time: String,
    /// The number shown as the sender (the provider's service number), 21 bytes.
    pub src_id: String,
    /// The receivers: 1 to 100, each 21 bytes in 2.0 and 32 in 3.0.
    pub dest_terminal_ids: Vec<String>,
    /// `Dest_terminal_type` (3.0 only; 0 real number, 1 pseudonym).
    pub dest_terminal_type: u8,
    pub msg_content: Bytes,
    /// `LinkID` (20 bytes) in 3.0, `Reserve` (8) in 2.0.
    pub link_id: String,
}

impl Submit {
    /// Reads the body; struct fields are evaluated in the order written, which is the wire order.
    pub(super) fn decode(reader: &mut FieldReader<'_>, version: Version) -> Result<Submit, DecodeError> {
        let terminal_width = version.terminal_id_width();
        let mut submit = Submit {
            msg_id: MsgId::from_u64(reader.u64("Msg_Id")?),
            pk_total: reader.u8("Pk_total")?,
            pk_number: reader.u8("Pk_number")?,
            registered_delivery: reader.u8("Registered_Delivery")?,
            msg_level: reader.u8("Msg_level")?,
            service_id: reader.octet_string(10, "Service_Id")?,
            fee: Fee {
                user_type: FeeUserType::from(reader.u8("Fee_UserType")?),
                terminal_id: reader.octet_string(terminal_width, "Fee_terminal_Id")?,
                terminal_type: if version.is_v3() { reader.u8("Fee_terminal_type")? } else { 0 },
                ..Fee::default()
            },
            tp_pid: reader.u8("TP_pId")?,
            tp_udhi: reader.u8("TP_udhi")?,
            msg_fmt: MsgFmt::from(reader.u8("Msg_Fmt")?),
            msg_src: reader.octet_string(6, "Msg_src")?,
            ..Submit::default()
        };
        let fee_type = parse_decimal(&reader.octet_string(2, "FeeType")?).map_err(|_| DecodeError::InvalidFeeType)?;
        submit.fee.fee_type = FeeType::from(fee_type as u8);
        submit.fee.fee_code =
            FeeCode::parse(&reader.octet_string(6, "FeeCode")?).map_err(|_| DecodeError::InvalidFeeCode)?;
        submit.valid_time = reader.octet_string(17, "ValId_Time")?;
        submit.at_time = reader.octet_string(17, "At_Time")?;
        submit.src_id = reader.octet_string(21, "Src_Id")?;
        let count = reader.u8("DestUsr_tl")?;
        if count == 0 || usize::from(count) > MAX_DESTINATIONS {
            return Err(DecodeError::InvalidDestinationCount { count });
        }
        submit.dest_terminal_ids = (0..count)
            .map(|_| reader.octet_string(terminal_width, "Dest_terminal_Id"))
            .collect::<Result<Vec<_>, _>>()?;
        submit.dest_terminal_type = if version.is_v3() { reader.u8("Dest_terminal_type")? } else { 0 };
        submit.msg_content = read_content(reader, version)?;
        submit.link_id = reader.lenient_octet_string(version.link_id_width(), "LinkID")?;
        Ok(submit)
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        let terminal_width = version.terminal_id_width();
        out.put_u64(self.msg_id.value());
        out.put_slice(&[self.pk_total, self.pk_number, self.registered_delivery, self.msg_level]);
        put_octet_string(out, &self.service_id, 10, "Service_Id")?;
        out.put_u8(self.fee.user_type.value());
        put_octet_string(out, &self.fee.terminal_id, terminal_width, "Fee_terminal_Id")?;
        if version.is_v3() {
            out.put_u8(self.fee.terminal_type);
        }
        out.put_slice(&[self.tp_pid, self.tp_udhi, self.msg_fmt.value()]);
        put_octet_string(out, &self.msg_src, 6, "Msg_src")?;
        let fee_type = self.fee.fee_type.value();
        if fee_type > 99 {
            return Err(EncodeError::ValueTooLarge { field: "FeeType" });
        }
        put_octet_string(out, &format!("{fee_type:02}"), 2, "FeeType")?;
        put_octet_string(out, &format!("{:06}", self.fee.fee_code.fen()), 6, "FeeCode")?;
        put_octet_string(out, &self.valid_time, 17, "ValId_Time")?;
        put_octet_string(out, &self.at_time, 17, "At_Time")?;
        put_octet_string(out, &self.src_id, 21, "Src_Id")?;
        if self.dest_terminal_ids.is_empty() || self.dest_terminal_ids.len() > MAX_DESTINATIONS {
            return Err(EncodeError::InvalidDestinationCount);
        }
        out.put_u8(self.dest_terminal_ids.len() as u8);
        for destination in &self.dest_terminal_ids {
            put_octet_string(out, destination, terminal_width, "Dest_terminal_Id")?;
        }
        if version.is_v3() {
            out.put_u8(self.dest_terminal_type);
        }
        put_content(out, &self.msg_content)?;
        put_octet_string(out, &self.link_id, version.link_id_width(), "LinkID")
    }
}

/// `Msg_Length` and `Msg_Content`, checked against what the body leaves before `LinkID`/`Reserve`.
pub(super) fn read_content(reader: &mut FieldReader<'_>, version: Version) -> Result<Bytes, DecodeError> {
    let declared = usize::from(reader.u8("Msg_Length")?);
    let available = reader.remaining_length().saturating_sub(version.link_id_width());
    if declared != available {
        return Err(DecodeError::InvalidMsgLength { declared, available });
    }
    Ok(Bytes::copy_from_slice(reader.take(declared, "Msg_Content")?))
}

pub(super) fn put_content(out: &mut Vec<u8>, content: &[u8]) -> Result<(), EncodeError> {
    let length = u8::try_from(content.len()).map_err(|_| EncodeError::ContentTooLong)?;
    out.put_u8(length);
    out.put_slice(content);
    Ok(())
}

/// CMPP_SUBMIT_RESP: the gateway's Msg_Id for the part, and its Result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmitResp {
    pub msg_id: MsgId,
    pub result: SubmitResult,
}

impl SubmitResp {
    pub(super) fn decode(reader: &mut FieldReader<'_>, version: Version) -> Result<SubmitResp, DecodeError> {
        let msg_id = MsgId::from_u64(reader.u64("Msg_Id")?);
        let result = SubmitResult::from(reader.result_code(version.is_v3(), "Result")?);
        Ok(SubmitResp { msg_id, result })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        out.put_u64(self.msg_id.value());
        put_result_code(out, self.result.value(), version.is_v3(), "Result")
    }
}

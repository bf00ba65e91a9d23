//! CMPP_DELIVER (a mobile-originated message, or with `Registered_Delivery` = 1 a status report about an
//! earlier SUBMIT) and CMPP_DELIVER_RESP, in the 2.0 and 3.0 layouts.

use super::fields::{put_octet_string, put_result_code, FieldReader};
use super::submit::{put_content, read_content};
use super::{DecodeError, EncodeError, SubmitResult, Version};
use crate::msg_id::MsgId;
use crate::text::MsgFmt;
use bytes::{BufMut, Bytes};

/// CMPP_DELIVER.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deliver {
    /// The gateway's ID for this delivery: the same on every redelivery of one message.
    pub msg_id: MsgId,
    /// The provider's number the message was sent to, 21 bytes.
    pub dest_id: String,
    pub service_id: String,
    pub tp_pid: u8,
    pub tp_udhi: u8,
    pub msg_fmt: MsgFmt,
    /// The sending phone (or, for a report, the receiver of the reported message): 21 bytes in 2.0, 32 in 3.0.
    pub src_terminal_id: String,
    /// `Src_terminal_type` (3.0 only).
    pub src_terminal_type: u8,
    /// 0 a mobile-originated message, 1 a status report in `msg_content`.
    pub registered_delivery: u8,
    pub msg_content: Bytes,
    /// `LinkID` (20 bytes) in 3.0, `Reserve` (8) in 2.0.
    pub link_id: String,
}

impl Deliver {
    /// True when `msg_content` is a status report.
    pub fn is_status_report(&self) -> bool {
        self.registered_delivery == 1
    }

    /// The status report in `msg_content`, when this is one.
    pub fn status_report(&self) -> Option<Result<StatusReport, DecodeError>> {
        self.is_status_report().then(|| StatusReport::decode(&self.msg_content))
    }

    pub(super) fn decode(reader: &mut FieldReader<'_>, version: Version) -> Result<Deliver, DecodeError> {
        let msg_id = MsgId::from_u64(reader.u64("Msg_Id")?);
        let dest_id = reader.octet_string(21, "Dest_Id")?;
        let service_id = reader.octet_string(10, "Service_Id")?;
        let tp_pid = reader.u8("TP_pid")?;
        let tp_udhi = reader.u8("TP_udhi")?;
        let msg_fmt = MsgFmt::from(reader.u8("Msg_Fmt")?);
        let src_terminal_id = reader.octet_string(version.terminal_id_width(), "Src_terminal_Id")?;
        let src_terminal_type = if version.is_v3() { reader.u8("Src_terminal_type")? } else { 0 };
        let registered_delivery = reader.u8("Registered_Delivery")?;
        let msg_content = read_content(reader, version)?;
        let link_id = reader.lenient_octet_string(version.link_id_width(), "LinkID")?;
        Ok(Deliver {
            msg_id,
            dest_id,
            service_id,
            tp_pid,
            tp_udhi,
            msg_fmt,
            src_terminal_id,
            src_terminal_type,
            registered_delivery,
            msg_content,
            link_id,
        })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        out.put_u64(self.msg_id.value());
        put_octet_string(out, &self.dest_id, 21, "Dest_Id")?;
        put_octet_string(out, &self.service_id, 10, "Service_Id")?;
        out.put_slice(&[self.tp_pid, self.tp_udhi, self.msg_fmt.value()]);
        put_octet_string(out, &self.src_terminal_id, version.terminal_id_width(), "Src_terminal_Id")?;
        if version.is_v3() {
            out.put_u8(self.src_terminal_type);
        }
        out.put_u8(self.registered_delivery);
        put_content(out, &self.msg_content)?;
        put_octet_string(out, &self.link_id, version.link_id_width(), "LinkID")
    }
}

/// The status report a DELIVER with `Registered_Delivery` = 1 carries in its content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusReport {
    /// The Msg_Id the gateway gave the reported SUBMIT in its SUBMIT_RESP.
    pub msg_id: MsgId,
    /// `Stat`, 7 bytes: "DELIVRD" when delivered, else the gateway's reason ("EXPIRED", "UNDELIV", ...).
    pub stat: String,
    /// YYMMDDHHMM.
    pub submit_time: String,
    /// YYMMDDHHMM.
    pub done_time: String,
    pub dest_terminal_id: String,
    pub smsc_sequence: u32,
}

/// `Stat` of a delivered message.
pub const STAT_DELIVERED: &str = "DELIVRD";

impl StatusReport {
    /// True when the reported message reached the phone.
    pub fn is_delivered(&self) -> bool {
        self.stat == STAT_DELIVERED
    }

    /// Reads a report of 60 bytes (21-byte terminal ID, the 2.0 layout, which gocmpp also sends in 3.0) or 71
    /// (32-byte terminal ID, 3.0).
    pub fn decode(content: &[u8]) -> Result<StatusReport, DecodeError> {
        let terminal_width = match content.len() {
            60 => 21,
            71 => 32,
            available => return Err(DecodeError::InvalidMsgLength { declared: available, available }),
        };
        let mut reader = FieldReader::new(content);
        let report = StatusReport {
            msg_id: MsgId::from_u64(reader.u64("Msg_Id")?),
            stat: reader.octet_string(7, "Stat")?,
            submit_time: reader.octet_string(10, "Submit_time")?,
            done_time: reader.octet_string(10, "Done_time")?,
            dest_terminal_id: reader.octet_string(terminal_width, "Dest_terminal_Id")?,
            smsc_sequence: reader.u32("SMSC_sequence")?,
        };
        reader.finish()?;
        Ok(report)
    }

    /// The report's bytes in the layout of `version`.
    pub fn encode(&self, version: Version) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(71);
        out.put_u64(self.msg_id.value());
        put_octet_string(&mut out, &self.stat, 7, "Stat")?;
        put_octet_string(&mut out, &self.submit_time, 10, "Submit_time")?;
        put_octet_string(&mut out, &self.done_time, 10, "Done_time")?;
        put_octet_string(&mut out, &self.dest_terminal_id, version.terminal_id_width(), "Dest_terminal_Id")?;
        out.put_u32(self.smsc_sequence);
        Ok(out)
    }
}

/// CMPP_DELIVER_RESP: the provider's answer, with the DELIVER's Msg_Id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverResp {
    pub msg_id: MsgId,
    pub result: SubmitResult,
}

impl DeliverResp {
    pub(super) fn decode(reader: &mut FieldReader<'_>, version: Version) -> Result<DeliverResp, DecodeError> {
        let msg_id = MsgId::from_u64(reader.u64("Msg_Id")?);
        let result = SubmitResult::from(reader.result_code(version.is_v3(), "Result")?);
        Ok(DeliverResp { msg_id, result })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        out.put_u64(self.msg_id.value());
        put_result_code(out, self.result.value(), version.is_v3(), "Result")
    }
}

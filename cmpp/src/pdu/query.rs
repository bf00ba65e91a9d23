//! CMPP_QUERY (a provider asks the gateway for its message counts of one day, in total or for one service) and
//! CMPP_CANCEL (a provider withdraws a message it submitted), with their responses, in the 2.0 and 3.0 layouts:
//! the same except for CANCEL_RESP's `Success_Id`, one byte in 2.0 and four in 3.0.

use super::fields::{put_octet_string, put_result_code, FieldReader};
use super::{DecodeError, EncodeError, Version};
use crate::msg_id::MsgId;
use bytes::BufMut;

/// `Query_Type` 0: the counts of everything the provider sent and received that day.
pub const QUERY_TYPE_TOTAL: u8 = 0;
/// `Query_Type` 1: the counts of one service, named in `Query_Code` (its Service_Id).
pub const QUERY_TYPE_SERVICE: u8 = 1;

/// CMPP_QUERY.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The day asked about, YYYYMMDD (8 bytes).
    pub time: String,
    /// [`QUERY_TYPE_TOTAL`] or [`QUERY_TYPE_SERVICE`].
    pub query_type: u8,
    /// The Service_Id under [`QUERY_TYPE_SERVICE`], else empty (10 bytes).
    pub query_code: String,
    /// 8 bytes.
    pub reserve: String,
}

impl Query {
    pub(super) fn decode(reader: &mut FieldReader<'_>) -> Result<Query, DecodeError> {
        Ok(Query {
            time: reader.octet_string(8, "Time")?,
            query_type: reader.u8("Query_Type")?,
            query_code: reader.octet_string(10, "Query_Code")?,
            reserve: reader.lenient_octet_string(8, "Reserve")?,
        })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octet_string(out, &self.time, 8, "Time")?;
        out.put_u8(self.query_type);
        put_octet_string(out, &self.query_code, 10, "Query_Code")?;
        put_octet_string(out, &self.reserve, 8, "Reserve")
    }
}

/// The counts a QUERY_RESP carries, in its field order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryCounts {
    /// `MT_TLMsg`: messages the provider submitted.
    pub mt_total_messages: u32,
    /// `MT_Tlusr`: distinct phones they went to.
    pub mt_total_users: u32,
    /// `MT_Scs`: submitted messages delivered.
    pub mt_succeeded: u32,
    /// `MT_WT`: submitted messages still waiting.
    pub mt_waiting: u32,
    /// `MT_FL`: submitted messages that failed.
    pub mt_failed: u32,
    /// `MO_Scs`: mobile-originated messages delivered to the provider.
    pub mo_succeeded: u32,
    /// `MO_WT`: mobile-originated messages waiting for the provider.
    pub mo_waiting: u32,
    /// `MO_FL`: mobile-originated messages that could not be delivered to the provider.
    pub mo_failed: u32,
}

/// CMPP_QUERY_RESP: the query's own fields, then the counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryResp {
    pub time: String,
    pub query_type: u8,
    pub query_code: String,
    pub counts: QueryCounts,
}

impl QueryResp {
    pub(super) fn decode(reader: &mut FieldReader<'_>) -> Result<QueryResp, DecodeError> {
        let time = reader.octet_string(8, "Time")?;
        let query_type = reader.u8("Query_Type")?;
        let query_code = reader.octet_string(10, "Query_Code")?;
        let counts = QueryCounts {
            mt_total_messages: reader.u32("MT_TLMsg")?,
            mt_total_users: reader.u32("MT_Tlusr")?,
            mt_succeeded: reader.u32("MT_Scs")?,
            mt_waiting: reader.u32("MT_WT")?,
            mt_failed: reader.u32("MT_FL")?,
            mo_succeeded: reader.u32("MO_Scs")?,
            mo_waiting: reader.u32("MO_WT")?,
            mo_failed: reader.u32("MO_FL")?,
        };
        Ok(QueryResp { time, query_type, query_code, counts })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octet_string(out, &self.time, 8, "Time")?;
        out.put_u8(self.query_type);
        put_octet_string(out, &self.query_code, 10, "Query_Code")?;
        let counts = &self.counts;
        for count in [
            counts.mt_total_messages,
            counts.mt_total_users,
            counts.mt_succeeded,
            counts.mt_waiting,
            counts.mt_failed,
            counts.mo_succeeded,
            counts.mo_waiting,
            counts.mo_failed,
        ] {
            out.put_u32(count);
        }
        Ok(())
    }
}

/// CMPP_CANCEL: the Msg_Id the gateway answered the SUBMIT with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cancel {
    pub msg_id: MsgId,
}

impl Cancel {
    pub(super) fn decode(reader: &mut FieldReader<'_>) -> Result<Cancel, DecodeError> {
        Ok(Cancel { msg_id: MsgId::from_u64(reader.u64("Msg_Id")?) })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.put_u64(self.msg_id.value());
    }
}

/// CMPP_CANCEL_RESP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelResp {
    /// 0 cancelled, 1 not cancelled (unknown, not the provider's, or no longer waiting).
    pub success_id: u32,
}

impl CancelResp {
    /// The message was cancelled.
    pub const CANCELLED: CancelResp = CancelResp { success_id: 0 };
    /// The message could not be cancelled.
    pub const NOT_CANCELLED: CancelResp = CancelResp { success_id: 1 };

    pub fn is_cancelled(self) -> bool {
        self.success_id == 0
    }

    pub(super) fn decode(reader: &mut FieldReader<'_>, version: Version) -> Result<CancelResp, DecodeError> {
        Ok(CancelResp { success_id: reader.result_code(version.is_v3(), "Success_Id")? })
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>, version: Version) -> Result<(), EncodeError> {
        put_result_code(out, self.success_id, version.is_v3(), "Success_Id")
    }
}

//! CMPP Command_Id values, named as the specification names them. A response is `0x8000_0000 | request`.

use crate::spec_enum::spec_enum;

spec_enum! {
    /// The Command_Id of a PDU.
    pub enum CommandId: u32 {
        Connect = 0x0000_0001 => "CMPP_CONNECT",
        ConnectResp = 0x8000_0001 => "CMPP_CONNECT_RESP",
        Terminate = 0x0000_0002 => "CMPP_TERMINATE",
        TerminateResp = 0x8000_0002 => "CMPP_TERMINATE_RESP",
        Submit = 0x0000_0004 => "CMPP_SUBMIT",
        SubmitResp = 0x8000_0004 => "CMPP_SUBMIT_RESP",
        Deliver = 0x0000_0005 => "CMPP_DELIVER",
        DeliverResp = 0x8000_0005 => "CMPP_DELIVER_RESP",
        Query = 0x0000_0006 => "CMPP_QUERY",
        QueryResp = 0x8000_0006 => "CMPP_QUERY_RESP",
        Cancel = 0x0000_0007 => "CMPP_CANCEL",
        CancelResp = 0x8000_0007 => "CMPP_CANCEL_RESP",
        ActiveTest = 0x0000_0008 => "CMPP_ACTIVE_TEST",
        ActiveTestResp = 0x8000_0008 => "CMPP_ACTIVE_TEST_RESP",
        Fwd = 0x0000_0009 => "CMPP_FWD",
        FwdResp = 0x8000_0009 => "CMPP_FWD_RESP",
    }
}

impl CommandId {
    /// True for the `_RESP` half of a command pair (bit 31 set).
    pub const fn is_response(self) -> bool {
        self.value() & 0x8000_0000 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_converts_back_to_itself() {
        for value in [1, 2, 4, 5, 8, 0x8000_0001, 0x8000_0008, 0x42, u32::MAX] {
            assert_eq!(u32::from(CommandId::from(value)), value);
        }
        assert_eq!(CommandId::from(4), CommandId::Submit);
        assert_eq!(CommandId::Submit.to_string(), "CMPP_SUBMIT");
        assert!(matches!(CommandId::from(0x42), CommandId::Other(0x42)));
        assert!(CommandId::DeliverResp.is_response() && !CommandId::Deliver.is_response());
    }
}

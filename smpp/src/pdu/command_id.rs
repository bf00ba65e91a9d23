//! SMPP 3.4 command_id values (section 5.1.2.1), named as the spec names them.

use super::spec_enum::spec_enum;

spec_enum! {
    /// The command_id of a PDU. Bit 31 set marks the `_resp` half of a request/response pair.
    pub enum CommandId {
        GenericNack = 0x8000_0000 => "generic_nack",
        BindReceiver = 0x0000_0001 => "bind_receiver",
        BindReceiverResp = 0x8000_0001 => "bind_receiver_resp",
        BindTransmitter = 0x0000_0002 => "bind_transmitter",
        BindTransmitterResp = 0x8000_0002 => "bind_transmitter_resp",
        QuerySm = 0x0000_0003 => "query_sm",
        QuerySmResp = 0x8000_0003 => "query_sm_resp",
        SubmitSm = 0x0000_0004 => "submit_sm",
        SubmitSmResp = 0x8000_0004 => "submit_sm_resp",
        DeliverSm = 0x0000_0005 => "deliver_sm",
        DeliverSmResp = 0x8000_0005 => "deliver_sm_resp",
        Unbind = 0x0000_0006 => "unbind",
        UnbindResp = 0x8000_0006 => "unbind_resp",
        ReplaceSm = 0x0000_0007 => "replace_sm",
        ReplaceSmResp = 0x8000_0007 => "replace_sm_resp",
        CancelSm = 0x0000_0008 => "cancel_sm",
        CancelSmResp = 0x8000_0008 => "cancel_sm_resp",
        BindTransceiver = 0x0000_0009 => "bind_transceiver",
        BindTransceiverResp = 0x8000_0009 => "bind_transceiver_resp",
        Outbind = 0x0000_000B => "outbind",
        EnquireLink = 0x0000_0015 => "enquire_link",
        EnquireLinkResp = 0x8000_0015 => "enquire_link_resp",
        SubmitMulti = 0x0000_0021 => "submit_multi",
        SubmitMultiResp = 0x8000_0021 => "submit_multi_resp",
        AlertNotification = 0x0000_0102 => "alert_notification",
        DataSm = 0x0000_0103 => "data_sm",
        DataSmResp = 0x8000_0103 => "data_sm_resp",
    }
}

impl CommandId {
    /// True for the `_resp` half of a command pair (bit 31 set), `generic_nack` included.
    pub const fn is_response(self) -> bool {
        self.value() & 0x8000_0000 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_converts_back_to_itself() {
        for value in [0, 1, 4, 0x15, 0x0B, 0x103, 0x8000_0000, 0x8000_0004, 0x8000_0103, 0x42, u32::MAX] {
            assert_eq!(u32::from(CommandId::from(value)), value);
        }
    }

    #[test]
    fn known_ids_get_their_spec_names_and_unknown_ones_stay_other() {
        assert_eq!(CommandId::from(0x0000_0004), CommandId::SubmitSm);
        assert_eq!(CommandId::SubmitSm.to_string(), "submit_sm");
        assert!(matches!(CommandId::from(0x0000_0042), CommandId::Other(0x42)));
        assert_eq!(CommandId::Other(0x42).to_string(), "0x00000042");
    }

    #[test]
    fn the_response_bit_marks_responses() {
        assert!(CommandId::GenericNack.is_response());
        assert!(CommandId::SubmitSmResp.is_response());
        assert!(!CommandId::SubmitSm.is_response());
        assert!(CommandId::Other(0x8000_0042).is_response());
    }
}

//! The result codes of CMPP responses: `ConnectStatus` in CONNECT_RESP, `SubmitResult` in SUBMIT_RESP and
//! DELIVER_RESP. One byte on the wire in CMPP 2.0, four in 3.0; both are kept as `u32`.

use crate::spec_enum::spec_enum;

spec_enum! {
    /// The Status of a CONNECT_RESP.
    pub enum ConnectStatus: u32 {
        /// Authenticated.
        Ok = 0 => "ok",
        /// The message structure is wrong.
        InvalidStructure = 1 => "invalid message structure",
        /// The source address is unknown to the gateway.
        InvalidSourceAddress = 2 => "invalid source address",
        /// AuthenticatorSource does not match the shared secret.
        AuthenticationFailed = 3 => "authentication failed",
        /// The requested protocol version is higher than the gateway speaks.
        VersionTooHigh = 4 => "version too high",
        /// Any other error.
        OtherError = 5 => "other error",
    }
}

spec_enum! {
    /// The Result of a SUBMIT_RESP or a DELIVER_RESP.
    pub enum SubmitResult: u32 {
        /// Accepted.
        Ok = 0 => "ok",
        /// The message structure is wrong.
        InvalidStructure = 1 => "invalid message structure",
        /// The command word is wrong.
        InvalidCommand = 2 => "invalid command",
        /// The Sequence_Id repeats one in flight.
        RepeatedSequence = 3 => "repeated sequence id",
        /// Msg_Length is wrong.
        InvalidLength = 4 => "invalid message length",
        /// FeeCode is wrong.
        InvalidFeeCode = 5 => "invalid fee code",
        /// The content exceeds the largest message length.
        MessageTooLong = 6 => "message too long",
        /// Service_Id is wrong.
        InvalidServiceId = 7 => "invalid service id",
        /// The account exceeded its rate: retry later.
        FlowControl = 8 => "flow control error",
        /// The fee terminal is not served by this gateway.
        FeeNumberNotServed = 9 => "fee number not served",
        /// Src_Id is wrong.
        InvalidSrcId = 10 => "invalid src id",
        /// Msg_src is wrong.
        InvalidMsgSrc = 11 => "invalid msg src",
        /// Fee_terminal_Id is wrong.
        InvalidFeeTerminalId = 12 => "invalid fee terminal id",
        /// Dest_terminal_Id is wrong.
        InvalidDestTerminalId = 13 => "invalid dest terminal id",
    }
}

impl ConnectStatus {
    /// True for `Ok`.
    pub const fn is_ok(self) -> bool {
        self.value() == 0
    }
}

impl SubmitResult {
    /// True for `Ok`.
    pub const fn is_ok(self) -> bool {
        self.value() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_convert_both_ways_and_unlisted_ones_stay_other() {
        assert_eq!(SubmitResult::from(8), SubmitResult::FlowControl);
        assert_eq!(ConnectStatus::from(3), ConnectStatus::AuthenticationFailed);
        assert_eq!(SubmitResult::from(99), SubmitResult::Other(99));
        assert_eq!(SubmitResult::Other(99).to_string(), "99");
        assert_eq!(ConnectStatus::VersionTooHigh.to_string(), "version too high");
    }
}

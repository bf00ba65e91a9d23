//! SMPP 3.4 command_status values (section 5.1.3), named as the spec names them; vendor statuses stay `Other`.

use super::spec_enum::spec_enum;

spec_enum! {
    /// The command_status of a PDU: `EsmeRok` in every request and in a successful response.
    pub enum CommandStatus {
        /// No error.
        EsmeRok = 0x0000_0000 => "ESME_ROK",
        /// Message length is invalid.
        EsmeRinvmsglen = 0x0000_0001 => "ESME_RINVMSGLEN",
        /// Command length is invalid.
        EsmeRinvcmdlen = 0x0000_0002 => "ESME_RINVCMDLEN",
        /// Invalid command ID.
        EsmeRinvcmdid = 0x0000_0003 => "ESME_RINVCMDID",
        /// Incorrect bind status for the given command.
        EsmeRinvbndsts = 0x0000_0004 => "ESME_RINVBNDSTS",
        /// ESME already in bound state.
        EsmeRalybnd = 0x0000_0005 => "ESME_RALYBND",
        /// Invalid priority flag.
        EsmeRinvprtflg = 0x0000_0006 => "ESME_RINVPRTFLG",
        /// Invalid registered delivery flag.
        EsmeRinvregdlvflg = 0x0000_0007 => "ESME_RINVREGDLVFLG",
        /// System error.
        EsmeRsyserr = 0x0000_0008 => "ESME_RSYSERR",
        /// Invalid source address.
        EsmeRinvsrcadr = 0x0000_000A => "ESME_RINVSRCADR",
        /// Invalid destination address.
        EsmeRinvdstadr = 0x0000_000B => "ESME_RINVDSTADR",
        /// Message ID is invalid.
        EsmeRinvmsgid = 0x0000_000C => "ESME_RINVMSGID",
        /// Bind failed.
        EsmeRbindfail = 0x0000_000D => "ESME_RBINDFAIL",
        /// Invalid password.
        EsmeRinvpaswd = 0x0000_000E => "ESME_RINVPASWD",
        /// Invalid system ID.
        EsmeRinvsysid = 0x0000_000F => "ESME_RINVSYSID",
        /// cancel_sm failed.
        EsmeRcancelfail = 0x0000_0011 => "ESME_RCANCELFAIL",
        /// replace_sm failed.
        EsmeRreplacefail = 0x0000_0013 => "ESME_RREPLACEFAIL",
        /// Message queue full.
        EsmeRmsgqful = 0x0000_0014 => "ESME_RMSGQFUL",
        /// Invalid service type.
        EsmeRinvsertyp = 0x0000_0015 => "ESME_RINVSERTYP",
        /// Invalid number of destinations.
        EsmeRinvnumdests = 0x0000_0033 => "ESME_RINVNUMDESTS",
        /// Invalid distribution list name.
        EsmeRinvdlname = 0x0000_0034 => "ESME_RINVDLNAME",
        /// Invalid destination flag (submit_multi).
        EsmeRinvdestflag = 0x0000_0040 => "ESME_RINVDESTFLAG",
        /// Invalid "submit with replace" request.
        EsmeRinvsubrep = 0x0000_0042 => "ESME_RINVSUBREP",
        /// Invalid esm_class field data.
        EsmeRinvesmclass = 0x0000_0043 => "ESME_RINVESMCLASS",
        /// Cannot submit to a distribution list.
        EsmeRcntsubdl = 0x0000_0044 => "ESME_RCNTSUBDL",
        /// submit_sm or submit_multi failed.
        EsmeRsubmitfail = 0x0000_0045 => "ESME_RSUBMITFAIL",
        /// Invalid source address TON.
        EsmeRinvsrcton = 0x0000_0048 => "ESME_RINVSRCTON",
        /// Invalid source address NPI.
        EsmeRinvsrcnpi = 0x0000_0049 => "ESME_RINVSRCNPI",
        /// Invalid destination address TON.
        EsmeRinvdstton = 0x0000_0050 => "ESME_RINVDSTTON",
        /// Invalid destination address NPI.
        EsmeRinvdstnpi = 0x0000_0051 => "ESME_RINVDSTNPI",
        /// Invalid system_type field.
        EsmeRinvsystyp = 0x0000_0053 => "ESME_RINVSYSTYP",
        /// Invalid replace_if_present flag.
        EsmeRinvrepflag = 0x0000_0054 => "ESME_RINVREPFLAG",
        /// Invalid number of messages.
        EsmeRinvnummsgs = 0x0000_0055 => "ESME_RINVNUMMSGS",
        /// Throttling error: the ESME exceeded its allowed message rate.
        EsmeRthrottled = 0x0000_0058 => "ESME_RTHROTTLED",
        /// Invalid scheduled delivery time.
        EsmeRinvsched = 0x0000_0061 => "ESME_RINVSCHED",
        /// Invalid message validity period (expiry time).
        EsmeRinvexpiry = 0x0000_0062 => "ESME_RINVEXPIRY",
        /// Predefined message invalid or not found.
        EsmeRinvdftmsgid = 0x0000_0063 => "ESME_RINVDFTMSGID",
        /// Temporary application error: the SMSC keeps the message and redelivers it later.
        EsmeRxTAppn = 0x0000_0064 => "ESME_RX_T_APPN",
        /// Permanent application error: the SMSC gives up on the message.
        EsmeRxPAppn = 0x0000_0065 => "ESME_RX_P_APPN",
        /// Application error: reject the message.
        EsmeRxRAppn = 0x0000_0066 => "ESME_RX_R_APPN",
        /// query_sm failed.
        EsmeRqueryfail = 0x0000_0067 => "ESME_RQUERYFAIL",
        /// Error in the optional part of the PDU body.
        EsmeRinvoptparstream = 0x0000_00C0 => "ESME_RINVOPTPARSTREAM",
        /// Optional parameter not allowed.
        EsmeRoptparnotallwd = 0x0000_00C1 => "ESME_ROPTPARNOTALLWD",
        /// Invalid parameter length.
        EsmeRinvparlen = 0x0000_00C2 => "ESME_RINVPARLEN",
        /// Expected optional parameter missing.
        EsmeRmissingoptparam = 0x0000_00C3 => "ESME_RMISSINGOPTPARAM",
        /// Invalid optional parameter value.
        EsmeRinvoptparamval = 0x0000_00C4 => "ESME_RINVOPTPARAMVAL",
        /// Delivery failure (data_sm_resp).
        EsmeRdeliveryfailure = 0x0000_00FE => "ESME_RDELIVERYFAILURE",
        /// Unknown error.
        EsmeRunknownerr = 0x0000_00FF => "ESME_RUNKNOWNERR",
        /// Invalid data coding scheme: SMPP 5.0's code (section 4.7.6); SMPP 3.4 has none for it.
        EsmeRinvdcs = 0x0000_0104 => "ESME_RINVDCS",
    }
}

impl Default for CommandStatus {
    /// `ESME_ROK`, the status of every request.
    fn default() -> Self {
        CommandStatus::EsmeRok
    }
}

impl CommandStatus {
    /// True for `ESME_ROK`.
    pub const fn is_ok(self) -> bool {
        self.value() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_converts_back_to_itself() {
        for value in [0, 1, 2, 0x0D, 0x14, 0x58, 0x64, 0x65, 0xFF, 0x09, 0x104, 0x400, 0x8000_0000, u32::MAX] {
            assert_eq!(u32::from(CommandStatus::from(value)), value);
        }
    }

    #[test]
    fn spec_statuses_get_their_names_and_vendor_statuses_stay_other() {
        assert_eq!(CommandStatus::from(0x58), CommandStatus::EsmeRthrottled);
        assert_eq!(CommandStatus::EsmeRthrottled.to_string(), "ESME_RTHROTTLED");
        assert!(matches!(CommandStatus::from(0x0000_0400), CommandStatus::Other(0x400)));
        assert_eq!(CommandStatus::Other(0x400).to_string(), "0x00000400");
        assert_eq!(format!("{:#010x}", CommandStatus::EsmeRthrottled), "0x00000058");
    }
}

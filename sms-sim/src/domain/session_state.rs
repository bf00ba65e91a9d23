//! The SMPP server session state machine: Open -> Bound(mode, account) -> Unbound, and bind authentication.

use crate::config::{AccountProtocol, EsmeAccount};
use numbind_smpp::pdu::{Bind, CommandStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    pub(crate) fn may_submit(self) -> bool {
        matches!(self, BindKind::Transmitter | BindKind::Transceiver)
    }

    pub(crate) fn may_receive(self) -> bool {
        matches!(self, BindKind::Receiver | BindKind::Transceiver)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionState {
    Open,
    Bound { kind: BindKind, system_id: String },
    Unbound,
}

/// The SMPP version a bound ESME speaks, from its bind's interface_version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InterfaceVersion {
    /// 0x00 to 0x33: SMPP 3.3 and earlier (SMPP 3.4 section 5.2.4), which knows no TLVs.
    V33,
    /// 0x34.
    V34,
    /// 0x50: SMPP 5.0, served as 3.4.
    V50,
}

impl InterfaceVersion {
    /// `None` for a version numbind does not speak (0x35 to 0x4F, above 0x50).
    pub(crate) fn parse(interface_version: u8) -> Option<InterfaceVersion> {
        match interface_version {
            0x00..=0x33 => Some(InterfaceVersion::V33),
            0x34 => Some(InterfaceVersion::V34),
            0x50 => Some(InterfaceVersion::V50),
            _ => None,
        }
    }

    /// Whether PDUs sent to this ESME may carry TLVs.
    pub(crate) fn carries_tlvs(self) -> bool {
        self != InterfaceVersion::V33
    }
}

/// Checks a bind against the accounts; the error is the command_status to answer with.
pub(crate) fn authenticate<'a>(
    accounts: &'a [EsmeAccount],
    bind: &Bind,
) -> Result<(&'a EsmeAccount, InterfaceVersion), CommandStatus> {
    let version = InterfaceVersion::parse(bind.interface_version).ok_or(CommandStatus::EsmeRbindfail)?;
    let account = accounts
        .iter()
        .filter(|account| account.protocol == AccountProtocol::Smpp)
        .find(|account| account.system_id == bind.system_id)
        .ok_or(CommandStatus::EsmeRinvsysid)?;
    if constant_time_equal(account.password.as_bytes(), bind.password.as_bytes()) {
        Ok((account, version))
    } else {
        Err(CommandStatus::EsmeRinvpaswd)
    }
}

pub(crate) fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(system_id: &str, password: &str, version: u8) -> Bind {
        Bind { system_id: system_id.into(), password: password.into(), interface_version: version, ..Bind::default() }
    }

    #[test]
    fn binds_are_checked_for_system_id_password_and_version() {
        let accounts = vec![EsmeAccount::new("oss", "secret", vec![])];
        assert_eq!(authenticate(&accounts, &bind("oss", "secret", 0x34)).unwrap().1, InterfaceVersion::V34);
        assert_eq!(authenticate(&accounts, &bind("oss", "secret", 0x50)).unwrap().1, InterfaceVersion::V50);
        for legacy in [0x00, 0x20, 0x33] {
            assert_eq!(authenticate(&accounts, &bind("oss", "secret", legacy)).unwrap().1, InterfaceVersion::V33);
        }
        assert_eq!(authenticate(&accounts, &bind("oss", "wrong", 0x34)).err(), Some(CommandStatus::EsmeRinvpaswd));
        assert_eq!(authenticate(&accounts, &bind("who", "secret", 0x34)).err(), Some(CommandStatus::EsmeRinvsysid));
        assert_eq!(authenticate(&accounts, &bind("oss", "secret", 0x40)).err(), Some(CommandStatus::EsmeRbindfail));
    }

    #[test]
    fn only_transmitters_submit_and_only_receivers_receive() {
        assert!(BindKind::Transceiver.may_submit() && BindKind::Transceiver.may_receive());
        assert!(!BindKind::Receiver.may_submit() && !BindKind::Transmitter.may_receive());
    }
}

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

/// Interface versions real ESMEs announce: 3.3, 3.4 and 5.0.
const ACCEPTED_INTERFACE_VERSIONS: [u8; 3] = [0x33, 0x34, 0x50];

/// Checks a bind against the accounts; the error is the command_status to answer with.
pub(crate) fn authenticate<'a>(accounts: &'a [EsmeAccount], bind: &Bind) -> Result<&'a EsmeAccount, CommandStatus> {
    if !ACCEPTED_INTERFACE_VERSIONS.contains(&bind.interface_version) {
        return Err(CommandStatus::EsmeRbindfail);
    }
    let account = accounts
        .iter()
        .filter(|account| account.protocol == AccountProtocol::Smpp)
        .find(|account| account.system_id == bind.system_id)
        .ok_or(CommandStatus::EsmeRinvsysid)?;
    if constant_time_equal(account.password.as_bytes(), bind.password.as_bytes()) {
        Ok(account)
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
        assert!(authenticate(&accounts, &bind("oss", "secret", 0x34)).is_ok());
        assert!(authenticate(&accounts, &bind("oss", "secret", 0x50)).is_ok());
        assert_eq!(authenticate(&accounts, &bind("oss", "wrong", 0x34)).err(), Some(CommandStatus::EsmeRinvpaswd));
        assert_eq!(authenticate(&accounts, &bind("who", "secret", 0x34)).err(), Some(CommandStatus::EsmeRinvsysid));
        assert_eq!(authenticate(&accounts, &bind("oss", "secret", 0x20)).err(), Some(CommandStatus::EsmeRbindfail));
    }

    #[test]
    fn only_transmitters_submit_and_only_receivers_receive() {
        assert!(BindKind::Transceiver.may_submit() && BindKind::Transceiver.may_receive());
        assert!(!BindKind::Receiver.may_submit() && !BindKind::Transmitter.may_receive());
    }
}
